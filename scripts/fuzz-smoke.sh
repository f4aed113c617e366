#!/usr/bin/env bash
# Fuzz smoke test (part of `make test`): runs every built libFuzzer target build/fuzz/fuzz_* for
# a short time on a temporary copy of its seed corpus tests/fuzz/corpus/NAME (the repository is
# not modified). Exits non-zero when a target crashes, leaks, times out or is missing.
# A crashing input is kept in build/fuzz/crashes/ with the command that reproduces it.
#
# Usage: scripts/fuzz-smoke.sh [SECONDS]   (default $FUZZ_SMOKE_SECONDS or 10 per target)
set -u

cd "$(dirname "$0")/.." || exit 1
secs=${1:-${FUZZ_SMOKE_SECONDS:-10}}
crashes=build/fuzz/crashes
tmp=$(mktemp -d -t gavel-fuzz-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

targets=()
for f in build/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] && targets+=("$f")
done
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz-smoke: no targets in build/fuzz (make build/fuzz/fuzz_NAME for tests/fuzz/fuzz_NAME.c)" >&2
    exit 1
fi
for src in tests/fuzz/fuzz_*.c; do
    [ -x "build/fuzz/$(basename "$src" .c)" ] || {
        echo "fuzz-smoke: $src is not built" >&2
        exit 1
    }
done

failed=0
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    corpus=$tmp/corpus-$name
    mkdir -p "$corpus" "$tmp/art-$name"
    [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$corpus/"
    # -timeout: one input taking longer is a hang; -rss_limit_mb bounds a runaway allocation.
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$tmp/art-$name/" "$corpus" >"$tmp/$name.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.log")
    if [ "$rc" -eq 0 ]; then
        echo "fuzz-smoke: $name ok (${runs:-?} runs in ${secs}s)"
        continue
    fi
    failed=$((failed + 1))
    echo "fuzz-smoke: $name FAILED (exit $rc)"
    tail -n 40 "$tmp/$name.log" | sed 's/^/    /'
    mkdir -p "$crashes"
    for a in "$tmp/art-$name"/*; do
        [ -f "$a" ] || continue
        keep=$crashes/$name-$(basename "$a")
        cp "$a" "$keep"
        echo "    input kept: $keep (base64 $(base64 -w0 "$keep" | head -c 400))"
        echo "    reproduce:  $bin $keep"
    done
done
[ "$failed" -eq 0 ]
