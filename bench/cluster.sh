#!/usr/bin/env bash
# Cluster benchmark: three `gavel serve` nodes on one PostgreSQL (fsync on) and one Redis, on this
# machine, against one node on PostgreSQL and one on SQLite; writes bench/results/cluster.md (raw
# JSON and each node's /metrics in bench/results/raw/cluster-*).
#
#   a. throughput: durable accepted bids/s of the `throughput` scenario (bench/scenarios.sh) on the
#      cluster, on one node on PostgreSQL and on one node on SQLite; runs interleaved (cluster,
#      PostgreSQL, SQLite, cluster, ...), medians.
#   b. many: fan-out p99 of the `many` scenario (10,000 WebSockets, 1,000 bids/s) spread over the
#      cluster's nodes, against one node on PostgreSQL; interleaved, medians.
#   c. failover: bench/failover.py, owner killed with SIGKILL -> first accepted bid on another
#      node, with --lease-ms 1500 and with the server's default (5000).
#
# gavel-load gets every node's --url and --server-pid: auction a is created through node a % N
# (its owner), member m of auction a connects and bids through node (a + m) % N, so most bids are
# forwarded to the owner. One PostgreSQL server (scripts/pg-test.sh, fsync on) serves every
# PostgreSQL run, each on a fresh schema; the cluster's nodes share their run's schema and one
# Redis (no persistence). Each run starts fresh nodes with fresh data directories.
#
# Environment:
#   CLUSTER_RUNS=3               runs of each side of a and b (medians of 3)
#   AUCTION_DURATION=15          seconds of bidding
#   CLUSTER_NODES=3              nodes of the cluster
#   CLUSTER_PARTS="throughput many failover"   which parts
#   CLUSTER_MANY_AUCTIONS=1000   auctions of `many` (10 WebSockets each; fewer for a trial)
#   FAILOVER_TRIALS=10           trials per lease
#   FAILOVER_LEASES="1500 5000"  the --lease-ms of each failover series (5000: the default)
#   GAVEL_BIN=build/gavel  LOAD_BIN=build/gavel-load  BENCH_OUT=bench/results
#   CLUSTER_REPORT_NAME=cluster.md
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${GAVEL_BIN:-build/gavel}
LOAD=${LOAD_BIN:-build/gavel-load}
OUT=${BENCH_OUT:-bench/results}
RUNS=${CLUSTER_RUNS:-3}
DURATION=${AUCTION_DURATION:-15}
NODES=${CLUSTER_NODES:-3}
PARTS=${CLUSTER_PARTS:-throughput many failover}
MANY_AUCTIONS=${CLUSTER_MANY_AUCTIONS:-1000}
TRIALS=${FAILOVER_TRIALS:-10}
LEASES=${FAILOVER_LEASES:-1500 5000}
REPORT=$OUT/${CLUSTER_REPORT_NAME:-cluster.md}
SOAK_MIN=30 # bench/scenarios.sh wants it (the soak is not run here)
PYTHON=/usr/bin/python3
RAW=$OUT/raw
NAME=cluster-bench

for f in "$BIN" "$LOAD"; do
    [ -x "$f" ] || { echo "$NAME: $f not built (make build/gavel build/gavel-load)" >&2; exit 1; }
done
for c in curl psql redis-server redis-cli; do
    command -v "$c" >/dev/null || { echo "$NAME: $c is not installed (scripts/deps.sh)" >&2; exit 1; }
done
"$PYTHON" -c 'import requests' 2>/dev/null ||
    { echo "$NAME: $PYTHON lacks requests (apt-get install python3-requests)" >&2; exit 1; }
[[ $NODES =~ ^[2-8]$ ]] || { echo "$NAME: CLUSTER_NODES must be 2 to 8" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ && $MANY_AUCTIONS =~ ^[1-9][0-9]*$ && $TRIALS =~ ^[1-9][0-9]*$ ]] ||
    { echo "$NAME: CLUSTER_RUNS, CLUSTER_MANY_AUCTIONS and FAILOVER_TRIALS are counts" >&2; exit 2; }

