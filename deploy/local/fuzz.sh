#!/usr/bin/env bash
# `make fuzz`: runs each cargo fuzz target in tests/fuzz for FUZZ_SECONDS (default 600), one
# after another, from the committed seeds (tests/fuzz/seeds/<target>) and the corpus kept in
# tests/fuzz/corpus/<target>. A crash stops the run; libFuzzer writes the input to
# tests/fuzz/artifacts/<target>/, which becomes a regression test (see tests/fuzz/README.md).
# `make test` runs every target briefly (FUZZ_SECONDS=20).
#
# Needs the nightly toolchain (sanitizers) and cargo-fuzz; both are installed here if missing.
# Arguments name targets to run; none runs all.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
readonly CARGO_FUZZ_VERSION="0.13.2"
readonly FUZZ_DIR="tests/fuzz"

ensure_fuzz_tools() {
    ensure_cargo_on_path
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        log_step "rustup toolchain install nightly (cargo fuzz needs its sanitizer flags)"
        rustup toolchain install nightly --profile minimal
    fi
    if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz ${CARGO_FUZZ_VERSION}" ]]; then
        log_step "cargo install cargo-fuzz ${CARGO_FUZZ_VERSION}"
        cargo install --locked cargo-fuzz --version "${CARGO_FUZZ_VERSION}"
    fi
}

targets() {
    if (($# > 0)); then
        printf '%s\n' "$@"
    else
        sed -n 's/^name = "\(.*\)"$/\1/p' "${FUZZ_DIR}/Cargo.toml" | grep -vx kaiku-fuzz
    fi
}

main() {
    cd "${KAIKU_ROOT}"
    ensure_fuzz_tools
    local target
    local -a seeds
    while read -r target; do
        mkdir -p "${FUZZ_DIR}/corpus/${target}"
        seeds=()
        [[ -d "${FUZZ_DIR}/seeds/${target}" ]] && seeds=("${FUZZ_DIR}/seeds/${target}")
        log_step "cargo fuzz run ${target} for ${FUZZ_SECONDS} s"
        cargo +nightly fuzz run --fuzz-dir "${FUZZ_DIR}" --target-dir target/fuzz "${target}" \
            "${FUZZ_DIR}/corpus/${target}" "${seeds[@]}" -- \
            -max_total_time="${FUZZ_SECONDS}" -rss_limit_mb=2048 -print_final_stats=1
    done < <(targets "$@")
    log_step "fuzzing found nothing"
}

main "$@"
