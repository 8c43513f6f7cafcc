#!/usr/bin/env bash
# `make up`: the whole stack on this machine, with private NATS and PostgreSQL instances whose data
# lives in ./.kaiku/. Safe to re-run: NATS and PostgreSQL keep running, the four services are
# restarted on the fresh build, and the demo survey is created only once.
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The log to show when a step fails; each step points it at its own.
CURRENT_LOG=""

on_error() {
    local exit_code="$1" line="$2"
    printf '\nerror: make up failed (exit %s at %s line %s)\n' "${exit_code}" "${BASH_SOURCE[0]}" "${line}" >&2
    if [[ -n "${CURRENT_LOG}" ]]; then
        show_log_tail "${CURRENT_LOG}"
    fi
    printf 'Logs: %s   Stop what did start: make down\n' "${LOG_DIR}" >&2
}
trap 'on_error "$?" "${LINENO}"' ERR

prepare_state_dirs() {
    mkdir -p -- "${NATS_STORE_DIR}" "${LOG_DIR}" "${PID_DIR}"
}

build_binaries() {
    log_step "building the binaries (cargo build --bins, ${BUILD_PROFILE})"
    CURRENT_LOG=""
    local -a profile_flag=()
    if [[ "${BUILD_PROFILE}" == release ]]; then profile_flag=(--release); fi
    # Build before stopping anything: a failed build leaves the running stack untouched.
    cargo build --workspace --bins "${profile_flag[@]}"
    local bin
    for bin in "${SERVICES[@]}" kaikuctl; do
        [[ -x "${BIN_DIR}/${bin}" ]] || die "cargo built no ${BIN_DIR}/${bin}"
    done
}

# Passwords for the NATS users, made on the first `make up`. nats-server reads each as a
# configuration value, so they start with a letter and hold only letters and digits.
ensure_nats_passwords() {
    local user variable
    (
        umask 077
        touch "${NATS_PASSWORDS_FILE}"
        # Users added since the file was made (a new service) get theirs too.
        for user in "${NATS_USERS[@]}"; do
            variable="$(nats_password_variable "${user}")"
            if ! grep -q "^${variable}=" "${NATS_PASSWORDS_FILE}"; then
                log_step "making a password for the NATS user ${user} (${NATS_PASSWORDS_FILE})"
                printf '%s=p%s\n' "${variable}" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"${NATS_PASSWORDS_FILE}"
            fi
        done
    )
}

start_nats() {
    CURRENT_LOG="$(log_file_for nats-server)"
    ensure_nats_passwords
    # A user added since the server started (a new service) is known only after a restart.
    if is_running nats-server && [[ "${NATS_PASSWORDS_FILE}" -nt "$(pid_file_for nats-server)" ]]; then
        log_step "restarting nats-server for its new users"
        stop_processes 10 nats-server
    fi
    if is_running nats-server; then
        log_step "nats-server already running on ${NATS_URL_LOCAL}"
    else
        log_step "starting nats-server on ${NATS_URL_LOCAL} (monitoring http://127.0.0.1:${NATS_MONITOR_PORT})"
        local nats_bin
        nats_bin="$(nats_server_bin)" || die "nats-server not found; run deploy/local/install-deps.sh"
        ensure_port_free "${NATS_PORT}" nats-server
        ensure_port_free "${NATS_MONITOR_PORT}" "nats-server monitoring"
        # -js: JetStream on; -sd: the project-local store, which a shared config file cannot name.
        # The users' passwords reach the server only through its environment.
        local -a passwords
        mapfile -t passwords <"${NATS_PASSWORDS_FILE}"
        start_detached nats-server "${CURRENT_LOG}" \
            env "${passwords[@]}" "${nats_bin}" -c "${KAIKU_ROOT}/deploy/nats/local.conf" -js -sd "${NATS_STORE_DIR}"
    fi
    wait_for_port "${NATS_PORT}" nats-server 30 nats-server
    wait_for_port "${NATS_MONITOR_PORT}" "nats-server monitoring" 10 nats-server
}

