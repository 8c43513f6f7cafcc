#!/usr/bin/env bash
# System test of the Kubernetes manifests' Kaiku Deployments under `podman play kube`: the five
# Deployments of deploy/k8s, unchanged, start from the locally built image with their secrets,
# find NATS and PostgreSQL by the names the manifests use (kaiku-nats: a three-node JetStream
# cluster, kaiku-pg-rw: PostgreSQL; stand-ins built from Debian's packages, on one podman
# network), and each reports SERVING (or 200 for the
# web form) from inside its own pod. Every manifest's schema is checked by
# deploy/local/k8s-check.sh; this shows the Deployments really run.
#
# Two podman 4.3 bugs shape the set-up, not the manifests: a Secret it creates from YAML cannot
# be read back for env (podman issue 16269), so the test creates each secret itself in the JSON
# form 4.3 reads; and a secret volume without `optional` crashes it (16636), so the manifests
# say `optional: false`.
# Needs root (podman) and the images from deploy/docker/build-local.sh (built here if missing).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

readonly NETWORK=kaikukube
readonly DEPLOYMENTS=(survey-definition response-intake feedback-handling analytics projection web-form console)
readonly SECRETS=(kaiku-nats-users kaiku-api-keys kaiku-service-tokens kaiku-link-keys kaiku-pg-analytics kaiku-pg-projection kaiku-pg-app)
readonly STAND_INS=(kaiku-nats-0 kaiku-nats-1 kaiku-nats-2 kaiku-pg-rw)
WORK_DIR="$(mktemp -d -t kaiku-kube-test.XXXXXX)"
readonly WORK_DIR
configure_podman

pm() { podman --runtime runc "$@"; }

cleanup() {
    local status=$? name
    if ((status != 0)); then
        printf '\nkube test failed; logs:\n' >&2
        for name in "${STAND_INS[@]}" "${DEPLOYMENTS[@]/%/-pod-0}"; do
            name="$(pm ps -a --format '{{.Names}}' | grep -x -e "${name}" -e "${name}-.*" | grep -v infra | head -n 1)" || continue
            printf -- '---- %s ----\n' "${name}" >&2
            pm logs --tail 20 "${name}" >&2 || true
        done
    fi
    [[ -n "${KAIKU_KEEP:-}" ]] && exit "${status}"
    for name in "${DEPLOYMENTS[@]}"; do
        pm play kube --down "${KAIKU_ROOT}/deploy/k8s/${name}.yaml" >/dev/null 2>&1 || true
    done
    pm rm -f -t 2 "${STAND_INS[@]}" >/dev/null 2>&1 || true
    # podman 4.3 keeps a secret volume as a named volume and would reuse it, stale, next time.
    for name in "${SECRETS[@]}"; do
        pm secret rm "${name}" >/dev/null 2>&1 || true
        pm volume rm -f "${name}" >/dev/null 2>&1 || true
    done
    pm network rm -f "${NETWORK}" >/dev/null 2>&1 || true
    rm -rf -- "${WORK_DIR}"
    exit "${status}"
}
trap cleanup EXIT

