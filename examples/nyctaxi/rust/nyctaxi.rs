//! NYC taxi fare statistics on a Ballista cluster, twice: as SQL
//! (`../fare_stats.sql`) and as a DataFrame built in Rust. Both are sent to
//! the scheduler as plans of the Ballista spec and must give the same rows.
//!
//! ```sh
//! ballista gen nyctaxi --rows 1000000 --files 4 --out /tmp/nyctaxi
//! cargo run -p ballista-cli --example nyctaxi -- /tmp/nyctaxi                   # embedded cluster
//! cargo run -p ballista-cli --example nyctaxi -- /tmp/nyctaxi grpc://HOST:50050 # a running cluster
//! ```
//!
//! On Kubernetes the scheduler comes from `BALLISTA_SCHEDULER_URL`, which
//! `ballista k8s run --template ../k8s/app-job.yaml` sets. The data
//! directory is a path as the scheduler and executors see it.

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use ballista_client::expr::col;
use ballista_client::functions::{avg, count_all, date_part, max, min, round, sum};
use ballista_client::{BallistaContext, DataFrame, Result};

/// The SQL version, as `make run` and `ballista k8s run` send it.
pub const FARE_STATS_SQL: &str = include_str!("../fare_stats.sql");

/// The SQL version over the trips in `data_dir` (registered as `trips`).
pub async fn fare_stats_sql(ctx: &BallistaContext, data_dir: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS trips STORED AS PARQUET LOCATION '{data_dir}/'"
    ))
    .await?;
    ctx.sql(FARE_STATS_SQL).await?.collect().await
}

/// The same aggregation as a DataFrame: group by passenger count and month
/// of pickup, aggregate, then round (an aggregate list holds aggregate
/// calls only, as in Spark and DataFusion, so rounding is a projection).
pub fn fare_stats_dataframe(ctx: &BallistaContext, data_dir: &str) -> Result<DataFrame> {
    let pickup_month = date_part("month", col("tpep_pickup_datetime"))
        .cast(&DataType::Int32)?
        .alias("pickup_month");
    Ok(ctx
        .read_parquet([data_dir])
        .group_by([col("passenger_count"), pickup_month])
        .agg([
            count_all().alias("trips"),
            avg(col("fare_amount")).alias("avg_fare"),
            min(col("fare_amount")).alias("min_fare"),
            max(col("fare_amount")).alias("max_fare"),
            avg(col("trip_distance")).alias("avg_distance"),
            sum(col("total_amount")).alias("total_amount"),
        ])
        .select([
            col("passenger_count"),
            col("pickup_month"),
            col("trips"),
            round(col("avg_fare"), 2).alias("avg_fare"),
            col("min_fare"),
            col("max_fare"),
            round(col("avg_distance"), 2).alias("avg_distance"),
            round(col("total_amount"), 2).alias("total_amount"),
        ])
        // ORDER BY passenger_count NULLS LAST, pickup_month
        .sort([
            col("passenger_count").sort(true, false),
            col("pickup_month").asc(),
        ]))
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = args
        .next()
        .ok_or("usage: nyctaxi DATA_DIR [SCHEDULER_URL] (see `ballista gen nyctaxi`)")?;
    let url = args
        .next()
        .or_else(|| std::env::var("BALLISTA_SCHEDULER_URL").ok());
    let ctx = match &url {
        Some(url) => BallistaContext::remote(url).await?,
        None => BallistaContext::standalone().await?,
    };
    let sql = fare_stats_sql(&ctx, &data_dir).await?;
    println!("SQL:\n{}", pretty_format_batches(&sql)?);
    let df = fare_stats_dataframe(&ctx, &data_dir)?.collect().await?;
    println!("DataFrame:\n{}", pretty_format_batches(&df)?);
    if pretty_format_batches(&sql)?.to_string() != pretty_format_batches(&df)?.to_string() {
        return Err("the SQL and DataFrame versions disagree".into());
    }
    Ok(())
}
