#!/usr/bin/env bash
# OCR benchmark: the local backend's OCR against the tesseract command-line tool.
#
# Usage: bash bench/ocr.sh [BUILD_DIR]   (default: build; needs framewise and fwbench_ocr there,
#        and the tesseract CLI: scripts/deps.sh bench). `make bench` builds first, then runs this.
#
# 1. OCR time per keyframe on two generated screens (PNG, known text): a 1024x768 dialog and
#    a 1920x1080 settings window, each with English and Chinese lines, dark-on-light and
#    light-on-dark. framewise: fwbench_ocr (the backend's path after JPEG decoding: grey,
#    normalisation, Tesseract sparse text, filtering), 1 and 2 workers. tesseract CLI on the
#    same PNG with the same languages: --psm 11 (sparse, as ours) and its default --psm 3;
#    "1 thread" is OMP_THREAD_LIMIT=1 one run at a time, "2 threads" two runs at once (the
#    way two framewise workers share the cores). Median of ROUNDS (default 5) runs; 2-thread
#    figures are wall time / pictures. Also: how many of the known lines each one read.
# 2. Whole `framewise analyze` (local backend) wall time on the real clips, median of
#    ROUNDS, next to `framewise keyframes` (the same extraction without OCR).
# Output: markdown on stdout and in bench/results/ocr.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
LANGS=eng+chi_sim
RESULTS=bench/results/ocr.md
WORK=bench/work
VIDEOS=../shared/videos
FW=$ROOT/$BUILD/framewise
OCR=$ROOT/$BUILD/fwbench_ocr
die() { echo "ocr.sh: $*" >&2; exit 1; }
for b in "$FW" "$OCR"; do [ -x "$b" ] || die "missing $b (make build)"; done
command -v tesseract >/dev/null || die "no tesseract CLI (bash scripts/deps.sh bench)"
mkdir -p "$WORK" bench/results
CORES=$(getconf _NPROCESSORS_ONLN) # before OMP_THREAD_LIMIT: nproc honours it
export OMP_THREAD_LIMIT=1 # as framewise analyze runs Tesseract (see src/cli/main.c)

font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
cjk=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# The known lines of each screen, one per line (compared without spaces).
dialog_lines=("Activities" "Display Settings" "Does the display look OK?" "设置将在15秒后恢复"
  "Revert Settings" "Keep This Configuration")
window_lines=("Settings" "Network" "Bluetooth" "Displays" "Sound" "Power" "Privacy"
  "Resolution 1920 x 1080 (16:9)" "Refresh Rate 60.00 Hz" "Night Light" "显示器设置已保存"
  "Apply" "Cancel")
t() { printf "drawtext=fontfile=%s:text='%s':x=%d:y=%d:fontsize=%d:fontcolor=%s" "$@"; }
if [ ! -s "$WORK/dialog-1024x768.png" ]; then
  ffmpeg -nostdin -v error -y -f lavfi -i color=c=0xdddddd:s=1024x768 -frames:v 1 -vf "\
drawbox=x=212:y=234:w=600:h=300:color=white:t=fill,drawbox=x=212:y=234:w=600:h=40:color=0x3c6eb4:t=fill,\
$(t $font 'Activities' 10 5 14 black),$(t $font 'Display Settings' 230 244 20 white),\
$(t $font 'Does the display look OK?' 240 300 22 black),$(t $cjk '设置将在 15 秒后恢复' 240 350 22 black),\
$(t $font 'Revert Settings' 260 480 16 black),$(t $font 'Keep This Configuration' 540 480 16 black)" \
    "$WORK/dialog-1024x768.png"
fi
if [ ! -s "$WORK/window-1920x1080.png" ]; then
  side=""
  y=120
  for item in Network Bluetooth Displays Sound Power Privacy; do
    side+=",$(t $font "$item" 40 $y 20 0xeeeeee)"
    y=$((y + 56))
  done
  ffmpeg -nostdin -v error -y -f lavfi -i color=c=0xf6f5f4:s=1920x1080 -frames:v 1 -vf "\
drawbox=x=0:y=0:w=1920:h=60:color=0x303030:t=fill,drawbox=x=0:y=60:w=300:h=1020:color=0x3d3846:t=fill,\
$(t $font 'Settings' 40 18 22 white)$side,\
$(t $font 'Resolution' 360 140 18 black),$(t $font '1920 x 1080 (16\:9)' 900 140 18 0x333333),\
$(t $font 'Refresh Rate' 360 210 18 black),$(t $font '60.00 Hz' 900 210 18 0x333333),\
$(t $font 'Night Light' 360 280 18 black),$(t $cjk '显示器设置已保存' 360 360 24 0x1c71d8),\
drawbox=x=1500:y=980:w=160:h=50:color=0x3584e4:t=fill,$(t $font 'Apply' 1550 993 20 white),\
$(t $font 'Cancel' 1320 993 20 black)" \
    "$WORK/window-1920x1080.png"
fi

