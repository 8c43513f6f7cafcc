#!/usr/bin/env bash
# Makes the secrets the compose stack needs, once: deploy/docker/secrets/api-keys.json (only
# the keys' SHA-256 with their grants; mounted into every service) and a .env beside
# docker-compose.yml with the keys themselves for web-form, sms-gateway and the demo loader,
# and a password for each NATS user (deploy/nats/users.conf).
# Uses kaikuctl from target/ (cargo build -p kaikuctl) or $KAIKUCTL.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kaikuctl="${KAIKUCTL:-${root}/target/debug/kaikuctl}"
secrets="${root}/deploy/docker/secrets"
keys="${secrets}/api-keys.json"
env_file="${root}/.env"

if [[ -s "${keys}" ]]; then
    printf 'keys already made: %s (delete it and %s to start over)\n' "${keys}" "${env_file}"
    exit 0
fi
[[ -x "${kaikuctl}" ]] || { printf 'error: %s not found; run cargo build -p kaikuctl or set KAIKUCTL\n' "${kaikuctl}" >&2; exit 1; }
mkdir -p "${secrets}"
umask 077
key() { "${kaikuctl}" api-key --file "${keys}" "$@"; }
{
    printf 'KAIKU_ADMIN_TOKEN=%s\n' "$(key --name admin --scope survey-admin --scope submit --scope analytics-read --scope export)"
    printf 'KAIKU_WEB_FORM_TOKEN=%s\n' "$(key --name web-form --scope submit --channel qr --channel kiosk --channel web_link --channel paper)"
    printf 'KAIKU_SMS_GATEWAY_TOKEN=%s\n' "$(key --name sms-gateway --scope submit --channel sms)"
    # nats-server reads these as configuration values: a letter first, then letters and digits.
    for user in SURVEY_DEFINITION RESPONSE_INTAKE PROJECTION ANALYTICS ADMIN; do
        printf 'KAIKU_NATS_%s_PASSWORD=p%s\n' "${user}" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    done
} >>"${env_file}"
# The services run as uid 10001 and must read the key file.
chmod 644 "${keys}"
printf 'made %s and the tokens in %s\n' "${keys}" "${env_file}"
