use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`baseline plan | head`) instead of panicking on a broken pipe.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match baseline::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout and succeed; a usage error is an error (1), never
        // clap's 2, which `--detailed-exitcode` reads as "changes present".
        Err(err) => {
            let _ = err.print();
            std::process::exit(if err.use_stderr() {
                baseline::cli::exit::ERROR
            } else {
                baseline::cli::exit::OK
            });
        }
    };
    std::process::exit(baseline::cli::run(cli));
}
