#!/usr/bin/env bash
# framewise serve under load: API latency (p50/p95) of submit and of status while 50
# concurrent submissions run on 2 workers, end-to-end time of a job against
# `framewise analyze` on the same clips, and the service's overhead per job. Against the
# model-server double (LATENCY ms per request, default 300; 4 slots). Writes
# bench/results/serve.md. Usage: bench/serve.sh [BUILD]   (env: N=50 WORKERS=2 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FW=$PWD/$BUILD/framewise
VLM=$PWD/$BUILD/tests/fwtest_vlm
VIDEOS=${FW_VIDEOS:-../shared/videos}
LATENCY=${LATENCY:-300}
N=${N:-50}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
OUT=bench/results/serve.md
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-serve.XXXXXX")
TOKEN=bench-token
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$RUNS"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; print a[i]}'; }
now() { date +%s.%N; }
ms() { awk '{printf "%.1f\n", $1 * 1000}'; }

"$VLM" --port-file "$RUNS/vlm.port" --latency "$LATENCY" --slots 4 >"$RUNS/vlm.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$RUNS/vlm.port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$RUNS/vlm.port")/v1

clips=()
for c in tour.mp4 pyscenedetect-testvideo.mp4 message-board.ogv; do
  [ -f "$VIDEOS/$c" ] && clips+=("$(cd "$VIDEOS" && pwd)/$c")
done
if [ ${#clips[@]} -eq 0 ]; then # no shared clips: seven colour shots
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=s=320x240:r=25:d=7" -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p -y "$RUNS/testsrc.mp4"
  clips=("$RUNS/testsrc.mp4")
fi

start_serve() {
  "$FW" serve --listen 127.0.0.1:0 --token $TOKEN --workers "$WORKERS" --queue-size 1000 \
    --data "$RUNS/data" --store "$RUNS/serve.db" --allow-root / --url "$URL" \
    --summary extractive >"$RUNS/serve.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 400); do grep -q 'listening on' "$RUNS/serve.log" && break; sleep 0.02; done
  BASE=http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$RUNS/serve.log")
}
submit() { # clip prompt -> "id seconds"
  curl -s -o "$RUNS/sub.$2" -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"path\": \"$1\", \"options\": {\"prompt\": \"$2\"}}" "$BASE/v1/jobs" >"$RUNS/subt.$2"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"], open(sys.argv[2]).read().strip())' \
    "$RUNS/sub.$2" "$RUNS/subt.$2"
}
export -f submit
job() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE/v1/jobs/$1"; }
wait_done() { until job "$1" | grep -q '"state":"done"'; do sleep 0.01; done; }

start_serve
export BASE TOKEN RUNS

# 1. one job at a time on an idle server vs framewise analyze, same clip and settings
e2e_rows=""
for clip in "${clips[@]}"; do
  a=() s=() r=()
  for round in $(seq "$ROUNDS"); do
    t0=$(now)
    "$FW" analyze "$clip" -q -o "$RUNS/o" --no-cache --url "$URL" --summary extractive \
      --prompt "analyze $round $(basename "$clip")" >/dev/null
    a+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
    t0=$(now)
    read -r id _ < <(submit "$clip" "serve $round $(basename "$clip")")
    wait_done "$id"
    s+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
    r+=("$(job "$id" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["finished"] - j["started"])')")
  done
  kf=$(job "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["keyframes"])')
  am=$(printf '%s\n' "${a[@]}" | median); sm=$(printf '%s\n' "${s[@]}" | median)
  rm_=$(printf '%s\n' "${r[@]}" | median)
  e2e_rows+=$(printf '| %s | %s | %.2f | %.2f | %.2f | %+.0f |\n' "$(basename "$clip")" "$kf" \
    "$am" "$sm" "$rm_" "$(awk -v s="$sm" -v a="$am" 'BEGIN {print (s - a) * 1000}')")$'\n'
done

# 2. N concurrent submissions, status polled by 4 clients meanwhile
seq "$N" | xargs -P "$N" -I{} bash -c 'submit "$0" "load {}"' "${clips[0]}" >"$RUNS/load.txt"
t_load=$(now)
poll() { while [ ! -f "$RUNS/stop" ]; do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$BASE/v1/jobs/$1"
  sleep 0.05
done; }
for k in 1 2 3 4; do poll "$(sed -n "${k}p" "$RUNS/load.txt" | cut -d' ' -f1)" >"$RUNS/poll.$k" & PIDS+=($!); done
while :; do
  done_n=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/v1/jobs?state=done&limit=500" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
  [ "$done_n" -ge $((N + ${#clips[@]} * ROUNDS)) ] && break
  sleep 0.2
done
t_all=$(awk -v a="$t_load" -v b="$(now)" 'BEGIN {print b - a}')
touch "$RUNS/stop"
sleep 0.3
sub_p50=$(cut -d' ' -f2 "$RUNS/load.txt" | pct 50 | ms); sub_p95=$(cut -d' ' -f2 "$RUNS/load.txt" | pct 95 | ms)
cat "$RUNS"/poll.* >"$RUNS/poll.txt"
st_n=$(wc -l <"$RUNS/poll.txt")
st_p50=$(pct 50 <"$RUNS/poll.txt" | ms); st_p95=$(pct 95 <"$RUNS/poll.txt" | ms)
lost=$(( N - $(cut -d' ' -f1 "$RUNS/load.txt" | sort -u | wc -l) ))
requests=$(curl -s "${URL%/v1}/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])')
waits=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/v1/jobs?limit=500" | python3 -c '
import json, sys
jobs = [j for j in json.load(sys.stdin)["jobs"] if j["options"].get("prompt", "").startswith("load ")]
run = sorted(j["finished"] - j["started"] for j in jobs)
print("%.2f %.2f" % (run[len(run) // 2], max(j["finished"] for j in jobs) - min(j["created"] for j in jobs)))')

{
  echo "# framewise serve: API latency under load, end-to-end time, overhead per job"
  echo
  echo "$(date +%Y-%m-%d), $(nproc) cores; the model-server double (${LATENCY} ms a request, 4 slots); $WORKERS workers; median of $ROUNDS rounds. Command: \`bash bench/serve.sh\`."
  echo
  echo "## One job on an idle server against \`framewise analyze\` (same clip, same settings, no cache)"
  echo
  echo "| clip | keyframes | analyze s | serve: submit to done s | serve: run s | overhead ms |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s' "$e2e_rows"
  echo
  echo "Overhead: submit-to-done through the API (status polled with curl every 10 ms) minus the analyze command's wall time (which includes its own process start). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the load jobs' own, and any other work on the machine: it counts in every figure)."
  echo
  echo "## $N concurrent submissions ($(basename "${clips[0]}"), a distinct prompt each: no cache hits)"
  echo
  echo "| what | value |"
  echo "|---|---:|"
  echo "| submit latency p50 / p95 ms | $sub_p50 / $sub_p95 |"
  echo "| status latency under load p50 / p95 ms ($st_n requests by 4 clients) | $st_p50 / $st_p95 |"
  echo "| all $N done after s | $(printf %.1f "$t_all") |"
  echo "| a job's run (started to finished), median s | ${waits% *} |"
  echo "| first submitted to last finished s | ${waits#* } |"
  echo "| jobs lost or duplicated | $lost |"
  echo "| model requests in all (single runs and load) | $requests |"
} >"$OUT"
cat "$OUT"
