//! `ballista._native`: the native half of the Python package `ballista`.
//!
//! It offers two things the pure-Python half cannot do on its own:
//!
//! - [`EmbeddedCluster`](PyEmbeddedCluster): a scheduler and executors
//!   started inside the Python process on loopback, with
//!   `ballista-client`'s standalone support (the same code as
//!   `ballista standalone`). Python then talks to it over Arrow Flight like
//!   to any remote cluster: nothing is short-circuited.
//! - `FILE_DESCRIPTOR_SET`: the encoded descriptors of `proto/`, compiled by
//!   `ballista-proto`'s build script, from which Python builds its message
//!   classes at import (what protoc's `_pb2.py` files do), so the Python
//!   classes are generated from the spec at build time and never copied.
//!
//! This crate must not build plans or fetch results: that is the Python
//! side's job, over the same wire every other client uses.

use std::sync::Mutex;
use std::time::Duration;

use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A running cluster and the runtime that drives it.
struct Running {
    runtime: tokio::runtime::Runtime,
    cluster: EmbeddedCluster,
}

/// An embedded cluster: a scheduler and `executors` executors serving
/// Flight on free loopback ports of this process.
///
/// Started by the constructor, stopped by `shutdown()` (idempotent), by
/// garbage collection, or at interpreter exit (the Python side registers
/// that). The GIL is released while starting and stopping.
#[pyclass(module = "ballista._native", name = "EmbeddedCluster", weakref)]
pub struct PyEmbeddedCluster {
    state: Mutex<Option<Running>>,
    scheduler_url: String,
    executor_urls: Vec<String>,
}

fn runtime_error(what: &str, e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(format!("{what}: {e}"))
}

#[pymethods]
impl PyEmbeddedCluster {
    /// Starts the cluster and waits until every executor has registered.
    #[new]
    #[pyo3(signature = (executors = 2, slots_per_executor = None, memory_limit = None))]
    fn new(
        py: Python<'_>,
        executors: usize,
        slots_per_executor: Option<usize>,
        memory_limit: Option<usize>,
    ) -> PyResult<Self> {
        if executors == 0 {
            return Err(PyValueError::new_err(
                "an embedded cluster needs at least 1 executor, got executors=0",
            ));
        }
        if slots_per_executor == Some(0) {
            return Err(PyValueError::new_err(
                "each executor needs at least 1 task slot, got slots_per_executor=0",
            ));
        }
        let defaults = StandaloneConfig::default();
        let config = StandaloneConfig {
            executors,
            slots_per_executor: slots_per_executor.unwrap_or(defaults.slots_per_executor),
            memory_limit,
        };
        py.detach(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("ballista-embedded")
                .build()
                .map_err(|e| runtime_error("cannot start the embedded cluster's runtime", e))?;
            let cluster = runtime
                .block_on(EmbeddedCluster::start(config))
                .map_err(|e| runtime_error("cannot start the embedded cluster", e))?;
            let scheduler_url = cluster.scheduler_url();
            let executor_urls = cluster
                .executors()
                .iter()
                .map(|e| format!("grpc://{}", e.addr()))
                .collect();
            Ok(Self {
                state: Mutex::new(Some(Running { runtime, cluster })),
                scheduler_url,
                executor_urls,
            })
        })
    }

    /// The scheduler's URL, `grpc://127.0.0.1:PORT`.
    #[getter]
    fn scheduler_url(&self) -> String {
        self.scheduler_url.clone()
    }

    /// The executors' Flight URLs.
    #[getter]
    fn executor_urls(&self) -> Vec<String> {
        self.executor_urls.clone()
    }

    /// Whether the cluster is still running.
    #[getter]
    fn running(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// Stops the executors, then the scheduler; a no-op once stopped.
    fn shutdown(&self, py: Python<'_>) {
        let running = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            py.detach(|| stop(running));
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "EmbeddedCluster(scheduler_url={:?}, executors={}, running={})",
            self.scheduler_url,
            self.executor_urls.len(),
            if self.running() { "True" } else { "False" }
        )
    }
}

/// Stops a cluster; tasks still running on its runtime get a few seconds.
fn stop(running: Running) {
    let Running { runtime, cluster } = running;
    runtime.block_on(cluster.shutdown());
    runtime.shutdown_timeout(Duration::from_secs(5));
}

impl Drop for PyEmbeddedCluster {
    /// A cluster that was never shut down stops with its Python object.
    fn drop(&mut self) {
        let running = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            stop(running);
        }
    }
}

/// The module `ballista._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEmbeddedCluster>()?;
    m.add(
        "FILE_DESCRIPTOR_SET",
        PyBytes::new(m.py(), ballista_proto::FILE_DESCRIPTOR_SET),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
