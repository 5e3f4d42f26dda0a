//! The Python UDF worker pool with real worker processes: started on
//! demand, reused, bounded, replaced after a crash; Python exceptions come
//! back with their traceback. Needs a Python with pyarrow and cloudpickle:
//! `BALLISTA_PYTHON`, else the repository's `.venv` (`make python-install`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_core::BallistaError;
use ballista_core::udf::UdfRuntime;
use ballista_executor::PythonWorkerPool;
use ballista_proto::v1 as pb;
use datafusion::common::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("BALLISTA_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = crate::support::package_dir().join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run `make python-install` or set BALLISTA_PYTHON to a Python \
         with pyarrow and cloudpickle",
        venv.display()
    );
    venv
}

/// A `UdfDefinition` of Python function `f` defined by `source`.
fn function(name: &str, source: &str) -> pb::UdfDefinition {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import cloudpickle, sys; ns = {}; exec(sys.argv[1], ns); \
             sys.stdout.buffer.write(cloudpickle.dumps(ns['f']))",
            source,
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = std::process::Command::new(python())
        .args([
            "-c",
            "import sys; print('.'.join(map(str, sys.version_info[:3])))",
        ])
        .output()
        .expect("run python");
    pb::UdfDefinition {
        language: "python".into(),
        name: name.into(),
        payload: out.stdout,
        runtime_version: String::from_utf8_lossy(&version.stdout).trim().to_string(),
        deterministic: true,
    }
}

fn ints(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

fn call(
    pool: &PythonWorkerPool,
    f: &pb::UdfDefinition,
    v: &[i64],
) -> Result<ArrayRef, DataFusionError> {
    pool.invoke(f, vec![ints(v)], &DataType::Int64, v.len())
}

fn ballista_error(e: &DataFusionError) -> &BallistaError {
    BallistaError::find_in(e).expect("a Ballista error")
}

#[test]
fn workers_start_on_demand_and_are_reused() {
    let pool = PythonWorkerPool::new(python(), 2);
    assert_eq!(pool.spawned(), 0, "nothing starts before it is needed");
    let f = function(
        "plus_one",
        "import pyarrow.compute as pc\ndef f(x): return pc.add(x, 1)",
    );
    for i in 0..5 {
        let out = call(&pool, &f, &[i, 10, 20]).unwrap();
        let out = out.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(out.values().to_vec(), vec![i + 1, 11, 21]);
    }
    assert_eq!(pool.spawned(), 1, "sequential calls reuse one worker");
    assert_eq!(pool.live(), 1);
}

#[test]
fn the_pool_is_bounded() {
    let pool = PythonWorkerPool::new(python(), 2);
    let f = function(
        "slow",
        "import time\ndef f(x):\n    time.sleep(0.3)\n    return x",
    );
    std::thread::scope(|s| {
        for _ in 0..5 {
            s.spawn(|| call(&pool, &f, &[1, 2, 3]).unwrap());
        }
    });
    assert_eq!(pool.spawned(), 2, "five concurrent calls share two workers");
    assert_eq!(pool.live(), 2);
}

#[test]
fn an_exception_carries_the_traceback_and_keeps_the_worker() {
    let pool = PythonWorkerPool::new(python(), 1);
    let f = function(
        "bad",
        "def f(x):\n    raise ValueError('no good: %d' % len(x))",
    );
    let e = call(&pool, &f, &[1, 2]).unwrap_err();
    let BallistaError::Execution(msg) = ballista_error(&e) else {
        panic!("expected an execution error, got {e}");
    };
    assert!(msg.contains("ValueError: no good: 2"), "{msg}");
    assert!(
        msg.contains("Traceback (most recent call last)") && msg.contains(", in f"),
        "{msg}"
    );
    let ok = function("id", "def f(x): return x");
    assert_eq!(call(&pool, &ok, &[7]).unwrap().len(), 1);
    assert_eq!(pool.spawned(), 1, "a worker that raised is reused");
}

#[test]
fn a_crashed_worker_fails_the_call_and_is_replaced() {
    let pool = PythonWorkerPool::new(python(), 1);
    let f = function(
        "dies",
        "import os, sys\ndef f(x):\n    print('about to exit', file=sys.stderr)\n    os._exit(1)",
    );
    let e = call(&pool, &f, &[1]).unwrap_err();
    let BallistaError::Unavailable(msg) = ballista_error(&e) else {
        panic!("expected a retryable (unavailable) error, got {e}");
    };
    assert!(msg.contains("died while running `dies`"), "{msg}");
    assert!(msg.contains("exit status 1"), "{msg}");
    assert!(msg.contains("about to exit"), "stderr tail: {msg}");
    assert_eq!(pool.live(), 0);
    let segv = function(
        "segv",
        "import ctypes\ndef f(x): return ctypes.string_at(0)",
    );
    let e = call(&pool, &segv, &[1]).unwrap_err();
    assert!(e.to_string().contains("killed by signal 11"), "{e}");
    let ok = function("id", "def f(x): return x");
    assert_eq!(call(&pool, &ok, &[1, 2]).unwrap().len(), 2);
    assert_eq!(pool.spawned(), 3, "each crash is replaced by a new worker");
}

#[test]
fn a_missing_interpreter_is_named() {
    let pool = PythonWorkerPool::new("/no/such/python3", 1);
    let f = pb::UdfDefinition {
        language: "python".into(),
        name: "f".into(),
        payload: vec![1],
        ..Default::default()
    };
    let e = call(&pool, &f, &[1]).unwrap_err();
    assert!(e.to_string().contains("/no/such/python3"), "{e}");
    assert!(e.to_string().contains("--python"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_batches_streams_through_a_worker() {
    let pool = PythonWorkerPool::new(python(), 1);
    let f = function(
        "double",
        "import pyarrow as pa, pyarrow.compute as pc\n\
         def f(batches):\n    for b in batches:\n        \
         yield pa.record_batch([pc.multiply(b.column(0), 2)], names=['y'])",
    );
    let in_schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let batches: Vec<_> = (0..50)
        .map(|i| {
            arrow::array::RecordBatch::try_new(
                Arc::clone(&in_schema),
                vec![ints(&(i * 1000..(i + 1) * 1000).collect::<Vec<_>>())],
            )
            .map_err(DataFusionError::from)
        })
        .collect();
    let input = Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(&in_schema),
        futures::stream::iter(batches),
    ));
    let out_schema = Arc::new(Schema::new(vec![Field::new("y", DataType::Int64, true)]));
    let mut out = pool.map_batches(&f, input, out_schema).unwrap();
    let mut sum = 0i64;
    let mut rows = 0;
    while let Some(b) = out.next().await {
        let b = b.unwrap();
        rows += b.num_rows();
        let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        sum += col.values().iter().sum::<i64>();
    }
    assert_eq!(rows, 50_000);
    assert_eq!(sum, 2 * (0..50_000i64).sum::<i64>());
    // The stream finished cleanly: the worker went back to the pool.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(pool.live(), 1);
    let ok = function("id", "def f(x): return x");
    assert_eq!(call(&pool, &ok, &[1]).unwrap().len(), 1);
    assert_eq!(pool.spawned(), 1);
}