# 10,000 WebSockets need 10,000+ descriptors on each side: ask for 65536, settle for the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

has_part() { [[ " $PARTS " == *" $1 "* ]]; }

# The expected duration, from short runs on the 2-core development machine (a little more, for
# safety): a throughput run is its bidding plus ~8 s (the nodes' start, setup of 800 users, drain,
# /metrics, stop); a `many` run its bidding plus ~10 s plus ~40 ms per auction of setup (10
# sign-ins, joins and WebSocket handshakes each, every write a durable commit: 100 auctions took
# ~5 s, 300 ~11 s); a failover trial ~1 s more than the lease (the client's 1 s tries) plus ~2 s
# (a league, its auction, three bids, the node's restart), and ~15 s per cluster.
expected_s=0
describe=()
if has_part throughput; then
    t=$((RUNS * 3 * (DURATION + 8)))
    expected_s=$((expected_s + t))
    describe+=("throughput $((RUNS * 3)) runs ~$((DURATION + 8)) s")
fi
if has_part many; then
    per=$((DURATION + 10 + MANY_AUCTIONS * 40 / 1000))
    t=$((RUNS * 2 * per))
    expected_s=$((expected_s + t))
    describe+=("many $((RUNS * 2)) runs ~$per s")
fi
if has_part failover; then
    t=0
    for l in $LEASES; do t=$((t + 15 + TRIALS * (l / 1000 + 3))); done
    expected_s=$((expected_s + t))
    describe+=("failover $(wc -w <<<"$LEASES") x $TRIALS trials ~$t s")
fi
joined=$(IFS=';'; echo "${describe[*]}")
echo "$NAME: expected duration about $(((expected_s + 59) / 60)) minutes (${joined//;/; })" >&2
t_bench0=$(date +%s)

# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/scenarios.sh
source bench/scenarios.sh
mkdir -p "$RAW"

# ---- PostgreSQL and Redis, for every run ------------------------------------------------------
# As root, PostgreSQL's files belong to the user postgres, who cannot enter $TMP (mode 700): its
# directory is a temporary one of its own.
PG_DIR=$(mktemp -d -t gavel-cluster-bench-pg.XXXXXX)
REDIS_PID=
NODE_PIDS=()
cluster_bench_cleanup() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -z "$REDIS_PID" ] || kill -TERM "$REDIS_PID" 2>/dev/null || true
    scripts/pg-test.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    bench_cleanup
}
trap cluster_bench_cleanup EXIT

PG_URI=$(GAVEL_PG_FSYNC=on scripts/pg-test.sh start "$PG_DIR")
PG_LOG=$PG_DIR/server.log
REDIS_PORT=$($PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
mkdir -p "$TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP/redis" \
    --pidfile "$TMP/redis/redis.pid" --logfile "$TMP/redis/redis.log" --daemonize yes >/dev/null
for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] ||
    { cat "$TMP/redis/redis.log" >&2; echo "$NAME: Redis did not start" >&2; exit 1; }
REDIS_PID=$(cat "$TMP/redis/redis.pid")
echo "$NAME: PostgreSQL $PG_URI (fsync on), Redis $REDIS_URL" >&2

pg_count() { grep -c -- "$1" "$PG_LOG" 2>/dev/null || true; }

# ---- one run ------------------------------------------------------------------------------------
URLS=()
PIDS=()

