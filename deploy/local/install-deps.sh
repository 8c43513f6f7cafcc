#!/usr/bin/env bash
# Installs what `make up` and `make test` need on Debian/Ubuntu, and only what is missing:
# nats-server, PostgreSQL (server and client), a C compiler for the few crates that build C
# (ring), make and shellcheck; for the web form's tests Chromium, Node.js with npm (the browser
# scenarios), poppler-utils (pdftotext, pdftoppm) and zbar-tools (zbarimg reads QR codes);
# libvoikko1 and voikko-fi, with which response-intake finds person names in open text. Rust itself comes from rustup and is only checked here.
# Idempotent: on a machine that has everything it touches nothing and needs no network.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Rust is the one prerequisite we do not install: the toolchain version is the developer's
# choice (rust-version in Cargo.toml), and Debian's rustc is too old for edition 2024.
check_cargo() {
    ensure_cargo_on_path
    if ! command -v cargo >/dev/null 2>&1; then
        die "cargo not found. Install the Rust toolchain with rustup (https://rustup.rs), then open a new shell or run: source \"\$HOME/.cargo/env\""
    fi
}

# Prints the Debian packages that are missing, one per line.
missing_packages() {
    if ! nats_server_bin >/dev/null; then
        echo nats-server
    fi
    if ! pg_bin_dir >/dev/null; then
        echo postgresql
    fi
    # The client normally arrives with the server; a machine can still have one without the other.
    if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
        echo postgresql-client
    fi
    # cargo links through `cc`, and ring compiles C; gcc only recommends libc6-dev, so name it.
    if ! command -v cc >/dev/null 2>&1; then
        echo gcc
        echo libc6-dev
    fi
    if ! command -v make >/dev/null 2>&1; then
        echo make
    fi
    # make lint checks the shell scripts as well as the Rust.
    if ! command -v shellcheck >/dev/null 2>&1; then
        echo shellcheck
    fi
    # Browser tests: Debian's Chromium, driven by playwright-core from tests/browser (npm). A
    # test tool's own browser download cannot work here (no access beyond the registries).
    if ! command -v chromium >/dev/null 2>&1; then
        echo chromium
    fi
    if ! command -v node >/dev/null 2>&1; then
        echo nodejs
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo npm
    fi
    # Printed material is checked with the same tools a person would use: pdftotext reads the
    # text, pdftoppm renders the page, zbarimg decodes the QR code from the picture.
    if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
        echo poppler-utils
    fi
    if ! command -v zbarimg >/dev/null 2>&1; then
        echo zbar-tools
    fi
    # response-intake finds person names in open text with libvoikko, loaded at run time
    # (crates/kaiku-names), and its Finnish dictionary; it refuses to start without either, and
    # kaiku-names' tests need both. No -dev package: nothing links against libvoikko.
    if [[ "$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null)" != *libvoikko.so.1* ]]; then
        echo libvoikko1
    fi
    if ! compgen -G '/usr/lib/voikko/*/mor-standard/mor.vfst' >/dev/null &&
        ! compgen -G '/usr/share/voikko/*/mor-standard/mor.vfst' >/dev/null; then
        echo voikko-fi
    fi
    # The console draws its charts with DejaVu Sans; `make up` makes its signing key with openssl.
    if [[ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
        echo fonts-dejavu-core
    fi
    if ! command -v openssl >/dev/null 2>&1; then
        echo openssl
    fi
    # The container tests sign in to the console over HTTP.
    if ! command -v curl >/dev/null 2>&1; then
        echo curl
    fi
    # Container tests: podman (with runc) builds and runs the images, debootstrap makes their
    # base without a registry; podman-compose and the Kubernetes schema checker come from PyPI
    # into virtualenvs under .kaiku/tools (python3-venv).
    local tool
    for tool in podman runc debootstrap; do
        if ! command -v "${tool}" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/${tool}" ]]; then
            echo "${tool}"
        fi
    done
    if ! /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1; then
        echo python3-venv
    fi
}

# apt-get as root directly, otherwise through sudo (the only thing that ever needs it).
run_privileged() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (install sudo or run this script as root)"
    fi
}

install_packages() {
    local -a packages=("$@")
    if ! command -v apt-get >/dev/null 2>&1; then
        die "missing: ${packages[*]}; this script knows only apt (Debian/Ubuntu). Install them by hand."
    fi
    log_step "installing ${packages[*]}"
    # Note: Debian's postgresql package may start a system cluster on 5432. Harmless: the local
    # stack runs its own cluster on ${PG_PORT} and never uses that one.
    run_privileged apt-get update
    run_privileged env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${packages[@]}"
}

# As root, PostgreSQL runs as the `postgres` system user, which Debian's package creates.
check_postgres_user() {
    if ((EUID == 0)) && ! id -u postgres >/dev/null 2>&1; then
        die "running as root needs the 'postgres' system user (PostgreSQL refuses to run as root); install Debian's postgresql package or run as a normal user"
    fi
}

main() {
    check_cargo
    local -a missing=()
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} > 0)); then
        install_packages "${missing[@]}"
        local -a still_missing=()
        mapfile -t still_missing < <(missing_packages)
        if ((${#still_missing[@]} > 0)); then
            die "still missing after apt-get install: ${still_missing[*]}"
        fi
    fi
    check_postgres_user
}

main "$@"
