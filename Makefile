# Ballista's Makefile documents itself: `make help` lists the targets.
# Every target installs what it needs (rustup components, buf from npm), so
# `make run` and `make test` work on a fresh machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Builds are reused across clones (CI clones afresh every run).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ballista/target
export CARGO_TERM_COLOR ?= never
TOOLS := $(CURDIR)/.tools
BUF := $(TOOLS)/node_modules/.bin/buf
BUF_VERSION := 1.75.0
# How long the decoder fuzz (proptest) runs in `make fuzz`.
FUZZ_SECONDS ?= 60

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The main job: NYC taxi fare statistics on an embedded cluster of 2 executors.
NYCTAXI_ROWS ?= 3000000
NYCTAXI_DIR := $(CARGO_TARGET_DIR)/nyctaxi-data/rows-$(NYCTAXI_ROWS)
BALLISTA := $(CARGO_TARGET_DIR)/debug/ballista

.PHONY: run
run: ## Build and run the main job: NYC taxi fare statistics on an embedded cluster
	cargo build -p ballista-cli
	$(BALLISTA) gen nyctaxi --rows $(NYCTAXI_ROWS) --files 4 --out $(NYCTAXI_DIR)
	@mkdir -p $(CARGO_TARGET_DIR)/nyctaxi-data
	@{ echo "CREATE EXTERNAL TABLE trips STORED AS PARQUET LOCATION '$(NYCTAXI_DIR)/';"; \
	   cat examples/nyctaxi/fare_stats.sql; \
	   echo "EXPLAIN"; cat examples/nyctaxi/fare_stats.sql; } > $(CARGO_TARGET_DIR)/nyctaxi-data/demo.sql
	$(BALLISTA) standalone --executors 2 -f $(CARGO_TARGET_DIR)/nyctaxi-data/demo.sql

.PHONY: tpch-spec-report
tpch-spec-report: ## The TPC-H spec round-trip report (SF 0.01)
	cargo run -p ballista-core --example tpch_spec_report

.PHONY: test
test: lint-proto fmt-check clippy test-rust conformance test-python test-java test-spark test-k8s ## All tests, every language (what CI runs)

.PHONY: test-rust
test-rust: python-install ## Rust unit, integration and conformance tests (the Python UDF worker tests use .venv)
	cargo test --workspace --all-targets
	cargo test --workspace --doc

.PHONY: conformance
conformance: python-install ## Conformance: every language's testee against the golden plans
	@# Built with the same package set as `cargo test --workspace` so that no
	@# dependency is rebuilt with a different feature set for the testee.
	cargo build --workspace --all-targets
	$(MAVEN) -q -DskipTests -pl client process-test-classes
	python3 integration/conformance/run.py
	@# Executors: every physical case on each implementation and across them.
	$(PY) integration/conformance/physical/run.py

# Maven runs in java/; ~/.m2 is kept across CI runs, so a warm build is offline.
MAVEN := cd java && mvn -B -ntp

.PHONY: test-java
test-java: ## Java client: mvn verify (JUnit 5) after building the JNI library and `ballista`
	@# The same package set as `cargo test --workspace`, so nothing is rebuilt
	@# with other features; it builds rust/ballista-jni (packaged in the jar)
	@# and the `ballista` binary the process-cluster tests start.
	cargo build --workspace --all-targets
	$(MAVEN) verify

.PHONY: java-example
java-example: ## Run the Java quickstart (java/examples) on an embedded cluster
	cargo build --workspace --all-targets
	$(MAVEN) -q package -DskipTests -Prun-example

# The Python client: ./python installed into .venv (the native module is built
# by maturin with the dev profile into CARGO_TARGET_DIR, reusing the shared
# build), tested against both kinds of cluster with TPC-H SF 0.01.
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
TPCH_SF001 := $(CARGO_TARGET_DIR)/tpch-data/sf0.01-p2

.PHONY: python-install
python-install: ## Install ./python with its test extras into .venv
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "./python[test]"

