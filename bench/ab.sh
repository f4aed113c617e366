#!/usr/bin/env bash
# A/B of two server binaries on one live-auction scenario, runs interleaved (A, B, A, B, ...) so
# that the machine's drift (other tenants, the page cache) falls on both alike; each run on a
# fresh data directory, as bench/auction.sh does. Prints each run's gavel-load row and the
# medians of accepted bids/s, round trip p99, fan-out p99 and the longest loop turn of the bidding,
# with the CPU time the hypervisor took during each run (a few tenths of a second or more: the
# host, not only the two binaries, shaped that run).
#
#   bench/ab.sh SCENARIO RUNS BIN_A BIN_B      e.g. bench/ab.sh seed 5 /tmp/gavel-before build/gavel
#
# Environment: AUCTION_DURATION=15 (seconds of bidding for the duration-bound scenarios),
# LOAD_BIN=build/gavel-load, STORE_A / STORE_B (a postgresql:// URI: that side's store is a fresh
# schema there, e.g. from scripts/pg-test.sh; unset: SQLite in the run's data directory).
set -euo pipefail

cd "$(dirname "$0")/.."
[ $# -eq 4 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
SCN=$1 RUNS=$2 BIN_A=$3 BIN_B=$4
LOAD=${LOAD_BIN:-build/gavel-load}
DURATION=${AUCTION_DURATION:-15}
SOAK_MIN=30
PYTHON=/usr/bin/python3
NAME=ab
BIN=$BIN_A
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/scenarios.sh
source bench/scenarios.sh
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
load_args=$(scenario_args "$SCN")

echo "A: $BIN_A"
echo "B: $BIN_B"
echo "gavel-load $load_args"
for i in $(seq 1 "$RUNS"); do
    for side in A B; do
        if [ $side = A ]; then BIN=$BIN_A; else BIN=$BIN_B; fi
        # STORE_A, STORE_B: a postgresql:// URI puts that side's store in PostgreSQL
        if [ $side = A ]; then BENCH_STORE=${STORE_A:-}; else BENCH_STORE=${STORE_B:-}; fi
        data=$TMP/data-$side-$i
        mkdir -p "$data"
        # shellcheck disable=SC2046
        server_launch "$side$i" "$TMP/stderr-$side$i" $(scenario_server_args "$data" "$SCN")
        steal0=$(steal_ticks)
        # shellcheck disable=SC2086
        "$LOAD" --url "$URL" --server-pid "$SERVER_PID" $load_args --label "$SCN" \
            --json "$TMP/$side-$i.json" --email-prefix "ab$side$i" >"$TMP/row" 2>/dev/null
        echo $(($(steal_ticks) - steal0)) >"$TMP/$side-$i.steal"
        server_stop
        echo "$side $i $(cat "$TMP/row")"
    done
done
"$PYTHON" - "$TMP" "$RUNS" <<'PY'
import json, os, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
def get(d, path):
    for k in path.split("."):
        d = d.get(k, {}) if isinstance(d, dict) else {}
    return d if isinstance(d, (int, float)) else float("nan")
def le(d, key):
    v = d.get("bidding", {}).get(key)
    return float("inf") if v == "+Inf" else v if isinstance(v, (int, float)) else float("nan")
hz = os.sysconf("SC_CLK_TCK")
print("| side | accepted bids/s | round trip p99 ms | fan-out p99 ms | longest loop turn ms "
      "(its CPU), bucket bound | CPU stolen by the host, s (each run) |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
for side in "AB":
    ds = [json.load(open(f"{tmp}/{side}-{i}.json")) for i in range(1, runs + 1)]
    cols = [statistics.median(get(d, k) for d in ds)
            for k in ("throughput.acceptedPerS", "rttMs.p99", "fanoutMs.p99")]
    turn = statistics.median(le(d, "loopTurnMaxLeMs") for d in ds)
    cpu = statistics.median(le(d, "loopTurnCpuMaxLeMs") for d in ds)
    steal = ", ".join(f"{int(open(f'{tmp}/{side}-{i}.steal').read()) / hz:.2f}"
                      for i in range(1, runs + 1))
    print(f"| {side} | {cols[0]:,.0f} | {cols[1]:.3f} | {cols[2]:.3f} | <= {turn:g} (<= {cpu:g}) "
          f"| {steal} |")
PY
