#!/usr/bin/env bash
# System test of the containers: builds Kaiku's images with podman (deploy/docker/build-local.sh),
# brings the production docker-compose.yml up with podman-compose (compose.local.yml swaps in
# the locally built NATS and PostgreSQL images), waits until every container's own health check
# passes, creates units and a survey, submits answers through intake, reads the NPS back from
# analytics, checks the resource limits, and tears the stack down with its volumes.
#
# Runs in a throwaway copy of the compose files, as compose project "kaikutest" on its own host
# ports, so a developer's `make up` or compose stack is left alone. Needs root (podman).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

readonly PROJECT=kaikutest
configure_podman
WORK_DIR="$(mktemp -d -t kaiku-compose-test.XXXXXX)"
readonly WORK_DIR

# Set before the trap: its `down -v` must only ever reach this throwaway project.
export KAIKU_COMPOSE_DIR="${WORK_DIR}" KAIKU_COMPOSE_PROJECT="${PROJECT}"

cleanup() {
    local status=$?
    if ((status != 0)); then
        printf '\ncompose test failed; container logs:\n' >&2
        local container
        for container in $(podman --runtime runc ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=${PROJECT}"); do
            printf -- '---- %s ----\n' "${container}" >&2
            podman --runtime runc logs --tail 30 "${container}" >&2 || true
        done
    fi
    "${KAIKU_ROOT}/deploy/docker/build-local.sh" down -v >/dev/null 2>&1 || true
    rm -rf -- "${WORK_DIR}"
    exit "${status}"
}
trap cleanup EXIT

# The compose file and what it mounts, without the repository's own secrets or .env.
mkdir -p "${WORK_DIR}/deploy"
cp "${KAIKU_ROOT}/docker-compose.yml" "${WORK_DIR}/"
cp -r "${KAIKU_ROOT}/deploy/nats" "${KAIKU_ROOT}/deploy/otel" "${KAIKU_ROOT}/deploy/demo" "${WORK_DIR}/deploy/"
mkdir -p "${WORK_DIR}/deploy/docker"
cp -r "${KAIKU_ROOT}/deploy/docker/initdb" "${KAIKU_ROOT}/deploy/docker/make-keys.sh" \
    "${KAIKU_ROOT}/deploy/docker/compose.local.yml" "${WORK_DIR}/deploy/docker/"

export KAIKU_SURVEY_DEFINITION_PORT=25051 KAIKU_INTAKE_PORT=25052 KAIKU_ANALYTICS_PORT=25053 \
    KAIKU_PROJECTION_PORT=25054 KAIKU_HANDLING_PORT=25056 KAIKU_WEB_FORM_PORT=28080 KAIKU_CONSOLE_PORT=28070 \
    KAIKU_JAEGER_UI_PORT=26686
for port in 25051 25052 25053 25054 25056 28080 28070; do
    ensure_port_free "${port}" "compose test port"
done

"${KAIKU_ROOT}/deploy/docker/build-local.sh" up

log_step "answering through intake and reading analytics"
KAIKU_TOKEN="$(sed -n 's/^KAIKU_ADMIN_TOKEN=//p' "${WORK_DIR}/.env")"
export KAIKU_TOKEN
export KAIKU_SURVEY_ADDR=http://127.0.0.1:25051 KAIKU_INTAKE_ADDR=http://127.0.0.1:25052 \
    KAIKU_ANALYTICS_ADDR=http://127.0.0.1:25053 KAIKU_PROJECTION_ADDR=http://127.0.0.1:25054 \
    KAIKU_HANDLING_ADDR=http://127.0.0.1:25056
kaikuctl="${BIN_DIR}/kaikuctl"
"${kaikuctl}" unit import --file "${KAIKU_ROOT}/deploy/demo/units.tsv" >/dev/null
created="$("${kaikuctl}" survey create --file "${KAIKU_ROOT}/deploy/demo/nps-survey.json" --publish)"
survey_id="$(sed -n 's/^survey_id=//p' <<<"${created}" | tail -n 1)"
[[ -n "${survey_id}" ]] || die "no survey id in: ${created}"
# Six answers: above the minimum group size of 5 that compose sets for analytics.
seeded="$("${kaikuctl}" seed --survey "${survey_id}" --version 1 --unit demo-school-1 --count 6)"
sequence="$(sed -n 's/^sequence=//p' <<<"${seeded}")"
nps="$("${kaikuctl}" nps --survey "${survey_id}" --unit demo-school-1 --min-sequence "${sequence}")"
printf '%s\n' "${nps}"
[[ "${nps}" == *"(n=6:"* ]] || die "expected the six answers in analytics, got: ${nps}"

log_step "signing in to the console as the admin make-keys.sh made and reading the same NPS"
admin_password="$(sed -n 's/^KAIKU_CONSOLE_ADMIN_PASSWORD=//p' "${WORK_DIR}/.env")"
cookie="$(curl -sS -o /dev/null -D - --data-urlencode "username=admin" --data-urlencode "password=${admin_password}" \
    --data "next=/results" http://127.0.0.1:28070/login | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')"
[[ -n "${cookie}" ]] || die "the console did not sign the admin in"
page="$(curl -sS -H "cookie: ${cookie}" "http://127.0.0.1:28070/results?survey=${survey_id}&unit=demo-school-1&period=all&lang=en")"
grep -q 'data-n="6"' <<<"${page}" || die "the console does not show the six answers: $(grep -o '<div class="card"[^>]*>.\{0,300\}' <<<"${page}" | head -n 3)"

log_step "a phone call as a feedback case, sealed with the content key make-keys.sh made"
opened="$("${kaikuctl}" case open --unit demo-school-1 --kind praise --message "Kiitos hyvästä palvelusta")"
case_id="$(sed -n 's/^case=//p' <<<"${opened}")"
[[ -n "${case_id}" ]] || die "no case id in: ${opened}"
"${kaikuctl}" case list --open | grep -q "^${case_id} demo-school-1 praise" || die "case ${case_id} is not listed"

log_step "checking resource limits and read-only root file systems"
for service in survey-definition response-intake feedback-handling analytics projection web-form console nats postgres; do
    container="${PROJECT}_${service}_1"
    memory="$(podman --runtime runc inspect --format '{{.HostConfig.Memory}}' "${container}")"
    ((memory > 0)) || die "${container} has no memory limit"
done
for service in survey-definition response-intake feedback-handling analytics projection web-form console; do
    read_only="$(podman --runtime runc inspect --format '{{.HostConfig.ReadonlyRootfs}}' "${PROJECT}_${service}_1")"
    [[ "${read_only}" == true ]] || die "${service} has a writable root file system"
done

log_step "tearing the stack down"
"${KAIKU_ROOT}/deploy/docker/build-local.sh" down -v
if podman --runtime runc ps -a --format '{{.Names}}' | grep -q "^${PROJECT}_"; then
    die "containers of ${PROJECT} are left"
fi
printf 'compose test passed: %s\n' "${nps}"
