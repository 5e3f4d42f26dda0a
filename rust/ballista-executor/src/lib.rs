//! The Ballista executor: runs the tasks a scheduler pushes to it and keeps
//! their output on local disk until it is fetched (DESIGN.md §3–4).
//!
//! - [`executor`]: [`Executor::start`] binds the Flight service, registers
//!   with the scheduler and heartbeats (carrying task statuses);
//! - `flight_service`: the executor's Flight surface — `launch_task`,
//!   `remove_job_data`, and `DoGet(FetchPartition)` streaming shuffle and
//!   result files;
//! - `task`: running one task (settings, plan decoding, write, status);
//! - [`narrow`]: a stage plan narrowed to the task's one partition, so
//!   that joins can filter their inputs with dynamic filters;
//! - [`shuffle`]: the runtime operators of the spec as DataFusion plans —
//!   [`ShuffleWriterExec`], [`ShuffleReaderExec`], [`ResultSinkExec`] — and
//!   the on-disk layout of shuffle data;
//! - [`codec`]: [`ExecutorCodec`], which decodes (and encodes) those
//!   operators inside a stage plan;
//! - [`config`]: the executor's settings, [`ExecutorConfig`];
//! - [`local_files`]: the `file://` object store of tasks, which serves
//!   byte ranges of table files from memory maps.
//!
//! What this crate must not do: plan queries, pick executors for tasks or
//! track jobs (that is the scheduler's), or define a wire message (those
//! live in `proto/`). Its only peers are reached over Flight.
//!
//! The error type is `ballista-core`'s [`BallistaError`], re-exported here:
//! one error type for the whole project.
//!
//! [`Executor::start`]: executor::Executor::start
//! [`ShuffleWriterExec`]: shuffle::ShuffleWriterExec
//! [`ShuffleReaderExec`]: shuffle::ShuffleReaderExec
//! [`ResultSinkExec`]: shuffle::ResultSinkExec
//! [`ExecutorCodec`]: codec::ExecutorCodec
//! [`ExecutorConfig`]: config::ExecutorConfig

pub mod codec;
pub mod config;
pub mod executor;
mod flight_service;
pub mod local_files;
pub mod narrow;
pub mod python_udf;
pub mod shuffle;
mod task;

pub use ballista_core::{BallistaError, Result};
pub use codec::ExecutorCodec;
pub use config::{ExecutorConfig, LocalReads};
pub use executor::{Executor, ExecutorHandle};
pub use python_udf::PythonWorkerPool;