.PHONY: test-python
test-python: python-install ## Python client: pytest (golden plans, TPC-H vs DuckDB on both cluster kinds, errors, doctests, stubtest)
	cargo build -p ballista-cli
	$(BALLISTA) gen tpch --sf 0.01 --parts 2 --out $(TPCH_SF001)
	cd python && $(VENV)/bin/pytest

# The Python executor's tests are part of `test-python` (python/tests); this
# target runs only them: spec hash vectors, and a mixed cluster (Rust
# scheduler + Rust and Python executor processes) on TPC-H SF 0.1 vs DuckDB.
.PHONY: test-python-executor
test-python-executor: python-install ## Python executor: hash vectors, mixed Rust+Python cluster on TPC-H SF 0.1 (vs DuckDB), Q1/Q6 timing
	cargo build -p ballista-cli
	cd python && $(VENV)/bin/pytest -s tests/test_executor_hash.py tests/test_executor_cluster.py tests/test_executor_errors.py

.PHONY: bench-python
bench-python: python-install ## Python to_arrow() of 20M rows x 4 columns vs pyarrow.dataset on the same Parquet
	cargo build -p ballista-cli
	$(PY) python/benchmarks/to_arrow.py

# The Spark connector (spark-connector/): Spark local[2] in JUnit against a cluster of
# `ballista` processes, then the PySpark example with the shaded jar. Builds what it needs:
# the binary, the Java client (installed into ~/.m2), pyspark from PyPI into .venv.
PYSPARK_VERSION := 4.2.0
PYSPARK_STAMP := .venv/.pyspark-$(PYSPARK_VERSION)

$(PYSPARK_STAMP):
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install -q pyspark==$(PYSPARK_VERSION)
	touch $@

.PHONY: spark-deps
spark-deps: $(PYSPARK_STAMP)
	cargo build -p ballista-cli
	mvn -q -B -f java/pom.xml install -DskipTests

.PHONY: test-spark
test-spark: spark-deps ## Spark connector: TPC-H through the DataSource, pushdown, PySpark with the shaded jar
	mvn -B -ntp -f spark-connector/pom.xml verify

.PHONY: bench-spark
bench-spark: spark-deps ## Spark connector vs Spark alone, TPC-H SF 1 (release binary if built); report in $CARGO_TARGET_DIR/bench/
	mvn -q -B -f spark-connector/pom.xml install -DskipTests
	spark-connector/bench/run.sh

# `ballista k8s` is its own Cargo workspace (rust/ballista-k8s/Cargo.toml says
# why); it shares the target directory, so `ballista-k8s` lands beside `ballista`.
K8S_MANIFEST := rust/ballista-k8s/Cargo.toml

.PHONY: k8s
k8s: ## Build `ballista` and `ballista-k8s` (what `ballista k8s ...` runs)
	cargo build -p ballista-cli
	cargo build --manifest-path $(K8S_MANIFEST)

.PHONY: test-k8s
test-k8s: rust-toolchain ## Kubernetes: fmt, clippy, tests (mock API server, golden manifests, entrypoint)
	cargo fmt --manifest-path $(K8S_MANIFEST) --all -- --check
	cargo clippy --manifest-path $(K8S_MANIFEST) --all-targets -- -D warnings
	@# tests/entrypoint.rs runs the `ballista` binary of the main workspace.
	cargo build -p ballista-cli
	cargo test --manifest-path $(K8S_MANIFEST) --all-targets

.PHONY: k8s-render
k8s-render: ## Print the manifests of the NYC taxi example cluster (NAME=nyctaxi EXECUTORS=2)
	@cargo run --quiet --manifest-path $(K8S_MANIFEST) -- render --name $(or $(NAME),nyctaxi) \
	  --executors $(or $(EXECUTORS),2) \
	  --scheduler-template examples/nyctaxi/k8s/scheduler-pod.yaml \
	  --executor-template examples/nyctaxi/k8s/executor-pod.yaml

