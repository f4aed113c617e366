#!/bin/sh
# Installs the Debian packages Gavel needs to build, test and benchmark, and only those missing.
# Idempotent: the second run installs nothing and does not touch apt's lists.
set -eu

PKGS="build-essential libuv1-dev node-llhttp libwslay-dev libjansson-dev libsqlite3-dev libssl-dev
libcurl4-openssl-dev libcmocka-dev pkg-config clang libclang-rt-14-dev python3 python3-pytest
python3-requests python3-websockets python3-jwt python3-aiosmtpd python3-yaml wrk"
# Operations: backups (libzstd, zstd for an independent check) and the deploy kit checked with the
# real tools (nginx, promtool, systemd-analyze, openssl for a test certificate).
PKGS="$PKGS libzstd-dev zstd nginx prometheus systemd openssl"
# The web app: Debian's chromium drives the Playwright suite (no browser is ever downloaded);
# Node and npm only when this machine has none (Vite 8 needs Node >= 20.19).
PKGS="$PKGS chromium fonts-dejavu-core"
# Scaling out (issue 15): PostgreSQL's server and libpq for the second store, Redis and hiredis
# for cross-node messages. The tests (and scripts/cluster.sh) start their own throwaway servers
# on loopback ports, nginx in front of a test cluster too; no system service is needed (Debian's
# default cluster is not created, see below).
PKGS="$PKGS postgresql libpq-dev redis-server libhiredis-dev"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

web_deps() { # web/node_modules, reinstalled only when web/package-lock.json changed
    npm_ci="$(dirname "$0")/../web/scripts/npm-ci.sh"
    if [ -x "$npm_ci" ]; then "$npm_ci"; fi
}

if [ -z "$missing" ]; then
    web_deps
    exit 0
fi

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# PostgreSQL's package would create and start a cluster of its own on port 5432: the tests make
# theirs with initdb in a temporary directory instead.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
# Refresh the package lists only when they are absent or a package cannot be found in them.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] ||
   ! apt-cache show $missing >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
web_deps
