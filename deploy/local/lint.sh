#!/usr/bin/env bash
# `make lint`: the formatting, clippy and shellcheck gates, exactly as `make test` runs them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# rustup's minimal profile leaves out rustfmt and clippy; add them rather than fail on a fresh
# machine. Without rustup there is nothing to add them with, so say what is missing.
ensure_rust_components() {
    local -a missing=()
    cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if command -v rustup >/dev/null 2>&1; then
        log_step "adding Rust components: ${missing[*]}"
        (cd "${KAIKU_ROOT}" && rustup component add "${missing[@]}")
    else
        die "cargo lacks ${missing[*]}; install them with your Rust toolchain (rustup component add ${missing[*]})"
    fi
}

main() {
    ensure_cargo_on_path
    ensure_rust_components
    cd "${KAIKU_ROOT}"
    log_step "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    log_step "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings
    if command -v shellcheck >/dev/null 2>&1; then
        log_step "shellcheck on the scripts"
        shellcheck -x .ci/run deploy/local/*.sh deploy/docker/*.sh deploy/docker/initdb/*.sh tests/containers/*.sh
    else
        die "shellcheck not found; run deploy/local/install-deps.sh"
    fi
}

main "$@"
