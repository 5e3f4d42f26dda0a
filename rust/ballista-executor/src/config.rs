//! The executor's runtime configuration, already validated by whoever built
//! it (the CLI turns flags into this; the embedded cluster fills it in).

use std::path::PathBuf;
use std::time::Duration;

/// The scheduler address an executor dials when none is given: the
/// scheduler's conventional Flight port on loopback.
pub const DEFAULT_SCHEDULER_URL: &str = "grpc://127.0.0.1:50050";

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Interface the Flight server binds (default `127.0.0.1`: tests and
    /// the embedded cluster never listen beyond loopback).
    pub bind_host: String,
    /// Flight port; 0 picks a free one (read it back from
    /// [`ExecutorHandle::addr`](crate::ExecutorHandle::addr)).
    pub port: u16,
    /// Host name peers use to reach this executor, sent to the scheduler
    /// at registration and written into every `PartitionLocation`.
    /// `None` means `bind_host` (set it when binding `0.0.0.0`).
    pub advertise_host: Option<String>,
    /// The scheduler's Flight address, e.g. `grpc://127.0.0.1:50050`.
    pub scheduler_url: String,
    /// Tasks run at the same time (default: the number of cores).
    pub task_slots: usize,
    /// Directory for shuffle and result files and for spill files.
    ///
    /// `None` (the default) creates a fresh directory under
    /// `std::env::temp_dir()` that a clean shutdown removes. A given
    /// directory is created if missing and kept at shutdown, but the job
    /// directories this executor wrote in it are removed. Two executors
    /// must not share one directory: both would write the same paths.
    pub work_dir: Option<PathBuf>,
    /// Memory the executor's tasks may use together, in bytes. When set,
    /// operators that can spill (sorts, aggregations, joins) spill to
    /// `work_dir` beyond it, and the rest fail with a resources-exhausted
    /// error instead of the process being OOM-killed. `None`: unbounded.
    pub memory_limit: Option<usize>,
    /// Heartbeat interval used until the scheduler names one in its
    /// registration reply (default 1 s).
    pub heartbeat_interval: Duration,
    /// Shuffle partitions a reader fetches at the same time (default 4).
    pub fetch_concurrency: usize,
    /// Interpreter of the Python UDF workers (`--python`); default: the
    /// `BALLISTA_PYTHON` environment variable, else `python3` on `PATH`.
    /// It needs `pyarrow` and `cloudpickle`; the executor advertises
    /// `udf_languages: ["python"]` only if a worker starts with it.
    pub python: PathBuf,
    /// Python UDF worker processes alive at most (default: twice the task
    /// slots, since one task may hold a scalar-UDF worker and a
    /// map-batches worker at once).
    pub python_workers: Option<usize>,
    /// How tasks read local (`file://`) table files: from memory maps (the
    /// default) or copied with `pread` (`crate::local_files` says why and
    /// what the trade is).
    pub local_reads: LocalReads,
}

/// How an executor's tasks read byte ranges of local table files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LocalReads {
    /// Ranges of 64 KiB or more come from a memory map of the file: no
    /// copy, no new buffer. A file truncated in place while it is read
    /// faults the executor.
    #[default]
    Mmap,
    /// Every range is copied into a new buffer (`object_store`'s
    /// `LocalFileSystem`, DataFusion's default).
    Pread,
}

impl ExecutorConfig {
    /// The default configuration for an executor of the scheduler at
    /// `scheduler_url`.
    pub fn new(scheduler_url: impl Into<String>) -> Self {
        Self {
            scheduler_url: scheduler_url.into(),
            ..Self::default()
        }
    }

    /// The host peers use to reach this executor.
    pub fn advertised_host(&self) -> &str {
        self.advertise_host.as_deref().unwrap_or(&self.bind_host)
    }
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            bind_host: "127.0.0.1".to_string(),
            port: 0,
            advertise_host: None,
            scheduler_url: DEFAULT_SCHEDULER_URL.to_string(),
            task_slots: std::thread::available_parallelism().map_or(1, |n| n.get()),
            work_dir: None,
            memory_limit: None,
            heartbeat_interval: Duration::from_secs(1),
            fetch_concurrency: crate::shuffle::DEFAULT_FETCH_CONCURRENCY,
            python: default_python(),
            python_workers: None,
            local_reads: LocalReads::default(),
        }
    }
}

/// `BALLISTA_PYTHON`, else `python3`.
pub fn default_python() -> PathBuf {
    std::env::var_os("BALLISTA_PYTHON")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}