ffmpeg -nostdin -v error -y -f lavfi -i color=c=white:s=64x64 -frames:v 1 "$WORK/blank-64.png"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
# how many of the known lines (args after the text file) the text file holds, spaces ignored
score() {
  local file=$1 hits=0 total=0
  shift
  local text
  text=$(tr -d ' \n' < "$file")
  for l in "$@"; do
    total=$((total + 1))
    case "$text" in *"${l// /}"*) hits=$((hits + 1)) ;; esac
  done
  echo "$hits/$total"
}

RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-ocr.XXXXXX")
trap 'rm -rf "$RUNS"' EXIT
out=$(mktemp)
{
  echo "# OCR benchmark"
  echo
  echo "Machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//');"
  echo "$(tesseract --version 2>&1 | head -1), languages $LANGS, OMP_THREAD_LIMIT=1;"
  echo "median of $ROUNDS. Command: \`bash bench/ocr.sh\`."
  echo
  echo "## OCR time per keyframe (ms) and lines read"
  echo
  echo "framewise: one read by a loaded engine (\`fwbench_ocr\`). tesseract CLI: one run per"
  echo "picture, as a pipeline calling it per keyframe pays it, start-up (loading $LANGS) included;"
  echo "its start-up alone, on a blank 64x64 PNG, is the last time column."
  echo
  echo "| picture | framewise 1 worker | framewise 2 workers | tesseract --psm 11, 1 | tesseract --psm 11, 2 at once | tesseract --psm 3, 1 | tesseract start-up | lines read: framewise / psm 11 / psm 3 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
} | tee "$out"

for pic in dialog-1024x768 window-1920x1080; do
  png=$WORK/$pic.png
  if [ "$pic" = dialog-1024x768 ]; then lines=("${dialog_lines[@]}"); else lines=("${window_lines[@]}"); fi
  one=() two=() cli11=() cli3=() par=() boot=()
  for r in $(seq "$ROUNDS"); do
    "$OCR" "$png" 2 1 "$LANGS" > "$RUNS/fw1"
    one+=("$(head -1 "$RUNS/fw1" | cut -d' ' -f1)")
    "$OCR" "$png" 4 2 "$LANGS" > "$RUNS/fw2"
    two+=("$(head -1 "$RUNS/fw2" | cut -d' ' -f2)")
    s=$(now); tesseract "$png" "$RUNS/c11" --psm 11 -l "$LANGS" >/dev/null 2>&1; e=$(now)
    cli11+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print (b - a) * 1000}')")
    s=$(now); tesseract "$png" "$RUNS/c3" --psm 3 -l "$LANGS" >/dev/null 2>&1; e=$(now)
    cli3+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print (b - a) * 1000}')")
    s=$(now); tesseract "$WORK/blank-64.png" "$RUNS/b" --psm 11 -l "$LANGS" >/dev/null 2>&1; e=$(now)
    boot+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print (b - a) * 1000}')")
    s=$(now)
    for k in 1 2 3 4; do tesseract "$png" "$RUNS/p$k" --psm 11 -l "$LANGS" >/dev/null 2>&1 & [ $((k % 2)) -eq 0 ] && wait; done
    wait
    e=$(now)
    par+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print (b - a) * 1000 / 4}')")
  done
  tail -n +2 "$RUNS/fw1" > "$RUNS/fwtext"
  m() { printf '%s\n' "$@" | median | awk '{printf "%.0f", $1}'; }
  printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s |\n' "$pic" "$(m "${one[@]}")" "$(m "${two[@]}")" \
    "$(m "${cli11[@]}")" "$(m "${par[@]}")" "$(m "${cli3[@]}")" "$(m "${boot[@]}")" \
    "$(score "$RUNS/fwtext" "${lines[@]}")" "$(score "$RUNS/c11.txt" "${lines[@]}")" \
    "$(score "$RUNS/c3.txt" "${lines[@]}")" | tee -a "$out"
done

{
  echo
  echo "## Whole \`framewise analyze\` (local backend) on the real clips"
  echo
  echo "| clip | keyframes | keyframes only (s) | analyze, local (s) | OCR lines read |"
  echo "|---|---:|---:|---:|---:|"
} | tee -a "$out"
for c in message-board.ogv vhs-tutorial.mp4 vhs-neofetch.webm mahjongg-video.ogv pyscenedetect-testvideo.mp4 tour.mp4 vtest.avi; do
  clip=$VIDEOS/$c
  [ -f "$clip" ] || continue
  kf=() an=()
  for r in $(seq "$ROUNDS"); do
    s=$(now); "$FW" keyframes "$clip" -o "$RUNS/k" -q --max-pixels 458752; e=$(now)
    kf+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
    s=$(now); "$FW" analyze "$clip" -o "$RUNS/a" -q --no-cache; e=$(now)
    an+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
  done
  n=$(grep -o '"keyframes": [0-9]*' "$RUNS/a/report.json" | tail -1 | grep -o '[0-9]*$')
  lines=$( (grep -o '"conf":' "$RUNS/a/report.json" || true) | wc -l)
  printf '| %s | %s | %.2f | %.2f | %s |\n' "$c" "$n" "$(printf '%s\n' "${kf[@]}" | median)" \
    "$(printf '%s\n' "${an[@]}" | median)" "$lines" | tee -a "$out"
done
cp "$out" "$RESULTS"
rm -f "$out"
echo
echo "ocr.sh: wrote $RESULTS"
