//! The embedded cluster: a scheduler and executors in this process.
//!
//! Nothing is short-circuited: the scheduler and every executor serve
//! Flight on their own loopback port, and tasks, shuffle data and results
//! travel over Flight exactly as between processes. Only the process
//! boundary is gone, which is what makes it the default for trying Ballista
//! out and for tests.

use std::time::Duration;

use ballista_core::{BallistaError, Result};
use ballista_executor::{Executor, ExecutorConfig, ExecutorHandle};
use ballista_scheduler::{SchedulerConfig, SchedulerHandle};

/// Shape of an embedded cluster.
#[derive(Debug, Clone)]
pub struct StandaloneConfig {
    /// Executors to start.
    pub executors: usize,
    /// Task slots per executor.
    pub slots_per_executor: usize,
    /// Memory limit per executor in bytes (spilling beyond it).
    pub memory_limit: Option<usize>,
}

impl Default for StandaloneConfig {
    /// Two executors sharing the machine's cores.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            executors: 2,
            slots_per_executor: (cores / 2).max(1),
            memory_limit: None,
        }
    }
}

/// A running embedded cluster; dropping it stops nothing by itself, call
/// [`EmbeddedCluster::shutdown`] (the servers also end with the runtime).
#[derive(Debug)]
pub struct EmbeddedCluster {
    scheduler: SchedulerHandle,
    executors: Vec<ExecutorHandle>,
}

impl EmbeddedCluster {
    /// Starts the scheduler and executors on free loopback ports, and waits
    /// until every executor has registered.
    pub async fn start(config: StandaloneConfig) -> Result<Self> {
        let scheduler = ballista_scheduler::start(SchedulerConfig {
            port: 0,
            ..SchedulerConfig::default()
        })
        .await?;
        let mut executors = Vec::with_capacity(config.executors);
        for _ in 0..config.executors.max(1) {
            let executor = Executor::start(ExecutorConfig {
                port: 0,
                scheduler_url: scheduler.url(),
                task_slots: config.slots_per_executor.max(1),
                memory_limit: config.memory_limit,
                ..ExecutorConfig::default()
            })
            .await?;
            executors.push(executor);
        }
        let cluster = Self {
            scheduler,
            executors,
        };
        cluster.wait_for_executors(Duration::from_secs(10)).await?;
        Ok(cluster)
    }

    async fn wait_for_executors(&self, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let state_count = self.scheduler.scheduler.registered_executors();
            if state_count >= self.executors.len() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(BallistaError::Unavailable(format!(
                    "only {state_count} of {} embedded executors registered within {} s",
                    self.executors.len(),
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The scheduler's URL.
    pub fn scheduler_url(&self) -> String {
        self.scheduler.url()
    }

    /// The executors' handles.
    pub fn executors(&self) -> &[ExecutorHandle] {
        &self.executors
    }

    /// Stops the executors, then the scheduler.
    pub async fn shutdown(self) {
        for e in self.executors {
            if let Err(err) = e.shutdown().await {
                tracing::warn!("embedded executor did not shut down cleanly: {err}");
            }
        }
        self.scheduler.shutdown().await;
    }
}
