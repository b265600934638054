#!/usr/bin/env bash
# analyze benchmark: framewise analyze against the model-server double at a fixed latency.
#
# Usage: bash bench/analyze.sh [BUILD_DIR]     (default: build; needs framewise, tests/fwtest_vlm,
#        fwbench_cpu there). `make bench` builds first, then runs this.
#
# 1. Wall time. The double answers every request after LATENCY_MS (default 200) with SLOTS (4)
#    parallel slots, like llama-server -np 4. For each clip: `framewise keyframes` with the same
#    settings (extraction + the same JPEG encoding; the part analyze cannot hide) and
#    `framewise analyze --concurrency SLOTS` alternate for ROUNDS rounds (default 5); medians.
#    Target: analyze wall <= 1.15 * ceil(requests / SLOTS) * LATENCY + extraction time.
# 2. Client CPU per keyframe (scale + JPEG + base64 + JSON request + parsing an answer) on a
#    1080p frame, from fwbench_cpu (process CPU clock, 300 repetitions). Target: <= 5 ms.
# 3. Image tokens per minute of video against the seed's approach (1 fps at full resolution,
#    Qwen-VL tokens = (w/32)*(h/32) after rounding): target <= 5 %.
# Output: markdown on stdout and in bench/results/analyze.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
LATENCY_MS=${LATENCY_MS:-200}
SLOTS=${SLOTS:-4}
RESULTS=bench/results/analyze.md
SYNTH=bench/work/synth-1080p30-60s-v1.mp4 # made by bench/keyframes.sh
VIDEOS=../shared/videos

die() { echo "analyze.sh: $*" >&2; exit 1; }
FW=$ROOT/$BUILD/framewise
VLM=$ROOT/$BUILD/tests/fwtest_vlm
CPU=$ROOT/$BUILD/fwbench_cpu
for b in "$FW" "$VLM" "$CPU"; do [ -x "$b" ] || die "missing $b (make build)"; done

RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-analyze.XXXXXX")
source bench/vlm.sh
trap 'kill $VLM_PID 2>/dev/null; rm -rf "$RUNS"' EXIT
bench_vlm --latency "$LATENCY_MS" --slots "$SLOTS"

clips=()
[ -f "$SYNTH" ] && clips+=("$SYNTH")
for c in pyscenedetect-testvideo.mp4 tour.mp4 vtest.avi message-board.ogv; do
  [ -f "$VIDEOS/$c" ] && clips+=("$VIDEOS/$c")
done
[ ${#clips[@]} -gt 0 ] || die "no clips: run bench/keyframes.sh first (it makes $SYNTH) or add ../shared/videos"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

out=$(mktemp)
{
  echo "# analyze benchmark"
  echo
  echo "Model-server double (tests/server) at ${LATENCY_MS} ms per request, ${SLOTS} slots;"
  echo "\`framewise analyze --concurrency ${SLOTS}\`; median of ${ROUNDS} alternating rounds."
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//');"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg). Command: \`bash bench/analyze.sh\`."
  echo
  echo "| clip | size | length s | keyframes | requests | extraction s | analyze wall s | bound s | wall/bound | tokens/min | seed tokens/min | ratio |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

for clip in "${clips[@]}"; do
  name=$(basename "$clip")
  : >"$RUNS/kf.t"
  : >"$RUNS/an.t"
  for r in $(seq "$ROUNDS"); do
    for which in kf an; do
      rm -rf "$RUNS/o"
      t0=$(now)
      if [ "$which" = kf ]; then
        "$FW" keyframes "$clip" -q -o "$RUNS/o" --max-pixels 458752 >/dev/null
      else
        "$FW" analyze "$clip" -q --no-cache --summary extractive -o "$RUNS/o" --url "$URL" --concurrency "$SLOTS" >/dev/null
        cp "$RUNS/o/report.json" "$RUNS/report.json"
      fi
      awk -v a="$(now)" -v b="$t0" 'BEGIN{print a-b}' >>"$RUNS/$which.t"
    done
  done
  kf=$(median <"$RUNS/kf.t")
  an=$(median <"$RUNS/an.t")
  rep=$RUNS/report.json
  nkf=$(grep -o '"keyframes": [0-9][0-9]*' "$rep" | tail -1 | awk '{print $2}')
  req=$(grep -o '"requests": [0-9]*' "$rep" | awk '{print $2}')
  tpm=$(grep -o '"image_tokens_per_minute": [0-9.e+-]*' "$rep" | awk '{print $2}')
  dur=$(grep -o '"duration": [0-9.e+-]*' "$rep" | head -1 | awk '{print $2}')
  w=$(grep -o '"width": [0-9]*' "$rep" | head -1 | awk '{print $2}')
  h=$(grep -o '"height": [0-9]*' "$rep" | head -1 | awk '{print $2}')
  # the seed: one full-resolution frame per second, each (round(w/32) * round(h/32)) tokens
  seed_tpm=$(awk -v w="$w" -v h="$h" 'function r(x){v=int(x/32+0.5); return v<1?1:v} BEGIN{print 60*r(w)*r(h)}')
  bound=$(awk -v q="$req" -v s="$SLOTS" -v l="$LATENCY_MS" -v k="$kf" 'BEGIN{b=int((q+s-1)/s); print 1.15*b*l/1000+k}')
  printf "| %s | %sx%s | %.1f | %s | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %s | %.1f %% |\n" \
    "$name" "$w" "$h" "$dur" "$nkf" "$req" "$kf" "$an" "$bound" "$(awk -v a="$an" -v b="$bound" 'BEGIN{print a/b}')" \
    "$tpm" "$seed_tpm" "$(awk -v a="$tpm" -v b="$seed_tpm" 'BEGIN{print 100*a/b}')" >>"$out"
done

cpu_clip=$SYNTH
[ -f "$cpu_clip" ] || die "no 1080p clip for the CPU measurement ($SYNTH: run bench/keyframes.sh)"
{
  echo
  echo "Client CPU per keyframe on a 1080p frame (\`$BUILD/fwbench_cpu $cpu_clip 300\`):"
  echo
  echo '```'
  "$CPU" "$cpu_clip" 300
  echo '```'
  echo
  echo "wall/bound <= 1 meets the wall-time target; ratio is framewise's image tokens per minute"
  echo "over the seed's (1 fps, full resolution); target <= 5 %."
} >>"$out"

mkdir -p "$(dirname "$RESULTS")"
cp "$out" "$RESULTS"
cat "$out"
rm -f "$out"
