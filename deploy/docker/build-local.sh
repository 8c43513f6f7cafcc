#!/usr/bin/env bash
# Kaiku in containers on a Debian machine with podman but no Docker engine and no registry
# (the recipe is explained in deploy/docker/README.md):
#
#   deploy/docker/build-local.sh [build]   build the images: base (debootstrap), kaiku (binaries
#                                          built on this host), nats and postgres (Debian packages)
#   deploy/docker/build-local.sh up        build, then run docker-compose.yml with podman-compose
#                                          and compose.local.yml (the local images), wait until
#                                          every container is healthy
#   deploy/docker/build-local.sh down [-v] stop and remove the containers (-v: and the volumes)
#
# Needs root: debootstrap does, and the containers run under rootful podman. The compose stack
# is the production docker-compose.yml; only the images differ (NATS from Debian is 2.9, without
# `sync_interval`). tests/containers/compose.sh runs `up` and `down` in a throwaway copy.
#
# KAIKU_COMPOSE_DIR (default: the repository) holds docker-compose.yml, deploy/ and .env;
# KAIKU_COMPOSE_PROJECT (default kaiku) names the containers; KAIKU_PROFILE picks the cargo
# profile of the binaries (debug unless set to release).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

readonly BASE_IMAGE=localhost/kaiku-base:bookworm
readonly KAIKU_IMAGE=localhost/kaiku:local
readonly NATS_IMAGE=localhost/kaiku-nats:local
readonly PG_IMAGE=localhost/kaiku-postgres:local
readonly DEBIAN_MIRROR="${KAIKU_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly TOOLS_DIR="${STATE_DIR}/tools"
readonly PODMAN_COMPOSE_VERSION=1.6.0
readonly PODMAN_COMPOSE="${TOOLS_DIR}/podman-compose/bin/podman-compose"
readonly BINARIES=(survey-definition response-intake feedback-handling projection analytics kaikuctl web-form sms-gateway console)
readonly COMPOSE_DIR="${KAIKU_COMPOSE_DIR:-${KAIKU_ROOT}}"
readonly COMPOSE_PROJECT="${KAIKU_COMPOSE_PROJECT:-kaiku}"
# The services whose health checks `up` waits for (the default profile of docker-compose.yml).
readonly HEALTHY_SERVICES=(nats postgres survey-definition response-intake feedback-handling analytics projection web-form console)

