//! TPC-H on every engine of the comparison, measured in one run on the same
//! Parquet files and the same cores (`make bench`; `benchmarks/README.md`).
//!
//! Engines (`BALLISTA_BENCH_ENGINES`, default all five):
//! - `ballista`: a scheduler and 2 executor processes × 1 task slot;
//! - `embedded`: the same cluster shape inside this process
//!   (`BallistaContext::for_cluster`, Flight over loopback);
//! - `datafusion`: one `SessionContext` with 2 target partitions, the
//!   "no distribution overhead" limit;
//! - `duckdb`: `benchmarks/duckdb/tpch.py` in the repository's `.venv`;
//! - `apache-ballista`: `benchmarks/apache-ballista/`, the binary
//!   `apache-ballista-tpch` built in release (`BALLISTA_BENCH_APACHE_BALLISTA`
//!   overrides its path).
//!
//! The external runners (DuckDB, Apache Ballista) share one command line and
//! write `q<N>.arrow` plus `result.json`; a missing runner is skipped and
//! said so in the report. Every engine runs each query once to warm up (the
//! in-process engines' rows from that run are the ones checked), then is
//! timed in `BALLISTA_BENCH_ITERATIONS` rounds: in each round every external
//! runner runs every query once (after its own warm-up run of it), then the
//! in-process engines do, alternating per query. This machine's speed
//! drifts by 10-20% over minutes, so an engine timed in one stretch and its
//! peer in another gave ratios that moved by as much; with rounds, every
//! engine's median comes from the same stretch of time.
//!
//! **Correctness before time**: every engine's rows are compared with
//! DataFusion's (numbers of any type as `f64` within 1e-6, everything else
//! as text, rows sorted). A wrong answer is marked in the table and makes
//! the run fail at the end, as does an error of an in-repository engine.
//!
//! Also measured: peak RSS per engine (`VmHWM`; for the in-process engines
//! it is reset before each run through `/proc/self/clear_refs`), bytes
//! shuffled per query (the sizes of the partitions written by every stage
//! but the last, from the job's task statuses), Q6 latency end to end
//! (submit to last batch), and the memory check: Q18 and Q21 on 2 executors
//! × 2 slots with a 1 GiB memory limit each, peak RSS under 1.5 GiB.
//!
//! Environment: `BALLISTA_BENCH_SF` (default 1), `BALLISTA_BENCH_ITERATIONS`
//! (3), `BALLISTA_BENCH_QUERIES` (e.g. `1,3,18`; all 22), `BALLISTA_BENCH_PARTS`
//! (files per table, 4), `BALLISTA_BENCH_ENGINES`, `BALLISTA_BENCH_DATA_DIR`
//! (where data is generated and cached, `<target dir>/tpch-data`). The report
//! goes to stdout and to `<target dir>/bench/tpch-sf<SF>.md` and `.json`.
//!
//! Built as a test (`cargo test --all-targets` passes no `--bench`), it runs
//! a smoke version without timing anything: SF 0.01, Q15 and Q18 on the
//! in-repository engines (and DuckDB when `.venv` has it), answers checked
//! equal, and first each of the project's 22 query texts
//! (`benchmarks/tpch/queries`) against the reference texts
//! (`../shared/tpch/queries`) on DataFusion.
//!
//! The query files hold the substitution parameters of SF 1; every engine
//! runs copies with them set for `BALLISTA_BENCH_SF`
//! (`ballista_datagen::tpch::queries_for_scale`: Q11's FRACTION is
//! 0.0001 / SF), written to `<target dir>/bench/queries-sf<SF>`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use datafusion::prelude::SessionContext;
use serde_json::{Value, json};
use support::{
    Cell, ProcessCluster, compare_cells, datafusion_tpch, is_query, register_tpch_dir, result_cells,
};

const GIB: u64 = 1 << 30;
const MIB: f64 = (1 << 20) as f64;
/// Executors, slots per executor, and so partitions: every engine gets the
/// machine's 2 cores.
const EXECUTORS: usize = 2;
const SLOTS: usize = 1;
const PARTITIONS: usize = EXECUTORS * SLOTS;
/// Q6 runs at least this many times for the latency figure.
const LATENCY_RUNS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Engine {
    Ballista,
    Embedded,
    DataFusion,
    DuckDb,
    ApacheBallista,
}

impl Engine {
    const ALL: [Engine; 5] = [
        Engine::Ballista,
        Engine::Embedded,
        Engine::DataFusion,
        Engine::DuckDb,
        Engine::ApacheBallista,
    ];

    fn key(self) -> &'static str {
        match self {
            Engine::Ballista => "ballista",
            Engine::Embedded => "embedded",
            Engine::DataFusion => "datafusion",
            Engine::DuckDb => "duckdb",
            Engine::ApacheBallista => "apache-ballista",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Engine::Ballista => "Ballista (processes)",
            Engine::Embedded => "Ballista (embedded)",
            Engine::DataFusion => "DataFusion",
            Engine::DuckDb => "DuckDB",
            Engine::ApacheBallista => "Apache Ballista",
        }
    }

    /// Engines of this repository: an error in one fails the run.
    fn in_repo(self) -> bool {
        matches!(
            self,
            Engine::Ballista | Engine::Embedded | Engine::DataFusion
        )
    }

    fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|e| e.key() == name.trim())
            .ok_or_else(|| {
                format!(
                    "unknown engine `{name}`: expected some of {}",
                    Self::ALL.map(Engine::key).join(",")
                )
            })
    }
}

struct Settings {
    bench: bool,
    sf: f64,
    parts: usize,
    iterations: usize,
    queries: Vec<usize>,
    engines: Vec<Engine>,
    memory: bool,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// The query texts every engine runs: [`source_queries_dir`] with the
    /// parameters set for this run's scale factor (`main` writes them).
    fn queries_dir(&self) -> PathBuf {
        support::target_dir().join(format!("bench/queries-sf{}", self.sf))
    }

