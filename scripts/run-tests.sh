#!/bin/bash
# Runs the whole suite against the sanitizer build: cmocka unit tests, pytest integration tests
# against build/asan/gavel, a short fuzz smoke run, then fails on any sanitizer report.
# Usage: scripts/run-tests.sh PYTHON "ENV=.. ENV=.." unit-binary...
# The store's tests also need PostgreSQL: run this under scripts/with-pg.sh (make test does).
set -u
python=$1
san_env=$2
shift 2
logs=build/asan/logs
pass=0
fail=0
failed=()

step() { # name command...
    local name=$1
    shift
    echo "== $name"
    if env $san_env "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed+=("$name")
    fi
}

for t in "$@"; do
    step "unit $(basename "$t")" "$t"
done
# The own_store tests run in this pass only: those that start their own PostgreSQL
# (test_pg_outage.py) or a whole cluster of PostgreSQL, Redis and three nodes (test_cluster.py).
step "integration" env GAVEL_BIN=build/asan/gavel "$python" -m pytest -q -p no:cacheprovider tests/integration
# the same suite with every server's store in PostgreSQL (tests that read SQLite's file are left out)
if [ -n "${GAVEL_TEST_PG:-}" ]; then
    step "integration on PostgreSQL" env GAVEL_BIN=build/asan/gavel GAVEL_TEST_STORE_PG="$GAVEL_TEST_PG" \
        "$python" -m pytest -q -p no:cacheprovider tests/integration
else
    echo "== integration on PostgreSQL: GAVEL_TEST_PG is not set (run under scripts/with-pg.sh)"
    fail=$((fail + 1))
    failed+=("integration on PostgreSQL (no server)")
fi
if [ -x scripts/fuzz-smoke.sh ]; then
    step "fuzz smoke" scripts/fuzz-smoke.sh
else # a lost run bit must not turn the fuzz smoke into a silent pass
    echo "== fuzz smoke: scripts/fuzz-smoke.sh is missing or not executable"
    fail=$((fail + 1))
    failed+=("fuzz smoke (not runnable)")
fi

reports=$(find "$logs" -type f 2>/dev/null | sort)
if [ -n "$reports" ]; then
    echo "== sanitizer reports:"
    for r in $reports; do
        echo "--- $r"
        head -60 "$r"
    done
    fail=$((fail + 1))
    failed+=("sanitizers")
fi

echo
echo "test summary: $pass passed, $fail failed${failed[*]:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
