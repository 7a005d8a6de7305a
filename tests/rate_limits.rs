//! The client-side rate limiter against an emulator that throttles AWS Organizations as AWS
//! does (tests/emulator/faults.py, `--rate-limit organizations=5/5`, per organization): with
//! baseline's default limit the plan receives no throttling answer, while with the limiter
//! off the same plan is throttled (and still succeeds, on retries). What `-v` reports is
//! what the emulator counted.

mod support;

use support::*;

/// `-v`'s line: "calls: N API calls, R retries, T throttling answers, ... waited ...".
fn calls_line(run: &Run) -> (u64, u64, u64) {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("calls: "))
        .unwrap_or_else(|| panic!("no calls line:\n{}", run.stderr));
    let numbers: Vec<u64> = line
        .split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limiter_keeps_organizations_under_its_limit() {
    let emulator = Emulator::start_with(&["--rate-limit", "organizations=5/5"]);
    // Seeding is not under test: no limit while the organization is made.
    emulator.faults(Some(serde_json::json!({"rate_limits": ""})));
    seed_organization(&emulator).await;
    emulator.faults(Some(
        serde_json::json!({"rate_limits": "organizations=5/5", "reset_counters": true}),
    ));
    let root = repo_root().join("examples/sample-org");
    let root = root.to_str().unwrap();

    let limited = baseline(&emulator, &["plan", root, "-v"]);
    assert!(limited.code == 2 || limited.code == 0, "{}", limited.stderr);
    let (calls, _, throttled) = calls_line(&limited);
    let counted = emulator.faults(None)["counters"].clone();
    let organizations = counted["services"]["organizations"]["requests"]
        .as_u64()
        .unwrap();
    assert!(
        organizations > 5,
        "the plan makes more Organizations calls than the burst: {counted}"
    );
    assert_eq!(throttled, 0, "{}", limited.stderr);
    assert_eq!(counted["rate_limited"], 0, "{counted}");
    assert_eq!(calls, counted["requests"].as_u64().unwrap(), "{counted}");

    // The limiter off: the emulator throttles the plan's bursts, the plan still succeeds,
    // and counts exactly the throttling answers the emulator gave.
    emulator.faults(Some(serde_json::json!({"reset_counters": true})));
    let unlimited = baseline(
        &emulator,
        &["plan", root, "-v", "--rate-limit", "organizations=0"],
    );
    assert_eq!(unlimited.code, limited.code, "{}", unlimited.stderr);
    let (_, retries, throttled) = calls_line(&unlimited);
    let counted = emulator.faults(None)["counters"].clone();
    assert!(throttled > 0, "{}\n{counted}", unlimited.stderr);
    assert_eq!(
        throttled,
        counted["rate_limited"].as_u64().unwrap(),
        "{counted}"
    );
    assert!(retries >= throttled, "{}", unlimited.stderr);

    // A tight limit queues the plan's Organizations calls: they wait (seconds in all), and
    // none fails.
    let slow = baseline(
        &emulator,
        &["plan", root, "-v", "--rate-limit", "organizations=2/1"],
    );
    assert_eq!(slow.code, limited.code, "{}", slow.stderr);
    let waited = slow
        .stderr
        .lines()
        .find_map(|l| l.split(" throttling answers, ").nth(1))
        .and_then(|l| l.split(" waited").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        waited.ends_with('s') && !waited.ends_with("ms"),
        "{waited}: {}",
        slow.stderr
    );

    let refused = baseline(&emulator, &["plan", root, "--rate-limit", "organizations"]).expect(1);
    assert!(
        refused.stderr.contains("--rate-limit takes SERVICE=RATE"),
        "{}",
        refused.stderr
    );
}
