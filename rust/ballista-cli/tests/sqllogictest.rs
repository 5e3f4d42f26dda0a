//! SQL behaviour in sqllogictest (`.slt`) files: every file under
//! `tests/slt/` runs on a real cluster in both modes, separate processes
//! (`ballista scheduler` + 2 × `ballista executor`, 2 slots each) and the
//! embedded cluster, and on single-process DataFusion as the reference.
//!
//! - **Data.** Before the files run, the runner writes small tables as
//!   Parquet and CSV into a temporary directory ([`write_test_data`]). A file
//!   turns substitution on (`control substitution on`) and names that
//!   directory `${DATA_DIR}`, e.g.
//!   `CREATE EXTERNAL TABLE orders STORED AS PARQUET LOCATION '${DATA_DIR}/orders/'`.
//! - **Independence.** Each file gets a fresh connection (so `SET` does not
//!   leak) and, when it ends, every table it created is dropped, so each file
//!   creates the tables it uses.
//! - **Results** print as DataFusion's own sqllogictest prints them: integers
//!   as they are, floats and decimals rounded to 12 places without trailing
//!   zeros, `NULL`, `(empty)` for the empty string, `true` / `false`; column
//!   types (`query ITRBDP?`) are checked strictly.
//! - **Expected output is single-process DataFusion's** (standard SQL): the
//!   reference test runs every file on a plain `SessionContext`, so an
//!   expectation that only Ballista meets fails there. Error records assert
//!   on a fragment of the message that names what was wrong. Should the two
//!   engines ever word an error differently, mark the record `onlyif
//!   ballista` / `onlyif datafusion` rather than loosen the fragment.
//! - `BALLISTA_SLT_COMPLETE=1 cargo test -p ballista-cli --test sqllogictest
//!   slt_files_on_datafusion` rewrites the expected results of every file
//!   from the DataFusion reference (DataFusion's `--complete`); review the
//!   diff before committing it.

mod support;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use async_trait::async_trait;
use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use bigdecimal::BigDecimal;
use datafusion::prelude::{SessionConfig, SessionContext};
use sqllogictest::{
    AsyncDB, ColumnType, DBOutput, MakeConnection, RecordOutput, Runner, default_normalizer,
    default_validator, strict_column_validator,
};
use support::ProcessCluster;

/// The engine label of Ballista for `onlyif` / `skipif`.
const BALLISTA: &str = "ballista";
/// The engine label of the single-process DataFusion reference.
const DATAFUSION: &str = "datafusion";

// ---------------------------------------------------------------------------
// Results as text

/// Column types of a `query` record, DataFusion's letters: `B`oolean,
/// `D`ate/time, `I`nteger, `R`eal (floats and decimals), `T`ext,
/// timestam`P`, and `?` for anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SqlType {
    Boolean,
    DateTime,
    Integer,
    Float,
    Text,
    Timestamp,
    Other,
}

impl ColumnType for SqlType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'B' => Self::Boolean,
            'D' => Self::DateTime,
            'I' => Self::Integer,
            'R' => Self::Float,
            'T' => Self::Text,
            'P' => Self::Timestamp,
            '?' => Self::Other,
            _ => return None,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Boolean => 'B',
            Self::DateTime => 'D',
            Self::Integer => 'I',
            Self::Float => 'R',
            Self::Text => 'T',
            Self::Timestamp => 'P',
            Self::Other => '?',
        }
    }
}

fn sql_type(data_type: &DataType) -> SqlType {
    use DataType::*;
    match data_type {
        Boolean => SqlType::Boolean,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => SqlType::Integer,
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Decimal256(..) => SqlType::Float,
        Utf8 | LargeUtf8 | Utf8View => SqlType::Text,
        Date32 | Date64 | Time32(_) | Time64(_) => SqlType::DateTime,
        Timestamp(..) => SqlType::Timestamp,
        Dictionary(_, value) => sql_type(value),
        _ => SqlType::Other,
    }
}