# The cluster's directory must belong to the user the server runs as (`postgres` when we are root),
# and that user must be able to reach it through every parent directory.
prepare_pg_dir() {
    local owner
    owner="$(pg_user)"
    mkdir -p -- "${PG_DATA_DIR}"
    chmod 0700 -- "${PG_DATA_DIR}"
    local pg_log
    pg_log="$(log_file_for postgres)"
    touch -- "${pg_log}"
    if ((EUID == 0)); then
        chown -- "${owner}:" "${PG_DATA_DIR}" "${pg_log}"
        if ! as_pg_user test -w "${PG_DATA_DIR}"; then
            die "the postgres user cannot reach ${PG_DATA_DIR} (a parent directory such as /root is closed to it); move the checkout elsewhere (e.g. /srv or /home) or run as a normal user"
        fi
    fi
}

# Marks a cluster whose initdb and configuration both completed.
readonly PG_CONFIGURED_MARK="# kaiku: local settings"

init_postgres_once() {
    local pg_bin="$1"
    if [[ -f "${PG_DATA_DIR}/postgresql.conf" ]] && grep -qxF "${PG_CONFIGURED_MARK}" "${PG_DATA_DIR}/postgresql.conf"; then
        return 0
    fi
    if [[ -n "$(ls -A -- "${PG_DATA_DIR}")" ]]; then
        die "${PG_DATA_DIR} holds an incomplete cluster (an earlier initdb failed?); remove it with: make purge"
    fi
    log_step "creating the PostgreSQL cluster in ${PG_DATA_DIR}"
    CURRENT_LOG="$(log_file_for postgres)"
    as_pg_user "${pg_bin}/initdb" -D "${PG_DATA_DIR}" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >>"${CURRENT_LOG}" 2>&1
    # Only TCP on 127.0.0.1 (no Unix socket: Debian's default socket directory belongs to the
    # system cluster and may not be writable by us), trust for local tools and services there.
    as_pg_user tee "${PG_DATA_DIR}/pg_hba.conf" >/dev/null <<'EOF'
# kaiku local cluster: trust on the loopback address only; nothing else may connect.
host all all 127.0.0.1/32 trust
EOF
    as_pg_user tee -a "${PG_DATA_DIR}/postgresql.conf" >/dev/null <<EOF

${PG_CONFIGURED_MARK}
listen_addresses = '127.0.0.1'
port = ${PG_PORT}
unix_socket_directories = ''
EOF
}

start_postgres() {
    local pg_bin
    pg_bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found; run deploy/local/install-deps.sh"
    prepare_pg_dir
    init_postgres_once "${pg_bin}"
    CURRENT_LOG="$(log_file_for postgres)"
    # pg_ctl status reads the cluster's own postmaster.pid: no pid file of ours can go stale.
    if as_pg_user "${pg_bin}/pg_ctl" -D "${PG_DATA_DIR}" status >/dev/null 2>&1; then
        log_step "PostgreSQL already running on 127.0.0.1:${PG_PORT}"
    else
        log_step "starting PostgreSQL on 127.0.0.1:${PG_PORT}"
        ensure_port_free "${PG_PORT}" PostgreSQL
        as_pg_user "${pg_bin}/pg_ctl" -D "${PG_DATA_DIR}" -l "${CURRENT_LOG}" -w -t 60 start >/dev/null
    fi
    wait_for_port "${PG_PORT}" PostgreSQL 30
}

psql_local() {
    local pg_bin
    pg_bin="$(pg_bin_dir)"
    "${pg_bin}/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PG_PORT}" -U postgres "$@"
}

create_database_once() {
    local exists
    exists="$(psql_local -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '${PG_DATABASE}'")"
    if [[ "${exists}" != "1" ]]; then
        log_step "creating database ${PG_DATABASE}"
        psql_local -d postgres -c "CREATE DATABASE ${PG_DATABASE}"
    fi
    # Analytics reads through its own login role, which may only read (kaiku_reader; the
    # projection's migration 0007 grants it SELECT). Roles belong to the cluster, so once.
    psql_local -d postgres -q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_reader') THEN CREATE ROLE kaiku_reader NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_analytics') THEN CREATE ROLE kaiku_analytics LOGIN IN ROLE kaiku_reader; END IF;
    END \$\$"
    # The SMS gateway's own database: phone-number state never shares one with the read models.
    exists="$(psql_local -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '${SMS_DATABASE}'")"
    if [[ "${exists}" != "1" ]]; then
        log_step "creating database ${SMS_DATABASE}"
        psql_local -d postgres -c "CREATE DATABASE ${SMS_DATABASE}"
    fi
}

