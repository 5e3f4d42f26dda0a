//! What each subcommand does.
//!
//! `standalone`, `scheduler`, `executor` and `sql` need the runtime crates
//! (scheduler, executor, client), which this crate does not depend on yet:
//! until they are wired in, those functions return [`CliError::NotWired`].
//! Each is one small function with the signature the wiring needs, e.g.
//! `run_standalone` starts the cluster, builds a [`crate::SqlRunner`] on it
//! and calls [`crate::shell::run`] with `args.query.input()`.

use std::time::Instant;

use ballista_datagen::{Outcome, nyctaxi, tpch};

use crate::args::{ExecutorArgs, GenCommand, SchedulerArgs, SqlArgs, StandaloneArgs};
use crate::{CliError, Result};

/// `ballista standalone`: an embedded scheduler and `args.executors`
/// executors on loopback, then the SQL shell on them.
pub async fn run_standalone(args: StandaloneArgs) -> Result<()> {
    tracing::debug!(?args, "standalone");
    Err(CliError::NotWired {
        command: "standalone",
    })
}

/// `ballista scheduler`: serves until SIGINT/SIGTERM, after printing
/// `listening on IP:PORT` on stdout.
pub async fn run_scheduler(args: SchedulerArgs) -> Result<()> {
    tracing::debug!(?args, "scheduler");
    Err(CliError::NotWired {
        command: "scheduler",
    })
}

/// `ballista executor`: registers with `args.scheduler` and serves tasks
/// until SIGINT/SIGTERM, after printing `listening on IP:PORT` on stdout.
pub async fn run_executor(args: ExecutorArgs) -> Result<()> {
    tracing::debug!(?args, "executor");
    Err(CliError::NotWired {
        command: "executor",
    })
}

/// `ballista sql`: the SQL shell on the cluster of `args.scheduler`.
pub async fn run_sql(args: SqlArgs) -> Result<()> {
    tracing::debug!(?args, "sql");
    Err(CliError::NotWired { command: "sql" })
}

/// `ballista gen`: writes a data set as Parquet.
pub fn run_gen(command: GenCommand) -> Result<()> {
    let start = Instant::now();
    let (what, dir, outcome) = match command {
        GenCommand::Tpch(args) => {
            let outcome = tpch::generate(&args.out, args.sf, args.parts as usize)?;
            let what = format!("TPC-H SF {} ({} parts per table)", args.sf, args.parts);
            (what, args.out, outcome)
        }
        GenCommand::Nyctaxi(args) => {
            let outcome = nyctaxi::generate(&args.out, args.rows, args.files as usize, args.seed)?;
            let what = format!(
                "{} NYC taxi trips in {} file(s), seed {}",
                args.rows, args.files, args.seed
            );
            (what, args.out, outcome)
        }
    };
    match outcome {
        Outcome::Generated => tracing::info!(
            "generated {what} in {} ({:.2} s)",
            dir.display(),
            start.elapsed().as_secs_f64()
        ),
        Outcome::AlreadyPresent => {
            tracing::info!("{} already holds {what}; nothing to do", dir.display())
        }
    }
    Ok(())
}
