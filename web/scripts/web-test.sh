#!/bin/bash
# The web app's test suite, run by `make web-test` (and `make test`): Vitest, the bundle budget,
# and the Playwright suite against the real server (GAVEL_BIN, default build/asan/gavel).
# Usage: web/scripts/web-test.sh ["ENV=.. ENV=.."]   (sanitizer settings for the server)
set -u
cd "$(dirname "$0")/.."
san_env=${1:-}
export GAVEL_BIN=${GAVEL_BIN:-build/asan/gavel}
pass=0
fail=0
failed=()
step() { # name command...
    local name=$1
    shift
    echo "== web $name"
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$name"); fi
}
step vitest npm test --silent
step budget node scripts/budget.mjs dist
step typecheck-e2e npx tsc --noEmit -p tsconfig.e2e.json
step playwright env $san_env CI=${CI:-} npx playwright test
echo
echo "web summary: $pass passed, $fail failed${failed[*]:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
