#!/usr/bin/env bash
# Backup benchmark (issue 14): fills a fresh database with >= 100,000 accepted bids, then runs
# 100 auctions bidding at a steady rate against a copy of it, without backups (baseline) and with
# `gavel backup` taken back to back during the bidding (--backup-method pages, then vacuum); every
# run's server is then killed with SIGKILL and its database checked (integrity, log replay, every
# acknowledged bid there); the last backup of each run is restored into a new directory (timed,
# checked, served). Writes bench/results/backup.md (raw JSON and backup logs in
# bench/results/raw/backup-*).
#
# Environment:
#   BACKUP_RUNS=3             runs of each scenario (the issue asks for medians of 3)
#   BACKUP_DURATION=20        seconds of bidding per run
#   BACKUP_RATE=1000          bids/s overall during the runs (100 auctions, one bid in flight each)
#   BACKUP_FILL_BIDS=100000   accepted bids in the database before the runs
#   BACKUP_FILL_SECONDS=15    the first fill round's length (later rounds: what is still missing)
#   BACKUP_SCENARIOS="baseline pages vacuum"
#                             also: pages-nice, vacuum-nice (the backup command under nice -n 19
#                             ionice -c 3), scheduled-pages, scheduled-vacuum (serve's own
#                             scheduled backups, --backup-every-s 1, instead of the command)
#   BACKUP_REPORT_NAME=backup.md
#   GAVEL_BIN=build/gavel  LOAD_BIN=build/gavel-load  BENCH_OUT=bench/results
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${GAVEL_BIN:-build/gavel}
LOAD=${LOAD_BIN:-build/gavel-load}
OUT=${BENCH_OUT:-bench/results}
RUNS=${BACKUP_RUNS:-3}
DURATION=${BACKUP_DURATION:-20}
RATE=${BACKUP_RATE:-1000}
FILL_BIDS=${BACKUP_FILL_BIDS:-100000}
FILL_SECONDS=${BACKUP_FILL_SECONDS:-15}
SCENARIOS=${BACKUP_SCENARIOS:-baseline pages vacuum}
REPORT=$OUT/${BACKUP_REPORT_NAME:-backup.md}
PYTHON=/usr/bin/python3
RAW=$OUT/raw

for f in "$BIN" "$LOAD"; do
    [ -x "$f" ] || { echo "backup-bench: $f not built (make build/gavel build/gavel-load)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "backup-bench: curl is not installed" >&2; exit 1; }
for scn in $SCENARIOS; do
    case $scn in baseline | pages | vacuum | pages-nice | vacuum-nice | scheduled-pages | scheduled-vacuum) ;;
    *) echo "backup-bench: unknown scenario $scn" >&2; exit 1 ;; esac
done

NAME=backup-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
mkdir -p "$RAW"
rm -f "$RAW"/backup-*
# the background jobs of a run (async commands ignore SIGINT): stopped before lib.sh's cleanup
LPID=
BPID=
any_alive() {
    local p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}
backup_bench_cleanup() {
    local p kids="" k
    # with the loop, the backup command it runs: it would go on writing into $TMP
    [ -z "$BPID" ] || kids=$(ps -o pid= --ppid "$BPID" 2>/dev/null || true)
    for p in $BPID $kids $LPID; do kill "$p" 2>/dev/null || true; done
    for k in $(seq 1 50); do
        # shellcheck disable=SC2086
        any_alive $kids $LPID || break
        sleep 0.1
    done
    bench_cleanup
}
trap backup_bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The binaries are copied first: a rebuild of build/ during the run must not change them.
BIN_SHOWN=$BIN
cp "$BIN" "$TMP/gavel" && cp "$LOAD" "$TMP/gavel-load"
BIN=$TMP/gavel
LOAD=$TMP/gavel-load
"$BIN" version >/dev/null || { echo "backup-bench: $BIN_SHOWN does not run" >&2; exit 1; }

FILL_ARGS="--auctions 100 --managers 4 --strategy pipeline --bids-per-lot 0 --lot-seconds 600"
RUN_ARGS="--auctions 100 --managers 8 --strategy rate --rate $RATE --bids-per-lot 0"
RUN_ARGS="$RUN_ARGS --lot-seconds 600 --duration $DURATION"
SERVE_ARGS="--listen 127.0.0.1:0 --dev --rate-limit-scale 0 --access-log 0"
FAILED= # what went wrong: reported, then the bench exits 1

