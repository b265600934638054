#!/usr/bin/env bash
# Scale benchmark: jobs per minute with 1, 2 and 4 `framewise worker` processes on one Redis
# queue, against the project's model-server double at a fixed latency with enough slots, and
# the ratio to linear; then (bench/scale_endpoints.sh) frames per second with 1 and 2 model
# endpoints behind one client.
#
# Usage: bash bench/scale.sh [FRAMEWISE_BINARY]     (default: build/framewise; make build)
# Run from anywhere; needs redis-server, ffmpeg, curl and python3 (bash scripts/deps.sh bench).
#
# Environment:
#   SCALE_WORKERS  the worker counts, in the order of the first round (default "1 2 4"; each
#                  later round starts one further along, so no count always runs first)
#   SCALE_JOBS     jobs per run (default 16)
#   SCALE_REPEAT   runs per count; the median is reported (default 3)
#   SCALE_LATENCY  the double's latency per request, ms (default 500; --slots 64)
#   SCALE_RESULTS  the results file (default bench/results/scale.md)
#
# One run: a redis-server and the double started here on free loopback ports, one
# `framewise serve --queue redis://... --workers 0` node (it only takes the jobs), N worker
# processes (`framewise worker --workers 1 --concurrency 2 --window 1`, each with a data folder
# and store of its own, fresh for the run: nothing is answered from a cache), then SCALE_JOBS
# jobs submitted at once (a path input: 7 one-second colour shots, 320x240, so 7 keyframes and
# 7 model requests per job; each job a prompt of its own) and the time from the first
# submission until the queue counts them all done. jobs/min = jobs * 60 / that time.
# Output: markdown on stdout, the same in the results file (overwritten).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BIN=${1:-build/framewise}
WORKERS=${SCALE_WORKERS:-1 2 4}
JOBS=${SCALE_JOBS:-16}
REPEAT=${SCALE_REPEAT:-3}
LATENCY=${SCALE_LATENCY:-500}
RESULTS=${SCALE_RESULTS:-bench/results/scale.md}
TOKEN=bench-token

