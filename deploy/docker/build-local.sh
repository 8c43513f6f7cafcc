#!/usr/bin/env bash
# Kaiku in containers on a Debian machine with podman but no Docker engine and no registry
# (the recipe is explained in deploy/docker/README.md):
#
#   deploy/docker/build-local.sh [build]   build the images: base (debootstrap), kaiku (binaries
#                                          built on this host), nats and postgres (Debian packages)
#   deploy/docker/build-local.sh up        build, then run the stack on podman network kaikunet
#   deploy/docker/build-local.sh down      stop and remove the containers; volumes are kept
#
# Needs root: debootstrap does, and the containers run under rootful podman. Not part of
# `make test`. The images made here are for trying Kaiku out: NATS comes from Debian (2.9, no
# `sync_interval`), so production runs the official images (deploy/docker/Dockerfile, compose).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

readonly BASE_IMAGE=localhost/kaiku-base:bookworm
readonly KAIKU_IMAGE=localhost/kaiku:local
readonly NATS_IMAGE=localhost/kaiku-nats:local
readonly PG_IMAGE=localhost/kaiku-postgres:local
readonly NETWORK=kaikunet
readonly NATS_VOLUME=kaiku-nats-data
readonly PG_VOLUME=kaiku-pg-data
readonly DEBIAN_MIRROR="${KAIKU_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly PODMAN_STATE_DIR="${STATE_DIR}/podman"
readonly PODMAN_DEMO_ID_FILE="${PODMAN_STATE_DIR}/demo-survey-id"
readonly RELEASE_BINARIES=(survey-definition response-intake projection analytics kaikuctl)
readonly POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-kaiku-dev-only}"
readonly DATABASE_URL_PODMAN="postgres://postgres:${POSTGRES_PASSWORD}@kaiku-postgres:5432/kaiku"

