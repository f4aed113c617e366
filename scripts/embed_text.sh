#!/bin/sh
# embed_text.sh OUT.c SYMBOL FILE: writes a C file defining `const char SYMBOL[]` with FILE's
# bytes (text) and `const size_t SYMBOL_len`. POSIX sh + sed only.
set -eu
out=$1 sym=$2 in=$3
tmp="$out.tmp.$$"
{
    echo "/* Generated from $in by scripts/embed_text.sh; do not edit. */"
    echo "#include <stddef.h>"
    echo "const char ${sym}[] ="
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/\r$//' -e 's/^/    "/' -e 's/$/\\n"/' "$in"
    echo "    ;"
    echo "const size_t ${sym}_len = sizeof(${sym}) - 1;"
} >"$tmp"
mv "$tmp" "$out"
