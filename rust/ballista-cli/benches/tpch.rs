//! TPC-H on a real Ballista cluster against single-process DataFusion,
//! measured side by side in one run (`make bench`).
//!
//! - **Speed**: a scheduler and 2 executor processes × 1 task slot against
//!   one DataFusion `SessionContext` with 2 target partitions, both over the
//!   same Parquet files. Every query runs once on each to warm the page
//!   cache, then `BALLISTA_BENCH_ITERATIONS` times alternating between the
//!   two; the median of each is reported with the ratio, and the results
//!   are checked equal.
//! - **Memory**: 2 executors × 2 slots, each with a 1 GiB memory limit, run
//!   Q18 and Q21; the peak resident set of each executor process
//!   (`VmHWM` from `/proc/<pid>/status`) must stay under 1.5 GiB.
//!
//! Environment: `BALLISTA_BENCH_SF` (default 1), `BALLISTA_BENCH_ITERATIONS`
//! (default 3), `BALLISTA_BENCH_QUERIES` (e.g. `1,3,18`; default all 22),
//! `BALLISTA_BENCH_PARTS` (files per table, default 4). A report in
//! Markdown goes to stdout and to `<target dir>/bench/tpch-sf<SF>.md`.
//!
//! Built as a test (`cargo test --all-targets`, which passes no `--bench`),
//! it runs a smoke version at SF 0.01 on two queries, so `make test` keeps
//! the benchmark working without timing anything.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use ballista_client::BallistaContext;
use datafusion::prelude::SessionContext;
use support::{
    ProcessCluster, canonical_rows, is_query, query, register_tpch, tpch_data, tpch_reference,
};

const GIB: u64 = 1 << 30;

struct Settings {
    sf: f64,
    parts: usize,
    iterations: usize,
    queries: Vec<usize>,
    memory: bool,
}

impl Settings {
    fn from_env(bench: bool) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &str, default: f64| {
            var(name).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|e| panic!("{name}={v} is not a number: {e}"))
            })
        };
        if !bench {
            return Self {
                sf: 0.01,
                parts: 2,
                iterations: 1,
                queries: vec![1, 18],
                memory: false,
            };
        }
        let queries = var("BALLISTA_BENCH_QUERIES").map_or_else(
            || (1..=22).collect(),
            |v| {
                v.split(',')
                    .map(|q| {
                        q.trim()
                            .parse()
                            .unwrap_or_else(|e| panic!("BALLISTA_BENCH_QUERIES: `{q}`: {e}"))
                    })
                    .collect()
            },
        );
        Self {
            sf: number("BALLISTA_BENCH_SF", 1.0),
            parts: number("BALLISTA_BENCH_PARTS", 4.0) as usize,
            iterations: (number("BALLISTA_BENCH_ITERATIONS", 3.0) as usize).max(1),
            queries,
            memory: true,
        }
    }
}

/// Runs the statements of query `n`; returns the rows of its query (the
/// statement that is not DDL) and the time for all statements.
async fn run_datafusion(ctx: &SessionContext, n: usize) -> (Vec<RecordBatch>, Duration) {
    let start = Instant::now();
    let mut rows = vec![];
    for sql in query(n) {
        let result = match ctx.sql(&sql).await {
            Ok(df) => df.collect().await,
            Err(e) => Err(e),
        };
        let batches = result.unwrap_or_else(|e| panic!("q{n} on DataFusion: {e}"));
        if is_query(&sql) {
            rows = batches;
        }
    }
    (rows, start.elapsed())
}

async fn run_ballista(ctx: &BallistaContext, n: usize) -> (Vec<RecordBatch>, Duration) {
    let start = Instant::now();
    let mut rows = vec![];
    for sql in query(n) {
        let df = ctx
            .sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("q{n} on Ballista: {e}"));
        let batches = df
            .collect()
            .await
            .unwrap_or_else(|e| panic!("q{n} on Ballista: {e}"));
        if is_query(&sql) {
            rows = batches;
        }
    }
    (rows, start.elapsed())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A client of the cluster at `url` with the TPC-H tables registered.
async fn ballista_context(url: &str, settings: &Settings) -> BallistaContext {
    let ctx = BallistaContext::remote(url)
        .await
        .expect("connect to the cluster");
    register_tpch(&ctx, settings.sf, settings.parts).await;
    ctx
}