# start_cluster TAG SCENARIO: NODES nodes on a fresh schema, each with its data directory; sets
# URLS, PIDS (and NODE_PIDS, which the cleanup stops). Every node answers /api/health with Redis
# "ok" before it returns.
start_cluster() {
    local tag=$1 scn=$2 k store base=$TMP/$1 args
    mkdir -p "$base"
    store=$(BENCH_STORE=$PG_URI store_args "$base")
    URLS=() PIDS=()
    for ((k = 1; k <= NODES; k++)); do
        mkdir -p "$base/node$k"
        args=$(BENCH_STORE='' scenario_server_args "$base/node$k" "$scn")
        # shellcheck disable=SC2086 # lists of words
        server_launch "$tag-node$k" "$TMP/stderr-$tag-node$k" $args $store --node-id "node$k" \
            --redis "$REDIS_URL"
        URLS+=("$URL") PIDS+=("$SERVER_PID") NODE_PIDS+=("$SERVER_PID")
        SERVER_PID= # stopped by stop_nodes (or the cleanup), not by lib.sh
        CLUSTER_CMD="${SERVER_CMD//$TMP/\$TMP}"
    done
    for url in "${URLS[@]}"; do
        for _ in $(seq 1 100); do
            curl -fsS "$url/api/health" 2>/dev/null | grep -q '"redis":"ok"' && continue 2
            sleep 0.1
        done
        echo "$NAME: $url never had Redis ok in /api/health" >&2
        exit 1
    done
}

# start_single TAG SCENARIO STORE: one node (STORE: a postgresql:// URI, or empty for SQLite)
start_single() {
    local data=$TMP/$1
    mkdir -p "$data"
    # shellcheck disable=SC2046
    server_launch "$1" "$TMP/stderr-$1" $(BENCH_STORE=$3 scenario_server_args "$data" "$2")
    URLS=("$URL") PIDS=("$SERVER_PID") NODE_PIDS+=("$SERVER_PID")
    SERVER_PID=
    if [ -n "$3" ]; then
        PG_CMD="${SERVER_CMD//$TMP/\$TMP}"
    else
        SQLITE_CMD="${SERVER_CMD//$TMP/\$TMP}"
    fi
}

# stop_nodes: SIGTERM to each of PIDS at once, then waits; NODES_RC is the first nonzero exit
stop_nodes() {
    local pid rc
    NODES_RC=0
    for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
    for pid in "${PIDS[@]}"; do
        rc=0
        wait "$pid" || rc=$?
        [ "$NODES_RC" != 0 ] || NODES_RC=$rc
    done
    local keep=()
    for pid in "${NODE_PIDS[@]}"; do [[ " ${PIDS[*]} " == *" $pid "* ]] || keep+=("$pid"); done
    NODE_PIDS=("${keep[@]}")
}

FAILED=
: >"$TMP/runs"
: >"$TMP/commands"