/// A number rounded to 12 decimal places, trailing zeros dropped: the
/// same text DataFusion's runner prints, and stable under the different
/// summation orders of a distributed aggregate.
fn decimal_text(plain: &str) -> String {
    match BigDecimal::from_str(plain) {
        Ok(d) => d.round(12).normalized().to_string(),
        Err(_) => plain.to_string(),
    }
}

fn float_text(v: f64) -> String {
    if v.is_nan() {
        // The sign of NaN differs between platforms.
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        decimal_text(&v.to_string())
    }
}

fn string_text(s: &str) -> String {
    if s.is_empty() {
        "(empty)".to_string()
    } else {
        s.trim_end_matches('\n').to_string()
    }
}

/// One row of strings per result row.
fn rows_text(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, DbError> {
    let options = FormatOptions::default();
    let mut rows = vec![];
    for batch in batches {
        // Dictionary columns print as their values.
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Dictionary(_, value) => cast(c, value),
                _ => Ok(Arc::clone(c)),
            })
            .collect::<Result<_, _>>()
            .map_err(DbError::of)?;
        for row in 0..batch.num_rows() {
            let cells = columns
                .iter()
                .map(|c| cell_text(c, row, &options))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(cells);
        }
    }
    Ok(rows)
}

fn cell_text(c: &ArrayRef, row: usize, options: &FormatOptions) -> Result<String, DbError> {
    if c.is_null(row) {
        return Ok("NULL".to_string());
    }
    let formatted = || {
        ArrayFormatter::try_new(c.as_ref(), options)
            .map(|f| f.value(row).to_string())
            .map_err(DbError::of)
    };
    Ok(match c.data_type() {
        DataType::Boolean => {
            let b = c.as_any().downcast_ref::<BooleanArray>().expect("boolean");
            b.value(row).to_string()
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let f = cast(c, &DataType::Float64).map_err(DbError::of)?;
            let f = f.as_any().downcast_ref::<Float64Array>().expect("f64");
            float_text(f.value(row))
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => decimal_text(&formatted()?),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => string_text(&formatted()?),
        _ => formatted()?,
    })
}

fn output(schema: &Schema, batches: &[RecordBatch]) -> Result<DBOutput<SqlType>, DbError> {
    if schema.fields().is_empty() {
        // DDL: no result set.
        return Ok(DBOutput::StatementComplete(0));
    }
    Ok(DBOutput::Rows {
        types: schema
            .fields()
            .iter()
            .map(|f| sql_type(f.data_type()))
            .collect(),
        rows: rows_text(batches)?,
    })
}

/// An error of either engine, as text (what `statement error <regex>`
/// and `query error <regex>` match).
#[derive(Debug)]
struct DbError(String);

impl DbError {
    fn of(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

// ---------------------------------------------------------------------------
// The engines

/// Ballista through its client, as a user runs SQL: `BallistaContext::sql`
/// (DDL applies at once), then the job's result partitions are fetched.
#[derive(Clone)]
struct BallistaDb {
    ctx: BallistaContext,
    /// Tables this file created, dropped when it ends.
    created: Arc<Mutex<Vec<String>>>,
}

impl BallistaDb {
    async fn drop_created_tables(&self) -> Result<(), DbError> {
        let names = std::mem::take(&mut *self.created.lock().expect("lock"));
        for name in names {
            self.ctx
                .sql(&format!("DROP TABLE IF EXISTS {name}"))
                .await
                .map_err(DbError::of)?;
        }
        Ok(())
    }
}

#[async_trait]
impl AsyncDB for BallistaDb {
    type Error = DbError;
    type ColumnType = SqlType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<SqlType>, DbError> {
        if let Some((key, value)) = set_statement(sql) {
            // Settings travel with each query (`ExecuteQuery.settings`).
            self.ctx.set(key, value);
            return Ok(DBOutput::StatementComplete(0));
        }
        let df = self.ctx.sql(sql).await.map_err(DbError::of)?;
        if is_ddl(sql) {
            if let Some(name) = created_table(sql) {
                self.created.lock().expect("lock").push(name);
            }
            return Ok(DBOutput::StatementComplete(0));
        }
        let result = self.ctx.execute(&df, None).await.map_err(DbError::of)?;
        let batches = self.ctx.fetch_all(&result).await.map_err(DbError::of)?;
        output(&result.schema, &batches)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        BALLISTA
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// Single-process DataFusion with the cluster's parallelism: the reference.
struct DataFusionDb {
    ctx: SessionContext,
}

#[async_trait]
impl AsyncDB for DataFusionDb {
    type Error = DbError;
    type ColumnType = SqlType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<SqlType>, DbError> {
        let df = self.ctx.sql(sql).await.map_err(DbError::of)?;
        let schema: SchemaRef = Arc::clone(df.schema().inner());
        let batches = df.collect().await.map_err(DbError::of)?;
        output(&schema, &batches)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        DATAFUSION
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// `CREATE ...` and `DROP ...` run at once in `BallistaContext::sql`.
fn is_ddl(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or_default();
    first.eq_ignore_ascii_case("CREATE") || first.eq_ignore_ascii_case("DROP")
}

/// The table named by `CREATE [OR REPLACE] [EXTERNAL] TABLE [IF NOT
/// EXISTS] name ...`.
fn created_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    if !words.first()?.eq_ignore_ascii_case("CREATE") {
        return None;
    }
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("TABLE"))?;
    let mut rest = words[at + 1..].iter();
    let mut name = *rest.next()?;
    if name.eq_ignore_ascii_case("IF") {
        // IF NOT EXISTS
        name = *rest.nth(2)?;
    }
    let name = name.split('(').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// `SET key = value` / `SET key TO value`, quotes removed.
fn set_statement(sql: &str) -> Option<(String, String)> {
    let sql = sql.trim().trim_end_matches(';');
    let (head, rest) = sql.split_once(char::is_whitespace)?;
    if !head.eq_ignore_ascii_case("SET") {
        return None;
    }
    let rest = rest.trim();
    let (key, value) = match rest.split_once('=') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => {
            let mut words = rest.splitn(3, char::is_whitespace);
            let (k, to, v) = (words.next()?, words.next()?, words.next()?);
            if !to.eq_ignore_ascii_case("TO") {
                return None;
            }
            (k, v.trim())
        }
    };
    let unquote = |s: &str| s.trim_matches(|c| c == '\'' || c == '"').to_string();
    Some((unquote(key), unquote(value)))
}

// ---------------------------------------------------------------------------
// Test data

/// Rows of the generated `orders` table (Parquet, [`ORDER_FILES`] files).
const ORDERS: i64 = 6000;
const ORDER_FILES: i64 = 4;
/// Rows of the generated `customers` table (CSV, two files).
const CUSTOMERS: i64 = 400;

/// Writes the tables the `.slt` files read into `dir`:
///
/// - `orders/part-{0..3}.parquet`, 6000 rows: `o_id` 1..=6000, `c_id`
///   (`o_id * 7 % 500 + 1`, so ids 401..=500 match no customer; NULL when
///   `o_id % 97 = 0`), `amount` (multiples of 0.25, so sums are exact in
///   any order), `qty` 1..=10, `status` (shipped / pending / returned /
///   cancelled; NULL when `o_id % 50 = 4`, empty when `o_id % 50 = 9`),
///   `order_date` (2024-01-01 plus `o_id % 366` days), `created_at`
///   (`order_date` plus `o_id` minutes), `price` DECIMAL(10,2).
/// - `customers/part-{0,1}.csv` with a header, 400 rows: `c_id` 1..=400,
///   `name` (`cust_0001`...), `region_id` (NULL when `c_id % 37 = 0`, 6,
///   which no region has, when `c_id % 9 = 0`, else `c_id % 4 + 1`),
///   `credit` (`c_id % 7 * 0.5`).
/// - `regions.csv`, 5 rows (region 5 has no customers): the small side of
///   joins the planner may broadcast.
/// - `nullable.csv`: `k`, `v` = (1, 1), (2, 2), (3, NULL); `nonnull.csv`:
///   `v` = 1, 2.
fn write_test_data(dir: &Path) -> std::io::Result<()> {
    write_orders(&dir.join("orders"))?;
    let customers = dir.join("customers");
    std::fs::create_dir_all(&customers)?;
    for part in 0..2 {
        let mut f = File::create(customers.join(format!("part-{part}.csv")))?;
        writeln!(f, "c_id,name,region_id,credit")?;
        let per_file = CUSTOMERS / 2;
        for c_id in part * per_file + 1..=(part + 1) * per_file {
            let region = if c_id % 37 == 0 {
                String::new()
            } else if c_id % 9 == 0 {
                "6".to_string()
            } else {
                (c_id % 4 + 1).to_string()
            };
            let credit = (c_id % 7) as f64 * 0.5;
            writeln!(f, "{c_id},cust_{c_id:04},{region},{credit}")?;
        }
    }
    std::fs::write(
        dir.join("regions.csv"),
        "r_id,r_name\n1,north\n2,south\n3,east\n4,west\n5,central\n",
    )?;
    std::fs::write(dir.join("nullable.csv"), "k,v\n1,1\n2,2\n3,\n")?;
    std::fs::write(dir.join("nonnull.csv"), "v\n1\n2\n")?;
    Ok(())
}

fn write_orders(dir: &Path) -> std::io::Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("o_id", DataType::Int64, false),
        Field::new("c_id", DataType::Int64, true),
        Field::new("amount", DataType::Float64, false),
        Field::new("qty", DataType::Int32, false),
        Field::new("status", DataType::Utf8, true),
        Field::new("order_date", DataType::Date32, false),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("price", DataType::Decimal128(10, 2), false),
    ]));
    std::fs::create_dir_all(dir)?;
    // 2024-01-01 in days since the epoch.
    const JAN_1_2024: i32 = 19723;
    let per_file = ORDERS / ORDER_FILES;
    for part in 0..ORDER_FILES {
        let ids: Vec<i64> = (part * per_file + 1..=(part + 1) * per_file).collect();
        let days: Vec<i32> = ids.iter().map(|o| JAN_1_2024 + (o % 366) as i32).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from_iter(
                ids.iter().map(|o| (o % 97 != 0).then_some(o * 7 % 500 + 1)),
            )),
            Arc::new(Float64Array::from_iter_values(
                ids.iter().map(|o| (o * 37 % 400) as f64 * 0.25),
            )),
            Arc::new(Int32Array::from_iter_values(
                ids.iter().map(|o| (o % 10 + 1) as i32),
            )),
            Arc::new(StringArray::from_iter(ids.iter().map(|o| match o % 50 {
                4 => None,
                9 => Some(""),
                _ => Some(["shipped", "pending", "returned", "cancelled"][(o % 4) as usize]),
            }))),
            Arc::new(Date32Array::from(days.clone())),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                ids.iter()
                    .zip(&days)
                    .map(|(o, d)| (*d as i64 * 86_400 + o * 60) * 1_000_000),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(ids.iter().map(|o| (o % 1000) as i128 * 5))
                    .with_precision_and_scale(10, 2)
                    .map_err(std::io::Error::other)?,
            ),
        ];
        let batch =
            RecordBatch::try_new(Arc::clone(&schema), columns).map_err(std::io::Error::other)?;
        let file = File::create(dir.join(format!("part-{part}.parquet")))?;
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, Arc::clone(&schema), None)
            .map_err(std::io::Error::other)?;
        writer.write(&batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Running files

fn slt_dir() -> PathBuf {
    support::package_dir().join("tests/slt")
}

/// Every `.slt` file under `tests/slt/`, sorted.
fn slt_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(slt_dir())
        .expect("tests/slt exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {:?}", slt_dir());
    files
}

