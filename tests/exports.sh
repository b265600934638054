#!/bin/sh
# libframewise exports its API and nothing else: every dynamic symbol it defines is a
# function declared with FW_API in framewise.h, and every such function the engine
# implements is exported. A function declared without FW_API fails too (it would be
# hidden).
# Usage: exports.sh LIBFRAMEWISE.so framewise.h libframewise_engine.a
set -eu
lib=$1 header=$2 engine=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# toolchain symbols (_init, _fini; ASan/UBSan's when sanitized) are not ours to judge
nm -D --defined-only "$lib" | awk 'NF == 3 {print $3}' |
  grep -Ev '^(_init|_fini|__bss_start|_edata|_end|__odr_asan.*|_*asan.*|__ubsan.*)$' |
  sort -u > "$tmp/exported"
grep -E '^FW_API ' "$header" | grep -oE '\bfw_[a-z0-9_]+\(' | tr -d '(' | sort -u > "$tmp/api"
grep -E '^[a-z][a-z0-9_ ]*[ *]fw_[a-z0-9_]+\(' "$header" | grep -v '^typedef' |
  grep -oE '\bfw_[a-z0-9_]+\(' | tr -d '(' | sort -u > "$tmp/unmarked"
nm -g --defined-only "$engine" | awk 'NF == 3 && $2 == "T" {print $3}' | sort -u > "$tmp/defined"

status=0
if [ -s "$tmp/unmarked" ]; then
  echo "declared in framewise.h without FW_API:"; sed 's/^/  /' "$tmp/unmarked"; status=1
fi
extra=$(comm -23 "$tmp/exported" "$tmp/api")
if [ -n "$extra" ]; then
  echo "exported but not the API:"; echo "$extra" | sed 's/^/  /'; status=1
fi
missing=$(comm -12 "$tmp/api" "$tmp/defined" | comm -23 - "$tmp/exported")
if [ -n "$missing" ]; then
  echo "implemented but not exported:"; echo "$missing" | sed 's/^/  /'; status=1
fi
todo=$(comm -23 "$tmp/api" "$tmp/defined")
[ -z "$todo" ] || { echo "declared, not implemented yet:"; echo "$todo" | sed 's/^/  /'; }
n=$(wc -l < "$tmp/exported")
[ "$n" -gt 0 ] || { echo "nothing exported"; status=1; }
echo "$n functions exported"
exit $status
