#!/usr/bin/env bash
# `make down`: stops the local stack started by up.sh and keeps its data in ./.kaiku/.
# `make purge` (down.sh --purge): the same, then deletes ./.kaiku/ (streams, read models, logs).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    printf 'usage: %s [--purge]\n' "$(basename -- "$0")" >&2
    exit 2
}

# Services first and together (each drains in-flight requests on SIGTERM), so they can still
# reach NATS and PostgreSQL while they finish.
stop_services() {
    local -a reversed=("${SMS_GATEWAY}")
    local idx
    for ((idx = ${#SERVICES[@]} - 1; idx >= 0; idx--)); do
        reversed+=("${SERVICES[idx]}")
    done
    log_step "stopping the services"
    stop_processes 10 "${reversed[@]}"
}

stop_nats() {
    log_step "stopping nats-server"
    # SIGTERM lets JetStream flush and close its store cleanly.
    stop_processes 10 nats-server
}

stop_postgres() {
    if [[ ! -f "${PG_DATA_DIR}/PG_VERSION" ]]; then
        return 0
    fi
    local pg_bin
    if ! pg_bin="$(pg_bin_dir)"; then
        log_warn "PostgreSQL binaries not found; cannot stop the cluster in ${PG_DATA_DIR}"
        return 0
    fi
    if as_pg_user "${pg_bin}/pg_ctl" -D "${PG_DATA_DIR}" status >/dev/null 2>&1; then
        log_step "stopping PostgreSQL"
        # fast: roll back open transactions and shut down cleanly, without waiting for clients.
        as_pg_user "${pg_bin}/pg_ctl" -D "${PG_DATA_DIR}" stop -m fast -w -t 60 >/dev/null
    fi
}

purge_state() {
    # Guard against ever deleting anything but the project's own state directory.
    [[ "${STATE_DIR}" == "${KAIKU_ROOT}/.kaiku" && -n "${KAIKU_ROOT}" ]] || die "refusing to delete ${STATE_DIR}"
    if [[ -e "${STATE_DIR}" ]]; then
        log_step "deleting ${STATE_DIR}"
        rm -rf -- "${STATE_DIR}"
    fi
}

main() {
    local purge=false
    case "${1:-}" in
        "") ;;
        --purge) purge=true ;;
        *) usage ;;
    esac
    (($# <= 1)) || usage

    if [[ -d "${STATE_DIR}" ]]; then
        mkdir -p -- "${PID_DIR}"
        stop_services
        stop_nats
        stop_postgres
    else
        log_step "nothing to stop (no ${STATE_DIR})"
    fi

    if [[ "${purge}" == true ]]; then
        purge_state
    else
        log_info "data kept in ${STATE_DIR}; make up starts again from it, make purge deletes it"
    fi
}

main "$@"