# Settings every service gets; the per-service ones are added in service_env.
common_env() {
    local name="$1"
    printf '%s\n' \
        "NATS_URL=${NATS_URL_LOCAL}" \
        "KAIKU_LISTEN_ADDR=${SERVICE_ADDR[${name}]}" \
        "KAIKU_AUTH_API_KEYS=${API_KEYS_FILE}" \
        "KAIKU_LOG_FORMAT=json" \
        "RUST_LOG=${RUST_LOG:-info}" \
        "OTEL_SERVICE_NAME=${name}" \
        "KAIKU_SHUTDOWN_GRACE=8s" \
        "KAIKU_AUTH_JWT_PUBLIC_KEYS=${CONSOLE_PUBLIC_KEY_FILE}" \
        "KAIKU_AUTH_JWT_ISSUER=kaiku-console"
    # The drain grace stays under down.sh's 10 s before SIGKILL, so a stop is always graceful.
    # OTEL_EXPORTER_OTLP_ENDPOINT is inherited from the caller's environment when set.
}

service_env() {
    local name="$1"
    common_env "${name}"
    case "${name}" in
        survey-definition | response-intake | feedback-handling | projection | analytics)
            printf '%s\n' "NATS_USER=${name}" "NATS_PASSWORD=$(nats_password "${name}")"
            ;;
    esac
    case "${name}" in
        feedback-handling)
            printf '%s\n' "KAIKU_STREAM_REPLICAS=1" "KAIKU_DUPLICATE_WINDOW=${KAIKU_DUPLICATE_WINDOW:-24h}" \
                "KAIKU_HANDLING_CONTENT_KEYS=${HANDLING_CONTENT_KEYS_FILE}" \
                "KAIKU_HANDLING_PROMISE=${KAIKU_HANDLING_PROMISE:-10wd}" \
                "KAIKU_CONSOLE_URL=http://${SERVICE_ADDR[console]}"
            # Notices by e-mail only when a relay is named (KAIKU_SMTP_URL, KAIKU_HANDLING_ROUTING).
            if [[ -n "${KAIKU_SMTP_URL:-}" ]]; then printf '%s\n' "KAIKU_SMTP_URL=${KAIKU_SMTP_URL}"; fi
            if [[ -n "${KAIKU_HANDLING_ROUTING:-}" ]]; then printf '%s\n' "KAIKU_HANDLING_ROUTING=${KAIKU_HANDLING_ROUTING}"; fi
            ;;
        survey-definition | response-intake)
            printf '%s\n' "KAIKU_STREAM_REPLICAS=1" "KAIKU_DUPLICATE_WINDOW=${KAIKU_DUPLICATE_WINDOW:-24h}"
            ;;
        projection)
            # Readers see answers once released (ADR 0020); the demo releases 30 s after its
            # answers stop coming rather than production's 10 minutes.
            printf '%s\n' "DATABASE_URL=${DATABASE_URL_LOCAL}" "KAIKU_MIN_GROUP_SIZE=${KAIKU_MIN_GROUP_SIZE:-5}" \
                "KAIKU_READER_RELEASE_QUIET=${KAIKU_READER_RELEASE_QUIET:-30s}"
            ;;
        analytics)
            printf '%s\n' "DATABASE_URL=${DATABASE_URL_LOCAL/postgres@/kaiku_analytics@}" "KAIKU_MIN_GROUP_SIZE=${KAIKU_MIN_GROUP_SIZE:-5}"
            ;;
        sms-gateway)
            local -a secrets
            mapfile -t secrets <"${SMS_SECRETS_FILE}"
            printf '%s\n' \
                "KAIKU_SMS_LISTEN_ADDR=${SERVICE_ADDR[sms-gateway]}" \
                "DATABASE_URL=postgres://postgres@127.0.0.1:${PG_PORT}/${SMS_DATABASE}" \
                "KAIKU_SURVEY_DEFINITION_URL=http://${SERVICE_ADDR[survey-definition]}" \
                "KAIKU_INTAKE_URL=http://${SERVICE_ADDR[response-intake]}" \
                "KAIKU_SMS_SURVEY_ID=$(<"${DEMO_THL_SURVEY_ID_FILE}")" \
                "KAIKU_SMS_PROVIDER_URL=${KAIKU_SMS_PROVIDER_URL}" \
                "KAIKU_SMS_PROVIDER_TOKEN=${KAIKU_SMS_PROVIDER_TOKEN:-}" \
                "KAIKU_SMS_SECRET=${secrets[0]}" \
                "KAIKU_SMS_VISITS_TOKEN=${secrets[1]}" \
                "KAIKU_SMS_WEBHOOK_TOKEN=${secrets[2]}" \
                "KAIKU_SERVICE_TOKEN=$(<"${TOKENS_DIR}/sms-gateway")"
            ;;
        web-form)
            printf '%s\n' \
                "KAIKU_WEB_LISTEN_ADDR=${SERVICE_ADDR[web-form]}" \
                "KAIKU_PUBLIC_URL=http://${SERVICE_ADDR[web-form]}" \
                "KAIKU_SURVEY_DEFINITION_URL=http://${SERVICE_ADDR[survey-definition]}" \
                "KAIKU_INTAKE_URL=http://${SERVICE_ADDR[response-intake]}" \
                "KAIKU_HANDLING_URL=http://${SERVICE_ADDR[feedback-handling]}" \
                "KAIKU_LINK_KEYS=$(<"${LINK_KEYS_FILE}")" \
                "KAIKU_SERVICE_TOKEN=$(<"${TOKENS_DIR}/web-form")"
            ;;
        console)
            printf '%s\n' \
                "KAIKU_CONSOLE_LISTEN_ADDR=${SERVICE_ADDR[console]}" \
                "KAIKU_PUBLIC_URL=http://${SERVICE_ADDR[console]}" \
                "KAIKU_SURVEY_DEFINITION_URL=http://${SERVICE_ADDR[survey-definition]}" \
                "KAIKU_ANALYTICS_URL=http://${SERVICE_ADDR[analytics]}" \
                "KAIKU_HANDLING_URL=http://${SERVICE_ADDR[feedback-handling]}" \
                "KAIKU_INTAKE_URL=http://${SERVICE_ADDR[response-intake]}" \
                "KAIKU_CONSOLE_SIGNING_KEY=${CONSOLE_KEY_FILE}" \
                "KAIKU_CONSOLE_ACCOUNTS=${CONSOLE_ACCOUNTS_FILE}" \
                "KAIKU_WEB_FORM_URL=http://${SERVICE_ADDR[web-form]}" \
                "KAIKU_CONSOLE_REPORT_DIR=${STATE_DIR}/reports" \
                "KAIKU_LINK_KEYS=$(<"${LINK_KEYS_FILE}")"
            ;;
        *) die "unknown service ${name}" ;;
    esac
}

