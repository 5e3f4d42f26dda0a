"""Reads from a Ballista cluster in PySpark through the connector's shaded jar.

    python ballista_pyspark.py --url grpc://127.0.0.1:50050 \
        --jar spark-connector/connector/target/ballista-spark-connector-0.1.0-SNAPSHOT-all.jar

The cluster must have the TPC-H tables `lineitem` and `nation` in its catalog (e.g. registered
with `CREATE EXTERNAL TABLE`). The example reads a table with a pushed filter, a pushed
aggregate and a query run whole by Ballista, prints them, and exits non-zero if an answer is
wrong (the tests run it).
"""

import argparse
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the scheduler, grpc://host:port")
    parser.add_argument("--jar", required=True, help="ballista-spark-connector-*-all.jar")
    parser.add_argument("--parquet", help="TPC-H directory, to check answers against Spark")
    args = parser.parse_args()

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("ballista-pyspark-example")
        .config("spark.jars", args.jar)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")

    def ballista(**source: str):
        reader = spark.read.format("ballista").option("url", args.url)
        for key, value in source.items():
            reader = reader.option(key, value)
        return reader.load()

    # A table, with a filter and columns pushed into Ballista's plan.
    nation = ballista(table="nation").filter(F.col("n_regionkey") == 1).select("n_name")
    nation.explain()
    names = sorted(r.n_name for r in nation.collect())
    print("nations of region 1:", names)

    # An aggregate pushed whole into Ballista.
    flags = (
        ballista(table="lineitem")
        .groupBy("l_returnflag")
        .agg(F.count(F.lit(1)).alias("n"), F.sum("l_quantity").alias("qty"))
        .orderBy("l_returnflag")
    )
    flags.explain()
    by_flag = [(r.l_returnflag, r.n, r.qty) for r in flags.collect()]
    print("lineitem by return flag:", by_flag)

    # A query run by Ballista as it is.
    top = ballista(
        query="SELECT n_name, count(*) AS suppliers FROM supplier JOIN nation "
        "ON s_nationkey = n_nationkey GROUP BY n_name ORDER BY suppliers DESC, n_name LIMIT 3"
    )
    print("nations with most suppliers:", [tuple(r) for r in top.collect()])

    ok = len(names) == 5
    if args.parquet:
        lineitem = spark.read.parquet(f"{args.parquet}/lineitem")
        expected = [
            (r.l_returnflag, r.n, r.qty)
            for r in lineitem.groupBy("l_returnflag")
            .agg(F.count(F.lit(1)).alias("n"), F.sum("l_quantity").alias("qty"))
            .orderBy("l_returnflag")
            .collect()
        ]
        ok = ok and expected == by_flag
        pq_nation = spark.read.parquet(f"{args.parquet}/nation")
        expected_names = sorted(
            r.n_name for r in pq_nation.filter(F.col("n_regionkey") == 1).collect()
        )
        ok = ok and expected_names == names
    spark.stop()
    print("ANSWERS OK" if ok else "ANSWERS WRONG")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
