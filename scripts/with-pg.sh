#!/bin/sh
# Runs a command with GAVEL_TEST_PG set to a throwaway PostgreSQL server (scripts/pg-test.sh,
# without syncs), stopped and removed afterwards: scripts/with-pg.sh COMMAND [ARG...]
set -u
dir=$(mktemp -d -t gavel-pg.XXXXXX)
cleanup() {
    "$(dirname "$0")/pg-test.sh" stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT
if GAVEL_TEST_PG=$(GAVEL_PG_FSYNC=off "$(dirname "$0")/pg-test.sh" start "$dir"); then
    export GAVEL_TEST_PG
else
    echo "with-pg: PostgreSQL could not be started; the tests that need it will fail" >&2
fi
"$@"
rc=$?
exit $rc
