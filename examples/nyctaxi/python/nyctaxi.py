"""NYC taxi fare statistics on a Ballista cluster, as SQL and as a DataFrame.

Uses the Python client (``python/``, package ``ballista``):
``ballista.standalone()`` / ``ballista.connect(url)``, ``ctx.read_parquet``,
``df.group_by(...).agg(...)``.

    ballista gen nyctaxi --rows 1000000 --files 4 --out /tmp/nyctaxi
    python nyctaxi.py /tmp/nyctaxi                    # embedded cluster
    python nyctaxi.py /tmp/nyctaxi grpc://HOST:50050  # a running cluster

On Kubernetes the scheduler comes from BALLISTA_SCHEDULER_URL, which
``ballista k8s run --template`` sets in every container of the Job.
"""

from __future__ import annotations

import os
import pathlib
import sys

import ballista
from ballista import col
from ballista import functions as f

FARE_STATS_SQL = (pathlib.Path(__file__).parent.parent / "fare_stats.sql").read_text()


def fare_stats_sql(ctx, data_dir: str):
    """The SQL version (``../fare_stats.sql``) over the trips in ``data_dir``."""
    ctx.sql(
        f"CREATE EXTERNAL TABLE IF NOT EXISTS trips STORED AS PARQUET LOCATION '{data_dir}/'"
    )
    return ctx.sql(FARE_STATS_SQL)


def fare_stats_dataframe(ctx, data_dir: str):
    """The same aggregation as a DataFrame: aggregate, then round."""
    pickup_month = f.date_part("month", col("tpep_pickup_datetime")).cast("int32").alias(
        "pickup_month"
    )
    return (
        ctx.read_parquet(data_dir)
        .group_by(col("passenger_count"), pickup_month)
        .agg(
            f.count_all().alias("trips"),
            f.avg(col("fare_amount")).alias("avg_fare"),
            f.min(col("fare_amount")).alias("min_fare"),
            f.max(col("fare_amount")).alias("max_fare"),
            f.avg(col("trip_distance")).alias("avg_distance"),
            f.sum(col("total_amount")).alias("total_amount"),
        )
        .select(
            col("passenger_count"),
            col("pickup_month"),
            col("trips"),
            f.round(col("avg_fare"), 2).alias("avg_fare"),
            col("min_fare"),
            col("max_fare"),
            f.round(col("avg_distance"), 2).alias("avg_distance"),
            f.round(col("total_amount"), 2).alias("total_amount"),
        )
        # ORDER BY passenger_count NULLS LAST, pickup_month
        .sort(col("passenger_count").sort(ascending=True, nulls_first=False), col("pickup_month"))
    )


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: nyctaxi.py DATA_DIR [SCHEDULER_URL]", file=sys.stderr)
        return 2
    data_dir = argv[1]
    url = argv[2] if len(argv) > 2 else os.environ.get("BALLISTA_SCHEDULER_URL")
    ctx = ballista.connect(url) if url else ballista.standalone()
    by_sql = fare_stats_sql(ctx, data_dir).to_arrow()
    by_dataframe = fare_stats_dataframe(ctx, data_dir).to_arrow()
    print(by_sql.to_string(preview_cols=8))
    if not by_sql.equals(by_dataframe):
        print("the SQL and DataFrame versions disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