/// Runs every record of `file` (not stopping at the first failure) and
/// returns how many statements and queries ran and the failures.
async fn run_file<D, M>(
    mut runner: Runner<D, M>,
    file: &Path,
    data_dir: &Path,
) -> (usize, Vec<String>)
where
    D: AsyncDB<ColumnType = SqlType>,
    M: MakeConnection<Conn = D>,
{
    runner.with_column_validator(strict_column_validator);
    runner.set_var(
        "DATA_DIR".to_string(),
        data_dir.to_str().expect("utf-8 path").to_string(),
    );
    let records = match sqllogictest::parse_file::<SqlType>(file) {
        Ok(records) => records,
        Err(e) => return (0, vec![format!("cannot parse: {e}")]),
    };
    let mut ran = 0;
    let mut failures = vec![];
    for record in records {
        // Skipped records (`onlyif` / `skipif`) and control records
        // produce nothing and are not counted.
        match runner.run_async(record).await {
            Ok(RecordOutput::Nothing) => {}
            Ok(_) => ran += 1,
            Err(e) => {
                ran += 1;
                failures.push(e.display(false).to_string());
            }
        }
    }
    (ran, failures)
}

/// Runs every file on the cluster `connect` reaches, each on a fresh
/// connection, and panics listing every failing record.
async fn run_on_ballista(mode: &str, connect: impl AsyncFn() -> BallistaContext) {
    let data = tempfile::tempdir().expect("temp dir");
    write_test_data(data.path()).expect("write test data");
    let start = Instant::now();
    let (mut records, mut failures) = (0, vec![]);
    for file in slt_files() {
        let db = BallistaDb {
            ctx: connect().await,
            created: Arc::default(),
        };
        let conn = db.clone();
        let mut runner = Runner::new(move || {
            let conn = conn.clone();
            async move { Ok::<_, DbError>(conn) }
        });
        runner.add_label(BALLISTA);
        let file_start = Instant::now();
        let (ran, failed) = run_file(runner, &file, data.path()).await;
        if let Err(e) = db.drop_created_tables().await {
            failures.push(format!("{}: dropping its tables: {e}", file.display()));
        }
        eprintln!(
            "[{mode}] {}: {ran} records, {} failed, {:.2?}",
            file.file_name().unwrap_or_default().to_string_lossy(),
            failed.len(),
            file_start.elapsed()
        );
        records += ran;
        failures.extend(failed);
    }
    eprintln!("[{mode}] {records} records in {:.2?}", start.elapsed());
    assert!(
        failures.is_empty(),
        "[{mode}] {} of {records} records failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn datafusion_reference() -> SessionContext {
    SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4))
}

