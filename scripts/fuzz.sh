#!/usr/bin/env bash
# The fuzz targets of tests/fuzz under libFuzzer, ASan and UBSan (make fuzz): configures
# BUILD (default build-fuzz) with clang and FW_FUZZ=ON, builds the targets, and runs each
# one for SECONDS (default $FUZZ_SECONDS, else 60), one target at a time. Each grows a
# corpus of its own in BUILD/fuzz-corpus/NAME (so the repo's stays small), seeded from
# tests/fuzz/corpus/NAME, which is only read. libFuzzer runs in fork mode and goes on after
# a crash: every crash, leak, timeout (over 10 s) or out-of-memory input is kept as
# BUILD/fuzz-findings/NAME-KIND-SHA1 (replay it: BUILD/tests/fuzz/fuzz_NAME_replay FILE).
# Prints a table and writes bench/results/fuzz.md; exits 1 when something was found.
# Usage: scripts/fuzz.sh [BUILD] [SECONDS]
#   FUZZ_TARGETS="answer probe" runs only those; JOBS (default 1) builds in parallel;
#   FUZZ_ARGS adds libFuzzer flags; FWFUZZ_SKIP="property,..." skips known failures;
#   FUZZ_OUT writes the table elsewhere than bench/results/fuzz.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-fuzz}
SECS=${2:-${FUZZ_SECONDS:-60}}
JOBS=${JOBS:-1}
OUT=${FUZZ_OUT:-bench/results/fuzz.md}
ALL=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
TARGETS=${FUZZ_TARGETS:-$ALL}

CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFW_FUZZ=ON >/dev/null
# shellcheck disable=SC2046
cmake --build "$BUILD" -j"$JOBS" --target $(for t in $TARGETS; do echo "fuzz_$t"; done)

mkdir -p "$BUILD/fuzz-findings"
export FRAMEWISE_PRESETS=${FRAMEWISE_PRESETS:-$PWD/presets}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
rows=()
found=0
for t in $TARGETS; do
  corpus="$BUILD/fuzz-corpus/$t"
  log="$BUILD/fuzz-findings/$t.log"
  mkdir -p "$corpus"
  before=$(ls "$BUILD/fuzz-findings" | grep -c "^$t-" || true)
  echo "fuzz.sh: $t for ${SECS}s (log: $log)" >&2
  # shellcheck disable=SC2086
  "$BUILD/tests/fuzz/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -timeout=10 -max_total_time="$SECS" -artifact_prefix="$BUILD/fuzz-findings/$t-" \
    ${FUZZ_ARGS:-} "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  after=$(ls "$BUILD/fuzz-findings" | grep -c "^$t-" || true)
  # the last status line: "#RUNS: cov: N ft: N corp: N exec/s N oom/timeout/crash: a/b/c ..."
  status=$(grep -a '^#[0-9]*: cov:' "$log" | tail -1 || true)
  runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
  crashes=$((after - before))
  found=$((found + crashes))
  rows+=("| $t | $SECS | ${runs:-0} | $crashes | ${corp:-0} |")
done

{
  echo "# Fuzzing: the parsers of outside data"
  echo
  echo "$(date -u +%Y-%m-%d), $(getconf _NPROCESSORS_ONLN) cores; clang $(clang -dumpversion), libFuzzer (fork mode, one job) with ASan and UBSan; ${SECS} s per target, one at a time. Command: \`make fuzz FUZZ_SECONDS=$SECS\` (\`bash scripts/fuzz.sh\`)."
  echo "Runs: inputs executed. Crashes: inputs kept in $BUILD/fuzz-findings (crashes, property violations, leaks, timeouts). Corpus: units libFuzzer holds at the end, seeds included."
  echo
  echo "| target | seconds | runs | crashes found | corpus size |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
cat "$OUT"
[ "$found" -eq 0 ] || { echo "fuzz.sh: $found finding(s) in $BUILD/fuzz-findings" >&2; exit 1; }