    fn from_env(bench: bool) -> Result<Self, String> {
        if !bench {
            return Ok(Self {
                bench,
                sf: 0.01,
                parts: 2,
                iterations: 1,
                queries: vec![15, 18],
                engines: vec![
                    Engine::Ballista,
                    Engine::Embedded,
                    Engine::DataFusion,
                    Engine::DuckDb,
                ],
                memory: false,
            });
        }
        let number = |name: &str, default: f64| -> Result<f64, String> {
            env_var(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|e| format!("{name}={v} is not a number: {e}"))
            })
        };
        let queries = match env_var("BALLISTA_BENCH_QUERIES") {
            None => (1..=22).collect(),
            Some(v) => v
                .split(',')
                .filter(|q| !q.trim().is_empty())
                .map(|q| match q.trim().parse::<usize>() {
                    Ok(n) if (1..=22).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "BALLISTA_BENCH_QUERIES: `{q}` is not a TPC-H query number (1 to 22)"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut engines = match env_var("BALLISTA_BENCH_ENGINES") {
            None => Engine::ALL.to_vec(),
            Some(v) => v
                .split(',')
                .filter(|e| !e.trim().is_empty())
                .map(Engine::parse)
                .collect::<Result<Vec<_>, _>>()?,
        };
        engines.sort();
        engines.dedup();
        Ok(Self {
            bench,
            sf: number("BALLISTA_BENCH_SF", 1.0)?,
            parts: number("BALLISTA_BENCH_PARTS", 4.0)? as usize,
            iterations: (number("BALLISTA_BENCH_ITERATIONS", 3.0)? as usize).max(1),
            queries,
            memory: engines.contains(&Engine::Ballista),
            engines,
        })
    }
}

/// The repository root: the nearest directory above the working directory
/// (cargo runs benchmarks in `rust/ballista-cli`) that has the query texts,
/// or the one this file was compiled in. The working directory comes first
/// because clones sharing a target directory reuse one build of this file.
fn repo() -> PathBuf {
    let repo = ballista_datagen::tpch::dir_above_cwd_with("benchmarks/tpch/queries")
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    repo.canonicalize().unwrap_or(repo)
}

/// The project's own TPC-H query texts, as written (parameters for SF 1).
fn source_queries_dir() -> PathBuf {
    repo().join("benchmarks/tpch/queries")
}

fn statements(dir: &Path, n: usize) -> Vec<String> {
    ballista_datagen::tpch::query(dir, n).unwrap_or_else(|e| panic!("{e}"))
}

/// Generates (once) and returns the data directory.
fn tpch_data(settings: &Settings) -> PathBuf {
    let root = env_var("BALLISTA_BENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::target_dir().join("tpch-data"));
    let dir = root.join(format!("sf{}-p{}", settings.sf, settings.parts));
    ballista_datagen::tpch::generate(&dir, settings.sf, settings.parts)
        .unwrap_or_else(|e| panic!("generate TPC-H data in {}: {e}", dir.display()));
    dir
}

/// One run of one query on one engine.
struct Run {
    batches: Vec<RecordBatch>,
    time: Duration,
    /// Bytes written by all stages but the last (Ballista only).
    shuffled: Option<u64>,
}

/// What an engine did with one query.
#[derive(Default)]
struct QueryOutcome {
    times: Vec<Duration>,
    rows: Option<usize>,
    cells: Option<Vec<Vec<Cell>>>,
    error: Option<String>,
    /// `Some(false)` with the difference when the answer is wrong.
    correct: Option<bool>,
    difference: Option<String>,
    shuffled: Option<u64>,
}

impl QueryOutcome {
    fn median(&self) -> Option<Duration> {
        let mut t = self.times.clone();
        t.sort();
        t.get(t.len() / 2).copied()
    }
}

/// Whether and how an engine ran.
enum Status {
    Ran,
    Skipped(String),
    Failed(String),
}

struct EngineReport {
    engine: Engine,
    status: Status,
    version: String,
    config: String,
    queries: BTreeMap<usize, QueryOutcome>,
    peak_rss: BTreeMap<String, u64>,
}

impl EngineReport {
    fn new(engine: Engine) -> Self {
        Self {
            engine,
            status: Status::Ran,
            version: String::new(),
            config: String::new(),
            queries: BTreeMap::new(),
            peak_rss: BTreeMap::new(),
        }
    }

    fn ran(&self) -> bool {
        matches!(self.status, Status::Ran)
    }
}

/// An engine that runs inside this process (the Ballista client of the
/// process cluster included).
enum InProcess {
    Ballista(BallistaContext),
    DataFusion(SessionContext),
}

impl InProcess {
    async fn run(&self, stmts: &[String]) -> Result<Run, String> {
        match self {
            InProcess::Ballista(ctx) => run_ballista(ctx, stmts).await,
            InProcess::DataFusion(ctx) => run_datafusion(ctx, stmts).await,
        }
    }
}

/// Runs the statements of a query; the rows are those of the statement
/// that returns rows (Q15: create view; select; drop view).
async fn run_datafusion(ctx: &SessionContext, stmts: &[String]) -> Result<Run, String> {
    let start = Instant::now();
    let mut batches = vec![];
    for sql in stmts {
        let result = ctx.sql(sql).await.map_err(|e| e.to_string())?;
        let rows = result.collect().await.map_err(|e| e.to_string())?;
        if is_query(sql) {
            batches = rows;
        }
    }
    Ok(Run {
        batches,
        time: start.elapsed(),
        shuffled: None,
    })
}

async fn run_ballista(ctx: &BallistaContext, stmts: &[String]) -> Result<Run, String> {
    let start = Instant::now();
    let mut batches = vec![];
    let mut job = None;
    for sql in stmts {
        // DDL runs inside `sql`.
        let df = ctx.sql(sql).await.map_err(|e| e.to_string())?;
        if is_query(sql) {
            let result = ctx.execute(&df, None).await.map_err(|e| e.to_string())?;
            batches = ctx.fetch_all(&result).await.map_err(|e| e.to_string())?;
            job = Some(result.job_id);
        }
    }
    let time = start.elapsed();
    let shuffled = match job {
        Some(job) => shuffled_bytes(ctx, &job).await,
        None => None,
    };
    Ok(Run {
        batches,
        time,
        shuffled,
    })
}

/// Bytes of the partitions written by every stage of `job` but the final
/// one (the planner gives the final stage the highest id), from the
/// scheduler's task statuses. `None` when the scheduler reports no
/// partitions (one that predates outputs in `JobStatus.tasks`).
async fn shuffled_bytes(ctx: &BallistaContext, job: &str) -> Option<u64> {
    let status = ctx.job_status(job).await.ok()?;
    let stage = |t: &ballista_proto::v1::TaskStatus| t.task_id.as_ref().map_or(0, |i| i.stage_id);
    let last = status.tasks.iter().map(stage).max()?;
    if status.tasks.iter().all(|t| t.outputs.is_empty()) {
        return None;
    }
    Some(
        status
            .tasks
            .iter()
            .filter(|t| stage(t) != last)
            .flat_map(|t| &t.outputs)
            .filter_map(|o| o.stats.as_ref())
            .map(|s| s.num_bytes)
            .sum(),
    )
}

/// Peak resident set size of process `pid` (`VmHWM`), or of this process.
fn peak_rss(pid: Option<u32>) -> Option<u64> {
    let pid = pid.map_or_else(|| "self".to_string(), |p| p.to_string());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets this process's `VmHWM` to its current resident set, so that the
/// next reading is the peak of what ran in between (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The in-process engines and what keeps their clusters alive.
struct Started {
    engines: Vec<(Engine, InProcess)>,
    process_cluster: Option<ProcessCluster>,
    _embedded: Option<Arc<EmbeddedCluster>>,
}

async fn start_in_process(
    settings: &Settings,
    dir: &Path,
    reports: &mut BTreeMap<Engine, EngineReport>,
) -> Started {
    let mut started = Started {
        engines: vec![],
        process_cluster: None,
        _embedded: None,
    };
    let version = env!("CARGO_PKG_VERSION");
    for &engine in &settings.engines {
        let report = reports.get_mut(&engine).expect("a report per engine");
        let result: Result<InProcess, String> = match engine {
            Engine::Ballista => {
                report.version =
                    format!("{version} (DataFusion {})", datafusion::DATAFUSION_VERSION);
                report.config = format!(
                    "scheduler + {EXECUTORS} executor processes × {SLOTS} slot, `{}`",
                    support::ballista_bin()
                );
                let cluster = ProcessCluster::start(EXECUTORS, SLOTS, &[]);
                let ctx = match BallistaContext::remote(&cluster.url).await {
                    Ok(ctx) => ctx,
                    Err(e) => panic!("connect to the process cluster: {e}"),
                };
                started.process_cluster = Some(cluster);
                register_tpch_dir(&ctx, dir)
                    .await
                    .map(|_| InProcess::Ballista(ctx))
            }
            Engine::Embedded => {
                report.version =
                    format!("{version} (DataFusion {})", datafusion::DATAFUSION_VERSION);
                report.config =
                    format!("scheduler + {EXECUTORS} executors × {SLOTS} slot in this process");
                let config = StandaloneConfig {
                    executors: EXECUTORS,
                    slots_per_executor: SLOTS,
                    memory_limit: None,
                };
                match EmbeddedCluster::start(config).await {
                    Ok(cluster) => {
                        let cluster = Arc::new(cluster);
                        started._embedded = Some(Arc::clone(&cluster));
                        match BallistaContext::for_cluster(cluster).await {
                            Ok(ctx) => register_tpch_dir(&ctx, dir)
                                .await
                                .map(|_| InProcess::Ballista(ctx)),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(format!("start the embedded cluster: {e}")),
                }
            }
            Engine::DataFusion => {
                report.version = datafusion::DATAFUSION_VERSION.to_string();
                report.config = format!("one SessionContext, target_partitions={PARTITIONS}");
                datafusion_tpch(dir).await.map(InProcess::DataFusion)
            }
            Engine::DuckDb | Engine::ApacheBallista => continue,
        };
        match result {
            Ok(e) => started.engines.push((engine, e)),
            Err(e) => report.status = Status::Failed(e),
        }
    }
    started
}

/// Timed round `round` of the in-process engines: per query one run of
/// each, alternating; in the first round each engine first runs the query
/// once to warm up (the rows of that run are checked).
async fn run_in_process(
    settings: &Settings,
    started: &Started,
    reports: &mut BTreeMap<Engine, EngineReport>,
    in_process_peak: &mut BTreeMap<Engine, u64>,
    round: usize,
) {
    for &n in &settings.queries {
        let stmts = statements(&settings.queries_dir(), n);
        if round == 0 {
            for (engine, e) in &started.engines {
                let mut outcome = QueryOutcome::default();
                reset_peak_rss();
                match e.run(&stmts).await {
                    Ok(run) => {
                        outcome.rows = Some(run.batches.iter().map(RecordBatch::num_rows).sum());
                        outcome.shuffled = run.shuffled;
                        match result_cells(&run.batches) {
                            Ok(cells) => outcome.cells = Some(cells),
                            Err(e) => outcome.error = Some(format!("reading the result: {e}")),
                        }
                    }
                    Err(err) => {
                        eprintln!("q{n} on {}: {err}", engine.label());
                        outcome.error = Some(err);
                    }
                }
                note_peak(in_process_peak, *engine);
                reports
                    .get_mut(engine)
                    .expect("report")
                    .queries
                    .insert(n, outcome);
            }
        }
        for (engine, e) in &started.engines {
            let outcome = reports
                .get_mut(engine)
                .expect("report")
                .queries
                .get_mut(&n)
                .expect("outcome");
            if outcome.error.is_some() {
                continue;
            }
            reset_peak_rss();
            match e.run(&stmts).await {
                Ok(run) => outcome.times.push(run.time),
                Err(err) => outcome.error = Some(err),
            }
            note_peak(in_process_peak, *engine);
        }
        if round + 1 < settings.iterations {
            continue;
        }
        let line: Vec<String> = started
            .engines
            .iter()
            .map(|(engine, _)| {
                let o = &reports[engine].queries[&n];
                match (o.median(), &o.error) {
                    (_, Some(_)) => format!("{} error", engine.key()),
                    (Some(m), None) => format!("{} {:.0} ms", engine.key(), ms(m)),
                    (None, None) => format!("{} -", engine.key()),
                }
            })
            .collect();
        eprintln!("q{n}: {}", line.join(", "));
    }
}

/// Peak RSS of the in-process engines (the most this process held in any
/// of their runs) and of the process cluster's members.
fn note_in_process_peaks(
    started: &Started,
    reports: &mut BTreeMap<Engine, EngineReport>,
    in_process_peak: BTreeMap<Engine, u64>,
) {
    for (engine, peak) in in_process_peak {
        let key = if engine == Engine::Ballista {
            "client (this process)"
        } else {
            "this process"
        };
        reports
            .get_mut(&engine)
            .expect("report")
            .peak_rss
            .insert(key.to_string(), peak);
    }
    if let Some(cluster) = &started.process_cluster {
        let report = reports.get_mut(&Engine::Ballista).expect("report");
        if let Some(p) = peak_rss(Some(cluster.scheduler.child.id())) {
            report.peak_rss.insert("scheduler".into(), p);
        }
        for (i, e) in cluster.executors.iter().enumerate() {
            if let Some(p) = peak_rss(Some(e.child.id())) {
                report.peak_rss.insert(format!("executor-{i}"), p);
            }
        }
    }
}

fn note_peak(peaks: &mut BTreeMap<Engine, u64>, engine: Engine) {
    if let Some(p) = peak_rss(None) {
        let e = peaks.entry(engine).or_default();
        *e = (*e).max(p);
    }
}

/// Q6 end to end (submit to last batch) on the in-process engines.
async fn latency(settings: &Settings, started: &Started) -> Vec<(Engine, Duration)> {
    let stmts = statements(&settings.queries_dir(), 6);
    let runs = settings.iterations.max(LATENCY_RUNS);
    let mut times: BTreeMap<Engine, Vec<Duration>> = BTreeMap::new();
    for (engine, e) in &started.engines {
        // Warm-up.
        if e.run(&stmts).await.is_err() {
            continue;
        }
        times.insert(*engine, vec![]);
    }
    for _ in 0..runs {
        for (engine, e) in &started.engines {
            if let Some(t) = times.get_mut(engine)
                && let Ok(run) = e.run(&stmts).await
            {
                t.push(run.time);
            }
        }
    }
    times
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(e, mut t)| {
            t.sort();
            (e, t[t.len() / 2])
        })
        .collect()
}

/// An external runner's command, or why it cannot run.
fn runner_command(engine: Engine) -> Result<Command, String> {
    match engine {
        Engine::DuckDb => {
            let python = repo().join(".venv/bin/python");
            if !python.exists() {
                return Err(format!(
                    "no {} (`make python-install` creates it)",
                    python.display()
                ));
            }
            let check = Command::new(&python)
                .args(["-c", "import duckdb, pyarrow"])
                .output()
                .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
            if !check.status.success() {
                return Err(format!(
                    "duckdb or pyarrow is not installed in .venv (`make python-install`): {}",
                    String::from_utf8_lossy(&check.stderr).trim()
                ));
            }
            let mut c = Command::new(python);
            c.arg(repo().join("benchmarks/duckdb/tpch.py"));
            Ok(c)
        }
        Engine::ApacheBallista => {
            let bin = env_var("BALLISTA_BENCH_APACHE_BALLISTA")
                .map(PathBuf::from)
                .unwrap_or_else(|| support::target_dir().join("release/apache-ballista-tpch"));
            if !bin.exists() {
                return Err(format!(
                    "no runner at {} (build it with `cargo build --release --manifest-path \
                     benchmarks/apache-ballista/Cargo.toml`)",
                    bin.display()
                ));
            }
            Ok(Command::new(bin))
        }
        _ => Err(format!("{} is not an external runner", engine.label())),
    }
}

/// Timed round `round` of an external runner: every query once after a
/// warm-up run; its `result.json` and `q<N>.arrow` are read and the round's
/// times added to `report` (the first round's rows are the ones checked).
fn run_external(
    engine: Engine,
    settings: &Settings,
    dir: &Path,
    report: &mut EngineReport,
    round: usize,
) {
    if round > 0 && !matches!(report.status, Status::Ran) {
        return;
    }
    let mut command = match runner_command(engine) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("{}: skipped: {why}", engine.label());
            report.status = Status::Skipped(why);
            return;
        }
    };
    let out = support::target_dir()
        .join("bench/runs")
        .join(format!("sf{}", settings.sf))
        .join(engine.key())
        .join(format!("round-{round}"));
    let _ = std::fs::remove_dir_all(&out);
    let queries = settings
        .queries
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    command
        .arg("--data")
        .arg(dir)
        .args(["--queries", &queries])
        .arg("--query-dir")
        .arg(settings.queries_dir())
        .args(["--iterations", "1"])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--executors", &EXECUTORS.to_string()])
        .args(["--slots", &SLOTS.to_string()])
        .arg("--out")
        .arg(&out);
    eprintln!("{}: running {command:?}", engine.label());
    match command.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            report.status = Status::Failed(format!("the runner exited with {s}"));
            return;
        }
        Err(e) => {
            report.status = Status::Failed(format!("cannot start the runner: {e}"));
            return;
        }
    }
    let mut this_round = EngineReport::new(engine);
    if let Err(e) = read_external(&out, &mut this_round) {
        report.status = Status::Failed(e);
        return;
    }
    if round == 0 {
        *report = this_round;
        return;
    }
    for (n, later) in this_round.queries {
        if let Some(outcome) = report.queries.get_mut(&n) {
            outcome.times.extend(later.times);
            if outcome.error.is_none() {
                outcome.error = later.error;
            }
        }
    }
    for (k, p) in this_round.peak_rss {
        let e = report.peak_rss.entry(k).or_default();
        *e = (*e).max(p);
    }
}

