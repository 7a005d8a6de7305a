use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`baseline plan | head`) instead of panicking on a broken pipe.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = baseline::cli::Cli::parse();
    std::process::exit(baseline::cli::run(cli));
}
