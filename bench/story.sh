#!/usr/bin/env bash
# What the story and the outputs cost: `framewise analyze` (local backend) on the real
# clips, with the general preset and every output (segments, events, extractive summary,
# review; json, jsonl, vtt, srt, md, html) against the bare run (--preset none
# --summary none --format json), alternating, median of 5. Also the story's own time
# (fusion.seconds: embedding and events as observations arrive, then segments, events,
# summary and review at the end). Writes bench/results/story.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${FRAMEWISE_BIN:-build/framewise}
videos=${FW_VIDEOS:-../shared/videos}
out=bench/results/story.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=5
clips=(message-board.ogv vhs-tutorial.mp4 vhs-neofetch.webm pyscenedetect-testvideo.mp4 tour.mp4)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { # seconds of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" analyze "$@" -q --no-cache >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}

{
  echo "# The story and the outputs: what they cost"
  echo
  echo "$(date -u +%Y-%m-%d), $(getconf _NPROCESSORS_ONLN) cores, local backend (Tesseract), median of $runs alternating runs."
  echo "bare: \`--preset none --summary none --format json\`; full: the general preset (2 events, 103 lexicon terms), extractive summary, all six outputs."
  echo
  echo "| clip | keyframes | segments | events | bare (s) | full (s) | difference (ms) | story: add + finish (ms) | report.html (KB) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$tmp/table"

for c in "${clips[@]}"; do
  clip="$videos/$c"
  [ -f "$clip" ] || { echo "story.sh: $clip missing, skipped" >&2; continue; }
  bare=() full=()
  for i in $(seq $runs); do
    bare+=("$(wall "$clip" -o "$tmp/bare" --preset none --summary none --format json)")
    full+=("$(wall "$clip" -o "$tmp/full")")
  done
  b=$(printf '%s\n' "${bare[@]}" | median)
  f=$(printf '%s\n' "${full[@]}" | median)
  read -r kf segs evs add fin < <(python3 - "$tmp/full/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["fusion"]["seconds"]
print(len(r["keyframes"]), len(r["segments"]), len(r["events"]), f["add"] * 1000, f["finish"] * 1000)
PY
)
  html=$(( $(stat -c %s "$tmp/full/report.html") / 1024 ))
  awk -v c="$c" -v kf="$kf" -v s="$segs" -v e="$evs" -v b="$b" -v f="$f" -v a="$add" -v fi="$fin" -v h="$html" \
    'BEGIN {printf "| %s | %d | %d | %d | %.2f | %.2f | %+.0f | %.1f + %.1f | %d |\n", c, kf, s, e, b, f, (f - b) * 1000, a, fi, h}' >> "$tmp/table"
done
mkdir -p bench/results
cp "$tmp/table" "$out"
cat "$out"
echo "-> $out"
