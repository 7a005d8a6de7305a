//! What the benches measure of one `baseline` process: its wall time, CPU time (user +
//! system) and peak RSS, from wait4, and what its `-v` lines say.

use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

/// One finished run.
#[derive(Clone, Default)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: i64,
    /// The exit code (-1 when a signal ended it).
    pub code: i32,
    pub calls: u64,
    pub instances: u64,
    pub accounts: u64,
    /// What `-v`'s "calls:" line reports: retries, throttling answers received, time
    /// waited for the client-side rate limiter.
    pub retries: Option<u64>,
    pub throttled: Option<u64>,
    pub limiter_wait: Option<Duration>,
}

/// Wait for `child` (spawned with stdout and stderr piped, at `started`) with wait4, for
/// its own CPU time and peak memory; the sample, its stdout and its stderr.
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn wait(child: Child, started: Instant) -> (Sample, String, String) {
    let pid = child.id() as libc::pid_t;
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            pipe.read_to_string(&mut s).ok();
            s
        })
    };
    let stderr = read_all(Box::new(child.stderr.expect("stderr piped")));
    let stdout = read_all(Box::new(child.stdout.expect("stdout piped")));
    let mut status = 0;
    // SAFETY: plain FFI call on our own child's pid with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let wall = started.elapsed();
    let stderr = stderr.join().expect("stderr reader");
    let stdout = stdout.join().expect("stdout reader");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let mut s = parse_verbose(&stderr);
    s.wall = wall;
    s.cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    s.max_rss_kib = usage.ru_maxrss;
    s.code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (s, stdout, stderr)
}

/// What `-v` tells: "read N instances in M accounts: K API calls, T" (plan and apply),
/// "K API calls in total" (apply), and "calls: K API calls, R retries, T throttling
/// answers, D waited for the rate limiter" (the last one printed wins).
pub fn parse_verbose(stderr: &str) -> Sample {
    let mut s = Sample::default();
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("read ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            // ["438", "instances", "in", "21", "accounts:", "805", "API", "calls,", ...]
            if words.len() > 6 && words[1] == "instances" && words[6] == "API" {
                s.instances = words[0].parse().unwrap_or(0);
                s.accounts = words[3].parse().unwrap_or(0);
                s.calls = words[5].parse().unwrap_or(0);
            }
        }
        if let Some(total) = line.strip_suffix(" API calls in total") {
            s.calls = total.trim().parse().unwrap_or(s.calls);
        }
        if let Some(rest) = line.strip_prefix("calls: ") {
            for part in rest.split(", ") {
                let (n, what) = part.split_once(' ').unwrap_or((part, ""));
                match what {
                    "API calls" => s.calls = n.parse().unwrap_or(s.calls),
                    "retries" => s.retries = n.parse().ok(),
                    "throttling answers" => s.throttled = n.parse().ok(),
                    "waited for the rate limiter" => s.limiter_wait = parse_debug_duration(n),
                    _ => {}
                }
            }
        }
    }
    s
}

/// A `Duration`'s `{:.2?}` text: "1.50s", "12.30ms", "4.00µs", "0.00ns".
fn parse_debug_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_alphabetic() || c == 'µ')?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "ms" => n / 1e3,
        "µs" | "us" => n / 1e6,
        "ns" => n / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}
