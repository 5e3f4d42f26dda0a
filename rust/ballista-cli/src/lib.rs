//! The `ballista` command line: embedded cluster, scheduler, executor, SQL
//! shell and data generators.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; the
//! work is here so that tests can use it:
//!
//! - [`args`]: clap definitions and flag validation;
//! - [`commands`]: one function per subcommand;
//! - [`shell`]: the SQL shell (interactive, `-c`, `-f`) over a [`SqlRunner`];
//! - [`format`]: printing results as a table, CSV or JSON lines.
//!
//! Results (and a server's `listening on IP:PORT` line) go to stdout; logs,
//! progress bars and errors go to stderr.

pub mod args;
pub mod commands;
mod error;
pub mod format;
pub mod progress;
pub mod runner;
pub mod shell;

pub use error::{CliError, Result};
pub use runner::SqlRunner;

use args::Command;

/// Runs one parsed command line to completion.
pub fn run(command: Command) -> Result<()> {
    match command {
        // Generation is CPU-bound and synchronous: no runtime needed.
        Command::Gen(command) => commands::run_gen(command),
        // Another program does the work (it has its own runtime).
        Command::K8s(args) => commands::run_k8s(args),
        command => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::io("cannot start the async runtime", e))?;
            runtime.block_on(async move {
                match command {
                    Command::Standalone(args) => commands::run_standalone(args).await,
                    Command::Scheduler(args) => commands::run_scheduler(args).await,
                    Command::Executor(args) => commands::run_executor(args).await,
                    Command::Sql(args) => commands::run_sql(args).await,
                    Command::Gen(command) => commands::run_gen(command),
                    Command::K8s(args) => commands::run_k8s(args),
                }
            })
        }
    }
}

/// Sends `tracing` logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Fails only if a subscriber is already set (e.g. by an embedding
    // program), which is then kept.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for people, not for logs captured to files.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
