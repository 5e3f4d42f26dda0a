//! End-to-end test support: real clusters of real `ballista` processes on
//! loopback, TPC-H data and queries, and a canonical form for results.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;

/// The `ballista` binary under test.
pub fn ballista_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ballista")
}

/// A child process stopped when dropped.
pub struct Proc {
    /// The process.
    pub child: Child,
    /// What it is, for messages.
    pub name: String,
}

impl Drop for Proc {
    /// SIGTERM first, SIGKILL after 5 s: a server stopped by a signal it can
    /// handle shuts down cleanly, and an executor removes the work
    /// directory it made under the temporary directory (killed, it leaked
    /// one per run, shuffle files and all, until the disk filled).
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ballista <args>` and waits (up to 30 s) for the line
/// `listening on 127.0.0.1:PORT` on its stdout; returns the process and
/// the port. The rest of its stdout is drained in the background.
pub fn spawn_server(name: &str, args: &[&str]) -> (Proc, u16) {
    let mut child = Command::new(ballista_bin())
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let label = name.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && let Some(addr) = line.strip_prefix("listening on ") {
                let port = addr
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse::<u16>().ok());
                let _ = tx.send(port);
                sent = true;
                continue;
            }
            eprintln!("[{label}] {line}");
        }
    });
    let proc = Proc {
        child,
        name: name.to_string(),
    };
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(port)) => (proc, port),
        other => panic!("{name} did not print `listening on 127.0.0.1:PORT`: {other:?}"),
    }
}

/// A scheduler and executors as separate processes.
pub struct ProcessCluster {
    /// The scheduler process.
    pub scheduler: Proc,
    /// The scheduler's URL.
    pub url: String,
    /// Executor processes.
    pub executors: Vec<Proc>,
    /// Work directories of the executors.
    pub work_dirs: Vec<tempfile::TempDir>,
}

impl ProcessCluster {
    /// `ballista scheduler --port 0` and `executors` × `ballista executor`.
    pub fn start(executors: usize, slots: usize, extra_executor_args: &[&str]) -> Self {
        Self::start_with(&[], executors, slots, extra_executor_args)
    }

    /// As [`ProcessCluster::start`], with extra flags for the scheduler
    /// (such as `--executor-timeout 2s`).
    pub fn start_with(
        scheduler_args: &[&str],
        executors: usize,
        slots: usize,
        extra_executor_args: &[&str],
    ) -> Self {
        let mut args = vec!["scheduler", "--port", "0"];
        args.extend_from_slice(scheduler_args);
        let (scheduler, port) = spawn_server("scheduler", &args);
        let url = format!("grpc://127.0.0.1:{port}");
        let mut cluster = Self {
            scheduler,
            url,
            executors: vec![],
            work_dirs: vec![],
        };
        for _ in 0..executors {
            cluster.add_executor(slots, extra_executor_args);
        }
        cluster
    }

    /// Starts one more executor.
    pub fn add_executor(&mut self, slots: usize, extra: &[&str]) {
        let dir = tempfile::tempdir().expect("work dir");
        let slots = slots.to_string();
        let mut args = vec![
            "executor",
            "--scheduler",
            &self.url,
            "--port",
            "0",
            "--slots",
            &slots,
            "--work-dir",
            dir.path().to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        let n = self.executors.len();
        let (proc, _) = spawn_server(&format!("executor-{n}"), &args);
        self.executors.push(proc);
        self.work_dirs.push(dir);
    }
}

/// TPC-H data at scale factor `sf` in `parts` files per table, generated
/// once and cached under the cargo target directory.
pub fn tpch_data(sf: f64, parts: usize) -> PathBuf {
    let dir = target_dir()
        .join("tpch-data")
        .join(format!("sf{sf}-p{parts}"));
    ballista_datagen::tpch::generate(&dir, sf, parts).expect("generate TPC-H data");
    dir
}

/// This package's directory as cargo gives it at run time. `env!` would
/// name the checkout that compiled the binary: CI clones share one target
/// directory, and cargo reuses a test binary built in another checkout
/// (`ballista-proto`'s build script reads it at run time for this reason).
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| package_dir().join("../../target"))
}

/// Waits until `f` returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The statements of TPC-H query `n` (Q15 has three).
pub fn query(n: usize) -> Vec<String> {
    ballista_datagen::tpch::query(&ballista_datagen::tpch::reference_queries_dir(), n)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Rows as sorted strings; floats rounded to 6 significant places so that
/// sums computed in a different order compare equal.
pub fn canonical_rows(batches: &[RecordBatch]) -> Vec<String> {
    use datafusion::arrow::array::Float64Array;
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| {
                let float = matches!(c.data_type(), DataType::Float32 | DataType::Float64);
                let c = cast(c, &DataType::Float64).ok().filter(|_| float);
                (float, c)
            })
            .collect();
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .zip(&columns)
                .map(|(f, (float, as_f64))| match (float, as_f64) {
                    (true, Some(a)) if a.is_valid(row) => {
                        let v = a
                            .as_any()
                            .downcast_ref::<Float64Array>()
                            .expect("f64")
                            .value(row);
                        format!("{v:.6e}")
                    }
                    _ => f.value(row).to_string(),
                })
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

/// The eight TPC-H tables.
pub const TPCH_TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

/// Single-process DataFusion (2 target partitions) over the TPC-H tables
/// in `dir`: the reference results are computed with it.
pub async fn datafusion_tpch(dir: &Path) -> Result<datafusion::prelude::SessionContext, String> {
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    for t in TPCH_TABLES {
        ctx.register_parquet(
            t,
            dir.join(t).to_str().expect("utf-8"),
            ParquetReadOptions::default(),
        )
        .await
        .map_err(|e| format!("register {t} in DataFusion: {e}"))?;
    }
    Ok(ctx)
}

/// Registers the TPC-H tables in `dir` on a cluster.
pub async fn register_tpch_dir(
    ctx: &ballista_client::BallistaContext,
    dir: &Path,
) -> Result<(), String> {
    for t in TPCH_TABLES {
        ctx.register_parquet(t, dir.join(t).to_str().expect("utf-8"))
            .await
            .map_err(|e| format!("register {t} on the cluster: {e}"))?;
    }
    Ok(())
}

/// [`datafusion_tpch`] over the data of [`tpch_data`]`(sf, parts)`.
pub async fn tpch_reference(sf: f64, parts: usize) -> datafusion::prelude::SessionContext {
    datafusion_tpch(&tpch_data(sf, parts))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`register_tpch_dir`] with the data of [`tpch_data`]`(sf, parts)`.
pub async fn register_tpch(ctx: &ballista_client::BallistaContext, sf: f64, parts: usize) {
    register_tpch_dir(ctx, &tpch_data(sf, parts))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// True for a statement that returns rows (not DDL).
pub fn is_query(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_lowercase();
    head.starts_with("select") || head.starts_with("with")
}

/// The canonical rows of `sql` on single-process DataFusion.
pub async fn reference_rows(
    df: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Result<Vec<String>, String> {
    let batches = df
        .sql(sql)
        .await
        .map_err(|e| format!("DataFusion: {e}"))?
        .collect()
        .await
        .map_err(|e| format!("DataFusion: {e}"))?;
    Ok(canonical_rows(&batches))
}

/// The canonical rows of `sql` on a cluster.
pub async fn ballista_rows(
    ctx: &ballista_client::BallistaContext,
    sql: &str,
) -> Result<Vec<String>, String> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| format!("Ballista plan: {e}"))?
        .collect()
        .await
        .map_err(|e| format!("Ballista: {e}"))?;
    Ok(canonical_rows(&batches))
}

/// `Ok` when `actual` equals `expected` (both canonical and non-empty);
/// otherwise what differs, labelled with `what`.
pub fn same_rows(what: &str, expected: &[String], actual: &[String]) -> Result<(), String> {
    if expected.is_empty() {
        // Every TPC-H query returns rows at SF 0.1: an empty reference would
        // make the comparison meaningless.
        return Err(format!("{what}: the reference result is empty"));
    }
    if expected != actual {
        return Err(format!(
            "{what}: {} rows expected, {} returned; first difference: {:?}",
            expected.len(),
            actual.len(),
            expected.iter().zip(actual).find(|(x, y)| x != y)
        ));
    }
    Ok(())
}

/// One cell of a result as engines are compared: numbers of every type
/// (integer, float, decimal) as `f64`, everything else (strings, dates) as
/// its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Any numeric value.
    Number(f64),
    /// Any other value, as arrow displays it.
    Text(String),
}

impl Cell {
    fn rank(&self) -> u8 {
        match self {
            Cell::Null => 0,
            Cell::Number(_) => 1,
            Cell::Text(_) => 2,
        }
    }

    /// Equal, numbers within a relative (or, near zero, absolute) 1e-6:
    /// engines sum in different orders and keep decimals at different
    /// scales (DuckDB's averages are doubles, DataFusion's decimals).
    pub fn close_to(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Number(a), Cell::Number(b)) => {
                a == b || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
            }
            (a, b) => a == b,
        }
    }
}

fn cmp_cells(a: &[Cell], b: &[Cell]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = x.rank().cmp(&y.rank()).then_with(|| match (x, y) {
            (Cell::Number(p), Cell::Number(q)) => p.total_cmp(q),
            (Cell::Text(p), Cell::Text(q)) => p.cmp(q),
            _ => std::cmp::Ordering::Equal,
        });
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The rows of `batches` as [`Cell`]s, sorted (so that engines that order
/// ties differently compare equal).
pub fn result_cells(batches: &[RecordBatch]) -> Result<Vec<Vec<Cell>>, String> {
    use datafusion::arrow::array::{Array, Float64Array};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        enum Col<'a> {
            Number(Float64Array),
            Text(ArrayFormatter<'a>),
        }
        let columns = batch
            .columns()
            .iter()
            .map(|c| {
                if c.data_type().is_numeric() {
                    let f = cast(c, &DataType::Float64).map_err(|e| e.to_string())?;
                    let f = f
                        .as_any()
                        .downcast_ref::<Float64Array>()
                        .ok_or("a cast to Float64 gave another type")?
                        .clone();
                    Ok(Col::Number(f))
                } else {
                    ArrayFormatter::try_new(c.as_ref(), &options)
                        .map(Col::Text)
                        .map_err(|e| e.to_string())
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .zip(&columns)
                .map(|(array, col)| {
                    if array.is_null(row) {
                        return Cell::Null;
                    }
                    match col {
                        Col::Number(f) => Cell::Number(f.value(row)),
                        Col::Text(t) => Cell::Text(t.value(row).to_string()),
                    }
                })
                .collect();
            rows.push(cells);
        }
    }
    rows.sort_by(|a: &Vec<Cell>, b| cmp_cells(a, b));
    Ok(rows)
}

/// `Ok` when two results of [`result_cells`] hold the same rows (numbers
/// compared with [`Cell::close_to`]); otherwise the first difference.
pub fn compare_cells(expected: &[Vec<Cell>], actual: &[Vec<Cell>]) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "{} rows expected, {} returned",
            expected.len(),
            actual.len()
        ));
    }
    let same =
        |a: &[Cell], b: &[Cell]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.close_to(y));
    let Some(i) = (0..expected.len()).find(|&i| !same(&expected[i], &actual[i])) else {
        return Ok(());
    };
    // Sorting exact values can order two rows differently when they differ
    // only in the last bits of a number; match rows one by one before
    // calling the results different (quadratic, so only for small results).
    if expected.len() <= 5000 {
        let mut unused: Vec<&Vec<Cell>> = actual.iter().collect();
        let all_matched = expected.iter().all(|row| {
            match unused.iter().position(|candidate| same(row, candidate)) {
                Some(p) => {
                    unused.swap_remove(p);
                    true
                }
                None => false,
            }
        });
        if all_matched {
            return Ok(());
        }
    }
    Err(format!(
        "row {i} differs: expected {:?}, got {:?}",
        expected[i], actual[i]
    ))
}