fn read_external(out: &Path, report: &mut EngineReport) -> Result<(), String> {
    let path = out.join("result.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    report.version = field("version");
    report.config = field("config");
    if let Some(peaks) = v.get("peak_rss_bytes").and_then(Value::as_object) {
        for (k, p) in peaks {
            if let Some(p) = p.as_u64() {
                report.peak_rss.insert(k.clone(), p);
            }
        }
    }
    let queries = v
        .get("queries")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no `queries` array", path.display()))?;
    for q in queries {
        let Some(n) = q.get("query").and_then(Value::as_u64) else {
            continue;
        };
        let n = n as usize;
        let mut outcome = QueryOutcome {
            times: q
                .get("times_ms")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_f64)
                        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                        .collect()
                })
                .unwrap_or_default(),
            rows: q.get("rows").and_then(Value::as_u64).map(|r| r as usize),
            error: q.get("error").and_then(Value::as_str).map(str::to_string),
            ..Default::default()
        };
        if outcome.error.is_none() {
            match read_arrow(&out.join(format!("q{n}.arrow"))) {
                Ok(batches) => match result_cells(&batches) {
                    Ok(cells) => outcome.cells = Some(cells),
                    Err(e) => outcome.error = Some(format!("reading q{n}.arrow: {e}")),
                },
                Err(e) => outcome.error = Some(e),
            }
        }
        report.queries.insert(n, outcome);
    }
    Ok(())
}

