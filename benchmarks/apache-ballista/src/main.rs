//! `apache-ballista-tpch`: runs TPC-H queries on Apache DataFusion Ballista (the crates.io
//! `ballista` 55.0.0 family), the peer engine our Ballista is benchmarked against.
//!
//! One binary, three roles:
//! - `apache-ballista-tpch --data DIR ...` (the runner): starts a scheduler and N executors as
//!   child processes (re-executing itself with the subcommands below), connects a Ballista
//!   client `SessionContext` to the scheduler, runs the queries and writes `result.json` plus
//!   one Arrow IPC file per query.
//! - `apache-ballista-tpch scheduler`: an Apache Ballista scheduler on 127.0.0.1, free port.
//! - `apache-ballista-tpch executor ...`: an Apache Ballista executor with a given slot count.
//!
//! The children exit when their standard input closes, so they never outlive the runner, even
//! when it is killed.

mod cli;
mod cluster;
mod error;
mod runner;

use std::process::ExitCode;

use crate::cli::Command;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("apache-ballista-tpch: {e}");
            eprintln!("{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        Command::Scheduler => cluster::run_scheduler(),
        Command::Executor(opts) => cluster::run_executor(opts),
        Command::Run(opts) => runner::run(opts),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apache-ballista-tpch: {e}");
            ExitCode::FAILURE
        }
    }
}