random_base64() { head -c "$1" /dev/urandom | base64 -w 0; }

# Secrets for the local web form and SMS gateway, made on the first `make up` and kept with the
# data (printed posters and queued invitations stay valid across restarts).
ensure_local_secrets() {
    if [[ ! -s "${LINK_KEYS_FILE}" ]]; then
        log_step "making the web form's link signing key (${LINK_KEYS_FILE})"
        (umask 077 && printf 'local1:%s\n' "$(random_base64 32)" >"${LINK_KEYS_FILE}")
    fi
    if [[ ! -s "${SMS_SECRETS_FILE}" ]]; then
        log_step "making the SMS gateway's secret and tokens (${SMS_SECRETS_FILE})"
        (umask 077 && printf '%s\n' "$(random_base64 32)" "$(random_base64 24)" "$(random_base64 24)" >"${SMS_SECRETS_FILE}")
    fi
    if [[ ! -s "${HANDLING_CONTENT_KEYS_FILE}" ]]; then
        log_step "making feedback-handling's content key (${HANDLING_CONTENT_KEYS_FILE})"
        (umask 077 && printf 'local1 %s\n' "$(random_base64 32)" >"${HANDLING_CONTENT_KEYS_FILE}")
    fi
    ensure_console_secrets
    if [[ ! -s "${API_KEYS_FILE}" ]]; then
        log_step "making API keys: admin, web-form, sms-gateway (${API_KEYS_FILE}, keys in ${TOKENS_DIR}/)"
        mkdir -p "${TOKENS_DIR}"
        chmod 700 "${TOKENS_DIR}"
        new_api_key admin --scope survey-admin --scope submit --scope analytics-read --scope export --scope handle
        new_api_key web-form --scope submit --channel qr --channel kiosk --channel web_link --channel paper
        new_api_key sms-gateway --scope submit --channel sms
    fi
    # Stacks made before feedback handling: an admin key that may also handle cases.
    if ! grep -q '"handle"' "${API_KEYS_FILE}"; then
        log_step "adding an admin API key that may handle feedback cases (${TOKENS_DIR}/admin)"
        new_api_key admin --scope survey-admin --scope submit --scope analytics-read --scope export --scope handle
    fi
}

