//! Runs the built `ballista` binary as a user would.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn ballista(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ballista"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("run ballista")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory path under the system temp dir, unique to this test.
fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ballista-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    path
}

fn parquet_rows(path: &Path) -> (usize, usize) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let columns = builder.schema().fields().len();
    let rows = builder
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    (rows, columns)
}

#[test]
fn gen_nyctaxi_writes_readable_parquet() {
    let out = temp_path("nyctaxi");
    let output = ballista(&[
        "gen",
        "nyctaxi",
        "--rows",
        "10000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // stdout is for results only; the summary is a log line on stderr.
    assert_eq!(text(&output.stdout), "");
    assert!(text(&output.stderr).contains("generated 10000 NYC taxi trips"));
    assert_eq!(parquet_rows(&out.join("part-0.parquet")), (10000, 19));
    assert!(out.join("_SUCCESS").exists());

    // Asking again for the same data does nothing; for other data, fails.
    let again = ballista(&[
        "gen",
        "nyctaxi",
        "--rows",
        "10000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(text(&again.stderr).contains("nothing to do"));
    let other = ballista(&[
        "gen",
        "nyctaxi",
        "--rows",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(other.status.code(), Some(1));
    let stderr = text(&other.stderr);
    assert!(
        stderr.contains("already holds a different data set"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn gen_tpch_writes_eight_tables() {
    let out = temp_path("tpch");
    let output = ballista(&[
        "gen",
        "tpch",
        "--sf",
        "0.01",
        "--out",
        out.to_str().unwrap(),
        "--parts",
        "2",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut tables: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    tables.sort();
    assert_eq!(
        tables,
        [
            "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"
        ]
    );
    assert_eq!(parquet_rows(&out.join("nation/part-1.parquet")).0, 25);
    // SF 0.01 has 1,500 customers, in two files.
    let customers = parquet_rows(&out.join("customer/part-1.parquet")).0
        + parquet_rows(&out.join("customer/part-2.parquet")).0;
    assert_eq!(customers, 1500);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn help_lists_the_subcommands() {
    let output = ballista(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for command in ["standalone", "scheduler", "executor", "sql", "gen"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    let gen_help = text(&ballista(&["gen", "--help"]).stdout);
    assert!(
        gen_help.contains("tpch") && gen_help.contains("nyctaxi"),
        "{gen_help}"
    );
}

#[test]
fn bad_flags_fail_with_a_clear_message() {
    let output = ballista(&["--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage:"), "{stderr}");

    let output = ballista(&["gen", "nyctaxi", "--rows", "ten", "--out", "x"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("invalid value 'ten' for '--rows <N>'"),
        "{stderr}"
    );

    let output = ballista(&["executor", "--memory-limit", "lots"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`lots` is not a size"), "{stderr}");
}

/// Two CSV files of (k, v) rows, k = 0..1000, v = k * 2; returns the
/// directory and the CSV a script should get for [`GROUPED`].
fn csv_table(name: &str) -> (PathBuf, String) {
    let dir = temp_path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, range) in [(0, 0..500), (1, 500..1000)] {
        let mut text = String::from("k,v\n");
        for k in range {
            text.push_str(&format!("{k},{}\n", k * 2));
        }
        std::fs::write(dir.join(format!("part-{file}.csv")), text).unwrap();
    }
    let mut expected = String::from("g,n,s\n");
    for g in 0..3 {
        let ks: Vec<i64> = (0..1000).filter(|k| k % 3 == g).collect();
        let sum: i64 = ks.iter().map(|k| k * 2).sum();
        expected.push_str(&format!("{g},{},{sum}\n", ks.len()));
    }
    (dir, expected)
}

const GROUPED: &str =
    "SELECT k % 3 AS g, count(*) AS n, sum(v) AS s FROM t GROUP BY k % 3 ORDER BY g";

fn create_table(dir: &Path) -> String {
    format!(
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}/' OPTIONS ('format.has_header' 'true')",
        dir.display()
    )
}

#[test]
fn standalone_prints_csv_for_scripts() {
    let (dir, expected) = csv_table("standalone-csv");
    let sql = format!("{}; {GROUPED}", create_table(&dir));
    let output = ballista(&[
        "standalone",
        "--executors",
        "2",
        "--slots",
        "1",
        "--format",
        "csv",
        "-c",
        &sql,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Only the query's rows, with a header: the DDL prints nothing, and
    // logs go to stderr.
    assert_eq!(text(&output.stdout), expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sql_against_a_cluster_of_processes_prints_csv_for_scripts() {
    let (dir, expected) = csv_table("sql-csv");
    let cluster = support::ProcessCluster::start(2, 1, &[]);
    let file = dir.join("q.sql");
    std::fs::write(&file, format!("{};\n{GROUPED};\n", create_table(&dir))).unwrap();
    let output = ballista(&[
        "sql",
        "--scheduler",
        &cluster.url,
        "-f",
        file.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), expected);

    // A failing statement: exit code 1, the error on stderr naming it.
    let output = ballista(&[
        "sql",
        "--scheduler",
        &cluster.url,
        "--format",
        "csv",
        "-c",
        "SELECT nope FROM t",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("nope"),
        "{}",
        text(&output.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// The Rust example of examples/nyctaxi/: its SQL and DataFrame versions of
// the fare statistics, on an embedded cluster.
#[path = "../../../examples/nyctaxi/rust/nyctaxi.rs"]
#[allow(dead_code)]
mod nyctaxi_example;

#[tokio::test(flavor = "multi_thread")]
async fn the_nyctaxi_example_gives_the_same_rows_as_sql_and_as_a_dataframe() {
    use arrow::util::pretty::pretty_format_batches;
    use ballista_client::BallistaContext;

    let dir = temp_path("nyctaxi-example");
    let output = ballista(&[
        "gen",
        "nyctaxi",
        "--rows",
        "20000",
        "--files",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let data = dir.to_str().unwrap();
    let ctx = BallistaContext::standalone().await.unwrap();
    let sql = nyctaxi_example::fare_stats_sql(&ctx, data).await.unwrap();
    let df = nyctaxi_example::fare_stats_dataframe(&ctx, data)
        .unwrap()
        .collect()
        .await
        .unwrap();
    let sql_text = pretty_format_batches(&sql).unwrap().to_string();
    assert_eq!(sql_text, pretty_format_batches(&df).unwrap().to_string());
    // Passenger counts 0 to 6 and unknown, each in 12 months; every trip
    // counted once.
    let rows: usize = sql.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 8 * 12, "{sql_text}");
    let trips: i64 = sql
        .iter()
        .map(|b| {
            let column = b.column_by_name("trips").unwrap();
            let counts = column
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            counts.iter().flatten().sum::<i64>()
        })
        .sum();
    assert_eq!(trips, 20_000);
    std::fs::remove_dir_all(&dir).unwrap();
}
