//! Ctrl-C and SIGTERM during `apply`. The first one stops starting changes: those running
//! finish and record their outcome, the run lock is released and the process exits 130. A
//! second one, or one before any change started, exits at once (130): the kernel drops the run
//! lock with the process, and an intent without an outcome is what `log verify` lists as
//! incomplete.

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::signal::unix::{signal, SignalKind};

use crate::cli::exit;

const IDLE: u8 = 0;
const APPLYING: u8 = 1;
const STOPPING: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(IDLE);

/// Handle SIGINT and SIGTERM from now on. Call inside the tokio runtime.
pub fn listen() {
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the signals keep their default: the process ends at once.
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if STATE
                .compare_exchange(APPLYING, STOPPING, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                eprintln!(
                    "\nInterrupted: starting no new changes; those running finish and record \
                     their outcome. Interrupt again to stop at once."
                );
            } else {
                eprintln!("\nInterrupted.");
                crate::changelog::lock::remove_on_exit();
                std::process::exit(exit::INTERRUPTED);
            }
        }
    });
}

/// While alive, an interrupt asks the apply to stop rather than ending the process.
pub struct Applying(());

impl Applying {
    pub fn start() -> Applying {
        let _ = STATE.compare_exchange(IDLE, APPLYING, Ordering::SeqCst, Ordering::SeqCst);
        Applying(())
    }
}

impl Drop for Applying {
    fn drop(&mut self) {
        STATE.store(IDLE, Ordering::SeqCst);
    }
}

/// Whether an interrupt asked the apply to stop starting changes.
pub fn stopping() -> bool {
    STATE.load(Ordering::SeqCst) == STOPPING
}
