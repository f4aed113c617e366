#!/usr/bin/env bash
# HTTP benchmark: runs wrk against /api/health and a static file on a real build/gavel, without
# and with the access log, and writes bench/results/http.md (raw wrk output in bench/results/raw).
#
# Environment (defaults are the issue's target settings):
#   BENCH_THREADS=2 BENCH_CONNS=64 BENCH_DURATION=10s BENCH_RUNS=3 BENCH_WARMUP=2s
#   GAVEL_BIN=build/gavel  BENCH_OUT=bench/results
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${GAVEL_BIN:-build/gavel}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
DURATION=${BENCH_DURATION:-10s}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2s}
OUT=${BENCH_OUT:-bench/results}
RAW=$OUT/raw
REPORT=$OUT/http.md

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (make deps)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (make build/gavel)" >&2; exit 1; }

NAME=bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
mkdir -p "$RAW"

# ---- the web directory: a ~2 KiB index.html and a ~20 KiB hashed asset ------------------------
make_web() {
    local web=$1 i
    mkdir -p "$web/assets"
    {
        printf '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        printf '<title>Gavel bench</title><script type="module" src="/assets/app-1a2b3c4d.js">'
        printf '</script></head>\n<body><div id="app">\n'
        for i in $(seq 1 40); do printf '<p class="row">bench filler line %02d ........</p>\n' "$i"; done
        printf '</div></body></html>\n'
    } >"$web/index.html"
    {
        for i in $(seq 1 320); do
            printf 'export const value%03d = "%s";\n' "$i" "abcdefghijklmnopqrstuvwxyz0123456789"
        done
    } >"$web/assets/app-1a2b3c4d.js"
}

