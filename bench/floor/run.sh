#!/bin/bash
# bench/floor/run.sh: runs build/fanout-floor --matrix and build/commit-floor --matrix and
# --paced-matrix and --copy-matrix and writes bench/results/floor.md (the machine, the commands,
# the tables) and bench/results/raw/floor.json.
# `make bench-floor`.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results/raw
out=bench/results/floor.md
before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(build/fanout-floor --matrix --json bench/results/raw/floor.json)
# the benchmarks' data directories are under $TMPDIR (mktemp -d): measure that disk
commit_table=$(build/commit-floor --matrix --dir "${TMPDIR:-/tmp}")
paced_table=$(build/commit-floor --paced-matrix --dir "${TMPDIR:-/tmp}")
copy_table=$(build/commit-floor --copy-matrix --seconds 60 --dir "${TMPDIR:-/tmp}")
{
    echo "# Fan-out floor: loopback TCP on this machine, without Gavel"
    echo
    echo "Written by \`make bench-floor\` (bench/floor/run.sh; bench/floor/README.md says what each column means)."
    echo
    echo "- CPUs: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
    echo "- kernel: $(uname -r)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- load average (1, 5, 15 min) before / after: $before / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- command: \`build/fanout-floor --matrix --json bench/results/raw/floor.json\`"
    echo
    echo "$table"
    echo
    echo "# Durable commit floor: write + fdatasync on this machine's disk, without Gavel or SQLite"
    echo
    echo "- command: \`build/commit-floor --matrix --dir ${TMPDIR:-/tmp}\` (bench/floor/README.md)"
    echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "$commit_table"
    echo
    echo "## Requests arriving at random (a quiet room's round trip, before the network and the server)"
    echo
    echo "- command: \`build/commit-floor --paced-matrix --dir ${TMPDIR:-/tmp}\` (bench/floor/README.md)"
    echo
    echo "$paced_table"
    echo
    echo "## A checkpointer beside the commits (a soak's database in its first minutes and its last)"
    echo
    echo "- command: \`build/commit-floor --copy-matrix --seconds 60 --dir ${TMPDIR:-/tmp}\` (bench/floor/README.md)"
    echo
    echo "$copy_table"
} > "$out"
cat "$out"
