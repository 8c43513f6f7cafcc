#!/usr/bin/env bash
# `make logs`: follows every log of the local stack. -F keeps following across restarts, since
# up.sh moves the previous log aside and starts a new file under the same name.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
    local -a logs=()
    shopt -s nullglob
    logs=("${LOG_DIR}"/*.log)
    if ((${#logs[@]} == 0)); then
        die "no logs in ${LOG_DIR}; start the stack with: make up"
    fi
    exec tail -n 20 -F -- "${logs[@]}"
}

main "$@"
