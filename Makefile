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
test: lint-proto fmt-check clippy test-rust conformance test-python test-java ## All tests, every language (what CI runs)

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

.PHONY: bench-python
bench-python: python-install ## Python to_arrow() of 20M rows x 4 columns vs pyarrow.dataset on the same Parquet
	cargo build -p ballista-cli
	$(PY) python/benchmarks/to_arrow.py

.PHONY: bench-udf
bench-udf: python-install ## Python UDF overhead: identity UDF over 10M rows vs none (and PySpark's Arrow UDF if installed)
	$(PY) python/benchmarks/udf.py

.PHONY: e2e
e2e: ## End-to-end on real clusters: TPC-H SF 0.1, faults and errors, 8 concurrent clients
	cargo test -p ballista-cli --test tpch --test faults --test concurrency -- --nocapture

.PHONY: bench
bench: ## TPC-H SF 1: Ballista (2 executors x 1 slot) vs DataFusion (2 partitions); 1 GiB memory check
	cargo bench -p ballista-cli --bench tpch

.PHONY: bench-shuffle
bench-shuffle: ## Shuffle write/read throughput (local files and Flight loopback) vs memcpy and file-read bounds
	cargo bench -p ballista-executor --bench shuffle

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