fail() { FAILED="$FAILED; $*"; echo "backup-bench: $*" >&2; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# json_get FILE KEY...: the values at the dotted keys of a gavel-load JSON file, one a line.
json_get() {
    "$PYTHON" - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    v = d
    for k in key.split("."):
        v = v[k]
    print(v)
EOF
}

# bids_in DIR: the accepted bids stored in DIR's database (run after a writer opened it).
bids_in() {
    "$PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/gavel.db")
print(c.execute("SELECT count(*) FROM auction_bids").fetchone()[0])
c.close()' "$1"
}

# db_bytes DIR: the bytes of gavel.db and gavel.db-wal (what the node keeps on disk).
db_bytes() {
    local f total=0
    for f in "$1/gavel.db" "$1/gavel.db-wal"; do
        [ ! -f "$f" ] || total=$((total + $(stat -c %s "$f")))
    done
    echo "$total"
}

# check_dir DIR LOG: `gavel check` on DIR; prints "STATUS SECONDS" (STATUS: ok or failed-RC).
check_dir() {
    local t0 rc=0
    t0=$(now)
    "$BIN" check --data "$1" >"$2" 2>&1 || rc=$?
    if [ "$rc" = 0 ] && [ "$(tail -n1 "$2")" = "check ok" ]; then
        echo "ok $(elapsed "$t0" "$(now)")"
    else
        echo "failed-$rc $(elapsed "$t0" "$(now)")"
    fi
}

# wait_line FILE TEXT PID: waits until FILE holds TEXT; 1 when PID exits first.
wait_line() {
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
}

# The niced scenarios' prefix: the backup process at the lowest CPU and I/O priority.
NICE="nice -n 19"
command -v ionice >/dev/null && NICE="$NICE ionice -c 3"

# backup_loop SCENARIO DATA DIR LOG STOP LAST: `gavel backup` back to back into DIR (a new file
# each time, the previous one removed) until the file STOP exists. LOG gets one line per backup:
# "ok K START END DB_BYTES FILE_BYTES SECONDS" (SECONDS as the command reports it) or
# "fail K START END RC" (the command's stderr in LOG.stderr); LAST names the last good backup.
backup_loop() {
    local method=${1%-nice} data=$2 dir=$3 log=$4 stop=$5 k=0 t0 t1 rc prev="" nums
    local -a pre=()
    case $1 in *-nice) read -r -a pre <<<"$NICE" ;; esac
    mkdir -p "$dir"
    while [ ! -e "$stop" ] && [ -d "$data" ]; do
        k=$((k + 1))
        t0=$(now)
        rc=0
        # a direct child of the loop (nice and ionice exec it): the cleanup can find it
        "${pre[@]}" "$BIN" backup --data "$data" --out "$dir/b-$k.gvbackup" \
            --backup-method "$method" >"$dir/out" 2>>"$log.stderr" || rc=$?
        t1=$(now)
        nums=$(sed -n 's/.*, database \([0-9]*\) bytes, file \([0-9]*\) bytes, sha256 [0-9a-f]*, \([0-9.]*\) s$/\1 \2 \3/p' "$dir/out")
        if [ "$rc" = 0 ] && [ -n "$nums" ]; then
            echo "ok $k $t0 $t1 $nums" >>"$log"
            [ -z "$prev" ] || rm -f "$prev"
            prev=$dir/b-$k.gvbackup
        else
            echo "fail $k $t0 $t1 $rc" >>"$log"
            sleep 0.2
        fi
    done
    echo "$prev" >"$6"
    [ -s "$log.stderr" ] || rm -f "$log.stderr"
}

