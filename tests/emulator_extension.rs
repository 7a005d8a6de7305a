//! The emulator extension's own tests (pytest, in the emulator venv), run as part of
//! `cargo test` so one command proves both the product and the emulator it is tested on.

mod support;

#[test]
fn emulator_extension_pytest_suite_passes() {
    let status = std::process::Command::new(support::venv().join("bin/pytest"))
        .args(["-q", "-p", "no:cacheprovider", "tests/emulator"])
        .current_dir(support::repo_root())
        .status()
        .expect("run pytest");
    assert!(status.success(), "tests/emulator pytest suite failed");
}
