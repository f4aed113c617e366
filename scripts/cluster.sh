#!/bin/bash
# A Gavel cluster on one machine: a throwaway PostgreSQL, a Redis and N nodes on loopback.
#   scripts/cluster.sh start DIR [N]  starts PostgreSQL (scripts/pg-test.sh, in DIR/pg), Redis
#                                     (DIR/redis) and N `gavel serve` nodes (default 3, data in
#                                     DIR/node1 ...), waits until each answers /api/health 200,
#                                     and writes DIR/cluster.env (URLs, ports, pids; sh syntax)
#   scripts/cluster.sh stop DIR       stops the nodes (TERM, KILL after 15 s), Redis and
#                                     PostgreSQL; safe to run twice (the caller removes DIR)
#   scripts/cluster.sh status DIR     each process, and each node's /api/health; exit 0 when
#                                     everything runs and every node is healthy
# Environment: GAVEL_BIN (default build/gavel; relative to the checkout), CLUSTER_BASE_PORT (node
# K listens on BASE+K-1, e.g. 8081 for deploy/nginx-cluster.conf; default: free ports),
# CLUSTER_LEASE_MS (--lease-ms; default: the server's), CLUSTER_FLAGS (more `gavel serve` flags,
# e.g. --trust-proxy behind nginx). The nodes run with --dev --rate-limit-scale 0, as the
# integration tests' servers do: this is a cluster to try things on, not a production setup.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,15p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
n=${3:-3}
env_file=$dir/cluster.env
STOP_TIMEOUT=15 # longer than the server's own 10 s shutdown grace
START_TIMEOUT=60

die() { echo "cluster: $*" >&2; exit 1; }

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# alive PID PATTERN: PID runs and its command line contains PATTERN (a recycled pid is not ours)
alive() {
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# stop_pid PID PATTERN NAME: SIGCONT (a node frozen with SIGSTOP cannot act on TERM), TERM, then
# KILL after STOP_TIMEOUT seconds
stop_pid() {
    local pid=$1 pattern=$2 name=$3 i
    alive "$pid" "$pattern" || return 0
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        alive "$pid" "$pattern" || { echo "cluster: $name stopped"; return 0; }
        sleep 0.1
    done
    echo "cluster: $name (pid $pid) did not exit within $STOP_TIMEOUT s: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

# health URL: prints "CODE BODY" of GET URL/api/health ("000" when nothing answers)
health() {
    /usr/bin/python3 - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=5) as r:
        print(r.status, r.read().decode(errors="replace"))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(errors="replace"))
except OSError as e:
    print("000", e)
EOF
}

record() { # record NAME VALUE: one line of cluster.env, quoted for sh
    printf '%s=%q\n' "$1" "$2" >>"$env_file"
}

start_failed() { # the EXIT trap of start
    [ "$1" -ne 0 ] || return 0
    echo "cluster: start failed; stopping what started" >&2
    cmd_stop >&2
}

