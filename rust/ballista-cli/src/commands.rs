//! What each subcommand does.
//!
//! `standalone`, `scheduler`, `executor` and `sql` start or connect to a
//! cluster through the runtime crates; the shell runs SQL on it through
//! [`SqlRunner`].

use std::time::Instant;

use ballista_datagen::{Outcome, nyctaxi, tpch};

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use ballista_executor::{Executor, ExecutorConfig};
use ballista_scheduler::SchedulerConfig;

use crate::args::{ExecutorArgs, GenCommand, K8sArgs, SchedulerArgs, SqlArgs, StandaloneArgs};
use crate::{CliError, Result, SqlRunner, shell};

/// `ballista standalone`: an embedded scheduler and `args.executors`
/// executors on loopback, then the SQL shell on them.
pub async fn run_standalone(args: StandaloneArgs) -> Result<()> {
    let slots = args.slots.map_or_else(
        || StandaloneConfig::default().slots_per_executor,
        NonZeroUsize::get,
    );
    let cluster = EmbeddedCluster::start(StandaloneConfig {
        executors: args.executors.max(1) as usize,
        slots_per_executor: slots,
        memory_limit: None,
    })
    .await
    .map_err(CliError::query)?;
    tracing::info!(
        "embedded cluster: scheduler at {}, {} executors × {slots} slots",
        cluster.scheduler_url(),
        args.executors.max(1)
    );
    let ctx = BallistaContext::for_cluster(Arc::new(cluster))
        .await
        .map_err(CliError::query)?;
    shell::run(
        &ClusterRunner { ctx },
        args.query.input(),
        args.query.format,
    )
    .await
}

/// `ballista scheduler`: serves until SIGINT/SIGTERM, after printing
/// `listening on IP:PORT` on stdout.
pub async fn run_scheduler(args: SchedulerArgs) -> Result<()> {
    let handle = ballista_scheduler::start(SchedulerConfig {
        bind_host: args.bind.to_string(),
        port: args.port,
        executor_timeout: args.executor_timeout,
        no_executor_timeout: args.no_executor_timeout,
        shuffle_compression: args.shuffle_compression.to_proto(),
        runtime_filters: args.runtime_filters,
        adaptive_joins: args.adaptive_joins,
        ..SchedulerConfig::default()
    })
    .await
    .map_err(CliError::query)?;
    announce(handle.addr());
    shutdown_signal().await;
    tracing::info!("scheduler shutting down");
    handle.shutdown().await;
    Ok(())
}

/// `ballista executor`: registers with `args.scheduler` and serves tasks
/// until SIGINT/SIGTERM, after printing `listening on IP:PORT` on stdout.
pub async fn run_executor(args: ExecutorArgs) -> Result<()> {
    let config = ExecutorConfig {
        bind_host: args.bind.to_string(),
        port: args.port,
        advertise_host: args.advertise_host.clone(),
        scheduler_url: args.scheduler.clone(),
        task_slots: args.slots().get(),
        work_dir: args.work_dir.clone(),
        memory_limit: args
            .memory_limit
            .map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
        python: args
            .python
            .clone()
            .unwrap_or_else(ballista_executor::config::default_python),
        local_reads: args.local_reads.to_config(),
        ..ExecutorConfig::default()
    };
    let handle = Executor::start(config).await.map_err(CliError::query)?;
    announce(handle.addr());
    shutdown_signal().await;
    tracing::info!("executor shutting down");
    handle.shutdown().await.map_err(CliError::query)?;
    Ok(())
}

/// `ballista sql`: the SQL shell on the cluster of `args.scheduler`.
pub async fn run_sql(args: SqlArgs) -> Result<()> {
    let ctx = BallistaContext::remote(&args.scheduler)
        .await
        .map_err(CliError::query)?;
    shell::run(
        &ClusterRunner { ctx },
        args.query.input(),
        args.query.format,
    )
    .await
}

/// Prints the address a server is listening on: the one line of stdout
/// that scripts and tests wait for (logs go to stderr).
fn announce(addr: SocketAddr) {
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the shell's statements on a cluster.
struct ClusterRunner {
    ctx: BallistaContext,
}

#[async_trait::async_trait]
impl SqlRunner for ClusterRunner {
    async fn run(
        &self,
        sql: &str,
        progress: &(dyn Fn(u32, u32) + Send + Sync),
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let report = |p: &ballista_proto::v1::JobProgress| progress(p.tasks_done, p.tasks_total);
        let result = self
            .ctx
            .execute_sql(sql, Some(&report))
            .await
            .map_err(CliError::query)?;
        let batches = self.ctx.fetch_all(&result).await.map_err(CliError::query)?;
        Ok((result.schema, batches))
    }
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

/// Name of the program that implements `ballista k8s`.
pub const K8S_PROGRAM: &str = "ballista-k8s";

/// `ballista k8s ...`: runs `ballista-k8s` with the same arguments, the one
/// beside this executable if there is one, else the one on `PATH`. On Unix
/// the process is replaced, so exit status and signals are the program's.
pub fn run_k8s(args: K8sArgs) -> Result<()> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(K8S_PROGRAM)))
        .filter(|path| path.is_file());
    let program = beside.unwrap_or_else(|| K8S_PROGRAM.into());
    let mut command = std::process::Command::new(&program);
    command.args(&args.args);
    let not_found = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError::InvalidArgument(format!(
                "`ballista k8s` runs the `{K8S_PROGRAM}` program, which is neither beside \
                 this `ballista` nor on PATH; build it with `make k8s` (or `cargo build \
                 --manifest-path rust/ballista-k8s/Cargo.toml`)"
            ))
        } else {
            CliError::io(format!("cannot run {}", program.display()), e)
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Returns only if the program could not be started.
        Err(not_found(command.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(not_found)?;
        std::process::exit(status.code().unwrap_or(1));
    }
}
