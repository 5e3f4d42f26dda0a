#!/usr/bin/env bash
# The Spark connector benchmark (make bench-spark): see spark_bench.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
jar="$(ls "$root"/spark-connector/connector/target/ballista-spark-connector-*-all.jar | head -1)"
exec "$root/.venv/bin/python" "$root/spark-connector/bench/spark_bench.py" --jar "$jar" "$@"