die() { echo "scale.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "no executable framewise at '$BIN' (make build, or pass its path as \$1)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
VLM=$(dirname "$BIN")/tests/fwtest_vlm
[ -x "$VLM" ] || die "no model-server double at $VLM (make build)"
for c in redis-server redis-cli ffmpeg curl python3; do
  command -v "$c" >/dev/null || die "$c not found (bash scripts/deps.sh bench)"
done
for v in "$JOBS" "$REPEAT" "$LATENCY"; do [[ $v =~ ^[1-9][0-9]*$ ]] || die "'$v' is not a count"; done
read -r -a COUNTS <<<"$WORKERS"

TMP=$(mktemp -d /tmp/fw-scale.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
# waits until file $1 has a line matching $2 (10 s)
wait_for_line() {
  for _ in $(seq 1 1000); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
  die "no '$2' in $1: $(tail -3 "$1")"
}

source bench/meta.sh
notes=()
meta_begin

# the clip: seven flat colour shots of one second (as the tests' fws_colour_clip)
CLIP=$TMP/colours.mp4
inputs=() chain=""
i=0
for c in red white blue yellow 0x00ff00 cyan magenta; do
  inputs+=(-f lavfi -i "color=c=$c:s=320x240:r=25:d=1")
  chain+="[$i]"
  i=$((i + 1))
done
ffmpeg -v error -y "${inputs[@]}" -filter_complex "${chain}concat=n=7:v=1[v]" -map '[v]' \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$CLIP"

RPORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$TMP" \
  >"$TMP/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 1000); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.01; done
QUEUE=redis://127.0.0.1:$RPORT/bench

"$VLM" --port-file "$TMP/vlm.port" --latency "$LATENCY" --slots 64 >"$TMP/vlm.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 1000); do [ -s "$TMP/vlm.port" ] && break; sleep 0.01; done
VLM_URL=http://127.0.0.1:$(cat "$TMP/vlm.port")/v1

COMMON=(--token "$TOKEN" --queue "$QUEUE" --allow-root "$TMP" --url "$VLM_URL"
  --summary extractive --concurrency 2 --window 1)
mkdir -p "$TMP/node"
"$BIN" serve --listen 127.0.0.1:0 --workers 0 --data "$TMP/node/data" --store "$TMP/node/store.db" \
  "${COMMON[@]}" 2>"$TMP/node.log" &
pids+=($!)
wait_for_line "$TMP/node.log" "listening on http://"
NODE=http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$TMP/node.log" | head -1)

done_count() {
  curl -s -H "Authorization: Bearer $TOKEN" "$NODE/metrics" |
    awk '/^framewise_jobs\{state="done"\}/ { print $2 }'
}

# one run: N workers, JOBS jobs; prints jobs per minute
run() {
  local n=$1 tag=$2 wpids=() t0 t1 before
  for w in $(seq 1 "$n"); do
    local dir=$TMP/w-$tag-$w
    mkdir -p "$dir"
    "$BIN" worker --workers 1 --data "$dir/data" --store "$dir/store.db" "${COMMON[@]}" \
      2>"$dir.log" &
    wpids+=($!)
    wait_for_line "$dir.log" "framewise worker: "
  done
  before=$(done_count)
  t0=$(now)
  for j in $(seq 1 "$JOBS"); do
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"path\": \"$CLIP\", \"options\": {\"prompt\": \"run $tag job $j\"}}" "$NODE/v1/jobs"
  done
  while [ "$(done_count)" -lt $((before + JOBS)) ]; do sleep 0.05; done
  t1=$(now)
  for p in "${wpids[@]}"; do kill -TERM "$p"; done
  for p in "${wpids[@]}"; do wait "$p" || die "a worker did not stop cleanly"; done
  python3 -c "print(f'{$JOBS * 60 / ($t1 - $t0):.1f}')"
}

declare -A got
for r in $(seq 0 $((REPEAT - 1))); do
  for k in $(seq 0 $((${#COUNTS[@]} - 1))); do
    n=${COUNTS[$(((k + r) % ${#COUNTS[@]}))]}
    jpm=$(run "$n" "r$r-n$n")
    echo "scale.sh: round $((r + 1)), $n workers: $jpm jobs/min" >&2
    got[$n]="${got[$n]:-} $jpm"
  done
done

median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }
meta_end scale.sh "other work shares the 2 cores with the workers"

{
  echo "# Scale: jobs per minute with ${WORKERS// /, } workers on one Redis queue"
  echo
  echo "$(date -u +%Y-%m-%d), $cpu, $(nproc) cores, framewise $gitrev; load $LOAD0 at the start, $LOAD1 at the end."
  echo "\`bash bench/scale.sh\`: $JOBS jobs per run (7 keyframes, 7 model requests each), the double at ${LATENCY} ms a request with 64 slots,"
  echo "each worker a process with \`--workers 1 --concurrency 2 --window 1\`; median of $REPEAT runs, the counts alternated."
  echo
  echo "| workers | jobs/min (median) | runs | × ${COUNTS[0]} worker(s) | ratio to linear |"
  echo "|---:|---:|---|---:|---:|"
  base=""
  for n in "${COUNTS[@]}"; do
    read -r -a runs <<<"${got[$n]}"
    m=$(median "${runs[@]}")
    [ -n "$base" ] || base=$m
    python3 -c "m, b, n, b_n = $m, $base, $n, ${COUNTS[0]}; print(f'| {n} | {m} | ${runs[*]} | {m / b:.2f}× | {m / b / (n / b_n):.2f} |')"
  done
  for n in "${notes[@]}"; do echo; echo "Note: $n"; done
} | tee "$RESULTS"

if [ -f bench/scale_endpoints.sh ]; then
  bash bench/scale_endpoints.sh "$(dirname "$BIN")" # its build folder
fi
