#!/bin/sh
# A throwaway PostgreSQL server on a free loopback port, for the tests and benchmarks:
#   scripts/pg-test.sh start DIR   makes a cluster in DIR (initdb), starts it and prints its URI
#   scripts/pg-test.sh stop DIR    stops it (the caller removes DIR)
#   scripts/pg-test.sh restart DIR starts a stopped one again, on its port (failure tests)
# initdb refuses to run as root: as root, the cluster belongs to the unprivileged "postgres" user
# Debian's package creates. GAVEL_PG_FSYNC=off skips the server's syncs (tests: nothing here
# survives a machine crash anyway; benchmarks keep the default, on).
set -eu

[ $# -eq 2 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
cmd=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-test: no PostgreSQL server (scripts/deps.sh installs it)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# server_start: pg_ctl start of DIR's cluster with the port and fsync recorded in DIR/options.
server_start() {
    local port fsync
    read -r port fsync <"$dir/options"
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=$fsync" \
        start >/dev/null; then
        cat "$dir/server.log" >&2
        exit 1
    fi
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U gavel -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port ${GAVEL_PG_FSYNC:-on}" >"$dir/options"
    server_start
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U gavel gavel_test
    echo "postgresql://gavel@127.0.0.1:$port/gavel_test"
    ;;
restart)
    server_start
    ;;
stop)
    [ ! -d "$dir/data" ] || as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    sed -n '2,8p' "$0" >&2
    exit 2
    ;;
esac
