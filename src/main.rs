use clap::Parser;

fn main() {
    let cli = baseline::cli::Cli::parse();
    std::process::exit(baseline::cli::run(cli));
}