cmd_start() {
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number (got $n)"
    if [ -f "$env_file" ]; then
        # shellcheck disable=SC1090
        . "$env_file"
        if alive "${REDIS_PID:-}" redis-server || alive "${NODE1_PID:-}" "--data ${NODE1_DATA:-} "; then
            die "a cluster already runs in $dir: scripts/cluster.sh stop $dir first"
        fi
    fi
    local bin=${GAVEL_BIN:-build/gavel}
    [[ $bin == /* ]] || bin=$repo/$bin
    [ -x "$bin" ] || die "no gavel binary at $bin (make build/gavel, or set GAVEL_BIN)"
    command -v redis-server >/dev/null || die "no redis-server (scripts/deps.sh installs it)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    env_file=$dir/cluster.env
    : >"$env_file"
    # from here on a failure stops what was started
    trap 'start_failed $?' EXIT
    record CLUSTER_DIR "$dir"
    record CLUSTER_N "$n"
    record CLUSTER_BIN "$bin"

    # PostgreSQL. As root its files belong to the user postgres (scripts/pg-test.sh), who must be
    # able to reach DIR/pg; when DIR lies under a private directory, the cluster goes to a
    # temporary directory instead (removed by stop).
    local pg=$dir/pg pg_tmp=0
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir"; then
        pg=$(mktemp -d -t gavel-cluster-pg.XXXXXX)
        pg_tmp=1
    fi
    record PG_DIR "$pg"
    record PG_TMP "$pg_tmp"
    local pg_uri
    pg_uri=$(GAVEL_PG_FSYNC=${GAVEL_PG_FSYNC:-off} "$repo/scripts/pg-test.sh" start "$pg")
    record PG_URI "$pg_uri"
    echo "cluster: PostgreSQL $pg_uri"

    # Redis: no snapshots, no append-only file; everything in DIR/redis
    local redis_port redis_pid i
    redis_port=$(free_port)
    mkdir -p "$dir/redis"
    record REDIS_PORT "$redis_port"
    record REDIS_URL "redis://127.0.0.1:$redis_port"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" \
        --daemonize yes >/dev/null
    for ((i = 0; i < 100; i++)); do
        [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] || {
        cat "$dir/redis/redis.log" >&2
        die "Redis did not start on port $redis_port"
    }
    redis_pid=$(cat "$dir/redis/redis.pid")
    record REDIS_PID "$redis_pid"
    echo "cluster: Redis redis://127.0.0.1:$redis_port (pid $redis_pid)"

    # the nodes, without the caller's GAVEL_* variables (each is a flag of gavel's: a stray
    # GAVEL_STORE or GAVEL_LISTEN would change them); detached from this terminal's signals
    local unset_env=() k
    for k in $(compgen -e); do
        [[ $k != GAVEL_* ]] || unset_env+=(-u "$k")
    done
    local urls=""
    for ((k = 1; k <= n; k++)); do
        local data=$dir/node$k port=0
        [ -z "${CLUSTER_BASE_PORT:-}" ] || port=$((CLUSTER_BASE_PORT + k - 1))
        mkdir -p "$data"
        # shellcheck disable=SC2086 # CLUSTER_FLAGS is a list of words
        env "${unset_env[@]}" setsid "$bin" serve --listen "127.0.0.1:$port" --data "$data" \
            --store "$pg_uri" --node-id "node$k" --redis "redis://127.0.0.1:$redis_port" \
            ${CLUSTER_LEASE_MS:+--lease-ms "$CLUSTER_LEASE_MS"} \
            --dev --rate-limit-scale 0 ${CLUSTER_FLAGS:-} \
            </dev/null >"$dir/node$k.out" 2>"$dir/node$k.log" &
        local pid=$!
        record "NODE${k}_PID" "$pid"
        record "NODE${k}_DATA" "$data"
        record "NODE${k}_LOG" "$dir/node$k.log"
        # the port it prints: "gavel listening on http://127.0.0.1:PORT"
        local line="" t
        for ((t = 0; t < START_TIMEOUT * 10; t++)); do
            line=$(grep -m1 '^gavel listening on ' "$dir/node$k.out" 2>/dev/null || true)
            if [ -n "$line" ] || ! alive "$pid" "--data $data "; then break; fi
            sleep 0.1
        done
        [[ $line =~ ^gavel\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]] || {
            tail -n 40 "$dir/node$k.log" >&2
            die "node$k did not announce its port (got '$line')"
        }
        port=${BASH_REMATCH[1]}
        record "NODE${k}_PORT" "$port"
        record "NODE${k}_URL" "http://127.0.0.1:$port"
        urls="$urls${urls:+ }http://127.0.0.1:$port"
    done
    record NODE_URLS "$urls"

    # each node healthy (the database and Redis reached)
    for ((k = 1; k <= n; k++)); do
        local url answer=""
        url=$(echo "$urls" | cut -d' ' -f"$k")
        for ((t = 0; t < START_TIMEOUT * 10; t++)); do
            answer=$(health "$url")
            [ "${answer%% *}" != 200 ] || break
            sleep 0.1
        done
        [ "${answer%% *}" = 200 ] || {
            tail -n 40 "$dir/node$k.log" >&2
            die "node$k ($url) is not healthy: $answer"
        }
        echo "cluster: node$k $url"
    done
    echo "cluster: $n nodes up; settings in $env_file"
}

cmd_stop() {
    if [ ! -f "$env_file" ]; then
        echo "cluster: no cluster in $dir (no $env_file)"
        return 0
    fi
    local CLUSTER_N=0 REDIS_PID="" PG_DIR="" PG_TMP=0 k
    # shellcheck disable=SC1090
    . "$env_file"
    # the nodes first: their shutdown finishes in-flight commits, which needs the database
    for ((k = 1; k <= CLUSTER_N; k++)); do
        local pid_var=NODE${k}_PID data_var=NODE${k}_DATA
        stop_pid "${!pid_var:-}" "--data ${!data_var:-$dir/node$k} " "node$k" &
    done
    wait
    stop_pid "$REDIS_PID" redis-server Redis
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        "$repo/scripts/pg-test.sh" stop "$PG_DIR" && echo "cluster: PostgreSQL stopped"
    fi
    # a temporary directory of start's own (DIR itself is the caller's to remove)
    if [ "$PG_TMP" = 1 ] && [ -d "$PG_DIR" ] && [ ! -f "$PG_DIR/data/postmaster.pid" ]; then
        rm -rf "$PG_DIR"
    fi
    return 0
}

cmd_status() {
    [ -f "$env_file" ] || die "no cluster in $dir (no $env_file)"
    local CLUSTER_N=0 REDIS_PID="" REDIS_URL="" PG_DIR="" PG_URI="" ok=0 k
    # shellcheck disable=SC1090
    . "$env_file"
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
        alive "$(head -n1 "$PG_DIR/data/postmaster.pid")" postgres; then
        echo "postgresql running  $PG_URI"
    else
        echo "postgresql stopped  $PG_URI"
        ok=1
    fi
    if alive "$REDIS_PID" redis-server; then
        echo "redis      running  $REDIS_URL (pid $REDIS_PID)"
    else
        echo "redis      stopped  $REDIS_URL"
        ok=1
    fi
    for ((k = 1; k <= CLUSTER_N; k++)); do
        local pid_var=NODE${k}_PID data_var=NODE${k}_DATA url_var=NODE${k}_URL
        local pid=${!pid_var:-} url=${!url_var:-}
        if alive "$pid" "--data ${!data_var:-} "; then
            local state
            state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$pid/stat" 2>/dev/null || true)
            if [[ $state == T* ]]; then
                echo "node$k      stopped by a signal (SIGSTOP)  $url (pid $pid)"
                ok=1
                continue
            fi
            local answer
            answer=$(health "$url")
            echo "node$k      running  $url (pid $pid) health ${answer%% *}: ${answer#* }"
            [ "${answer%% *}" = 200 ] || ok=1
        else
            echo "node$k      not running  ${url:-(never started)}"
            ok=1
        fi
    done
    return $ok
}

case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) usage ;;
esac