random_hex() { printf 'p%s' "$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# A secret as podman 4.3 reads it back: for env (secretKeyRef) a JSON object of base64 values;
# for a volume a Kubernetes Secret object in JSON whose `data` holds the file's text as it is
# (4.3 writes `data` values to the file without decoding them, and ignores stringData).
#   podman_secret env|volume NAME KEY=VALUE...
podman_secret() {
    local use="$1" name="$2" pair value data=""
    shift 2
    for pair in "$@"; do
        if [[ "${use}" == volume ]]; then
            value="$(printf '%s' "${pair#*=}" | sed 's/["\\]/\\&/g')"
            # JSON strings cannot hold a raw newline (PEM files have them).
            value="${value//$'\n'/\\n}"
        else
            value="$(printf '%s' "${pair#*=}" | base64 -w 0)"
        fi
        data+="$(printf '"%s":"%s",' "${pair%%=*}" "${value}")"
    done
    data="{${data%,}}"
    if [[ "${use}" == volume ]]; then
        data="$(printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"%s"},"data":%s}' "${name}" "${data}")"
    fi
    printf '%s' "${data}" >"${WORK_DIR}/${name}.json"
    pm secret rm "${name}" >/dev/null 2>&1 || true
    pm volume rm -f "${name}" >/dev/null 2>&1 || true
    pm secret create "${name}" "${WORK_DIR}/${name}.json" >/dev/null
}

"${KAIKU_ROOT}/deploy/docker/build-local.sh" build >/dev/null

log_step "stand-ins for NATS and PostgreSQL on podman network ${NETWORK}"
pm network exists "${NETWORK}" || pm network create "${NETWORK}" >/dev/null
declare -A nats_password
for user in survey-definition response-intake feedback-handling projection analytics admin; do
    nats_password[${user}]="$(random_hex)"
done
pg_password="$(random_hex)"
analytics_password="$(random_hex)"
owner_password="$(random_hex)"
projection_password="$(random_hex)"
# Three NATS servers in a JetStream cluster, all answering to kaiku-nats: the manifests create
# the streams with three replicas (KAIKU_STREAM_REPLICAS=3).
for node in 0 1 2; do
    cat >"${WORK_DIR}/nats-${node}.conf" <<CONF
server_name: kaiku-nats-${node}
port: 4222
http_port: 8222
max_payload: 1MB
jetstream { store_dir: /data }
cluster {
    name: kaiku
    listen: 0.0.0.0:6222
    routes: [nats://kaiku-nats-0:6222, nats://kaiku-nats-1:6222, nats://kaiku-nats-2:6222]
}
include ./users.conf
CONF
    pm run -d --name "kaiku-nats-${node}" --network "${NETWORK}" --network-alias kaiku-nats \
        -v "${WORK_DIR}/nats-${node}.conf:/etc/nats/node.conf:ro" \
        -v "${KAIKU_ROOT}/deploy/nats/users.conf:/etc/nats/users.conf:ro" \
        -e "KAIKU_NATS_SURVEY_DEFINITION_PASSWORD=${nats_password[survey-definition]}" \
        -e "KAIKU_NATS_RESPONSE_INTAKE_PASSWORD=${nats_password[response-intake]}" \
        -e "KAIKU_NATS_PROJECTION_PASSWORD=${nats_password[projection]}" \
        -e "KAIKU_NATS_ANALYTICS_PASSWORD=${nats_password[analytics]}" \
        -e "KAIKU_NATS_FEEDBACK_HANDLING_PASSWORD=${nats_password[feedback-handling]}" \
        -e "KAIKU_NATS_ADMIN_PASSWORD=${nats_password[admin]}" \
        localhost/kaiku-nats:local nats-server --config /etc/nats/node.conf >/dev/null
done
pm run -d --name kaiku-pg-rw --network "${NETWORK}" \
    -v "${KAIKU_ROOT}/deploy/docker/initdb:/docker-entrypoint-initdb.d:ro" \
    -e "POSTGRES_PASSWORD=${pg_password}" -e POSTGRES_DB=kaiku \
    -e "KAIKU_ANALYTICS_DB_PASSWORD=${analytics_password}" \
    -e "KAIKU_OWNER_DB_PASSWORD=${owner_password}" \
    -e "KAIKU_PROJECTION_DB_PASSWORD=${projection_password}" \
    localhost/kaiku-postgres:local >/dev/null
# /healthz is 200 once JetStream is current (the cluster has its meta leader).
for node in 0 1 2; do
    deadline=$((SECONDS + 60))
    until pm exec "kaiku-nats-${node}" bash -c \
        "exec 3<>/dev/tcp/127.0.0.1/8222 && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && grep -q '200 OK' <&3" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "NATS stand-in kaiku-nats-${node} not ready within 60s"
        sleep 1
    done
done
deadline=$((SECONDS + 60))
until pm exec kaiku-pg-rw /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -d kaiku >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "PostgreSQL stand-in not ready within 60s"
    sleep 1
done
# The owner migrates (as the migrate Job does); the projection's Deployment logs in as its own
# role, which may not change the schema.
database_url="postgres://kaiku_owner:${owner_password}@kaiku-pg-rw:5432/kaiku"
pm run --rm --network "${NETWORK}" -e "DATABASE_URL=${database_url}" localhost/kaiku:local \
    projection --migrate-only >/dev/null

log_step "secrets"
keys="${WORK_DIR}/api-keys.json"
web_form_key="$("${KAIKUCTL}" api-key --name web-form --scope submit --channel qr --file "${keys}")"
podman_secret env kaiku-nats-users \
    "survey-definition=${nats_password[survey-definition]}" \
    "response-intake=${nats_password[response-intake]}" \
    "projection=${nats_password[projection]}" \
    "analytics=${nats_password[analytics]}" \
    "feedback-handling=${nats_password[feedback-handling]}" \
    "admin=${nats_password[admin]}"
podman_secret volume kaiku-api-keys "api-keys.json=$(tr -d '\n' <"${keys}")"
podman_secret env kaiku-service-tokens "web-form=${web_form_key}"
podman_secret env kaiku-link-keys "link-keys=k1:$(head -c 32 /dev/urandom | base64 -w 0)"
podman_secret env kaiku-pg-analytics username=kaiku_analytics "password=${analytics_password}"
podman_secret env kaiku-pg-projection username=kaiku_projection "password=${projection_password}"
podman_secret env kaiku-pg-app "uri=${database_url}"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${WORK_DIR}/console.pem" 2>/dev/null
openssl pkey -in "${WORK_DIR}/console.pem" -pubout -out "${WORK_DIR}/console.pub"
console_accounts="[{\"username\": \"admin\", \"name\": \"Admin\", \"role\": \"county-staff\", \"units\": [], \"password_hash\": \"$(printf 'kube-test-only\n' | "${BIN_DIR}/console" hash-password)\"}]"
podman_secret volume kaiku-console "signing-key.pem=$(<"${WORK_DIR}/console.pem")" "accounts.json=${console_accounts}"
podman_secret volume kaiku-handling "content-keys=kube1 $(head -c 32 /dev/urandom | base64 -w 0)" \
    'routing.json={"units": {}, "people": {}}'
podman_secret volume kaiku-console-public-key "console.pub=$(<"${WORK_DIR}/console.pub")"

log_step "podman play kube: the Kaiku Deployments of deploy/k8s"
for name in "${DEPLOYMENTS[@]}"; do
    # The files also hold Services, disruption budgets and autoscalers, which podman skips.
    pm play kube --replace --network "${NETWORK}" "${KAIKU_ROOT}/deploy/k8s/${name}.yaml" >/dev/null
done

# Each Deployment's container answers its own health check from inside its pod.
declare -A health=(
    [survey-definition]="http://127.0.0.1:50051"
    [response-intake]="http://127.0.0.1:50052"
    [analytics]="http://127.0.0.1:50053"
    [projection]="http://127.0.0.1:50054"
    [feedback-handling]="http://127.0.0.1:50056"
    [web-form]="--http http://127.0.0.1:8080/healthz"
    [console]="--http http://127.0.0.1:8070/healthz"
)
for name in "${DEPLOYMENTS[@]}"; do
    container="${name}-pod-0-${name}"
    deadline=$((SECONDS + 90))
    # shellcheck disable=SC2086 # the health arguments are two words for the web form
    until pm exec "${container}" kaikuctl health ${health[${name}]} >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            die "${container} did not report healthy within 90s"
        fi
        sleep 1
    done
    log_info "${name}: running and healthy ($(pm inspect --format '{{.Config.User}}' "${container}"))"
done
printf 'kube test passed: %s Deployments started and healthy\n' "${#DEPLOYMENTS[@]}"
