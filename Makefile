# twinnet — every task is a target. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

# Caches live outside the repository, shared by every clone (and by CI).
TWINNET_CACHE ?= $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/twinnet
export TWINNET_CACHE
TORCH_VENV ?= $(TWINNET_CACHE)/torch-2.13.0
export TWINNET_TORCH_VENV := $(TORCH_VENV)
TWINNET_DATA_DIR ?= $(TWINNET_CACHE)/mnist
export TWINNET_DATA_DIR
TWINNET_FASHION_MNIST_DIR ?= $(TWINNET_CACHE)/fashion-mnist
export TWINNET_FASHION_MNIST_DIR

# libtorch: your own (LIBTORCH=/path/to/libtorch) or the venv's torch (LIBTORCH_USE_PYTORCH).
ifeq ($(strip $(LIBTORCH)),)
export LIBTORCH_USE_PYTORCH := 1
export PATH := $(TORCH_VENV)/bin:$(PATH)
endif

CARGO ?= cargo
BIN := target/release/twinnet

EXPERIMENTS_MAIN := report identical
EXPERIMENTS_ALL := $(EXPERIMENTS_MAIN) ablation longer init-rng fashion-report fashion-ablation nielsen optimizers

.PHONY: help setup data build build-ndarray test test-slurm lint fmt reproduce verify plots comparisons experiments bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: ## install libtorch (torch==2.13.0 in a venv in the cache), once
	@scripts/setup-libtorch.sh

data: ## install MNIST and Fashion-MNIST into the cache and verify their sha256, once
	@scripts/fetch-mnist.sh "$(TWINNET_DATA_DIR)"
	@scripts/fetch-fashion-mnist.sh "$(TWINNET_FASHION_MNIST_DIR)"

build: setup ## build the release binary target/release/twinnet
	$(CARGO) build --release --locked -p twinnet

build-ndarray: ## build twinnet without the tch backend (no Python or libtorch needed)
	$(CARGO) build --release --locked -p twinnet --no-default-features

reproduce: setup data build ## the main job: run the report and identical experiments, draw their figures
	@for e in $(EXPERIMENTS_MAIN); do $(BIN) run experiments/$$e.toml; done

verify: setup data build ## rerun report and identical into a temporary folder; fail on any difference from results/
	@for e in $(EXPERIMENTS_MAIN); do $(BIN) verify experiments/$$e.toml --quiet; done

experiments: setup data build ## rerun every experiment, as many runs at once as the cores allow; an interrupted one resumes (times: README)
	@for e in $(EXPERIMENTS_ALL); do $(BIN) run experiments/$$e.toml --resume; done
	$(BIN) drift experiments/noise-floor.toml
	$(BIN) drift experiments/frameworks.toml
	$(BIN) drift experiments/nielsen-drift.toml

comparisons: build ## the comparisons the findings quote (twinnet compare) -> results/comparisons.md
	@scripts/comparisons.sh $(BIN)

plots: build ## redraw the figures, summary.md and index.html of every results folder from its JSON, and results/index.html
	@for d in results/*/; do if [ -f "$$d/experiment.json" ] || [ -f "$$d/drift.json" ]; then $(BIN) plot "$$d"; fi; done
	$(BIN) index results

bench: setup data build ## benchmarks: both backends, the report's code, the Rust peers (candle, burn), floor, whole run, scaling -> results/bench/
	$(CARGO) run --release --locked -p twinnet-bench
	$(CARGO) run --release --locked -p twinnet-bench -- --mlp
	$(CARGO) run --release --locked -p twinnet-bench -- --optim
	$(CARGO) run --release --locked --manifest-path crates/peers/Cargo.toml --target-dir target/peers

fuzz: ## fuzz the IDX and parameter-file readers for a fixed budget (FUZZ_CASES, default 10M each)
	FUZZ_CASES=$${FUZZ_CASES:-10000000} $(CARGO) test --locked --release -p twinnet-core --test fuzz -- --ignored --nocapture

fmt: ## format the code
	$(CARGO) fmt --all

lint: setup ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings

# Tests that need MNIST are #[ignore = "needs MNIST"]: `make test` installs it and runs them too
# (--include-ignored); only the long fuzz run is left to `make fuzz`, and the tests that need a
# GPU (#[ignore = "needs a GPU"], named gpu_*) run only where there is an NVIDIA driver.
TEST_ALL := -- --include-ignored --skip fuzz_long $(if $(wildcard /proc/driver/nvidia),,--skip gpu_)

test: setup data lint ## lint, then every test (release profile: they train real networks; Chromium for the pages' browser tests)
	@scripts/ensure-chromium.sh
	$(CARGO) test --locked --release -p twinnet --no-default-features --test errors
	TWINNET_CUDA=1 $(CARGO) test --locked --release -p twinnet-tch -p twinnet --all-features $(TEST_ALL)
	$(CARGO) test --locked --release --workspace --all-features $(TEST_ALL)

test-slurm: build data ## a single-node Slurm on localhost (root; installs slurm-wlm + munge), smoke.toml as a job array + collect, checked against a local run
	@scripts/test-slurm.sh $(BIN)

clean: ## remove build outputs (the caches stay)
	$(CARGO) clean
