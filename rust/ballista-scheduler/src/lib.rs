//! Ballista's scheduler: the Flight service clients submit queries to and
//! executors register with (DESIGN.md §3).
//!
//! - [`session`]: the shared catalog, and planning SQL or logical plans
//!   with DataFusion;
//! - [`views`]: views private to a client session, over the shared catalog;
//! - [`scan_split`]: spreading a Parquet scan's row groups evenly over
//!   its partitions (tasks);
//! - [`task_local`]: rewriting the joins that DataFusion runs with state
//!   shared across partitions, so each partition can be its own task;
//! - [`planner`]: cutting a physical plan into stages at exchanges, and
//!   encoding each stage in the physical spec;
//! - [`runtime_filter`]: a join's build stage filtering the scans of
//!   earlier stages on its probe side;
//! - [`adaptive`]: a partitioned join whose build side turns out small
//!   becoming a broadcast join;
//! - [`state`]: jobs, stages, task attempts and executors (no I/O);
//! - [`scheduler`]: dispatching tasks to executors and reacting to them;
//! - [`table_files`]: checking at submission that file tables still have
//!   their files;
//! - [`flight_service`]: the Flight surface over all of it.

pub mod adaptive;
pub mod flight_service;
pub mod planner;
pub mod runtime_filter;
pub mod scan_split;
pub mod scheduler;
pub mod session;
pub mod state;
pub mod table_files;
pub mod task_local;
pub mod udf;
pub mod views;

use std::net::SocketAddr;

pub use ballista_core::{BallistaError, Result};
pub use scheduler::{Scheduler, SchedulerConfig};

use ballista_flight::server::{ServerHandle, serve};

/// A scheduler serving Flight.
#[derive(Debug)]
pub struct SchedulerHandle {
    /// The scheduler.
    pub scheduler: Scheduler,
    server: ServerHandle,
}

impl SchedulerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The URL clients and executors connect to.
    pub fn url(&self) -> String {
        format!("grpc://{}", self.server.addr)
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Runs until the server stops.
    pub async fn wait(self) {
        self.server.wait().await;
    }
}

/// Starts a scheduler on `config.bind_host:config.port` (port 0 picks a
/// free port; see [`SchedulerHandle::addr`]).
pub async fn start(config: SchedulerConfig) -> Result<SchedulerHandle> {
    let scheduler = Scheduler::new(config.clone());
    scheduler.start_loops();
    let server = serve(
        flight_service::SchedulerFlightService::new(scheduler.clone()),
        &config.bind_host,
        config.port,
    )
    .await?;
    tracing::info!("scheduler listening on {}", server.addr);
    Ok(SchedulerHandle { scheduler, server })
}