async fn speed(settings: &Settings, report: &mut String) {
    let cluster = ProcessCluster::start(2, 1, &[]);
    let ballista = ballista_context(&cluster.url, settings).await;
    let datafusion = tpch_reference(settings.sf, settings.parts).await;

    writeln!(
        report,
        "## Speed: 2 executors × 1 slot vs DataFusion, 2 partitions\n\n\
         Median of {} runs after one warm-up run each, alternating.\n\n\
         | query | DataFusion (ms) | Ballista (ms) | ratio |\n|---|---:|---:|---:|",
        settings.iterations
    )
    .unwrap();
    let (mut total_df, mut total_ballista) = (Duration::ZERO, Duration::ZERO);
    for &n in &settings.queries {
        let (expected, _) = run_datafusion(&datafusion, n).await;
        let (actual, _) = run_ballista(&ballista, n).await;
        assert_eq!(
            canonical_rows(&expected),
            canonical_rows(&actual),
            "q{n}: Ballista and DataFusion disagree"
        );
        let (mut df_times, mut ballista_times) = (vec![], vec![]);
        for _ in 0..settings.iterations {
            df_times.push(run_datafusion(&datafusion, n).await.1);
            ballista_times.push(run_ballista(&ballista, n).await.1);
        }
        let (d, b) = (median(df_times), median(ballista_times));
        total_df += d;
        total_ballista += b;
        let line = format!(
            "| q{n} | {:.0} | {:.0} | {:.2} |",
            ms(d),
            ms(b),
            b.as_secs_f64() / d.as_secs_f64()
        );
        eprintln!("{line}");
        writeln!(report, "{line}").unwrap();
    }
    writeln!(
        report,
        "| **total** | **{:.0}** | **{:.0}** | **{:.2}** |\n",
        ms(total_df),
        ms(total_ballista),
        total_ballista.as_secs_f64() / total_df.as_secs_f64()
    )
    .unwrap();
}

/// Peak resident set size of process `pid`, from `VmHWM`.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

async fn memory(settings: &Settings, report: &mut String) -> bool {
    let limit = "1GiB";
    let cluster = ProcessCluster::start(2, 2, &["--memory-limit", limit]);
    let ballista = ballista_context(&cluster.url, settings).await;
    let datafusion = tpch_reference(settings.sf, settings.parts).await;
    writeln!(
        report,
        "## Memory: 2 executors × 2 slots, memory limit {limit} each\n\n\
         | query | time (ms) | rows | correct |\n|---|---:|---:|---|"
    )
    .unwrap();
    let mut ok = true;
    for n in [18, 21] {
        let (actual, time) = run_ballista(&ballista, n).await;
        let (expected, _) = run_datafusion(&datafusion, n).await;
        let correct = canonical_rows(&expected) == canonical_rows(&actual);
        ok &= correct;
        let rows: usize = actual.iter().map(RecordBatch::num_rows).sum();
        writeln!(report, "| q{n} | {:.0} | {rows} | {correct} |", ms(time)).unwrap();
    }
    writeln!(report, "\n| executor | peak RSS (MiB) |\n|---|---:|").unwrap();
    for (i, e) in cluster.executors.iter().enumerate() {
        let peak = peak_rss(e.child.id()).expect("read /proc/<pid>/status");
        ok &= peak < GIB + GIB / 2;
        writeln!(
            report,
            "| executor-{i} | {:.0} |",
            peak as f64 / (1 << 20) as f64
        )
        .unwrap();
    }
    writeln!(report, "\nPeak RSS limit checked: 1.5 GiB.").unwrap();
    ok
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let settings = Settings::from_env(bench);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let dir = tpch_data(settings.sf, settings.parts);
    eprintln!(
        "TPC-H SF {} data ready in {:.1?} at {}",
        settings.sf,
        started.elapsed(),
        dir.display()
    );
    let mut report = format!(
        "# TPC-H SF {} ({} files per table)\n\nMachine: {} cores. Build: `{}`.\n\n",
        settings.sf,
        settings.parts,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    runtime.block_on(speed(&settings, &mut report));
    let memory_ok = !settings.memory || runtime.block_on(memory(&settings, &mut report));
    println!("{report}");
    if bench {
        let out = support::target_dir().join("bench");
        std::fs::create_dir_all(&out).expect("create bench report dir");
        let path = out.join(format!("tpch-sf{}.md", settings.sf));
        std::fs::write(&path, &report).expect("write bench report");
        eprintln!("report written to {}", path.display());
    }
    assert!(memory_ok, "the memory check failed (see the report)");
}