.PHONY: bench-udf
bench-udf: python-install ## Python UDF overhead: identity UDF over 10M rows vs none (and PySpark's Arrow UDF if installed)
	$(PY) python/benchmarks/udf.py

.PHONY: e2e
e2e: ## End-to-end on real clusters: TPC-H SF 0.1, faults and errors, 8 concurrent clients
	cargo test -p ballista-cli --test tpch --test faults --test concurrency -- --nocapture

# `make bench SF=10 QUERIES=1,3,18 ITERATIONS=3 ENGINES=ballista,datafusion,duckdb`
# (engines: ballista, embedded, datafusion, duckdb, apache-ballista; default all).
# DuckDB runs from .venv (only duckdb and pyarrow are installed for it); the
# Apache Ballista runner is its own cargo project, built in release when it is
# selected; an engine whose runner is missing is skipped and the table says so.
APACHE_BALLISTA_MANIFEST := benchmarks/apache-ballista/Cargo.toml
ALL_BENCH_ENGINES := ballista,embedded,datafusion,duckdb,apache-ballista
BENCH_ENGINES = $(or $(ENGINES),$(ALL_BENCH_ENGINES))

.PHONY: bench
bench: ## TPC-H (SF=1): Ballista processes and embedded, DataFusion, DuckDB, Apache Ballista; report in $CARGO_TARGET_DIR/bench/
	@if [[ ",$(BENCH_ENGINES)," == *,duckdb,* ]]; then \
	  test -x $(PY) || python3 -m venv $(VENV); \
	  $(PY) -c 'import duckdb, pyarrow' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check duckdb pyarrow; \
	fi
	@if [[ ",$(BENCH_ENGINES)," == *,apache-ballista,* ]] && [ -f $(APACHE_BALLISTA_MANIFEST) ]; then \
	  cargo build --release --manifest-path $(APACHE_BALLISTA_MANIFEST) \
	    || echo "the Apache Ballista runner did not build: the benchmark skips it"; \
	fi
	$(if $(SF),BALLISTA_BENCH_SF=$(SF)) $(if $(QUERIES),BALLISTA_BENCH_QUERIES=$(QUERIES)) \
	  $(if $(ITERATIONS),BALLISTA_BENCH_ITERATIONS=$(ITERATIONS)) BALLISTA_BENCH_ENGINES=$(BENCH_ENGINES) \
	  cargo bench -p ballista-cli --bench tpch

.PHONY: bench-shuffle
bench-shuffle: ## Shuffle write/read throughput (local files and Flight loopback) vs memcpy and file-read bounds
	@# With ballista-cli selected too, dependencies get the same features as
	@# `make bench` (alone, ballista-executor would rebuild DataFusion).
	cargo bench -p ballista-cli -p ballista-executor --bench shuffle

.PHONY: slt
slt: ## The sqllogictest (.slt) files on both kinds of cluster and on DataFusion
	cargo test -p ballista-cli --test sqllogictest -- --nocapture

.PHONY: fuzz
fuzz: ## Fuzz the plan decoders for FUZZ_SECONDS (proptest, no panics allowed)
	BALLISTA_FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test -p ballista-core --test integration fuzz_decoders_for_a_while -- --ignored --nocapture

.PHONY: clippy
clippy: rust-toolchain ## cargo clippy, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: fmt-check
fmt-check: rust-toolchain ## cargo fmt --check
	cargo fmt --all -- --check

.PHONY: fmt
fmt: rust-toolchain ## Format the Rust code
	cargo fmt --all

.PHONY: lint-proto
lint-proto: $(BUF) ## buf lint the plan spec in proto/
	cd proto && $(BUF) lint

.PHONY: rust-toolchain
rust-toolchain:
	@rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt

# buf ships as an npm package (the binary inside a registry package).
$(BUF):
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --no-audit --no-fund --silent @bufbuild/buf@$(BUF_VERSION)

.PHONY: clean
clean: ## Remove build outputs of this clone
	rm -rf $(TOOLS)