fn read_arrow(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let reader = arrow::ipc::reader::FileReader::try_new(file, None)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Compares every engine's rows with the reference engine's (DataFusion,
/// else the first in-repository engine with an answer).
fn check_answers(settings: &Settings, reports: &mut BTreeMap<Engine, EngineReport>) {
    for &n in &settings.queries {
        let reference = [
            Engine::DataFusion,
            Engine::Ballista,
            Engine::Embedded,
            Engine::DuckDb,
        ]
        .into_iter()
        .find(|e| {
            reports
                .get(e)
                .and_then(|r| r.queries.get(&n))
                .is_some_and(|o| o.cells.is_some())
        });
        let Some(reference) = reference else { continue };
        let expected = reports[&reference].queries[&n]
            .cells
            .clone()
            .expect("checked");
        for report in reports.values_mut() {
            let Some(o) = report.queries.get_mut(&n) else {
                continue;
            };
            let Some(cells) = &o.cells else { continue };
            let check = if expected.is_empty() {
                Err("the reference result is empty".to_string())
            } else {
                compare_cells(&expected, cells)
            };
            o.correct = Some(check.is_ok());
            if let Err(e) = check {
                o.difference = Some(format!("vs {}: {e}", reference.label()));
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> String {
    let m = bytes as f64 / MIB;
    if m < 10.0 {
        format!("{m:.2}")
    } else {
        format!("{m:.0}")
    }
}

/// The Markdown table cell of one engine and query.
fn cell(report: &EngineReport, n: usize) -> String {
    if !report.ran() {
        return "–".into();
    }
    match report.queries.get(&n) {
        None => "–".into(),
        Some(o) if o.error.is_some() => "error".into(),
        Some(o) => {
            let t = o.median().map_or("–".into(), |m| format!("{:.0}", ms(m)));
            if o.correct == Some(false) {
                format!("{t} ✗")
            } else {
                t
            }
        }
    }
}

/// Sum of the medians of both engines over the queries where both have one.
fn paired_totals(a: &EngineReport, b: &EngineReport, queries: &[usize]) -> Option<(f64, f64)> {
    let (mut ta, mut tb, mut any) = (0.0, 0.0, false);
    for n in queries {
        let good = |r: &EngineReport| {
            r.queries
                .get(n)
                .filter(|o| o.error.is_none() && o.correct != Some(false))
                .and_then(QueryOutcome::median)
        };
        if let (Some(x), Some(y)) = (good(a), good(b)) {
            ta += ms(x);
            tb += ms(y);
            any = true;
        }
    }
    any.then_some((ta, tb))
}

fn ratio(a: &EngineReport, b: &EngineReport, n: usize) -> String {
    paired_totals(a, b, &[n]).map_or("–".into(), |(x, y)| format!("{:.2}", x / y))
}

fn machine() -> (usize, String, String) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let ram = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / (1024.0 * 1024.0))
        });
    (cores, cpu, ram)
}

struct Extras {
    latency: Vec<(Engine, Duration)>,
    memory: Option<(String, bool)>,
    reference_check: Option<String>,
}

fn markdown(
    settings: &Settings,
    reports: &BTreeMap<Engine, EngineReport>,
    extras: &Extras,
) -> String {
    let (cores, cpu, ram) = machine();
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(
        w,
        "# TPC-H SF {} ({} Parquet files per table)\n\n\
         Machine: {cores} cores, {ram} RAM, {cpu}. Build: `{}`. \
         {EXECUTORS} executors × {SLOTS} slot, {PARTITIONS} partitions or threads everywhere. \
         Median of {} runs after one warm-up run per query, timed in rounds that interleave \
         the engines (each round: the external runners, then the in-process engines); \
         queries from `benchmarks/tpch/queries`.\n",
        settings.sf,
        settings.parts,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        settings.iterations,
    );
    let _ = writeln!(
        w,
        "## Engines\n\n| engine | version | configuration | status | peak RSS (MiB) |\n|---|---|---|---|---|"
    );
    for r in reports.values() {
        let correct = r
            .queries
            .values()
            .filter(|o| o.correct == Some(true))
            .count();
        let status = match &r.status {
            Status::Ran => format!(
                "ran: {correct} of {} answers correct",
                settings.queries.len()
            ),
            Status::Skipped(why) => format!("skipped: {why}"),
            Status::Failed(why) => format!("failed: {why}"),
        };
        let rss = r
            .peak_rss
            .iter()
            .map(|(k, v)| format!("{k} {}", mib(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            r.engine.label(),
            r.version,
            r.config.replace('|', "\\|"),
            status.replace('|', "\\|").replace('\n', " "),
            if rss.is_empty() { "–".into() } else { rss }
        );
    }
    let _ = writeln!(
        w,
        "\nPeak RSS of the in-process engines is this process's `VmHWM` reset before each run: \
         it includes what the process holds between runs (the other in-process engines' caches), \
         so it is an upper bound.\n"
    );

    let shown: Vec<&EngineReport> = reports.values().collect();
    let df = reports.get(&Engine::DataFusion).filter(|r| r.ran());
    let proc_ = reports.get(&Engine::Ballista).filter(|r| r.ran());
    let emb = reports.get(&Engine::Embedded).filter(|r| r.ran());
    let apache = reports.get(&Engine::ApacheBallista).filter(|r| r.ran());
    let shuffle_src = proc_.or(emb);

    let mut header = String::from("| query |");
    let mut rule = String::from("|---|");
    for r in &shown {
        let _ = write!(header, " {} (ms) |", r.engine.label());
        rule.push_str("---:|");
    }
    let ratio_cols: Vec<(&str, &EngineReport, &EngineReport)> = [
        ("processes / DataFusion", proc_, df),
        ("embedded / DataFusion", emb, df),
        (
            "DuckDB / DataFusion",
            reports.get(&Engine::DuckDb).filter(|r| r.ran()),
            df,
        ),
        ("Apache Ballista / processes", apache, proc_),
    ]
    .into_iter()
    .filter_map(|(name, a, b)| Some((name, a?, b?)))
    .collect();
    for (name, _, _) in &ratio_cols {
        let _ = write!(header, " {name} |");
        rule.push_str("---:|");
    }
    if shuffle_src.is_some() {
        header.push_str(" shuffled (MiB) |");
        rule.push_str("---:|");
    }
    let _ = writeln!(
        w,
        "## Speed (median ms; ✗ = wrong answer)\n\n{header}\n{rule}"
    );
    for &n in &settings.queries {
        let mut line = format!("| q{n} |");
        for r in &shown {
            let _ = write!(line, " {} |", cell(r, n));
        }
        for (_, a, b) in &ratio_cols {
            let _ = write!(line, " {} |", ratio(a, b, n));
        }
        if let Some(s) = shuffle_src {
            let v = s.queries.get(&n).and_then(|o| o.shuffled);
            let _ = write!(line, " {} |", v.map_or("–".into(), mib));
        }
        let _ = writeln!(w, "{line}");
    }
    // Totals: each engine over the queries it answered; ratios over the
    // queries both engines answered correctly.
    let mut line = String::from("| **total** |");
    for r in &shown {
        let (mut t, mut k) = (0.0, 0);
        for o in r.queries.values() {
            if let Some(m) = o.median().filter(|_| o.error.is_none()) {
                t += ms(m);
                k += 1;
            }
        }
        let cellv = if !r.ran() || k == 0 {
            "–".to_string()
        } else if k < settings.queries.len() {
            format!("**{t:.0}** ({k} of {})", settings.queries.len())
        } else {
            format!("**{t:.0}**")
        };
        let _ = write!(line, " {cellv} |");
    }
    for (_, a, b) in &ratio_cols {
        let v = paired_totals(a, b, &settings.queries)
            .map_or("–".into(), |(x, y)| format!("**{:.2}**", x / y));
        let _ = write!(line, " {v} |");
    }
    if let Some(s) = shuffle_src {
        let total: u64 = s.queries.values().filter_map(|o| o.shuffled).sum();
        let _ = write!(line, " {} |", mib(total));
    }
    let _ = writeln!(w, "{line}\n");
    // Each Ballista mode against every other engine, in total.
    let others: Vec<&EngineReport> = reports
        .values()
        .filter(|r| r.ran() && !matches!(r.engine, Engine::Ballista | Engine::Embedded))
        .collect();
    let modes: Vec<&EngineReport> = [proc_, emb].into_iter().flatten().collect();
    if !modes.is_empty() && !others.is_empty() {
        let _ = write!(w, "| total time ratio |");
        for o in &others {
            let _ = write!(w, " ÷ {} |", o.engine.label());
        }
        let _ = writeln!(w, "\n|---|{}", "---:|".repeat(others.len()));
        for m in &modes {
            let _ = write!(w, "| {} |", m.engine.label());
            for o in &others {
                let v = paired_totals(m, o, &settings.queries)
                    .map_or("–".into(), |(x, y)| format!("{:.2}", x / y));
                let _ = write!(w, " {v} |");
            }
            let _ = writeln!(w);
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(
        w,
        "Ratios are of the sums over the queries both engines answered correctly.{}\n",
        match (proc_, emb) {
            (Some(_), _) =>
                " Bytes shuffled: partitions written by every stage but the last, \
                             as stored on the executors (Arrow IPC), processes mode.",
            (None, Some(_)) =>
                " Bytes shuffled: partitions written by every stage but the last, \
                                as stored on the executors (Arrow IPC), embedded mode.",
            (None, None) => "",
        }
    );

    // Correctness.
    let mut problems = vec![];
    for r in reports.values() {
        for (n, o) in &r.queries {
            if let Some(d) = &o.difference {
                problems.push(format!(
                    "- q{n} on {}: **wrong answer** {d}",
                    r.engine.label()
                ));
            }
            if let Some(e) = &o.error {
                problems.push(format!(
                    "- q{n} on {}: error: {}",
                    r.engine.label(),
                    e.lines().next().unwrap_or("")
                ));
            }
        }
    }
    let _ = writeln!(w, "## Answers\n");
    if problems.is_empty() {
        let _ = writeln!(
            w,
            "Every engine that ran returned the same rows on every query.\n"
        );
    } else {
        let _ = writeln!(w, "{}\n", problems.join("\n"));
    }
    if let Some(check) = &extras.reference_check {
        let _ = writeln!(w, "{check}\n");
    }

    if !extras.latency.is_empty() {
        let _ = writeln!(
            w,
            "## Small-query latency: Q6 end to end (submit to last batch), median of {}\n\n\
             | engine | ms | / DataFusion |\n|---|---:|---:|",
            settings.iterations.max(LATENCY_RUNS)
        );
        let base = extras
            .latency
            .iter()
            .find(|(e, _)| *e == Engine::DataFusion)
            .map(|(_, d)| *d);
        for (e, d) in &extras.latency {
            let r = base.map_or("–".into(), |b| {
                format!("{:.2}", d.as_secs_f64() / b.as_secs_f64())
            });
            let _ = writeln!(w, "| {} | {:.1} | {r} |", e.label(), ms(*d));
        }
        let _ = writeln!(w);
    }
    if let Some((memory, _)) = &extras.memory {
        let _ = writeln!(w, "{memory}");
    }
    md
}

fn json_report(
    settings: &Settings,
    reports: &BTreeMap<Engine, EngineReport>,
    extras: &Extras,
) -> Value {
    let (cores, cpu, ram) = machine();
    let engines: Vec<Value> = reports
        .values()
        .map(|r| {
            let (status, reason) = match &r.status {
                Status::Ran => ("ran", None),
                Status::Skipped(w) => ("skipped", Some(w.clone())),
                Status::Failed(w) => ("failed", Some(w.clone())),
            };
            let queries: Vec<Value> = r
                .queries
                .iter()
                .map(|(n, o)| {
                    json!({
                        "query": n,
                        "times_ms": o.times.iter().map(|t| ms(*t)).collect::<Vec<_>>(),
                        "median_ms": o.median().map(ms),
                        "rows": o.rows,
                        "error": o.error,
                        "correct": o.correct,
                        "difference": o.difference,
                        "bytes_shuffled": o.shuffled,
                    })
                })
                .collect();
            json!({
                "engine": r.engine.key(),
                "label": r.engine.label(),
                "version": r.version,
                "config": r.config,
                "status": status,
                "reason": reason,
                "peak_rss_bytes": r.peak_rss,
                "queries": queries,
            })
        })
        .collect();
    json!({
        "sf": settings.sf,
        "parts": settings.parts,
        "iterations": settings.iterations,
        "queries": settings.queries,
        "executors": EXECUTORS,
        "slots": SLOTS,
        "partitions": PARTITIONS,
        "machine": { "cores": cores, "cpu": cpu, "ram": ram },
        "engines": engines,
        "latency_q6_ms": extras.latency.iter()
            .map(|(e, d)| (e.key().to_string(), json!(ms(*d))))
            .collect::<serde_json::Map<_, _>>(),
        "memory_check_ok": extras.memory.as_ref().map(|m| m.1),
    })
}

/// Q18 and Q21 on 2 executors × 2 slots with a 1 GiB memory limit each;
/// answers checked against DataFusion, peak RSS of each executor < 1.5 GiB.
async fn memory(dir: &Path, queries: &Path) -> (String, bool) {
    let limit = "1GiB";
    let cluster = ProcessCluster::start(2, 2, &["--memory-limit", limit]);
    let mut report = format!(
        "## Memory: 2 executors × 2 slots, memory limit {limit} each\n\n\
         | query | time (ms) | rows | correct |\n|---|---:|---:|---|\n"
    );
    let ctx = match BallistaContext::remote(&cluster.url).await {
        Ok(ctx) => ctx,
        Err(e) => return (format!("{report}\ncannot connect: {e}\n"), false),
    };
    let reference = match (
        register_tpch_dir(&ctx, dir).await,
        datafusion_tpch(dir).await,
    ) {
        (Ok(()), Ok(df)) => df,
        (Err(e), _) | (_, Err(e)) => return (format!("{report}\n{e}\n"), false),
    };
    let mut ok = true;
    for n in [18, 21] {
        let stmts = statements(queries, n);
        let actual = run_ballista(&ctx, &stmts).await;
        let expected = run_datafusion(&reference, &stmts).await;
        match (actual, expected) {
            (Ok(a), Ok(e)) => {
                let correct = match (result_cells(&e.batches), result_cells(&a.batches)) {
                    (Ok(x), Ok(y)) => compare_cells(&x, &y).is_ok(),
                    _ => false,
                };
                ok &= correct;
                let rows: usize = a.batches.iter().map(RecordBatch::num_rows).sum();
                let _ = writeln!(report, "| q{n} | {:.0} | {rows} | {correct} |", ms(a.time));
            }
            (a, e) => {
                ok = false;
                let err = a.err().or(e.err()).unwrap_or_default();
                let _ = writeln!(report, "| q{n} | error: {err} | – | false |");
            }
        }
    }
    let _ = writeln!(report, "\n| executor | peak RSS (MiB) |\n|---|---:|");
    for (i, e) in cluster.executors.iter().enumerate() {
        match peak_rss(Some(e.child.id())) {
            Some(peak) => {
                ok &= peak < GIB + GIB / 2;
                let _ = writeln!(report, "| executor-{i} | {} |", mib(peak));
            }
            None => {
                ok = false;
                let _ = writeln!(report, "| executor-{i} | unreadable |");
            }
        }
    }
    let _ = writeln!(
        report,
        "\nPeak RSS limit checked: 1.5 GiB. Result: {}.",
        if ok { "passed" } else { "**FAILED**" }
    );
    (report, ok)
}

/// The project's 22 query texts against the reference texts, on DataFusion
/// (smoke mode): same rows for each.
async fn check_query_texts(dir: &Path) -> Result<String, String> {
    let reference_dir = ballista_datagen::tpch::reference_queries_dir();
    let ctx = datafusion_tpch(dir).await?;
    let mut failures = vec![];
    for n in 1..=22 {
        let ours = run_datafusion(&ctx, &statements(&source_queries_dir(), n)).await;
        let theirs = run_datafusion(&ctx, &statements(&reference_dir, n)).await;
        let check = match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                let (a, b) = (result_cells(&a.batches)?, result_cells(&b.batches)?);
                if b.is_empty() {
                    Err("the reference result is empty".to_string())
                } else {
                    compare_cells(&b, &a)
                }
            }
            (Err(e), _) => Err(format!("ours failed: {e}")),
            (_, Err(e)) => Err(format!("the reference failed: {e}")),
        };
        if let Err(e) = check {
            failures.push(format!("q{n}: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(format!(
            "The 22 query texts of `benchmarks/tpch/queries` return the same rows as the \
             reference texts in {} on DataFusion.",
            reference_dir.display()
        ))
    } else {
        Err(failures.join("\n"))
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let settings = match Settings::from_env(bench) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let dir = tpch_data(&settings);
    eprintln!(
        "TPC-H SF {} data ready in {:.1?} at {}",
        settings.sf,
        started.elapsed(),
        dir.display()
    );
    let queries = settings.queries_dir();
    if let Err(e) =
        ballista_datagen::tpch::queries_for_scale(&source_queries_dir(), &queries, settings.sf)
    {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let mut failures: Vec<String> = vec![];
    let mut extras = Extras {
        latency: vec![],
        memory: None,
        reference_check: None,
    };
    if !bench {
        match runtime.block_on(check_query_texts(&dir)) {
            Ok(note) => extras.reference_check = Some(note),
            Err(e) => failures.push(format!("query texts differ from the reference:\n{e}")),
        }
    }

    let mut reports: BTreeMap<Engine, EngineReport> = settings
        .engines
        .iter()
        .map(|&e| (e, EngineReport::new(e)))
        .collect();
    let started = runtime.block_on(start_in_process(&settings, &dir, &mut reports));
    let mut in_process_peak: BTreeMap<Engine, u64> = BTreeMap::new();
    for round in 0..settings.iterations {
        // A runner runs alone: the in-process clusters only wait (a
        // heartbeat a second) while it does.
        for engine in [Engine::DuckDb, Engine::ApacheBallista] {
            if let Some(report) = reports.get_mut(&engine) {
                run_external(engine, &settings, &dir, report, round);
            }
        }
        runtime.block_on(run_in_process(
            &settings,
            &started,
            &mut reports,
            &mut in_process_peak,
            round,
        ));
    }
    note_in_process_peaks(&started, &mut reports, in_process_peak);
    extras.latency = runtime.block_on(latency(&settings, &started));
    {
        // The embedded cluster's tasks end inside the runtime.
        let _entered = runtime.enter();
        drop(started);
    }
    if settings.memory {
        extras.memory = Some(runtime.block_on(memory(&dir, &queries)));
    }
    check_answers(&settings, &mut reports);

    let md = markdown(&settings, &reports, &extras);
    println!("{md}");
    {
        let out = support::target_dir().join("bench");
        std::fs::create_dir_all(&out).expect("create the bench report directory");
        let base = out.join(format!("tpch-sf{}", settings.sf));
        let path = |ext: &str| PathBuf::from(format!("{}.{ext}", base.display()));
        let json = json_report(&settings, &reports, &extras);
        std::fs::write(path("md"), &md).expect("write the Markdown report");
        std::fs::write(
            path("json"),
            serde_json::to_string_pretty(&json).expect("JSON") + "\n",
        )
        .expect("write the JSON report");
        eprintln!("report written to {}.{{md,json}}", base.display());
    }

    for r in reports.values() {
        for (n, o) in &r.queries {
            if o.correct == Some(false) {
                failures.push(format!("q{n}: {} gave a wrong answer", r.engine.label()));
            }
            if r.engine.in_repo() && o.error.is_some() {
                failures.push(format!("q{n}: {} failed", r.engine.label()));
            }
        }
        if r.engine.in_repo()
            && let Status::Failed(why) = &r.status
        {
            failures.push(format!("{} did not start: {why}", r.engine.label()));
        }
    }
    if !settings.bench {
        if !reports.values().any(|r| r.ran() && !r.queries.is_empty()) {
            failures.push("no engine ran".into());
        }
        // Q15 and Q18 shuffle on every plan: the bytes must be reported.
        for engine in [Engine::Ballista, Engine::Embedded] {
            for (n, o) in reports
                .get(&engine)
                .map(|r| &r.queries)
                .into_iter()
                .flatten()
            {
                if o.shuffled.is_none_or(|b| b == 0) {
                    failures.push(format!(
                        "q{n}: {} reported no bytes shuffled ({:?})",
                        engine.label(),
                        o.shuffled
                    ));
                }
            }
        }
    }
    // The 1.5 GiB bound was set for SF 1. Beyond it a hash join's build side
    // alone outgrows the 1 GiB pool (DataFusion's hash join does not spill:
    // Q18 at SF 10 fails with "Resources exhausted"), so there the check is
    // reported, not enforced.
    if extras.memory.as_ref().is_some_and(|m| !m.1) {
        if settings.sf <= 1.0 {
            failures.push("the memory check failed (see the report)".into());
        } else {
            eprintln!(
                "warning: the 1 GiB memory check failed at SF {} (enforced at SF 1 and below; \
                 see the report)",
                settings.sf
            );
        }
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED:\n{}", failures.join("\n"));
        ExitCode::FAILURE
    }
}