# The console's signing key and two demo staff accounts: a unit manager of the demo schools'
# service area and the county's customer-experience staff, with random passwords.
ensure_console_secrets() {
    if [[ ! -s "${CONSOLE_KEY_FILE}" ]]; then
        log_step "making the console's token signing key (${CONSOLE_KEY_FILE})"
        (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${CONSOLE_KEY_FILE}" 2>/dev/null)
        openssl pkey -in "${CONSOLE_KEY_FILE}" -pubout -out "${CONSOLE_PUBLIC_KEY_FILE}"
    fi
    if [[ ! -s "${CONSOLE_ACCOUNTS_FILE}" ]]; then
        log_step "making the console's demo accounts (${CONSOLE_ACCOUNTS_FILE}, passwords in ${CONSOLE_PASSWORDS_FILE})"
        local manager staff
        manager="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
        staff="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
        (umask 077 && printf 'manager %s\nstaff %s\n' "${manager}" "${staff}" >"${CONSOLE_PASSWORDS_FILE}")
        (
            umask 077
            printf '[\n  {"username": "manager", "name": "Demo Esihenkilö", "role": "unit-manager", "units": ["demo-student-welfare"], "password_hash": "%s"},\n' \
                "$(printf '%s\n' "${manager}" | "${BIN_DIR}/console" hash-password)"
            printf '  {"username": "staff", "name": "Demo Asiakaskokemus", "role": "county-staff", "units": [], "password_hash": "%s"}\n]\n' \
                "$(printf '%s\n' "${staff}" | "${BIN_DIR}/console" hash-password)"
        ) >"${CONSOLE_ACCOUNTS_FILE}"
    fi
}

#   new_api_key NAME KAIKUCTL_API_KEY_ARGS...: the key goes to TOKENS_DIR/NAME (mode 600).
new_api_key() {
    local name="$1"
    shift
    (umask 077 && "${KAIKUCTL}" api-key --name "${name}" --file "${API_KEYS_FILE}" "$@" >"${TOKENS_DIR}/${name}")
}

# The SMS gateway, when an SMS operator's API is configured; it asks the demo THL survey.
start_sms_gateway_if_configured() {
    if [[ -z "${KAIKU_SMS_PROVIDER_URL:-}" ]]; then
        log_step "sms-gateway not started: set KAIKU_SMS_PROVIDER_URL (and KAIKU_SMS_PROVIDER_TOKEN) to your SMS operator's API"
        return 0
    fi
    local -a env_vars
    stop_processes 10 "${SMS_GATEWAY}"
    log_step "starting ${SMS_GATEWAY} on ${SERVICE_ADDR[sms-gateway]}"
    ensure_port_free "${SERVICE_ADDR[sms-gateway]##*:}" "${SMS_GATEWAY}"
    mapfile -t env_vars < <(service_env "${SMS_GATEWAY}")
    start_detached "${SMS_GATEWAY}" "$(log_file_for "${SMS_GATEWAY}")" env "${env_vars[@]}" "${BIN_DIR}/${SMS_GATEWAY}"
    wait_for_port "${SERVICE_ADDR[sms-gateway]##*:}" "${SMS_GATEWAY}" 30 "${SMS_GATEWAY}"
}

# The projection also migrates at start-up; doing it first as its own step makes a broken
# migration fail here, with its own log, instead of as a service that never becomes ready.
migrate_read_models() {
    log_step "migrating the read models (projection --migrate-only)"
    CURRENT_LOG="$(log_file_for projection-migrate)"
    local -a env_vars
    mapfile -t env_vars < <(service_env projection)
    env "${env_vars[@]}" "${BIN_DIR}/projection" --migrate-only >"${CURRENT_LOG}" 2>&1
}

stop_services() {
    local -a running=()
    local idx
    # Reverse start order: readers go before the writers they read from.
    for ((idx = ${#SERVICES[@]} - 1; idx >= 0; idx--)); do
        if is_running "${SERVICES[idx]}"; then running+=("${SERVICES[idx]}"); fi
    done
    if ((${#running[@]} > 0)); then
        log_step "stopping the running services to restart them on the new build"
        stop_processes 10 "${running[@]}"
    fi
}

start_services() {
    local name
    local -a env_vars
    for name in "${SERVICES[@]}"; do
        log_step "starting ${name} on ${SERVICE_ADDR[${name}]}"
        ensure_port_free "${SERVICE_ADDR[${name}]##*:}" "${name}"
        mapfile -t env_vars < <(service_env "${name}")
        start_detached "${name}" "$(log_file_for "${name}")" env "${env_vars[@]}" "${BIN_DIR}/${name}"
    done
}

# Shows what each service logged; the ones that already exited first, as they are the likely cause.
report_service_failures() {
    local name
    for name in "${SERVICES[@]}"; do
        if ! is_running "${name}"; then
            printf '\n%s is not running:\n' "${name}" >&2
            show_log_tail "$(log_file_for "${name}")" 30
        fi
    done
    for name in "${SERVICES[@]}"; do
        if is_running "${name}"; then
            show_log_tail "$(log_file_for "${name}")" 15
        fi
    done
}

# A client command (kaikuctl, kaiku-load) against this stack as admin, whatever KAIKU_*_ADDR
# the caller's shell may have exported.
local_client() {
    env \
        KAIKU_TOKEN="$(<"${TOKENS_DIR}/admin")" \
        KAIKU_SURVEY_ADDR="http://${SERVICE_ADDR[survey-definition]}" \
        KAIKU_INTAKE_ADDR="http://${SERVICE_ADDR[response-intake]}" \
        KAIKU_ANALYTICS_ADDR="http://${SERVICE_ADDR[analytics]}" \
        KAIKU_PROJECTION_ADDR="http://${SERVICE_ADDR[projection]}" \
        KAIKU_HANDLING_ADDR="http://${SERVICE_ADDR[feedback-handling]}" \
        "$@"
}

kaikuctl_local() { local_client "${KAIKUCTL}" "$@"; }

# kaikuctl wait-ready polls gRPC health; meanwhile watch our own processes, so a service that
# dies at start-up fails `make up` at once with its log instead of after the whole timeout.
wait_until_ready() {
    log_step "waiting until the gRPC services report SERVING (kaikuctl wait-ready) and the web form listens"
    CURRENT_LOG=""
    kaikuctl_local wait-ready --timeout 60s &
    local waiter=$! name
    while kill -0 "${waiter}" 2>/dev/null; do
        for name in "${SERVICES[@]}"; do
            if ! is_running "${name}"; then
                kill "${waiter}" 2>/dev/null || true
                wait "${waiter}" 2>/dev/null || true
                report_service_failures
                die "${name} exited during start-up"
            fi
        done
        sleep 0.5
    done
    if ! wait "${waiter}"; then
        report_service_failures
        die "the services did not all report SERVING within 60s"
    fi
    wait_for_port "${SERVICE_ADDR[web-form]##*:}" "web-form" 30 web-form
    wait_for_port "${SERVICE_ADDR[console]##*:}" "console" 30 console
}

create_demo_units() {
    log_step "creating the demo units (deploy/demo/units.tsv)"
    CURRENT_LOG="$(log_file_for kaikuctl-demo)"
    : >"${CURRENT_LOG}"
    kaikuctl_local unit import --file "${KAIKU_ROOT}/deploy/demo/units.tsv" >>"${CURRENT_LOG}" 2>&1
}

# Creates and publishes one demo survey unless its id is already recorded in STATE_FILE.
#   create_demo_survey_once STATE_FILE DESCRIPTION KAIKUCTL_SURVEY_CREATE_ARGS...
create_demo_survey_once() {
    local state_file="$1" description="$2"
    shift 2
    if [[ -s "${state_file}" ]]; then
        log_step "${description} already loaded ($(<"${state_file}"))"
        return 0
    fi
    log_step "creating and publishing ${description}"
    CURRENT_LOG="$(log_file_for kaikuctl-demo)"
    kaikuctl_local survey create --publish "$@" >>"${CURRENT_LOG}" 2>&1
    local survey_id
    survey_id="$(sed -n 's/^survey_id=\([0-9A-Fa-f-]\{1,\}\)[[:space:]]*$/\1/p' "${CURRENT_LOG}" | tail -n 1)"
    if [[ -z "${survey_id}" ]]; then
        show_log_tail "${CURRENT_LOG}"
        die "kaikuctl printed no survey_id=<uuid> line"
    fi
    printf '%s\n' "${survey_id}" >"${state_file}"
}

load_demo_data_once() {
    create_demo_units
    create_demo_survey_once "${DEMO_SURVEY_ID_FILE}" "the demo NPS survey (deploy/demo/nps-survey.json)" \
        --file "${KAIKU_ROOT}/deploy/demo/nps-survey.json"
    printf '1\n' >"${DEMO_SURVEY_VERSION_FILE}"
    create_demo_survey_once "${DEMO_THL_SURVEY_ID_FILE}" "the THL national form for primary care" \
        --template thl-national --unit demo-primary-care
    # A three-week collection period around today, so the demo takes answers whenever it runs.
    local starts ends
    starts="$(TZ=Europe/Helsinki date -d '7 days ago' +%F)"
    ends="$(TZ=Europe/Helsinki date -d '13 days' +%F)"
    create_demo_survey_once "${DEMO_WELFARE_SURVEY_ID_FILE}" "the student-welfare survey for the demo schools" \
        --template student-welfare --unit demo-student-welfare --period "demo_period=${starts}..${ends}"
    create_demo_cases_once
}

# Two feedback cases for the console's inbox (/cases): a phone call asking for a reply, and one
# received three weeks ago, now late and raised to the service area's manager.
create_demo_cases_once() {
    if [[ -s "${DEMO_CASES_FILE}" ]]; then return 0; fi
    log_step "opening two demo feedback cases"
    CURRENT_LOG="$(log_file_for kaikuctl-demo)"
    {
        kaikuctl_local case open --unit demo-school-1 --kind question \
            --message "Huoltaja kysyi, miten kuraattorille varataan aika." --contact --phone "040 000 0001"
        kaikuctl_local case open --unit demo-school-2 --kind complaint \
            --received "$(TZ=Europe/Helsinki date -d '21 days ago' +%FT10:00)" \
            --message "Soittaja ei ollut saanut vastausta viestiinsä." --contact --email "demo@example.fi"
    } >"${DEMO_CASES_FILE}" 2>>"${CURRENT_LOG}"
}

print_summary() {
    local survey_id version
    survey_id="$(<"${DEMO_SURVEY_ID_FILE}")"
    version="1"
    if [[ -s "${DEMO_SURVEY_VERSION_FILE}" ]]; then version="$(<"${DEMO_SURVEY_VERSION_FILE}")"; fi
    cat <<EOF

Kaiku is up.

  what                address
  staff console       http://${SERVICE_ADDR[console]}   (sign in as manager or staff; passwords in ${CONSOLE_PASSWORDS_FILE})
  web form            http://${SERVICE_ADDR[web-form]}   (HTTP; links below)
  sms-gateway         $(if [[ -n "${KAIKU_SMS_PROVIDER_URL:-}" ]]; then printf 'http://%s   (HTTP; tokens in %s)' "${SERVICE_ADDR[sms-gateway]}" "${SMS_SECRETS_FILE}"; else printf 'not started (set KAIKU_SMS_PROVIDER_URL)'; fi)
  survey-definition   ${SERVICE_ADDR[survey-definition]}   (gRPC)
  feedback-handling   ${SERVICE_ADDR[feedback-handling]}   (gRPC; cases at the console's /cases)
  response-intake     ${SERVICE_ADDR[response-intake]}   (gRPC)
  analytics           ${SERVICE_ADDR[analytics]}   (gRPC)
  projection          ${SERVICE_ADDR[projection]}   (gRPC health only)
  NATS                ${NATS_URL_LOCAL}   (monitoring http://127.0.0.1:${NATS_MONITOR_PORT})
  PostgreSQL          ${DATABASE_URL_LOCAL}
  logs                ${LOG_DIR}/   (make logs)

Demo surveys (units: kaikuctl unit list):
  NPS survey          ${survey_id} (version ${version}), units demo-school-1 and demo-school-2
  THL national form   $(<"${DEMO_THL_SURVEY_ID_FILE}"), service area demo-primary-care
  student welfare     $(<"${DEMO_WELFARE_SURVEY_ID_FILE}"), service area demo-student-welfare

Try it from a second shell:

  cd "${KAIKU_ROOT}"
  export PATH="${BIN_DIR}:\$PATH"
  export KAIKU_TOKEN="\$(cat ${TOKENS_DIR}/admin)"   # every call carries a token
  kaikuctl submit --survey ${survey_id} --version ${version} --unit demo-school-1 --nps 9 \\
      --channel qr --role client --text "Kuraattori kuunteli ja auttoi."
  kaikuctl submit --survey ${survey_id} --version ${version} --unit demo-school-1 --nps 4 --channel kiosk
  kaikuctl seed --survey ${survey_id} --version ${version} --unit demo-school-1 --count 20
  # groups under ${KAIKU_MIN_GROUP_SIZE:-5} answers are suppressed; --min-sequence takes the last sequence= printed
  kaikuctl nps --survey ${survey_id} --unit demo-school-1 --min-sequence <sequence>
  # the student-welfare form as a kuraattori's 15-year-old client sees it, in Swedish:
  kaikuctl form --survey $(<"${DEMO_WELFARE_SURVEY_ID_FILE}") --version 1 --unit demo-school-2 \\
      --channel qr --group kuraattori --age-band age_13_17 --language sv
  make down      # stop everything, keep the data (make purge also deletes it)

Respondent links for the student-welfare survey at demo-school-1 (open them in a browser):
EOF
    local welfare
    welfare="$(<"${DEMO_WELFARE_SURVEY_ID_FILE}")"
    local -a common=(link --survey "${welfare}" --unit demo-school-1 --group kuraattori
        --keys "$(<"${LINK_KEYS_FILE}")" --public-url "http://${SERVICE_ADDR[web-form]}")
    printf '\n  QR poster, a 15-year-old client:\n'
    kaikuctl_local "${common[@]}" --channel qr --age-band age_13_17 | sed 's/^/    /'
    printf '\n  Kiosk, a 9-year-old client (faces):\n'
    # Only the link itself: sed reads all of kaikuctl's output (head would close the pipe early,
    # and kaikuctl, writing its next line to the closed pipe, failed make up with a broken pipe).
    kaikuctl_local "${common[@]}" --channel kiosk --age-band age_7_12 | sed -n '1s/^/    /p'
    printf '\n  Paper entry for unit staff, guardian forms:\n'
    kaikuctl_local "${common[@]}" --channel paper --role guardian --age-band adult | sed 's/^/    /'
}

# Everything up to four services reporting SERVING. POSTGRES_STARTED_HOOK names a function run
# right after PostgreSQL is up (bench.sh tunes it there).
start_stack() {
    cd "${KAIKU_ROOT}"
    "${KAIKU_ROOT}/deploy/local/install-deps.sh"
    ensure_cargo_on_path
    prepare_state_dirs
    build_binaries
    stop_services
    start_nats
    start_postgres
    "${POSTGRES_STARTED_HOOK:-true}"
    create_database_once
    ensure_local_secrets
    migrate_read_models
    start_services
    wait_until_ready
}

main() {
    start_stack
    load_demo_data_once
    start_sms_gateway_if_configured
    print_summary
}

# Run when executed; bench.sh sources this file for its steps.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
