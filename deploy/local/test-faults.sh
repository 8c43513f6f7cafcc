#!/usr/bin/env bash
# `make test-faults`: the fault suite (tests/faults.rs) on its own, with each scenario's line
# of figures shown (acknowledged submissions, faults injected, retries, what the read models
# hold). `make test` runs the same scenarios among all the others. Needs root for the
# full-disk scenario (it mounts a small tmpfs), as `make test` does for the container tests.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
    "${KAIKU_ROOT}/deploy/local/install-deps.sh"
    ensure_cargo_on_path
    cd "${KAIKU_ROOT}"
    log_step "cargo build --workspace --bins"
    cargo build --workspace --bins
    log_step "cargo nextest run -p kaiku-system-tests -E 'binary(faults)'"
    cargo nextest run -p kaiku-system-tests -E 'binary(faults)' --no-fail-fast \
        --success-output final --failure-output final "$@" 2>&1 | tee "${KAIKU_ROOT}/target/faults.log"
    local status="${PIPESTATUS[0]}"
    log_step "fault suite summary"
    grep -E '^\s*FAULTS ' "${KAIKU_ROOT}/target/faults.log" | sed -E 's/^\s+//' | sort -u \
        | tee "${KAIKU_ROOT}/target/faults-summary.log" || true
    awk '{ if (match($0, /acknowledged=[0-9]+/)) a += substr($0, RSTART + 13, RLENGTH - 13)
           if (match($0, /faults=[0-9]+/)) f += substr($0, RSTART + 7, RLENGTH - 7) }
         END { printf "FAULTS total: %d acknowledged submissions checked against the read models, %d faults injected, in %d scenarios\n", a, f, NR }' \
        "${KAIKU_ROOT}/target/faults-summary.log"
    ((status == 0)) || die "the fault suite failed (see above)"
}

main "$@"