# run_side SCENARIO SIDE N: one run of SCENARIO on SIDE (cluster, pg or sqlite)
run_side() {
    local scn=$1 side=$2 i=$3 tag=$1-$2-$3 load_args k lrc=0 dl0 err0 steal0 steal_s
    load_args=$(scenario_args "$scn")
    [ "$scn" != many ] || load_args=${load_args/--auctions 1000 /--auctions $MANY_AUCTIONS }
    case $side in
    cluster) start_cluster "$tag" "$scn" ;;
    pg) start_single "$tag" "$scn" "$PG_URI" ;;
    sqlite) start_single "$tag" "$scn" "" ;;
    esac
    local json=$RAW/cluster-$tag.json url_args=()
    for ((k = 0; k < ${#URLS[@]}; k++)); do
        url_args+=(--url "${URLS[$k]}" --server-pid "${PIDS[$k]}")
    done
    echo "$NAME: $scn on $side, run $i/$RUNS ($(($(date +%s) - t_bench0)) s in)" >&2
    dl0=$(pg_count 'deadlock detected')
    err0=$(pg_count ' ERROR: ')
    steal0=$(steal_ticks)
    # shellcheck disable=SC2086
    "$LOAD" "${url_args[@]}" $load_args --label "$scn" --json "$json" --email-prefix "c$RANDOM$tag" \
        >"$TMP/row" 2>"$TMP/load-stderr" || lrc=$?
    steal_s=$(awk -v a="$steal0" -v b="$(steal_ticks)" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", (b - a) / hz }')
    grep -v ' bidding: ' "$TMP/load-stderr" | sed 's/^/    /' >&2 || true
    cat "$TMP/row" >&2
    local metrics=()
    for ((k = 0; k < ${#URLS[@]}; k++)); do
        metrics+=("$RAW/cluster-$tag-node$k.metrics.txt")
        curl -fsS -m 10 -o "${metrics[$k]}" "${URLS[$k]}/metrics" 2>/dev/null || : >"${metrics[$k]}"
    done
    stop_nodes
    local dl=$(($(pg_count 'deadlock detected') - dl0)) errs=$(($(pg_count ' ERROR: ') - err0))
    [ "$side" != sqlite ] || dl=- errs=-
    echo "$scn $side $i $json $lrc $NODES_RC $steal_s $dl $errs" \
        "$(IFS=,; echo "${metrics[*]}")" >>"$TMP/runs"
    [ "$NODES_RC" = 0 ] || echo "$NAME: a node exited $NODES_RC after SIGTERM (want 0)" >&2
    [ "$lrc" = 0 ] || echo "$NAME: gavel-load exited $lrc" >&2
    [ "$NODES_RC" = 0 ] && [ "$lrc" = 0 ] || FAILED="$FAILED $tag"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    echo "$NAME: warning: the machine is busy (load $LOAD_START); numbers will be noisy" >&2

for scn in throughput many; do
    has_part "$scn" || continue
    sides="cluster pg sqlite"
    [ "$scn" = throughput ] || sides="cluster pg"
    load_args=$(scenario_args "$scn")
    [ "$scn" != many ] || load_args=${load_args/--auctions 1000 /--auctions $MANY_AUCTIONS }
    echo "$scn|$load_args" >>"$TMP/commands"
    for i in $(seq 1 "$RUNS"); do
        for side in $sides; do run_side "$scn" "$side" "$i"; done
    done
done

: >"$TMP/failover"
if has_part failover; then
    for lease in $LEASES; do
        json=$RAW/cluster-failover-$lease.json
        echo "$NAME: failover, --lease-ms $lease, $TRIALS trials ($(($(date +%s) - t_bench0)) s in)" >&2
        frc=0
        GAVEL_BIN=$BIN "$PYTHON" bench/failover.py --trials "$TRIALS" --lease-ms "$lease" \
            --nodes "$NODES" --json "$json" >&2 || frc=$?
        echo "$lease $json $frc" >>"$TMP/failover"
        [ "$frc" = 0 ] || FAILED="$FAILED failover-$lease"
    done
fi

pg_show() { psql -XAtqc "SHOW $1" "$PG_URI" 2>/dev/null || echo '?'; }
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
    echo "elapsed_s=$(($(date +%s) - t_bench0))"
    echo "expected_s=$expected_s"
    echo "runs=$RUNS"
    echo "duration=$DURATION"
    echo "nodes=$NODES"
    echo "trials=$TRIALS"
    echo "postgres=$(pg_show server_version), fsync $(pg_show fsync), synchronous_commit" \
        "$(pg_show synchronous_commit), deadlock_timeout $(pg_show deadlock_timeout)"
    echo "redis=$(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
    echo "cluster_cmd=${CLUSTER_CMD:-}"
    echo "pg_cmd=${PG_CMD:-}"
    echo "sqlite_cmd=${SQLITE_CMD:-}"
} >"$TMP/machine"
"$PYTHON" bench/cluster_report.py "$TMP/machine" "$TMP/commands" "$TMP/runs" "$TMP/failover" \
    >"$REPORT"
echo "$NAME: wrote $REPORT in $(($(date +%s) - t_bench0)) s (expected about $expected_s s)" >&2
sed -n '/^## Summary/,/^## /p' "$REPORT" | sed '$d'
[ -z "$FAILED" ] || { echo "$NAME: failed runs:$FAILED" >&2; exit 1; }
