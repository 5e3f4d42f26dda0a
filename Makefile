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
test: lint-proto fmt-check clippy test-rust conformance test-k8s ## All tests, every language (what CI runs)

.PHONY: test-rust
test-rust: ## Rust unit, integration and conformance tests
	cargo test --workspace --all-targets
	cargo test --workspace --doc

.PHONY: conformance
conformance: ## Conformance: every language's testee against the golden plans
	@# Built with the same package set as `cargo test --workspace` so that no
	@# dependency is rebuilt with a different feature set for the testee.
	cargo build --workspace --all-targets
	python3 integration/conformance/run.py

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

.PHONY: e2e
e2e: ## End-to-end on real clusters: TPC-H SF 0.1, faults and errors, 8 concurrent clients
	cargo test -p ballista-cli --test tpch --test faults --test concurrency -- --nocapture

.PHONY: bench
bench: ## TPC-H SF 1: Ballista (2 executors x 1 slot) vs DataFusion (2 partitions); 1 GiB memory check
	cargo bench -p ballista-cli --bench tpch

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
