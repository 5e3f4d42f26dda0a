//! The Apache Ballista cluster: one scheduler process and N executor processes on 127.0.0.1,
//! each the runner binary re-executed with the `scheduler` / `executor` subcommand, which call
//! the `ballista-scheduler` / `ballista-executor` library crates the same way those crates' own
//! binaries do (default configuration, push-staged scheduling).

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::cli::ExecutorOptions;
use crate::error::{Error, Result};

/// The line the scheduler prints on stdout once it accepts connections.
const LISTENING: &str = "listening on ";

/// How long a cluster process may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Exits this (child) process once its standard input reaches end-of-file, i.e. once the
/// runner that spawned it is gone (even killed), so no scheduler or executor is ever left
/// behind; `scratch`, if given, is removed first (an executor's shuffle files).
fn exit_when_parent_goes(scratch: Option<PathBuf>) {
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        if let Some(dir) = scratch {
            let _ = std::fs::remove_dir_all(&dir);
            // The runner's per-run folder, once the last executor has emptied it.
            if let Some(parent) = dir.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        std::process::exit(0);
    });
}

/// A multi-threaded Tokio runtime, with the 32 MiB worker stacks Apache Ballista's own
/// scheduler binary uses (deep plans recurse while being (de)serialised).
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()?)
}

/// The `scheduler` subcommand: serve the scheduler's gRPC on 127.0.0.1, a free port, printing
/// `listening on 127.0.0.1:PORT` on stdout; runs until stdin closes.
pub fn run_scheduler() -> Result<()> {
    exit_when_parent_goes(None);
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let config = SchedulerConfig::default()
            .with_hostname("127.0.0.1")
            .with_port(addr.port());
        let cluster = BallistaCluster::new_from_config(&config).await?;
        let scheduler =
            create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
                .await?;
        println!("{LISTENING}{addr}");
        start_grpc_service_with_listener(listener, scheduler).await?;
        Ok(())
    })
}

/// The `executor` subcommand: an executor with `slots` task slots that registers with the
/// scheduler on 127.0.0.1; runs until stdin closes.
pub fn run_executor(opts: ExecutorOptions) -> Result<()> {
    exit_when_parent_goes(Some(opts.work_dir.clone()));
    let work_dir = opts
        .work_dir
        .to_str()
        .ok_or_else(|| Error::new(format!("work dir {:?} is not UTF-8", opts.work_dir)))?
        .to_owned();
    let config = ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        external_host: Some("127.0.0.1".into()),
        port: opts.port,
        grpc_port: opts.grpc_port,
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: opts.scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: opts.slots,
        work_dir: Some(work_dir),
        ..Default::default()
    };
    runtime()?.block_on(start_executor_process(Arc::new(config)))?;
    Ok(())
}

/// One running cluster process.
struct Process {
    name: String,
    child: Child,
    /// Kept open: closing it tells the child to exit.
    stdin: Option<ChildStdin>,
}

/// The scheduler and executors started by the runner; stopped on drop.
pub struct Cluster {
    processes: Vec<Process>,
    /// The scheduler's URL for `SessionContext::remote_with_state`.
    pub scheduler_url: String,
    work_root: PathBuf,
}

/// Picks `n` distinct free ports on 127.0.0.1 (all listeners are held until every port is
/// chosen, so no two are the same; a port may in theory be taken before the child binds it).
fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

