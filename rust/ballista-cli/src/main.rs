//! `ballista`: see `ballista --help`.

use std::process::ExitCode;

use clap::Parser;

use ballista_cli::args::Cli;

fn main() -> ExitCode {
    // A bad flag exits here with clap's message and status 2.
    let cli = Cli::parse();
    ballista_cli::init_tracing();
    match ballista_cli::run(cli.into_command()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