fn datafusion_runner() -> Runner<DataFusionDb, impl MakeConnection<Conn = DataFusionDb>> {
    // One context per file: a fresh catalog.
    let ctx = datafusion_reference();
    let mut runner = Runner::new(move || {
        let ctx = ctx.clone();
        async move { Ok::<_, DbError>(DataFusionDb { ctx }) }
    });
    runner.add_label(DATAFUSION);
    runner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_files_on_separate_processes() {
    let cluster = ProcessCluster::start(2, 2, &[]);
    let url = cluster.url.clone();
    run_on_ballista("processes", async || {
        BallistaContext::remote(&url).await.expect("connect")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_files_on_the_embedded_cluster() {
    let cluster = Arc::new(
        EmbeddedCluster::start(StandaloneConfig {
            executors: 2,
            slots_per_executor: 2,
            memory_limit: None,
        })
        .await
        .expect("embedded cluster"),
    );
    run_on_ballista("embedded", async || {
        BallistaContext::for_cluster(Arc::clone(&cluster))
            .await
            .expect("connect")
    })
    .await;
}

/// The expectations are DataFusion's: every file passes on single-process
/// DataFusion too (or, with `BALLISTA_SLT_COMPLETE=1`, is rewritten from it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_files_on_datafusion() {
    let data = tempfile::tempdir().expect("temp dir");
    write_test_data(data.path()).expect("write test data");
    let complete = std::env::var_os("BALLISTA_SLT_COMPLETE").is_some_and(|v| v == "1");
    let start = Instant::now();
    let (mut records, mut failures) = (0, vec![]);
    for file in slt_files() {
        if complete {
            let mut runner = datafusion_runner();
            runner.set_var(
                "DATA_DIR".to_string(),
                data.path().to_str().expect("utf-8").to_string(),
            );
            runner
                .update_test_file(
                    &file,
                    " ",
                    default_validator,
                    default_normalizer,
                    strict_column_validator,
                )
                .await
                .unwrap_or_else(|e| panic!("completing {}: {e}", file.display()));
            continue;
        }
        let (ran, failed) = run_file(datafusion_runner(), &file, data.path()).await;
        records += ran;
        failures.extend(failed);
    }
    eprintln!("[datafusion] {records} records in {:.2?}", start.elapsed());
    assert!(
        failures.is_empty(),
        "[datafusion] {} of {records} records failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The runner can fail: a wrong expected row, a wrong column type and an
/// error where rows were expected are all reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "\
query I
SELECT 1 + 1
----
3

query T
SELECT 2
----
2

query I
SELECT * FROM no_such_table
----
1

query I
SELECT 7
----
7
";
    let file = dir.path().join("wrong.slt");
    std::fs::write(&file, script).expect("write");
    let (ran, failures) = run_file(datafusion_runner(), &file, dir.path()).await;
    assert_eq!(ran, 4);
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].contains("SELECT 1 + 1"), "{}", failures[0]);
    assert!(failures[2].contains("no_such_table"), "{}", failures[2]);
}

#[test]
fn cells_print_as_in_datafusion_sqllogictest() {
    assert_eq!(float_text(1.0), "1");
    assert_eq!(float_text(2.5), "2.5");
    assert_eq!(float_text(-0.125), "-0.125");
    assert_eq!(float_text(1.0 / 3.0), "0.333333333333");
    assert_eq!(float_text(0.1 + 0.2), "0.3");
    assert_eq!(float_text(1234567.0), "1234567");
    assert_eq!(float_text(f64::NAN), "NaN");
    assert_eq!(float_text(f64::NEG_INFINITY), "-Infinity");
    assert_eq!(decimal_text("12.50"), "12.5");
    assert_eq!(decimal_text("100.00"), "100");
    assert_eq!(string_text(""), "(empty)");
    assert_eq!(string_text("a b\n"), "a b");

    let batch = RecordBatch::try_from_iter(vec![
        (
            "b",
            Arc::new(BooleanArray::from(vec![Some(true), None])) as ArrayRef,
        ),
        ("s", Arc::new(StringArray::from(vec![Some(""), None]))),
        ("d", Arc::new(Date32Array::from(vec![Some(19723), Some(0)]))),
    ])
    .expect("batch");
    assert_eq!(
        rows_text(&[batch]).expect("rows"),
        vec![
            vec!["true", "(empty)", "2024-01-01"],
            vec!["NULL", "NULL", "1970-01-01"]
        ]
    );
}

#[test]
fn statements_are_recognised() {
    assert_eq!(
        created_table("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION 'x'"),
        Some("t".to_string())
    );
    assert_eq!(
        created_table("create external table if not exists t2(a int) stored as csv location 'x'"),
        Some("t2".to_string())
    );
    assert_eq!(created_table("SELECT 1"), None);
    assert_eq!(
        set_statement("SET datafusion.execution.batch_size = 100"),
        Some(("datafusion.execution.batch_size".into(), "100".into()))
    );
    assert_eq!(
        set_statement("set datafusion.optimizer.prefer_hash_join TO 'false'"),
        Some((
            "datafusion.optimizer.prefer_hash_join".into(),
            "false".into()
        ))
    );
    assert_eq!(set_statement("SELECT 1"), None);
    assert!(is_ddl("  drop table t"));
    assert!(!is_ddl("SELECT 1"));
}
