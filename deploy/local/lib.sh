# shellcheck shell=bash
# Variables are used by the scripts that source this file, hence SC2034 is off here.
# shellcheck disable=SC2034
# Shared settings and helpers for the local stack scripts (up.sh, down.sh, test.sh, ...).
# Sourced, never executed: it only defines variables and functions.

# The repository root, whatever directory the caller runs from.
KAIKU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly KAIKU_ROOT

# Everything the local stack writes lives here (gitignored); `make purge` deletes it.
# KAIKU_STATE_DIR moves it (`make bench` keeps its large data set in .kaiku-bench).
readonly STATE_DIR="${KAIKU_STATE_DIR:-${KAIKU_ROOT}/.kaiku}"
readonly NATS_STORE_DIR="${STATE_DIR}/nats"
readonly PG_DATA_DIR="${STATE_DIR}/pg"
readonly LOG_DIR="${STATE_DIR}/logs"
readonly PODMAN_STATE_DIR="${STATE_DIR}/podman"
readonly PID_DIR="${STATE_DIR}/pids"
readonly DEMO_SURVEY_ID_FILE="${STATE_DIR}/demo-survey-id"
readonly DEMO_SURVEY_VERSION_FILE="${STATE_DIR}/demo-survey-version"
readonly DEMO_THL_SURVEY_ID_FILE="${STATE_DIR}/demo-thl-survey-id"
readonly DEMO_WELFARE_SURVEY_ID_FILE="${STATE_DIR}/demo-student-welfare-survey-id"
readonly DEMO_CASES_FILE="${STATE_DIR}/demo-cases"
# The web form's link signing key, made once: printed posters stay valid across restarts.
readonly LINK_KEYS_FILE="${STATE_DIR}/link-keys"
# The SMS gateway's secret (phone hashes and encryption) and its two API tokens, made once.
readonly SMS_SECRETS_FILE="${STATE_DIR}/sms-secrets"
readonly SMS_DATABASE=kaiku_sms
# Service API keys (only their SHA-256 with grants; KAIKU_AUTH_API_KEYS) and, for the local
# stack's own use, the keys themselves: admin (kaikuctl, demo), web-form and sms-gateway.
readonly API_KEYS_FILE="${STATE_DIR}/api-keys.json"
readonly TOKENS_DIR="${STATE_DIR}/tokens"
# One NATS user per service (deploy/nats/users.conf): their passwords as VARIABLE=value lines,
# made once, given to nats-server in its environment and to each service as NATS_PASSWORD.
readonly NATS_PASSWORDS_FILE="${STATE_DIR}/nats-passwords"
# The console signs the services' tokens for signed-in staff with this key (P-256, made once);
# the services trust its public half. Its local accounts (demo staff) and their passwords.
readonly CONSOLE_KEY_FILE="${STATE_DIR}/console-signing-key.pem"
readonly CONSOLE_PUBLIC_KEY_FILE="${STATE_DIR}/console-signing-key.pub"
readonly CONSOLE_ACCOUNTS_FILE="${STATE_DIR}/console-accounts.json"
readonly CONSOLE_PASSWORDS_FILE="${STATE_DIR}/console-passwords"
readonly NATS_USERS=(survey-definition response-intake feedback-handling projection analytics admin)
# The key feedback-handling seals case content (contact details, the respondent's message) with.
readonly HANDLING_CONTENT_KEYS_FILE="${STATE_DIR}/handling-content-keys"

# Ports for `make up`, off the defaults so a system nats-server (4222) or the cluster Debian's
# postgresql package starts (5432) never collides with ours.
readonly NATS_PORT=14222
readonly NATS_MONITOR_PORT=18222
readonly PG_PORT=15432
readonly PG_DATABASE=kaiku

readonly NATS_URL_LOCAL="nats://127.0.0.1:${NATS_PORT}"
readonly DATABASE_URL_LOCAL="postgres://postgres@127.0.0.1:${PG_PORT}/${PG_DATABASE}"

# The services in start order: the stream owners first, so the projection finds its streams;
# analytics after it, it only reads; the channel adapters last, they call the others. Stopping
# goes the other way round.
readonly SERVICES=(survey-definition response-intake feedback-handling projection analytics web-form console)
# sms-gateway sends through an SMS operator's API, so it starts only when
# KAIKU_SMS_PROVIDER_URL names one (and after the demo survey it asks exists).
readonly SMS_GATEWAY=sms-gateway

# Listen addresses (gRPC, also the defaults kaikuctl uses; web-form is HTTP).
declare -A SERVICE_ADDR=(
    [survey-definition]="127.0.0.1:50051"
    [response-intake]="127.0.0.1:50052"
    [analytics]="127.0.0.1:50053"
    [projection]="127.0.0.1:50054"
    [feedback-handling]="127.0.0.1:50056"
    [web-form]="127.0.0.1:18080"
    [sms-gateway]="127.0.0.1:18090"
    [console]="127.0.0.1:18070"
)
readonly SERVICE_ADDR

