#!/usr/bin/env bash
# The store: a second run of the same video against the first (fresh store), and what
# recording each observation costs. framewise analyze against the model-server double at
# fixed latencies (LATENCIES, default "300 2000" ms per request: a fast server, and about
# what an 8B VLM takes per image; 4 slots), on real clips, median of ROUNDS (default 5)
# rounds; requests counted by the double. Writes bench/results/store.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FW=$PWD/$BUILD/framewise
VLM=$PWD/$BUILD/tests/fwtest_vlm
VIDEOS=${FW_VIDEOS:-../shared/videos}
LATENCIES=${LATENCIES:-300 2000}
ROUNDS=${ROUNDS:-5}
OUT=bench/results/store.md
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-store.XXXXXX")
source bench/vlm.sh
trap 'kill $VLM_PID 2>/dev/null; rm -rf "$RUNS"' EXIT
start_server() { bench_vlm --latency "$1" --slots 4; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
requests() { curl -s "${URL%/v1}/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])'; }
run() { # seconds of one analyze run; extra args: store options
  local s e
  s=$(now)
  "$FW" analyze "$clip" -q -o "$RUNS/o" --url "$URL" --summary extractive "$@" >/dev/null
  e=$(now)
  awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f\n", b - a}'
}

{
  echo "# The store: second runs and recording"
  echo
  echo "$(date -u +%Y-%m-%d), $(getconf _NPROCESSORS_ONLN) cores; the model-server double with 4 slots; median of ${ROUNDS} rounds. Command: \`bash bench/store.sh\`."
  echo
  echo "| latency ms | clip | keyframes | first run s | its requests | second run s | its requests | speed-up | --no-cache s | recording per observation ms |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$RUNS/table"

for LATENCY_MS in $LATENCIES; do
start_server "$LATENCY_MS"
for name in message-board.ogv pyscenedetect-testvideo.mp4 tour.mp4; do
  clip=$VIDEOS/$name
  [ -f "$clip" ] || { echo "store.sh: $clip missing, skipped" >&2; continue; }
  first=() second=() bare=()
  for i in $(seq "$ROUNDS"); do
    rm -f "$RUNS"/s.db*
    r0=$(requests)
    first+=("$(run --store "$RUNS/s.db")")
    r1=$(requests)
    second+=("$(run --store "$RUNS/s.db")")
    r2=$(requests)
    bare+=("$(run --no-cache)")
  done
  kf=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["keyframes"]))' "$RUNS/o/report.json")
  f=$(printf '%s\n' "${first[@]}" | median)
  s=$(printf '%s\n' "${second[@]}" | median)
  b=$(printf '%s\n' "${bare[@]}" | median)
  awk -v l="$LATENCY_MS" -v n="$name" -v kf="$kf" -v f="$f" -v s="$s" -v b="$b" -v q1=$((r1 - r0)) -v q2=$((r2 - r1)) \
    'BEGIN {printf "| %d | %s | %d | %.2f | %d | %.3f | %d | %.0fx | %.2f | %+.1f |\n", l, n, kf, f, q1, s, q2, f / s, b, (f - b) * 1000 / kf}' \
    >>"$RUNS/table"
done
done
mkdir -p bench/results
cp "$RUNS/table" "$OUT"
cat "$OUT"
echo "-> $OUT"