# ---- the database of >= FILL_BIDS bids --------------------------------------------------------
# fill: a server on $TMP/template, gavel-load rounds until the bids accepted reach FILL_BIDS, a
# graceful stop; the template then holds exactly the bids counted (checked).
fill() {
    local data=$TMP/template round=0 have=0 dur=$FILL_SECONDS acc json t0
    mkdir -p "$data"
    # shellcheck disable=SC2086
    server_launch fill "$TMP/stderr-fill" serve $SERVE_ARGS --data "$data" --log-level warn
    t0=$(now)
    while [ "$have" -lt "$FILL_BIDS" ]; do
        round=$((round + 1))
        [ "$round" -le 10 ] || { echo "backup-bench: fill: 10 rounds and $have bids" >&2; exit 1; }
        json=$RAW/backup-fill-$round.json
        # shellcheck disable=SC2086
        "$LOAD" --url "$URL" --server-pid "$SERVER_PID" $FILL_ARGS --duration "$dur" \
            --label fill --json "$json" --email-prefix "fill$round" >"$TMP/row" \
            2>"$TMP/load-stderr-fill" || { cat "$TMP/load-stderr-fill" >&2; exit 1; }
        acc=$(json_get "$json" bids.accepted)
        have=$((have + acc))
        echo "backup-bench: fill round $round: $acc bids in ${dur} s, $have of $FILL_BIDS" >&2
        # the next round: what is missing at this round's rate, plus 15 %
        dur=$(awk -v m=$((FILL_BIDS - have)) -v a="$acc" -v d="$dur" \
            'BEGIN {r = a / d; s = (r > 0) ? int(m * 1.15 / r) + 1 : 5; print (s < 2) ? 2 : s}')
    done
    FILL_S=$(elapsed "$t0" "$(now)")
    FILL_ROUNDS=$round
    FILL_ACCEPTED=$have
    FILL_LIVE_BYTES=$(db_bytes "$data")
    server_stop
    [ "$SERVER_RC" = 0 ] || fail "the fill server exited $SERVER_RC after SIGTERM (want 0)"
    TEMPLATE_BIDS=$(bids_in "$data")
    TEMPLATE_BYTES=$(db_bytes "$data")
    [ "$TEMPLATE_BIDS" = "$FILL_ACCEPTED" ] ||
        fail "fill: $FILL_ACCEPTED bids acknowledged, $TEMPLATE_BIDS in the database"
    echo "backup-bench: database of $TEMPLATE_BIDS bids, $TEMPLATE_BYTES bytes" \
        "($FILL_LIVE_BYTES with the log while serving)" >&2
}

# idle_backups: each method once on the template with no server running, then restored.
idle_backups() {
    local m t0 line nums
    : >"$TMP/idle"
    cp -a "$TMP/template" "$TMP/idle-src"
    for m in pages vacuum; do
        t0=$(now)
        line=$("$BIN" backup --data "$TMP/idle-src" --out "$TMP/idle-$m.gvbackup" --backup-method "$m")
        nums=$(sed -n 's/.*, database \([0-9]*\) bytes, file \([0-9]*\) bytes, sha256 [0-9a-f]*, \([0-9.]*\) s$/\1 \2 \3/p' <<<"$line")
        echo "$m $nums $(elapsed "$t0" "$(now)")" >>"$TMP/idle"
        restore_one "idle-$m" "$TMP/idle-$m.gvbackup" "$TEMPLATE_BIDS"
        rm -f "$TMP/idle-$m.gvbackup"
    done
    rm -rf "$TMP/idle-src"
}

# ---- restore ------------------------------------------------------------------------------------
# restore_one LABEL FILE MINBIDS: gavel restore into a new directory (timed: extraction, size and
# SHA-256, integrity check, log replay, rename), gavel check on it, then a server started on it
# until /api/ready answers. Appends "LABEL FILE_BYTES RESTORE_S RC CLI_S CHECK CHECK_S READY_S
# BIDS STOP_RC" to $TMP/restores.
restore_one() {
    local label=$1 file=$2 min=$3 dir=$TMP/restored-$1 t0 rc=0 wall cli chk bids ready
    t0=$(now)
    "$BIN" restore --data "$dir" --from "$file" >"$TMP/restore-$label.out" \
        2>"$TMP/restore-$label.err" || rc=$?
    wall=$(elapsed "$t0" "$(now)")
    cli=$(sed -n 's/^restored .* in \([0-9.]*\) s$/\1/p' "$TMP/restore-$label.out")
    if [ "$rc" != 0 ]; then
        fail "restore of $label exited $rc: $(tail -n1 "$TMP/restore-$label.err")"
        echo "$label $(stat -c %s "$file") $wall $rc - failed - - - -" >>"$TMP/restores"
        return 0
    fi
    chk=$(check_dir "$dir" "$TMP/check-restored-$label.log")
    bids=$(bids_in "$dir")
    [ "$bids" -ge "$min" ] || fail "restore of $label: $bids bids, fewer than the $min before it"
    case $chk in ok*) ;; *) fail "gavel check of the restore of $label: $chk" ;; esac
    t0=$(now)
    # shellcheck disable=SC2086
    server_launch "restored-$label" "$TMP/stderr-restored-$label" serve $SERVE_ARGS --data "$dir" \
        --log-level warn
    ready=$(elapsed "$t0" "$(now)")
    server_stop
    [ "$SERVER_RC" = 0 ] || fail "the server on the restore of $label exited $SERVER_RC"
    echo "$label $(stat -c %s "$file") $wall $rc ${cli:--} $chk $ready $bids $SERVER_RC" \
        >>"$TMP/restores"
    rm -rf "$dir"
}