# Temporary directories to delete on exit (the rootfs and the build contexts).
TEMP_DIRS=()
cleanup() {
    if ((${#TEMP_DIRS[@]} > 0)); then rm -rf -- "${TEMP_DIRS[@]}"; fi
}
trap cleanup EXIT

# Sets TEMP_DIR to a new temporary directory that is deleted on exit. Not a function whose
# output is captured: `$(...)` runs in a subshell, where adding to TEMP_DIRS would be lost
# (and the directories, half a gigabyte each with the binaries, left behind).
make_temp_dir() {
    TEMP_DIR="$(mktemp -d -t kaiku-podman.XXXXXX)"
    TEMP_DIRS+=("${TEMP_DIR}")
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
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
    if ((${#missing[@]} > 0)); then
        log_step "installing ${missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    fi
    install_podman_helpers
    # podman-compose from PyPI (Debian 12's is 1.0.3, too old for compose-spec depends_on
    # conditions and !override), pinned, in its own virtualenv.
    if [[ ! -x "${PODMAN_COMPOSE}" ]] || ! "${PODMAN_COMPOSE}" --version 2>/dev/null | grep -q "${PODMAN_COMPOSE_VERSION}"; then
        log_step "installing podman-compose ${PODMAN_COMPOSE_VERSION} into ${TOOLS_DIR}/podman-compose"
        python3 -m venv "${TOOLS_DIR}/podman-compose"
        "${TOOLS_DIR}/podman-compose/bin/pip" install --quiet "podman-compose==${PODMAN_COMPOSE_VERSION}"
    fi
}

# What a podman installed without its recommended packages lacks (seen on a machine that came
# with podman 4.3 preinstalled): the network backend's DNS plugin, without which containers on
# one network cannot find each other by name (postgres, kaiku-nats-1), and catatonit, the pause
# process of every pod `podman play kube` starts.
install_podman_helpers() {
    local backend
    local -a packages=()
    backend="$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null || echo cni)"
    case "${backend}" in
        netavark) [[ -x /usr/lib/podman/aardvark-dns ]] || packages+=(aardvark-dns) ;;
        *) [[ -x /usr/lib/cni/dnsname ]] || packages+=(golang-github-containernetworking-plugin-dnsname) ;;
    esac
    if ! command -v catatonit >/dev/null 2>&1 && [[ ! -x /usr/libexec/podman/catatonit ]]; then
        packages+=(catatonit)
    fi
    if ((${#packages[@]} > 0)); then
        log_step "installing ${packages[*]} (podman's helpers: ${backend} DNS, pod pause process)"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"
    fi
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
    make_temp_dir
    rootfs="${TEMP_DIR}/rootfs"
    debootstrap --variant=minbase --include=ca-certificates,passwd bookworm "${rootfs}" "${DEBIAN_MIRROR}"
    tar -C "${rootfs}" -c . | pm import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "${BASE_IMAGE}"
}

# Debian's rustc is too old for edition 2024, so the binaries come from the host's toolchain.
build_binaries() {
    local -a profile_flag=()
    if [[ "${BUILD_PROFILE}" == release ]]; then profile_flag=(--release); fi
    log_step "building the binaries on the host (cargo build --bins, ${BUILD_PROFILE})"
    ensure_cargo_on_path
    command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust with rustup"
    (cd "${KAIKU_ROOT}" && cargo build --workspace --bins "${profile_flag[@]}")
}

build_kaiku_image() {
    log_step "building ${KAIKU_IMAGE}"
    local context bin
    make_temp_dir
    context="${TEMP_DIR}"
    mkdir -p -- "${context}/bin"
    for bin in "${BINARIES[@]}"; do
        cp -- "${BIN_DIR}/${bin}" "${context}/bin/"
    done
    mkdir -p -- "${context}/fonts"
    cp -- /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "${context}/fonts/"
    pm build --build-arg "BASE_IMAGE=${BASE_IMAGE}" \
        -f "${KAIKU_ROOT}/deploy/docker/Dockerfile.local" -t "${KAIKU_IMAGE}" "${context}"
    # The image this one replaces (the binaries change with every build) is left untagged;
    # without this each `make test` would keep another 0.5-1 GB.
    pm image prune -f --filter label=io.kaiku.image=kaiku >/dev/null
}

# NATS from Debian's package (2.9): JetStream on /data, monitoring on 8222. 2.9 rejects
# `sync_interval`, so compose.local.yml gives it deploy/nats/debian-container.conf.
build_nats_image() {
    log_step "building ${NATS_IMAGE} (nats-server from Debian)"
    local context
    make_temp_dir
    context="${TEMP_DIR}"
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
    make_temp_dir
    context="${TEMP_DIR}"
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
    # Like the official image: /docker-entrypoint-initdb.d/*.sql and *.sh, once, against a
    # server on the Unix socket only.
    if [ -d /docker-entrypoint-initdb.d ]; then
        "${bin}/pg_ctl" -D "${PGDATA}" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start >/dev/null
        export PGHOST=/tmp POSTGRES_USER="${POSTGRES_USER:-postgres}" POSTGRES_DB="${POSTGRES_DB:-kaiku}"
        for script in /docker-entrypoint-initdb.d/*; do
            case "${script}" in
                *.sql) "${bin}/psql" -v ON_ERROR_STOP=1 -U postgres -d "${POSTGRES_DB}" -f "${script}" ;;
                *.sh) PATH="${bin}:${PATH}" sh "${script}" ;;
            esac
        done
        "${bin}/pg_ctl" -D "${PGDATA}" -w -m fast stop >/dev/null
    fi
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
    build_binaries
    build_kaiku_image
    build_nats_image
    build_postgres_image
}

# --- running ----------------------------------------------------------------------------------

compose() {
    (cd "${COMPOSE_DIR}" && env KAIKU_IMAGE="${KAIKU_IMAGE}" "${PODMAN_COMPOSE}" \
        --podman-args="--runtime runc" -p "${COMPOSE_PROJECT}" \
        -f docker-compose.yml -f deploy/docker/compose.local.yml "$@")
}

# The container of one compose service (podman-compose names them <project>_<service>_1).
container_of() { printf '%s_%s_1\n' "${COMPOSE_PROJECT}" "$1"; }

# podman 4.3 runs health checks only from systemd timers, which a container host without systemd
# lacks, and podman-compose ignores `service_healthy` before podman 4.6. So each check is run
# here, by hand, until it passes: the same commands compose declares.
#   wait_healthy TIMEOUT_SECONDS SERVICE...
wait_healthy() {
    local timeout="$1" service container deadline
    shift
    for service in "$@"; do
        container="$(container_of "${service}")"
        deadline=$((SECONDS + timeout))
        until pm healthcheck run "${container}" >/dev/null 2>&1; do
            if ((SECONDS >= deadline)); then
                pm logs --tail 40 "${container}" >&2 || true
                die "${service} (${container}) not healthy within ${timeout}s"
            fi
            sleep 1
        done
        log_info "${service} healthy"
    done
}

make_keys_once() {
    if [[ ! -s "${COMPOSE_DIR}/deploy/docker/secrets/api-keys.json" ]]; then
        env KAIKUCTL="${KAIKUCTL}" KAIKU_CONSOLE="${BIN_DIR}/console" "${COMPOSE_DIR}/deploy/docker/make-keys.sh"
    fi
}

up() {
    build_all
    make_keys_once
    log_step "starting NATS and PostgreSQL (compose project ${COMPOSE_PROJECT})"
    compose up -d nats postgres
    wait_healthy 90 nats postgres
    # The migration runs once PostgreSQL is healthy (podman-compose cannot wait for that itself)
    # and must have succeeded before the services that read the schema start.
    log_step "migrating the read models"
    compose up -d migrate
    local migrate_status
    migrate_status="$(pm wait "$(container_of migrate)")"
    if [[ "${migrate_status}" != 0 ]]; then
        pm logs "$(container_of migrate)" >&2 || true
        die "the migration exited with ${migrate_status}"
    fi
    log_step "starting the Kaiku services"
    compose up -d
    wait_healthy 120 "${HEALTHY_SERVICES[@]}"
    printf '\nKaiku runs in podman (project %s): see podman ps; gRPC on 127.0.0.1:%s-%s.\n' \
        "${COMPOSE_PROJECT}" "${KAIKU_SURVEY_DEFINITION_PORT:-50051}" "${KAIKU_PROJECTION_PORT:-50054}"
    printf 'Tokens are in %s/.env; stop with %s down\n' "${COMPOSE_DIR}" "$0"
}

down() {
    require_root
    install_tools
    configure_podman
    log_step "stopping compose project ${COMPOSE_PROJECT}"
    compose down "$@"
}

main() {
    case "${1:-build}" in
        build) build_all ;;
        up) up ;;
        down)
            shift
            down "$@"
            ;;
        *)
            printf 'usage: %s [build|up|down]\n' "$(basename -- "$0")" >&2
            exit 2
            ;;
    esac
}

main "$@"