# ---- server lifecycle ---------------------------------------------------------------------------
# start_server LOGMODE: starts gavel in production mode (mail settings given, nothing is
# mailed), with or without the access log; sets SERVER_PID and PORT.
start_server() {
    local mode=$1 data=$TMP/data-$1 err=/dev/null
    local -a args=(serve --listen 127.0.0.1:0 --data "$data" --web "$TMP/web" --rate-limit-scale 0
        --smtp-url smtp://127.0.0.1:9 --mail-from bench@localhost --public-url http://127.0.0.1)
    if [ "$mode" = nolog ]; then
        args+=(--access-log=0)
        err=$TMP/stderr-$mode # nearly silent without the access log: kept for diagnostics
    fi
    mkdir -p "$data"
    server_launch "$mode" "$err" "${args[@]}"
}

# stop_server: SIGTERM, then requires exit status 0.
stop_server() {
    server_stop
    [ "$SERVER_RC" -eq 0 ] || { echo "bench: gavel exited $SERVER_RC after SIGTERM (want 0)" >&2; exit 1; }
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

# ---- wrk and its output -------------------------------------------------------------------------
# to_ms VALUE: wrk latency ("812.00us", "1.23ms", "1.02s") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000;
        else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

# parse_wrk FILE: prints "req_s p50 p90 p99 non2xx errors" (latencies in ms).
parse_wrk() {
    local f=$1 rps p50 p90 p99 bad errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")
    p90=$(to_ms "$(awk '$1 == "90%" {print $2}' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
    errs=$(awk '/Socket errors:/ {s = 0; for (i = 4; i <= NF; i += 2) s += $i; print s}' "$f")
    echo "${rps:-0} $p50 $p90 $p99 ${bad:-0} ${errs:-0}"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

WRK_OPTS="-t$THREADS -c$CONNS -d$DURATION --latency"

# bench_scenario MODE NAME PATH: runs wrk RUNS times, appends a markdown table to $TMP/tables.
bench_scenario() {
    local mode=$1 name=$2 path=$3 url i f row
    url="http://127.0.0.1:$PORT$path"
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null
    : >"$TMP/rows"
    for i in $(seq 1 "$RUNS"); do
        f=$RAW/$mode-$name-$i.txt
        # shellcheck disable=SC2086
        wrk $WRK_OPTS "$url" >"$f"
        row=$(parse_wrk "$f")
        echo "$row" >>"$TMP/rows"
        read -r _ _ _ _ bad _ <<<"$row"
        [ "$bad" = 0 ] || { FAILED="$FAILED $mode-$name-$i"; echo "bench: $bad non-2xx answers" >&2; }
        echo "bench: $mode $name run $i: $row (req/s p50 p90 p99 non2xx sockerr)" >&2
    done
    {
        echo
        echo "### $name — access log $( [ "$mode" = nolog ] && echo off || echo on )"
        echo
        echo "\`wrk $WRK_OPTS http://127.0.0.1:PORT$path\`"
        echo
        echo "| run | req/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        i=0
        while read -r rps p50 p90 p99 bad errs; do
            i=$((i + 1))
            echo "| $i | $rps | $p50 | $p90 | $p99 | $bad | $errs |"
        done <"$TMP/rows"
        printf '| **median** | **%s** | **%s** | **%s** | **%s** | | |\n' \
            "$(cut -d' ' -f1 "$TMP/rows" | median)" "$(cut -d' ' -f2 "$TMP/rows" | median)" \
            "$(cut -d' ' -f3 "$TMP/rows" | median)" "$(cut -d' ' -f4 "$TMP/rows" | median)"
    } >>"$TMP/tables"
    echo "$mode $name $(cut -d' ' -f1 "$TMP/rows" | median) $(cut -d' ' -f2 "$TMP/rows" | median)" \
        "$(cut -d' ' -f4 "$TMP/rows" | median)" >>"$TMP/summary"
}

# ---- run ------------------------------------------------------------------------------------------
# Other work on the machine distorts every number: record the load and say so when it is high.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    echo "bench: warning: the machine is busy (load $LOAD_START); numbers will be low and noisy" >&2
FAILED= # runs with non-2xx answers: reported, then the bench exits 1
make_web "$TMP/web"
: >"$TMP/tables"
: >"$TMP/summary"
: >"$TMP/commands"
: >"$TMP/rss"
for mode in nolog log; do
    start_server "$mode"
    echo "- access log $( [ "$mode" = nolog ] && echo off || echo on ): \`${SERVER_CMD//$TMP/\$TMP}\`" \
        "(stdout read for the port; stderr to /dev/null)" >>"$TMP/commands"
    bench_scenario "$mode" health /api/health
    bench_scenario "$mode" static /assets/app-1a2b3c4d.js
    echo "$mode $(rss_kib)" >>"$TMP/rss"
    stop_server
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
    echo "# HTTP benchmark"
    echo
    echo "Written by \`make bench\` (bench/run.sh). Raw wrk output: \`bench/results/raw/\`."
    echo
    echo "## Machine"
    echo
    echo "- CPUs: $(nproc) ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))"
    echo "- RAM: $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "- kernel: $(uname -sr)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- wrk: $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "- load average (1, 5, 15 min) before the runs: $LOAD_START"
    echo
    echo "wrk and the server share the same $(nproc) CPUs; a load above ~0.5 before the run means"
    echo "other work was competing for them."
    echo
    echo "## Commands"
    echo
    cat "$TMP/commands"
    echo "- web dir: \`index.html\` ($(stat -c %s "$TMP/web/index.html") B) and" \
        "\`assets/app-1a2b3c4d.js\` ($(stat -c %s "$TMP/web/assets/app-1a2b3c4d.js") B)"
    echo "- each scenario: a ${WARMUP} warm-up (not recorded), then $RUNS runs of" \
        "\`wrk $WRK_OPTS URL\`"
    echo
    echo "## Summary (medians of $RUNS runs)"
    echo
    echo "| scenario | access log | req/s | p50 ms | p99 ms |"
    echo "| --- | --- | ---: | ---: | ---: |"
    while read -r mode name rps p50 p99; do
        echo "| $name | $( [ "$mode" = nolog ] && echo off || echo on ) | $rps | $p50 | $p99 |"
    done <"$TMP/summary"
    echo
    echo "Target (issue 2): /api/health ≥ 40,000 req/s and p99 < 5 ms."
    echo
    echo "## Runs"
    cat "$TMP/tables"
    echo
    echo "## Server memory"
    echo
    while read -r mode kib; do
        echo "- RSS after the runs, access log $( [ "$mode" = nolog ] && echo off || echo on ):" \
            "$kib KiB (VmRSS)"
    done <"$TMP/rss"
    echo
    echo "The server exited 0 on SIGTERM after each set of runs."
} >"$REPORT"
echo "bench: wrote $REPORT" >&2
sed -n '/^## Summary/,/^Target/p' "$REPORT"
[ -z "$FAILED" ] || { echo "bench: failed runs:$FAILED" >&2; exit 1; }