fn spawn(name: &str, args: &[String], log: &Path) -> Result<Process> {
    let exe = std::env::current_exe()?;
    let log_file = std::fs::File::create(log)?;
    let mut child = Command::new(&exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .map_err(|e| Error::new(format!("cannot start the {name} ({}): {e}", exe.display())))?;
    let stdin = child.stdin.take();
    Ok(Process {
        name: name.to_owned(),
        child,
        stdin,
    })
}

/// Waits until something accepts TCP connections on `port`, or the process dies.
fn wait_port(process: &mut Process, port: u16, log: &Path) -> Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = process.child.try_wait()? {
            return Err(Error::new(format!(
                "the {} exited ({status}) before listening on {addr}; see {}",
                process.name,
                log.display()
            )));
        }
        if start.elapsed() > START_TIMEOUT {
            return Err(Error::new(format!(
                "the {} did not listen on {addr} within {START_TIMEOUT:?}; see {}",
                process.name,
                log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Cluster {
    /// Starts the scheduler, then `executors` executors of `slots` slots each, and waits until
    /// all of them are registered with the scheduler. Process logs (stderr) go to `log_dir`.
    pub fn start(executors: usize, slots: usize, log_dir: &Path) -> Result<Cluster> {
        let work_root =
            std::env::temp_dir().join(format!("apache-ballista-tpch-{}", std::process::id()));
        std::fs::create_dir_all(&work_root)?;
        let mut cluster = Cluster {
            processes: Vec::new(),
            scheduler_url: String::new(),
            work_root,
        };

        let log = log_dir.join("scheduler.log");
        let mut scheduler = spawn("scheduler", &["scheduler".to_owned()], &log)?;
        let stdout = scheduler.child.stdout.take();
        cluster.processes.push(scheduler);
        let mut line = String::new();
        if let Some(stdout) = stdout {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let addr = line
            .trim()
            .strip_prefix(LISTENING)
            .ok_or_else(|| {
                Error::new(format!(
                    "the scheduler did not start (printed {line:?}); see {}",
                    log.display()
                ))
            })?
            .to_owned();
        let scheduler_port: u16 = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| Error::new(format!("bad scheduler address {addr:?}")))?;
        cluster.scheduler_url = format!("df://127.0.0.1:{scheduler_port}");

        let ports = free_ports(2 * executors)?;
        for i in 0..executors {
            let (port, grpc_port) = (ports[2 * i], ports[2 * i + 1]);
            let work_dir = cluster.work_root.join(format!("executor-{i}"));
            std::fs::create_dir_all(&work_dir)?;
            let args = [
                "executor".to_owned(),
                "--scheduler-port".to_owned(),
                scheduler_port.to_string(),
                "--port".to_owned(),
                port.to_string(),
                "--grpc-port".to_owned(),
                grpc_port.to_string(),
                "--slots".to_owned(),
                slots.to_string(),
                "--work-dir".to_owned(),
                work_dir.display().to_string(),
            ];
            let log = log_dir.join(format!("executor-{i}.log"));
            let mut process = spawn(&format!("executor-{i}"), &args, &log)?;
            // An executor registers with the scheduler before it opens its Flight port
            // (ballista-executor's start_executor_process), so once that port accepts
            // connections the executor's slots are known to the scheduler.
            let waited = wait_port(&mut process, port, &log);
            cluster.processes.push(process);
            waited?;
        }
        Ok(cluster)
    }

    /// Peak resident set size (`VmHWM`) of every cluster process, by name.
    pub fn peak_rss(&self) -> Vec<(String, Option<u64>)> {
        self.processes
            .iter()
            .map(|p| (p.name.clone(), vm_hwm(p.child.id())))
            .collect()
    }

    /// Describes the cluster for `result.json`.
    pub fn describe(executors: usize, slots: usize, partitions: usize) -> String {
        format!(
            "scheduler + {executors} executor{} x {slots} slot{}, separate processes, \
             push-staged scheduling, target_partitions={partitions}",
            if executors == 1 { "" } else { "s" },
            if slots == 1 { "" } else { "s" },
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.processes {
            // Closing stdin asks the child to exit; kill in case it is stuck.
            p.stdin.take();
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                match p.child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = p.child.kill();
                        let _ = p.child.wait();
                        break;
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.work_root);
    }
}

/// `VmHWM` (peak resident set size) of a process in bytes, from `/proc/<pid>/status`.
pub fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}