# Temporary directories to delete on exit (the rootfs and the build contexts).
TEMP_DIRS=()
cleanup() {
    if ((${#TEMP_DIRS[@]} > 0)); then rm -rf -- "${TEMP_DIRS[@]}"; fi
}
trap cleanup EXIT

make_temp_dir() {
    local dir
    dir="$(mktemp -d -t kaiku-podman.XXXXXX)"
    TEMP_DIRS+=("${dir}")
    printf '%s\n' "${dir}"
}

# crun fails on this kind of kernel's hybrid cgroups; runc works.
pm() { podman --runtime runc "$@"; }

require_root() {
    ((EUID == 0)) || die "run as root: debootstrap and rootful podman need it"
}

install_tools() {
    local -a missing=()
    local tool
    for tool in podman runc debootstrap; do
        if ! command -v "${tool}" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/${tool}" ]]; then
            missing+=("${tool}")
        fi
    done
    if ((${#missing[@]} > 0)); then
        log_step "installing ${missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    fi
}

# Podman's default ulimits make every container fail with "setrlimit RLIMIT_NOFILE: Operation not
# permitted" here; an empty list keeps the runtime's own.
configure_podman() {
    mkdir -p -- "${PODMAN_STATE_DIR}"
    printf '[containers]\ndefault_ulimits = []\n' >"${PODMAN_STATE_DIR}/containers.conf"
    export CONTAINERS_CONF="${PODMAN_STATE_DIR}/containers.conf"
}

# No registry, so the base image is a Debian bookworm made with debootstrap (about 35 s).
# An imported tarball carries no environment, hence the PATH.
build_base_image_once() {
    if pm image exists "${BASE_IMAGE}" && [[ "${KAIKU_REBUILD_BASE:-0}" != 1 ]]; then
        log_step "base image ${BASE_IMAGE} exists (KAIKU_REBUILD_BASE=1 remakes it)"
        return 0
    fi
    log_step "making ${BASE_IMAGE} with debootstrap from ${DEBIAN_MIRROR}"
    local rootfs
    rootfs="$(make_temp_dir)/rootfs"
    debootstrap --variant=minbase --include=ca-certificates,passwd bookworm "${rootfs}" "${DEBIAN_MIRROR}"
    tar -C "${rootfs}" -c . | pm import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "${BASE_IMAGE}"
}

# Debian's rustc is too old for edition 2024, so the binaries come from the host's toolchain.
build_release_binaries() {
    log_step "building release binaries on the host (cargo build --release --bins)"
    ensure_cargo_on_path
    command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust with rustup"
    (cd "${KAIKU_ROOT}" && cargo build --release --bins)
}

build_kaiku_image() {
    log_step "building ${KAIKU_IMAGE}"
    local context bin
    context="$(make_temp_dir)"
    mkdir -p -- "${context}/bin"
    for bin in "${RELEASE_BINARIES[@]}"; do
        cp -- "${KAIKU_ROOT}/target/release/${bin}" "${context}/bin/"
    done
    pm build --build-arg "BASE_IMAGE=${BASE_IMAGE}" \
        -f "${KAIKU_ROOT}/deploy/docker/Dockerfile.local" -t "${KAIKU_IMAGE}" "${context}"
}

# NATS from Debian's package (2.9): JetStream on /data, monitoring on 8222. 2.9 rejects
# `sync_interval`, so production.conf cannot be used with it; flags say the few things needed.
build_nats_image() {
    log_step "building ${NATS_IMAGE} (nats-server from Debian)"
    local context
    context="$(make_temp_dir)"
    cat >"${context}/Containerfile" <<EOF
FROM ${BASE_IMAGE}
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server \\
    && rm -rf /var/lib/apt/lists/* \\
    && mkdir -p /data && chown nats:nats /data
USER nats
EXPOSE 4222 8222
CMD ["nats-server", "--jetstream", "--store_dir", "/data", "--port", "4222", "--http_port", "8222"]
EOF
    pm build -t "${NATS_IMAGE}" "${context}"
}

# PostgreSQL 15 from Debian's packages, with a small entrypoint that does what the official
# image does for Kaiku: on first start a cluster with password auth and the `kaiku` database.
build_postgres_image() {
    log_step "building ${PG_IMAGE} (PostgreSQL 15 from Debian)"
    local context
    context="$(make_temp_dir)"
    cat >"${context}/entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
bin=/usr/lib/postgresql/15/bin
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
    "${bin}/initdb" -D "${PGDATA}" -U postgres --pwfile="${pwfile}" --auth-local=peer \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
    rm -f "${pwfile}"
    printf 'host all all 0.0.0.0/0 scram-sha-256\n' >>"${PGDATA}/pg_hba.conf"
    echo "CREATE DATABASE ${POSTGRES_DB:-kaiku};" | "${bin}/postgres" --single -D "${PGDATA}" postgres >/dev/null
fi
exec "${bin}/postgres" -D "${PGDATA}" -c listen_addresses='*' -c unix_socket_directories=/tmp
EOF
    chmod 0755 "${context}/entrypoint.sh"
    cat >"${context}/Containerfile" <<EOF
FROM ${BASE_IMAGE}
# No "main" cluster at install time: the entrypoint makes the cluster in the volume.
RUN mkdir -p /etc/postgresql-common \\
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \\
    && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
       -o Dpkg::Options::=--force-confold postgresql-15 \\
    && rm -rf /var/lib/apt/lists/* \\
    && mkdir -p /var/lib/postgresql/data \\
    && chown postgres:postgres /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data
COPY entrypoint.sh /usr/local/bin/kaiku-postgres-entrypoint
ENV PGDATA=/var/lib/postgresql/data
# SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
STOPSIGNAL SIGINT
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/kaiku-postgres-entrypoint"]
EOF
    pm build -t "${PG_IMAGE}" "${context}"
}

build_all() {
    require_root
    install_tools
    configure_podman
    build_base_image_once
    build_release_binaries
    build_kaiku_image
    build_nats_image
    build_postgres_image
}

# --- running ---------------------------------------------------------------------------------

readonly CONTAINERS=(kaiku-analytics kaiku-projection kaiku-response-intake kaiku-survey-definition kaiku-postgres kaiku-nats)

# Replaces a container of the same name, so `up` can be re-run after a rebuild.
run_detached() {
    local name="$1"
    shift
    pm rm -f -t 10 "${name}" >/dev/null 2>&1 || true
    pm run -d --name "${name}" --network "${NETWORK}" "$@" >/dev/null
    log_info "started ${name}"
}

# Waits until COMMAND succeeds inside CONTAINER.
wait_in_container() {
    local container="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + 60))
    until pm exec "${container}" "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            pm logs --tail 30 "${container}" >&2 || true
            die "${what} did not become ready within 60s"
        fi
        sleep 1
    done
}

kaiku_env() {
    local name="$1" port="$2"
    printf '%s\n' -e "NATS_URL=nats://kaiku-nats:4222" -e "KAIKU_LISTEN_ADDR=0.0.0.0:${port}" \
        -e "OTEL_SERVICE_NAME=${name}" -e "RUST_LOG=${RUST_LOG:-info}"
}

start_service() {
    local name="$1" port="$2"
    shift 2
    local -a env_args
    mapfile -t env_args < <(kaiku_env "${name}" "${port}")
    run_detached "kaiku-${name}" -p "127.0.0.1:${port}:${port}" "${env_args[@]}" "$@" \
        "${KAIKU_IMAGE}" "${name}"
}

kaikuctl_in_network() {
    pm run --rm --network "${NETWORK}" -v "${KAIKU_ROOT}/deploy/demo:/demo:ro" \
        -e KAIKU_SURVEY_ADDR=http://kaiku-survey-definition:50051 \
        -e KAIKU_INTAKE_ADDR=http://kaiku-response-intake:50052 \
        -e KAIKU_ANALYTICS_ADDR=http://kaiku-analytics:50053 \
        -e KAIKU_PROJECTION_ADDR=http://kaiku-projection:50054 \
        "${KAIKU_IMAGE}" kaikuctl "$@"
}

up() {
    build_all
    log_step "starting the stack on podman network ${NETWORK}"
    pm network exists "${NETWORK}" || pm network create "${NETWORK}" >/dev/null
    run_detached kaiku-nats -v "${NATS_VOLUME}:/data" "${NATS_IMAGE}"
    run_detached kaiku-postgres -e "POSTGRES_PASSWORD=${POSTGRES_PASSWORD}" -e POSTGRES_DB=kaiku \
        -v "${PG_VOLUME}:/var/lib/postgresql/data" "${PG_IMAGE}"
    wait_in_container kaiku-nats nats-server bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222'
    wait_in_container kaiku-postgres PostgreSQL /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -d kaiku

    log_step "migrating the read models"
    pm run --rm --network "${NETWORK}" -e "DATABASE_URL=${DATABASE_URL_PODMAN}" \
        "${KAIKU_IMAGE}" projection --migrate-only || die "the migration failed (its output is above)"

    start_service survey-definition 50051 -e KAIKU_STREAM_REPLICAS=1
    start_service response-intake 50052 -e KAIKU_STREAM_REPLICAS=1
    start_service projection 50054 -e "DATABASE_URL=${DATABASE_URL_PODMAN}"
    start_service analytics 50053 -e "DATABASE_URL=${DATABASE_URL_PODMAN}"
    if ! kaikuctl_in_network wait-ready --timeout 60s; then
        local name
        for name in survey-definition response-intake projection analytics; do
            printf -- '---- podman logs --tail 20 kaiku-%s ----\n' "${name}" >&2
            pm logs --tail 20 "kaiku-${name}" >&2 || true
        done
        die "the services did not all report SERVING within 60s"
    fi

    if [[ ! -s "${PODMAN_DEMO_ID_FILE}" ]]; then
        log_step "creating and publishing the demo survey"
        local output
        output="$(kaikuctl_in_network survey create --file /demo/nps-survey.json --publish)"
        printf '%s\n' "${output}"
        sed -n 's/^survey_id=\([0-9A-Fa-f-]\{1,\}\)[[:space:]]*$/\1/p' <<<"${output}" | tail -n 1 >"${PODMAN_DEMO_ID_FILE}"
    fi
    printf '\nKaiku runs in podman: gRPC on 127.0.0.1:50051-50054 as with make up; demo survey %s.\n' \
        "$(<"${PODMAN_DEMO_ID_FILE}")"
    printf 'Logs: podman logs -f kaiku-<service>. Stop: %s down\n' "$0"
}

down() {
    require_root
    configure_podman
    log_step "stopping the Kaiku containers (volumes ${NATS_VOLUME} and ${PG_VOLUME} are kept)"
    local name
    for name in "${CONTAINERS[@]}"; do
        pm rm -f -t 10 "${name}" >/dev/null 2>&1 || true
    done
}

main() {
    case "${1:-build}" in
        build) build_all ;;
        up) up ;;
        down) down ;;
        *)
            printf 'usage: %s [build|up|down]\n' "$(basename -- "$0")" >&2
            exit 2
            ;;
    esac
}

main "$@"