# debug for `make up`; `make bench` runs release builds.
readonly BUILD_PROFILE="${KAIKU_PROFILE:-debug}"
case "${BUILD_PROFILE}" in
    debug | release) ;;
    *)
        printf 'error: KAIKU_PROFILE must be debug or release, not %s\n' "${BUILD_PROFILE}" >&2
        exit 1
        ;;
esac
readonly BIN_DIR="${KAIKU_ROOT}/target/${BUILD_PROFILE}"
readonly KAIKUCTL="${BIN_DIR}/kaikuctl"

# --- output -------------------------------------------------------------------------------

log_step() { printf '==> %s\n' "$*"; }
log_info() { printf '    %s\n' "$*"; }
log_warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Prints the last lines of a log file, framed, to stderr: the first thing to read on a failure.
show_log_tail() {
    local log_file="$1" lines="${2:-40}"
    if [[ -s "${log_file}" ]]; then
        printf -- '---- last %s lines of %s ----\n' "${lines}" "${log_file}" >&2
        tail -n "${lines}" "${log_file}" >&2
        printf -- '---- end of %s ----\n' "${log_file}" >&2
    else
        printf '(%s is empty or missing)\n' "${log_file}" >&2
    fi
}

# --- toolchain ----------------------------------------------------------------------------

# rustup installs into ~/.cargo/bin but only login shells source ~/.cargo/env; CI runners and
# `sudo -i`-less root shells often do not, so look there before declaring cargo missing.
ensure_cargo_on_path() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-${HOME}/.cargo}/bin/cargo" ]]; then
        PATH="${CARGO_HOME:-${HOME}/.cargo}/bin:${PATH}"
        export PATH
    fi
}

# --- processes ----------------------------------------------------------------------------

pid_file_for() { printf '%s/%s.pid\n' "${PID_DIR}" "$1"; }
log_file_for() { printf '%s/%s.log\n' "${LOG_DIR}" "$1"; }

# Prints the pid recorded for NAME if that process is alive AND is still the program we started.
# The name check matters after a reboot: a stale pid file can point at an unrelated process,
# which down.sh must never signal.
running_pid() {
    local name="$1" pid_file pid argv0
    pid_file="$(pid_file_for "${name}")"
    [[ -f "${pid_file}" ]] || return 1
    pid="$(<"${pid_file}")"
    [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
    kill -0 "${pid}" 2>/dev/null || return 1
    # argv[0] is the first NUL-separated field of /proc/<pid>/cmdline. Right after
    # start_detached it may still be one of the wrappers that exec into the program.
    # While a wrapper execs into the next program, cmdline reads empty for a moment: the
    # process is alive (kill -0 above), so that counts as running, not as exited.
    argv0="$(tr '\0' '\n' <"/proc/${pid}/cmdline" 2>/dev/null | head -n 1)" || return 1
    [[ -z "${argv0}" ]] && { printf '%s\n' "${pid}"; return 0; }
    case "$(basename -- "${argv0}")" in
        "${name}" | setsid | nohup | env) ;;
        *) return 1 ;;
    esac
    printf '%s\n' "${pid}"
}

is_running() { running_pid "$1" >/dev/null; }

# Starts a program in the background, detached from this shell and its terminal, so it outlives
# `make up` and a Ctrl-C there: setsid gives it its own session, nohup shields it from SIGHUP.
# Both exec in place, so $! is the program's own pid. The previous log is kept as <name>.log.prev.
#   start_detached NAME LOG_FILE COMMAND [ARGS...]
# Environment for the program: put `env VAR=value ...` in front of COMMAND.
start_detached() {
    local name="$1" log_file="$2"
    shift 2
    if [[ -f "${log_file}" ]]; then
        mv -f -- "${log_file}" "${log_file}.prev"
    fi
    printf '=== %s started %s ===\n' "${name}" "$(date --iso-8601=seconds)" >"${log_file}"
    setsid nohup "$@" </dev/null >>"${log_file}" 2>&1 &
    printf '%s\n' "$!" >"$(pid_file_for "${name}")"
}

