# Kaiku: thin entry points into deploy/local/*.sh, where the logic (and its comments) lives.
# `make` alone lists the targets.

.DEFAULT_GOAL := help

.PHONY: help up down purge test test-faults fuzz lint build logs bench

help: ## list the targets
	@printf 'Kaiku make targets:\n'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1\t\2/' | expand -t 14

up: ## install what is missing, build, start NATS, PostgreSQL and the four services with a demo survey
	./deploy/local/up.sh

down: ## stop the local stack, keep its data in .kaiku/
	./deploy/local/down.sh

purge: ## stop the local stack and delete .kaiku/ (streams, read models, logs)
	./deploy/local/down.sh --purge

test: ## from zero: install deps, fmt, clippy, build, every test (what .ci/run runs)
	./deploy/local/test.sh

test-faults: ## the fault suite alone (crashes, restarts, cut connections, poison, full stores), with its figures
	./deploy/local/test-faults.sh

fuzz: ## each cargo fuzz target for FUZZ_SECONDS (default 600) from the committed seeds
	./deploy/local/fuzz.sh

bench: ## release builds, 10 million responses in .kaiku-bench/, catch-up and query latency into BENCHMARKS.md
	./deploy/local/bench.sh

lint: ## cargo fmt --check, clippy -D warnings, shellcheck
	./deploy/local/lint.sh

build: ## cargo build --workspace --bins (debug)
	cargo build --workspace --bins

logs: ## follow the local stack's logs
	./deploy/local/logs.sh
