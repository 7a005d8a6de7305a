//! The fuzz properties (`fuzz/props.rs`) in `cargo test`: each target over its checked-in
//! corpus (`fuzz/corpus/<target>/`), then over mutations of it from a fixed seed, at most
//! `BASELINE_FUZZ_MUTATIONS` per target (default 400) and 20 seconds per target. CI runs this;
//! `scripts/fuzz` runs the same properties coverage-guided (cargo-fuzz) for as long as asked.
//! A failing input is written to `target/fuzz-failures/` for `cargo fuzz run TARGET FILE`.

#[path = "../fuzz/props.rs"]
mod props;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes that matter to the parsers: KDL and JSON structure, every newline KDL knows, comment
/// and slashdash markers, escapes, a long run.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"#\"",
    b"\"#",
    b";",
    b"=",
    b"\\",
    b"/*",
    b"*/",
    b"//",
    b"/-",
    b"\r",
    b"\n",
    b"\r\n",
    "\u{85}".as_bytes(),
    "\u{2028}".as_bytes(),
    b"\x0c",
    b"\x0b",
    b"(param)",
    b"(u8)",
    b"#true",
    b"#null",
    b"\\u0061",
    b",",
    b":",
    b"\x00",
    "λ".as_bytes(),
];

/// A small deterministic generator (xorshift64*), so that a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input` (with `other`, another corpus input, for splicing).
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            4 if !out.is_empty() => {
                // Repeat a slice: deep nesting, long lines, many problems.
                let end = (at + rng.below(8) + 1).min(out.len());
                let slice = out[at.min(end)..end].to_vec();
                for _ in 0..rng.below(64) {
                    out.splice(at..at, slice.iter().copied());
                }
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Run `property` on every corpus input and on mutations of them; on a panic, keep the input
/// and fail naming it.
fn run(target: &str, property: fn(&[u8])) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "no corpus for {target}");
    let budget: usize = std::env::var("BASELINE_FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let started = Instant::now();
    let check = |name: &str, data: &[u8]| {
        if let Err(panic) = std::panic::catch_unwind(|| property(data)) {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let kept = dir.join(format!("{target}-{name}"));
            std::fs::write(&kept, data).unwrap();
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{target}: a property failed on {}: {why}", kept.display());
        }
    };
    for (path, data) in &inputs {
        check(&path.file_name().unwrap().to_string_lossy(), data);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    for n in 0..budget {
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
        let (_, input) = &inputs[rng.below(inputs.len())];
        let (_, other) = &inputs[rng.below(inputs.len())];
        let data = mutate(&mut rng, input, other);
        check(&format!("mutation-{n}"), &data);
    }
}

#[test]
fn kdl_load_keeps_its_properties() {
    run("kdl_load", props::kdl_load);
}

#[test]
fn fmt_keeps_its_properties() {
    run("fmt", props::fmt);
}

#[test]
fn policy_canonicaliser_keeps_its_properties() {
    run("policy", props::policy);
}

#[test]
fn log_verify_keeps_its_properties() {
    run("log_verify", props::log_verify);
}

#[test]
fn saved_plan_reader_keeps_its_properties() {
    run("saved_plan", props::saved_plan);
}
