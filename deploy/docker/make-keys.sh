#!/usr/bin/env bash
# Makes the secrets the compose stack needs, once: deploy/docker/secrets/api-keys.json (only
# the keys' SHA-256 with their grants; mounted into every service) and a .env beside
# docker-compose.yml with the keys themselves for web-form, sms-gateway and the demo loader,
# and a password for each NATS user (deploy/nats/users.conf); the console's signing key (its
# public half is mounted into every service) and its accounts file with one county-staff
# account, "admin", whose password goes into .env as KAIKU_CONSOLE_ADMIN_PASSWORD; and
# feedback-handling's content key (deploy/docker/secrets/handling-content-keys).
# Uses kaikuctl and console from target/ (cargo build) or $KAIKUCTL and $KAIKU_CONSOLE, and openssl.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kaikuctl="${KAIKUCTL:-${root}/target/debug/kaikuctl}"
console="${KAIKU_CONSOLE:-${root}/target/debug/console}"
secrets="${root}/deploy/docker/secrets"
keys="${secrets}/api-keys.json"
env_file="${root}/.env"

if [[ -s "${keys}" ]]; then
    printf 'keys already made: %s (delete it and %s to start over)\n' "${keys}" "${env_file}"
    exit 0
fi
[[ -x "${kaikuctl}" ]] || { printf 'error: %s not found; run cargo build -p kaikuctl or set KAIKUCTL\n' "${kaikuctl}" >&2; exit 1; }
[[ -x "${console}" ]] || { printf 'error: %s not found; run cargo build -p console or set KAIKU_CONSOLE\n' "${console}" >&2; exit 1; }
mkdir -p "${secrets}"
umask 077
key() { "${kaikuctl}" api-key --file "${keys}" "$@"; }
{
    printf 'KAIKU_ADMIN_TOKEN=%s\n' "$(key --name admin --scope survey-admin --scope submit --scope analytics-read --scope export --scope handle)"
    printf 'KAIKU_WEB_FORM_TOKEN=%s\n' "$(key --name web-form --scope submit --channel qr --channel kiosk --channel web_link --channel paper)"
    printf 'KAIKU_SMS_GATEWAY_TOKEN=%s\n' "$(key --name sms-gateway --scope submit --channel sms)"
    # nats-server reads these as configuration values: a letter first, then letters and digits.
    for user in SURVEY_DEFINITION RESPONSE_INTAKE FEEDBACK_HANDLING PROJECTION ANALYTICS ADMIN; do
        printf 'KAIKU_NATS_%s_PASSWORD=p%s\n' "${user}" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    done
} >>"${env_file}"
# The console signs its staff's service tokens with a P-256 key; every service trusts its
# public half.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${secrets}/console-signing-key.pem" 2>/dev/null
openssl pkey -in "${secrets}/console-signing-key.pem" -pubout -out "${secrets}/console-signing-key.pub"
# feedback-handling seals case content (contact details, messages) with this AES-256 key: back
# it up apart from the NATS volume's backups (a backup holding both is not encrypted at rest);
# without it sealed cases cannot be read.
printf 'compose1 %s\n' "$(head -c 32 /dev/urandom | base64 -w 0)" >"${secrets}/handling-content-keys"
admin_password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf 'KAIKU_CONSOLE_ADMIN_PASSWORD=%s\n' "${admin_password}" >>"${env_file}"
printf '[{"username": "admin", "name": "Kaiku admin", "role": "county-staff", "units": [], "password_hash": "%s"}]\n' \
    "$(printf '%s\n' "${admin_password}" | "${console}" hash-password)" >"${secrets}/console-accounts.json"
# The services run as uid 10001 and must read these files. The signing key is a secret: only
# its owner and group 10001 (the containers' user) may read it, where we may give it that group.
chmod 644 "${keys}" "${secrets}/console-signing-key.pub" "${secrets}/console-accounts.json"
for secret in console-signing-key.pem handling-content-keys; do
    if chgrp 10001 "${secrets}/${secret}" 2>/dev/null; then
        chmod 640 "${secrets}/${secret}"
    else
        chmod 644 "${secrets}/${secret}"
        printf 'warning: %s is readable by every local user (run as root to restrict it to group 10001)\n' "${secrets}/${secret}" >&2
    fi
done
printf 'made %s and the tokens in %s\n' "${keys}" "${env_file}"