# ---- one run of a scenario -----------------------------------------------------------------------
# run_one N SCENARIO I: a copy of the template, a server on it, gavel-load for DURATION s with the
# scenario's backups during the bidding, then SIGKILL, gavel check and the bids counted; the last
# backup restored. Appends "SCENARIO I JSON BACKUPLOG LOAD_RC BIDS_BEFORE BIDS_AFTER CHECK
# CHECK_S DB_BYTES_END" to $TMP/runs.
run_one() {
    local n=$1 scn=$2 i=$3 data=$TMP/data-$1 bdir=$TMP/backups-$1 lrc=0 json blog
    local level=warn chk after bytes from0 from1 last
    local -a extra=()
    json=$RAW/backup-$scn-$i.json
    blog=$RAW/backup-$scn-$i.backups.txt
    : >"$blog"
    cp -a "$TMP/template" "$data"
    sync # the copy's dirty pages must not be written back during the run
    case $scn in
    scheduled-*)
        extra=(--backup-dir "$bdir" --backup-every-s 1 --backup-keep 2 --backup-method "${scn#scheduled-}")
        level=info ;;
    esac
    # shellcheck disable=SC2086
    server_launch "$n" "$TMP/stderr-$n" serve $SERVE_ARGS --data "$data" --log-level "$level" \
        "${extra[@]}"
    echo "backup-bench: $scn run $i/$RUNS" >&2
    # shellcheck disable=SC2086
    "$LOAD" --url "$URL" --server-pid "$SERVER_PID" $RUN_ARGS --label "$scn" --json "$json" \
        --email-prefix "$scn$i" >"$TMP/row-$n" 2>"$TMP/load-stderr-$n" &
    LPID=$!
    if wait_line "$TMP/load-stderr-$n" "beginning " "$LPID"; then
        case $scn in
        pages | vacuum | *-nice)
            backup_loop "$scn" "$data" "$bdir" "$blog" "$TMP/stop-$n" "$TMP/last-$n" &
            BPID=$! ;;
        scheduled-*) from0=$(wc -l <"$TMP/stderr-$n") ;;
        esac
        wait_line "$TMP/load-stderr-$n" "stopped bidding" "$LPID" || true
        case $scn in
        pages | vacuum | *-nice)
            touch "$TMP/stop-$n"
            wait "$BPID" || fail "the backup loop exited $? ($scn run $i)"
            BPID= ;;
        scheduled-*)
            from1=$(wc -l <"$TMP/stderr-$n")
            # "backup done ... bytes=F database_bytes=D ... seconds=S" logged during the bidding
            sed -n "$((from0 + 1)),${from1}p" "$TMP/stderr-$n" | { grep 'backup done' || true; } |
                sed -n 's/.* bytes=\([0-9]*\) database_bytes=\([0-9]*\) .*seconds=\([0-9.]*\).*/\2 \1 \3/p' |
                awk '{print "ok", NR, "-", "-", $0}' >"$blog"
            sed -n "$((from0 + 1)),${from1}p" "$TMP/stderr-$n" | { grep 'backup failed' || true; } |
                awk '{print "fail", NR, "-", "-", 1}' >>"$blog" ;;
        esac
    fi
    wait "$LPID" || lrc=$?
    LPID=
    grep -v ' bidding: ' "$TMP/load-stderr-$n" | sed 's/^/    /' >&2 || true
    [ "$lrc" = 0 ] || fail "gavel-load exited $lrc ($scn run $i)"
    grep -q '^fail' "$blog" && fail "$(grep -c '^fail' "$blog") backups failed ($scn run $i)"
    # every acknowledged bid must survive the process dying: SIGKILL, then look
    kill -KILL "$SERVER_PID" 2>/dev/null || fail "the server died during the run ($scn run $i)"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    bytes=$(db_bytes "$data")
    chk=$(check_dir "$data" "$TMP/check-$n.log")
    case $chk in ok*) ;; *) fail "gavel check after SIGKILL ($scn run $i): $chk" ;; esac
    after=$(bids_in "$data")
    if [ -s "$json" ]; then
        echo "$scn $i $json $blog $lrc $TEMPLATE_BIDS $after $chk $bytes" >>"$TMP/runs"
    else
        fail "gavel-load wrote no JSON ($scn run $i): the run is left out of the report"
    fi
    case $scn in
    pages | vacuum | *-nice) last=$(cat "$TMP/last-$n" 2>/dev/null || true) ;;
    scheduled-*) last=$(find "$bdir" -name '*.gvbackup' 2>/dev/null | sort | tail -n1) ;;
    *) last= ;;
    esac
    if [ -n "$last" ]; then
        restore_one "$scn-$i" "$last" "$TEMPLATE_BIDS"
    elif [ "$scn" != baseline ]; then
        fail "no backup was taken ($scn run $i)"
    fi
    rm -rf "$data" "$bdir" "$TMP/stop-$n"
}

