//! Benchmark: `validate` of the shipped baselines and examples.
//!
//! Prints figures; asserts nothing about time (speed targets live here, not in tests).
//! Run with `cargo bench --bench validate`. Two figures:
//! - in-process: load + validate every root file under baselines/ and examples/, repeated;
//! - whole process: `baseline validate baselines/ examples/` as a user runs it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let n = samples.len();
    let mean = samples.iter().sum::<Duration>() / n as u32;
    format!(
        "n={n} min={:.2?} median={:.2?} mean={mean:.2?} max={:.2?}",
        samples[0],
        samples[n / 2],
        samples[n - 1]
    )
}

fn main() {
    let paths = vec![PathBuf::from("baselines"), PathBuf::from("examples")];
    let roots = baseline::lang::root_files(&paths).expect("list files");
    let mut declarations = 0;
    let mut in_process = Vec::new();
    for i in 0..200 {
        let start = Instant::now();
        let mut count = 0;
        for root in &roots {
            let b = baseline::lang::load(root).expect("shipped files validate");
            count += b.declarations.len();
        }
        in_process.push(start.elapsed());
        if i == 0 {
            declarations = count;
        }
    }
    println!(
        "validate in-process ({} root files, {declarations} declarations): {}",
        roots.len(),
        stats(in_process)
    );

    let exe = env!("CARGO_BIN_EXE_baseline");
    let mut whole = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        let status = Command::new(exe)
            .args(["validate", "baselines/", "examples/"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run baseline");
        whole.push(start.elapsed());
        assert!(status.success());
    }
    println!(
        "`baseline validate baselines/ examples/` whole process: {}",
        stats(whole)
    );
}
