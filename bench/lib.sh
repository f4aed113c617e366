#!/bin/bash
# Shared by the benchmark scripts: a temporary directory cleaned up on exit (with the server in
# it stopped), starting gavel on a free port and waiting until it is ready, stopping it, and the
# CPU time stolen by the hypervisor.
# Callers set BIN (the gavel binary) and NAME (a prefix for messages) before sourcing.

TMP=$(mktemp -d -t "gavel-$NAME.XXXXXX")
SERVER_PID=
bench_cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap bench_cleanup EXIT

# server_launch TAG ERRFILE ARGS...: starts "$BIN ARGS..." with stdout in $TMP/stdout-TAG and
# stderr in ERRFILE; sets SERVER_PID, SERVER_CMD, PORT and URL once /api/ready answers 200.
server_launch() {
    local tag=$1 err=$2 i line=
    shift 2
    SERVER_CMD="$BIN $*"
    "$BIN" "$@" >"$TMP/stdout-$tag" 2>"$err" &
    SERVER_PID=$!
    for i in $(seq 1 100); do
        line=$(head -n1 "$TMP/stdout-$tag" 2>/dev/null || true)
        [ -n "$line" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "$NAME: gavel exited at start: $SERVER_CMD" >&2
            [ -f "$err" ] && cat "$err" >&2
            exit 1
        fi
        sleep 0.1
    done
    URL=$(sed -n 's|^gavel listening on \(http://127\.0\.0\.1:[0-9][0-9]*\)$|\1|p' <<<"$line")
    PORT=${URL##*:}
    [ -n "$URL" ] || { echo "$NAME: no URL in the first stdout line: '$line'" >&2; exit 1; }
    for i in $(seq 1 100); do
        curl -fsS -o /dev/null "$URL/api/ready" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$NAME: /api/ready never answered 200" >&2
    exit 1
}

# server_stop: SIGTERM and wait; sets SERVER_RC (a graceful stop is 0).
server_stop() {
    SERVER_RC=0
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || SERVER_RC=$?
    SERVER_PID=
}

# steal_ticks: CPU time the hypervisor gave to other guests so far, all CPUs (USER_HZ ticks).
steal_ticks() { awk '$1 == "cpu" { print $9 }' /proc/stat; }