# ---- run -------------------------------------------------------------------------------------------
T_START=$(now)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk '$1 > 0.5 {exit 1}' /proc/loadavg ||
    echo "backup-bench: warning: the machine is busy (load $LOAD_START); numbers will be noisy" >&2
: >"$TMP/runs"
: >"$TMP/restores"
fill
idle_backups
# the scenarios' order turns with each run so none always runs first or last
read -r -a scns <<<"$SCENARIOS"
n=0
for i in $(seq 1 "$RUNS"); do
    for k in $(seq 0 $((${#scns[@]} - 1))); do
        n=$((n + 1))
        run_one "$n" "${scns[$(((k + i - 1) % ${#scns[@]}))]}" "$i"
    done
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
    echo "cpus=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "ram=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -sr)"
    echo "fs=$(df -PT "$TMP" | awk 'NR == 2 {print $2 " on " $1}')"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$commit"
    echo "load_start=$LOAD_START"
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "bin=$BIN_SHOWN"
    echo "serve_args=$SERVE_ARGS"
    echo "fill_args=$FILL_ARGS"
    echo "run_args=$RUN_ARGS"
    echo "runs=$RUNS"
    echo "scenarios=$SCENARIOS"
    echo "nice=$NICE"
    echo "invocation=BACKUP_RUNS=$RUNS BACKUP_DURATION=$DURATION BACKUP_RATE=$RATE" \
        "BACKUP_FILL_BIDS=$FILL_BIDS BACKUP_SCENARIOS=\"$SCENARIOS\" bench/backup.sh"
    echo "fill_bids=$FILL_BIDS"
    echo "fill_rounds=$FILL_ROUNDS"
    echo "fill_s=$FILL_S"
    echo "fill_accepted=$FILL_ACCEPTED"
    echo "fill_live_bytes=$FILL_LIVE_BYTES"
    echo "template_bids=$TEMPLATE_BIDS"
    echo "template_bytes=$TEMPLATE_BYTES"
    echo "total_s=$(elapsed "$T_START" "$(now)")"
} >"$TMP/meta"
"$PYTHON" bench/backup_report.py "$TMP/meta" "$TMP/runs" "$TMP/idle" "$TMP/restores" >"$REPORT"
echo "backup-bench: wrote $REPORT" >&2
sed -n '/^## Summary/,/^## Restore/p' "$REPORT" | sed '$d'
[ -z "$FAILED" ] || { echo "backup-bench: failed:${FAILED#;}" >&2; exit 1; }
