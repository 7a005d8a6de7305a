//! What stderr shows besides errors and warnings: notices (an account skipped, a plan saved,
//! a lock taken over) and progress. `--quiet` turns both off.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Print a notice on stderr, unless quiet.
pub fn notice(message: std::fmt::Arguments<'_>) {
    if !quiet() {
        eprintln!("{message}");
    }
}
