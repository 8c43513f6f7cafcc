#!/usr/bin/env bash
# `make test` (and .ci/run): every gate and every test, from zero, on a fresh machine.
# The integration and system tests start their own throwaway nats-server and PostgreSQL
# (crates/kaiku-test-support), so this needs the packages installed but nothing running, and it
# never touches the `make up` stack.
# Arguments are passed to the test runner, e.g. `deploy/local/test.sh end_to_end`.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        local status=0
        log_step "cargo nextest run --workspace --no-fail-fast"
        cargo nextest run --workspace --no-fail-fast "$@" || status=$?
        # nextest does not run doctests; cargo test does them, so nothing is skipped either way.
        # Run them even after a failure above: one report with every failing test.
        log_step "cargo test --workspace --doc --no-fail-fast"
        cargo test --workspace --doc --no-fail-fast || status=$?
        return "${status}"
    else
        log_step "cargo test --workspace --no-fail-fast (install cargo-nextest for faster runs)"
        cargo test --workspace --no-fail-fast "$@"
    fi
}

# The deployment: every Kubernetes manifest against the Kubernetes schemas, the compose stack
# under podman-compose, and the Kaiku Deployments under `podman play kube` (images built here
# with podman; needs root, as CI has).
run_container_tests() {
    local status=0
    log_step "deploy/local/k8s-check.sh (schemas of deploy/k8s)"
    "${KAIKU_ROOT}/deploy/local/k8s-check.sh" || status=$?
    log_step "tests/containers/compose.sh (docker-compose.yml with podman-compose)"
    "${KAIKU_ROOT}/tests/containers/compose.sh" || status=$?
    log_step "tests/containers/kube.sh (deploy/k8s Deployments with podman play kube)"
    "${KAIKU_ROOT}/tests/containers/kube.sh" || status=$?
    return "${status}"
}

# Free disk, in the log: a nearly full disk shows up as odd failures (a test nats-server's
# default store limit, an image build), so a failed run's log should say how much there was.
report_free_disk() {
    log_step "free disk ($1)"
    df -h "${KAIKU_ROOT}" "${TMPDIR:-/tmp}" | sed 's/^/    /'
}

main() {
    report_free_disk "before the build"
    "${KAIKU_ROOT}/deploy/local/install-deps.sh"
    ensure_cargo_on_path
    "${KAIKU_ROOT}/deploy/local/lint.sh"
    cd "${KAIKU_ROOT}"
    # The browser scenarios' packages, exactly as locked (playwright-core drives Debian's
    # Chromium; it downloads no browser of its own).
    log_step "npm ci in tests/browser"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
    # The system tests run the real service binaries from target/debug, so build them first.
    log_step "cargo build --workspace --bins"
    cargo build --workspace --bins
    report_free_disk "after the build"
    local status=0
    run_tests "$@" || status=$?
    # A run narrowed to some tests (arguments) leaves the fuzzers and containers out.
    if (($# == 0)); then
        # Each fuzz target briefly, from the committed seeds: `make fuzz` runs them for long.
        log_step "deploy/local/fuzz.sh (every fuzz target for ${FUZZ_SECONDS:-20} s)"
        FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "${KAIKU_ROOT}/deploy/local/fuzz.sh" || status=$?
        run_container_tests || status=$?
    fi
    ((status == 0)) || die "some tests failed (see above)"
    log_step "all gates and tests passed"
}

main "$@"
