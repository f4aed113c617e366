#!/bin/sh
# Installs web/node_modules with `npm ci` only when package-lock.json changed since the last
# install (its hash is kept in node_modules/.lock-hash). Fast and silent when nothing changed.
set -eu
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
    echo "web: npm is missing; run scripts/deps.sh" >&2
    exit 1
fi
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.lock-hash 2>/dev/null || true)
[ "$want" = "$have" ] && exit 0
echo "web: npm ci (package-lock.json changed)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >node_modules/.lock-hash
