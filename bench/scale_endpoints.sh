#!/usr/bin/env bash
# Several model servers behind one client: the throughput of `framewise analyze` with 1 and
# with 2 model-server doubles (tests/server) that answer alike.
#
# Usage: bash bench/scale_endpoints.sh [BUILD_DIR]     (default: build; needs framewise and
#        tests/fwtest_vlm there).
#
# One generated clip (ffmpeg lavfi: a number drawn on a colour, a new one every 0.5 s, SECONDS
# long, default 30: 2 * SECONDS keyframes), each keyframe its own request (--policy interval
# --fps 2 --whole-frames 1). The doubles answer after LATENCY_MS (default 300) with SLOTS (2)
# slots each. Runs with 1 endpoint (the baseline) and with 2 alternate for ROUNDS rounds
# (default 5); medians. Keyframes a second = keyframes / wall time; the bound is what the
# servers allow (endpoints * SLOTS / LATENCY); ratio to linear = kf/s with 2 / (2 * kf/s with
# 1). Output: markdown on stdout and in bench/results/scale-endpoints.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
LATENCY_MS=${LATENCY_MS:-300}
SLOTS=${SLOTS:-2}
SECONDS_LONG=${SECONDS_LONG:-30}
RESULTS=bench/results/scale-endpoints.md
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

die() { echo "scale_endpoints.sh: $*" >&2; exit 1; }
FW=$ROOT/$BUILD/framewise
VLM=$ROOT/$BUILD/tests/fwtest_vlm
for b in "$FW" "$VLM"; do [ -x "$b" ] || die "missing $b (make build)"; done

RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-endpoints.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUNS"' EXIT

# start_vlm N: the N-th double on a free loopback port; sets URL_N.
start_vlm() {
  local n=$1
  "$VLM" --port-file "$RUNS/port$n" --latency "$LATENCY_MS" --slots "$SLOTS" >"$RUNS/vlm$n.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$RUNS/port$n" ] && break; sleep 0.05; done
  [ -s "$RUNS/port$n" ] || die "the model-server double $n did not start"
  printf -v "URL_$n" 'http://127.0.0.1:%s/v1' "$(cat "$RUNS/port$n")"
}
start_vlm 1
start_vlm 2

clip=$RUNS/counter.mp4
ffmpeg -nostdin -v error -f lavfi -i "color=c=navy:s=320x240:r=10:d=$SECONDS_LONG" \
  -vf "drawtext=fontfile=$FONT:text='%{eif\:floor(t*2)\:d}':fontsize=120:fontcolor=white:x=(w-tw)/2:y=(h-th)/2" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -y "$clip"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
OPTS=(--policy interval --fps 2 --whole-frames 1 --summary extractive --no-cache -q)

# run N: one analysis with the first N doubles; appends its wall time to $RUNS/N.t and keeps
# its report as $RUNS/N.json.
run() {
  local n=$1 urls=(--url "$URL_1")
  [ "$n" = 2 ] && urls+=(--url "$URL_2")
  rm -rf "$RUNS/o"
  local t0
  t0=$(now)
  "$FW" analyze "$clip" -o "$RUNS/o" "${OPTS[@]}" "${urls[@]}" >/dev/null
  awk -v a="$(now)" -v b="$t0" 'BEGIN{print a-b}' >>"$RUNS/$n.t"
  cp "$RUNS/o/report.json" "$RUNS/$n.json"
}

: >"$RUNS/1.t"
: >"$RUNS/2.t"
for _ in $(seq "$ROUNDS"); do
  run 1
  run 2
done

# keyframes, failed and the endpoints' answered counts of a report
counts() {
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["stats"]
print(len(r["keyframes"]), s["failed"], "/".join(str(e["answered"]) for e in s["endpoints"]))
EOF
}

out=$(mktemp)
{
  echo "# Several model servers behind one client"
  echo
  echo "Model-server doubles (tests/server) at ${LATENCY_MS} ms a request, ${SLOTS} slots each;"
  echo "\`framewise analyze ${OPTS[*]}\` on a generated ${SECONDS_LONG} s clip (320x240, a new"
  echo "number every 0.5 s: every keyframe its own request); 1 and 2 endpoints alternate, median"
  echo "of ${ROUNDS} rounds."
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//');"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg). Command: \`bash bench/scale_endpoints.sh $BUILD\`."
  echo
  echo "| endpoints | keyframes | failed | answered by each | wall s (median) | keyframes/s | bound kf/s | of bound |"
  echo "|---:|---:|---:|---|---:|---:|---:|---:|"
} >"$out"

declare -A kfs
for n in 1 2; do
  read -r nkf failed each <<<"$(counts "$RUNS/$n.json")"
  wall=$(median <"$RUNS/$n.t")
  rate=$(awk -v k="$nkf" -v w="$wall" 'BEGIN{printf "%.2f", k/w}')
  bound=$(awk -v n="$n" -v s="$SLOTS" -v l="$LATENCY_MS" 'BEGIN{printf "%.2f", n*s*1000/l}')
  kfs[$n]=$rate
  printf "| %s | %s | %s | %s | %.2f | %s | %s | %.0f %% |\n" "$n" "$nkf" "$failed" "$each" "$wall" \
    "$rate" "$bound" "$(awk -v a="$rate" -v b="$bound" 'BEGIN{print 100*a/b}')" >>"$out"
done
{
  echo
  printf "Ratio to linear (keyframes/s with 2 endpoints / (2 x with 1)): **%.2f**.\n" \
    "$(awk -v a="${kfs[2]}" -v b="${kfs[1]}" 'BEGIN{print a/(2*b)}')"
  echo
  echo "The wall time includes decoding, the keyframes' JPEGs, the story and the report files"
  echo "(the part that does not scale with servers); all wall times, in run order:"
  echo "1 endpoint: $(paste -sd' ' "$RUNS/1.t"); 2 endpoints: $(paste -sd' ' "$RUNS/2.t")."
} >>"$out"

mkdir -p "$(dirname "$RESULTS")"
cp "$out" "$RESULTS"
cat "$out"
rm -f "$out"
