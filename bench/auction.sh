#!/usr/bin/env bash
# Live-auction benchmark (issues 6 and 13): runs build/gavel-load against a fresh build/gavel for
# each scenario and run, keeps the server's /metrics of the end of every run, and writes
# bench/results/auction.md (raw JSON in bench/results/raw/). The soak (not in the default list:
# make bench-soak) writes bench/results/soak.md and soak-summary.json, which auction.md's summary
# then quotes.
#
# Environment:
#   AUCTION_SCENARIOS="seed-paced seed many big throughput signin-storm throughput-stress seed-20"
#                             which scenarios (also: soak)
#   AUCTION_RUNS=3            runs per scenario (the issue asks for medians of 3)
#   AUCTION_RUNS_BIG=         runs for "many" and "big" when time is short (default AUCTION_RUNS)
#   AUCTION_DURATION=30       seconds of bidding for the duration-bound scenarios
#   AUCTION_SOAK_MINUTES=30   the soak's length (windows of 2 s per minute: 60 s for 30 minutes)
#   AUCTION_RUNS_SOAK=1       runs of the soak
#   AUCTION_REPORT_NAME=      the report's file name in BENCH_OUT (auction.md; soak.md when the
#                             only scenario is soak)
#   GAVEL_BIN=build/gavel  LOAD_BIN=build/gavel-load  BENCH_OUT=bench/results
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${GAVEL_BIN:-build/gavel}
LOAD=${LOAD_BIN:-build/gavel-load}
OUT=${BENCH_OUT:-bench/results}
RUNS=${AUCTION_RUNS:-3}
RUNS_BIG=${AUCTION_RUNS_BIG:-$RUNS}
DURATION=${AUCTION_DURATION:-30}
SCENARIOS=${AUCTION_SCENARIOS:-seed-paced seed many big throughput signin-storm throughput-stress seed-20}
SOAK_MIN=${AUCTION_SOAK_MINUTES:-30}
PYTHON=/usr/bin/python3
RAW=$OUT/raw
if [ -n "${AUCTION_REPORT_NAME:-}" ]; then
    REPORT=$OUT/$AUCTION_REPORT_NAME
elif [ "$(xargs <<<"$SCENARIOS")" = soak ]; then
    REPORT=$OUT/soak.md
else
    REPORT=$OUT/auction.md
fi
SOAK_SUMMARY=$OUT/soak-summary.json

for f in "$BIN" "$LOAD"; do
    [ -x "$f" ] || { echo "auction-bench: $f not built (make build/gavel build/gavel-load)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "auction-bench: curl is not installed" >&2; exit 1; }

# 10,000 WebSockets need 10,000+ descriptors on each side: ask for 65536, settle for the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

NAME=auction-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
mkdir -p "$RAW"
FAILED= # runs whose server or load generator failed

# scenario_args, server_extra: bench/scenarios.sh (shared with bench/ab.sh)
# shellcheck source=bench/scenarios.sh
source "$(dirname "$0")/scenarios.sh"

# start_server N SCENARIO: a fresh data directory; sets SERVER_PID and URL.
start_server() {
    local data=$TMP/data-$1
    mkdir -p "$data"
    # shellcheck disable=SC2046
    server_launch "$1" "$TMP/stderr-$1" $(scenario_server_args "$data" "$2")
}

# stop_server: SIGTERM; sets SERVER_RC (the issue wants 0).
stop_server() { server_stop; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    echo "auction-bench: warning: the machine is busy (load $LOAD_START); numbers will be noisy" >&2
: >"$TMP/runs"
: >"$TMP/commands"
n=0
for scn in $SCENARIOS; do
    load_args=$(scenario_args "$scn")
    runs=$RUNS
    case $scn in many | big) runs=$RUNS_BIG ;; soak) runs=${AUCTION_RUNS_SOAK:-1} ;; esac
    extra=$(server_extra "$scn")
    echo "- $scn ($runs runs${extra:+; server also $extra}): \`gavel-load --url URL --server-pid PID $load_args --label $scn --json FILE\`" >>"$TMP/commands"
    for i in $(seq 1 "$runs"); do
        n=$((n + 1))
        start_server "$n" "$scn"
        json=$RAW/auction-$scn-$i.json
        metrics=$RAW/auction-$scn-$i.metrics.txt
        rm -f "$json" "$metrics"
        echo "auction-bench: $scn run $i/$runs" >&2
        lrc=0
        steal0=$(steal_ticks)
        # shellcheck disable=SC2086
        "$LOAD" --url "$URL" --server-pid "$SERVER_PID" $load_args --label "$scn" --json "$json" \
            --email-prefix "$scn$i" >"$TMP/row" 2>"$TMP/load-stderr" || lrc=$?
        steal_s=$(awk -v a="$steal0" -v b="$(steal_ticks)" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.2f", (b - a) / hz }')
        grep -v ' bidding: ' "$TMP/load-stderr" | sed 's/^/    /' >&2 || true
        cat "$TMP/row" >&2
        # the server's own view of the run (loop turns, commits, output cutoffs); absent metrics
        # are reported as n/a
        curl -fsS -m 10 -o "$metrics" "$URL/metrics" 2>/dev/null || : >"$metrics"
        "$PYTHON" bench/auction_report.py --merge-metrics "$json" "$metrics" || true
        stop_server
        src=$SERVER_RC
        echo "$scn $i $json $lrc $src $steal_s" >>"$TMP/runs"
        [ "$src" = 0 ] || echo "auction-bench: gavel exited $src after SIGTERM (want 0)" >&2
        [ "$lrc" = 0 ] || echo "auction-bench: gavel-load exited $lrc" >&2
        [ "$src" = 0 ] && [ "$lrc" = 0 ] || FAILED="$FAILED $scn-$i"
    done
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
    echo "cpus=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "ram=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -sr)"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$commit"
    echo "load_start=$LOAD_START"
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "nofile=$NOFILE"
    echo "server_cmd=${SERVER_CMD//$TMP/\$TMP}"
    echo "runs=$RUNS"
    echo "runs_big=$RUNS_BIG"
} >"$TMP/machine"
"$PYTHON" bench/auction_report.py "$TMP/machine" "$TMP/commands" "$TMP/runs" "$SOAK_SUMMARY" \
    >"$REPORT"
echo "auction-bench: wrote $REPORT" >&2
sed -n '/^## Summary/,/^## Delivery/p' "$REPORT" | sed '$d'
# every run is reported; a failed one (server or load generator) still fails the bench
[ -z "${FAILED:-}" ] || { echo "auction-bench: failed runs:$FAILED" >&2; exit 1; }