# SIGTERM to every named process that runs, then wait for all of them together (so four services
# cost one grace period, not four), then SIGKILL whatever is left.
#   stop_processes GRACE_SECONDS NAME...
stop_processes() {
    local grace="$1"
    shift
    local name pid
    local -A pids=()
    for name in "$@"; do
        if pid="$(running_pid "${name}")"; then
            kill -TERM "${pid}" 2>/dev/null || true
            pids["${name}"]="${pid}"
            log_info "stopping ${name} (pid ${pid})"
        fi
        rm -f -- "$(pid_file_for "${name}")"
    done

    local deadline=$((SECONDS + grace))
    while ((${#pids[@]} > 0 && SECONDS < deadline)); do
        for name in "${!pids[@]}"; do
            kill -0 "${pids[${name}]}" 2>/dev/null || unset 'pids[${name}]'
        done
        if ((${#pids[@]} > 0)); then sleep 0.2; fi
    done

    for name in "${!pids[@]}"; do
        log_warn "${name} (pid ${pids[${name}]}) did not stop within ${grace}s; sending SIGKILL"
        kill -KILL "${pids[${name}]}" 2>/dev/null || true
    done
    # SIGKILL is asynchronous: wait (briefly) until they are gone, so their ports are free again
    # for whoever starts next.
    deadline=$((SECONDS + 3))
    for name in "${!pids[@]}"; do
        while kill -0 "${pids[${name}]}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    done
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fails early and clearly when a port we are about to bind belongs to someone else (another
# stack, a process whose pid file was lost), instead of leaving a server that dies on bind.
ensure_port_free() {
    local port="$1" what="$2"
    if port_in_use "${port}"; then
        die "127.0.0.1:${port} (for ${what}) is already in use by another process; stop it, or run: make down"
    fi
}

# Waits until something accepts TCP connections on 127.0.0.1:PORT. Uses bash's /dev/tcp, so no
# curl or netcat is needed. With PROCESS (a name with a pid file), gives up as soon as that
# process has exited instead of waiting out the timeout.
#   wait_for_port PORT WHAT [TIMEOUT_SECONDS] [PROCESS]
wait_for_port() {
    local port="$1" what="$2" timeout="${3:-30}" process="${4:-}"
    local deadline=$((SECONDS + timeout))
    until port_in_use "${port}"; do
        if [[ -n "${process}" ]] && ! is_running "${process}"; then
            printf 'error: %s exited before opening 127.0.0.1:%s\n' "${process}" "${port}" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            printf 'error: %s did not open 127.0.0.1:%s within %ss\n' "${what}" "${port}" "${timeout}" >&2
            return 1
        fi
        sleep 0.2
    done
}

# --- NATS ---------------------------------------------------------------------------------

# Debian puts nats-server in /usr/sbin, which is not on a normal user's PATH.
nats_server_bin() {
    local candidate
    if candidate="$(command -v nats-server 2>/dev/null)"; then
        printf '%s\n' "${candidate}"
        return 0
    fi
    for candidate in /usr/sbin/nats-server /usr/local/bin/nats-server /usr/bin/nats-server; do
        if [[ -x "${candidate}" ]]; then
            printf '%s\n' "${candidate}"
            return 0
        fi
    done
    return 1
}

# --- PostgreSQL ---------------------------------------------------------------------------

# Prints the directory holding initdb, pg_ctl and postgres: pg_config's answer if it has a server
# there (Debian's pg_config may belong to libpq-dev only), else the newest /usr/lib/postgresql/N.
pg_bin_dir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "${dir}" && -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
            printf '%s\n' "${dir}"
            return 0
        fi
    fi
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "${dir}" && -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
        printf '%s\n' "${dir}"
        return 0
    fi
    return 1
}

# PostgreSQL refuses to run as root. As root, the cluster belongs to the `postgres` system user
# (created by Debian's package) and its tools run as that user; otherwise they run as the caller.
pg_user() {
    if ((EUID == 0)); then printf 'postgres\n'; else id -un; fi
}

as_pg_user() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The variable deploy/nats/users.conf reads a NATS user's password from.
#   nats_password_variable survey-definition  ->  KAIKU_NATS_SURVEY_DEFINITION_PASSWORD
nats_password_variable() {
    local upper="${1^^}"
    printf 'KAIKU_NATS_%s_PASSWORD\n' "${upper//-/_}"
}

# The password of one NATS user from NATS_PASSWORDS_FILE.
nats_password() {
    local variable
    variable="$(nats_password_variable "$1")"
    sed -n "s/^${variable}=//p" "${NATS_PASSWORDS_FILE}"
}

# Podman's default ulimits make every container fail with "setrlimit RLIMIT_NOFILE: Operation not
# permitted" here; an empty list keeps the runtime's own. Every script that runs podman calls
# this first, so even its clean-up after an early failure finds the file.
configure_podman() {
    mkdir -p -- "${PODMAN_STATE_DIR}"
    printf '[containers]\ndefault_ulimits = []\n' >"${PODMAN_STATE_DIR}/containers.conf"
    export CONTAINERS_CONF="${PODMAN_STATE_DIR}/containers.conf"
}
