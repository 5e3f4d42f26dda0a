//! `ballista-k8s` (run as `ballista k8s`): see `ballista k8s --help`.

use std::process::ExitCode;

use clap::Parser;

use ballista_k8s::cli::K8sCli;

fn main() -> ExitCode {
    // A bad flag exits here with clap's message and status 2.
    let cli = K8sCli::parse();
    ballista_k8s::cli::init_tracing();
    match ballista_k8s::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
