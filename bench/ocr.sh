#!/usr/bin/env bash
# OCR benchmark: the local backend's OCR against the tesseract command-line tool.
#
# Usage: bash bench/ocr.sh [BUILD_DIR]   (default: build; needs framewise and fwbench_ocr there,
#        and the tesseract CLI: scripts/deps.sh bench). `make bench` builds first, then runs this.
#
# 1. OCR time per keyframe on two generated screens (PNG, known text): a 1024x768 dialog and
#    a 1920x1080 settings window, each with English and Chinese lines, dark-on-light and
#    light-on-dark. framewise: fwbench_ocr (the backend's path after JPEG decoding: grey,
#    normalisation, text-likeness, Tesseract sparse text, the big-text pass, filtering), 1
#    and 2 workers, and 1 worker with FW_OCR_OFF=texture,big,deskew ("before"). tesseract CLI on the
#    same PNG with the same languages: --psm 11 (sparse, as ours) and its default --psm 3;
#    "1 thread" is OMP_THREAD_LIMIT=1 one run at a time, "2 threads" two runs at once (the
#    way two framewise workers share the cores). Median of ROUNDS (default 5) runs; 2-thread
#    figures are wall time / pictures. Also: how many of the known lines each one read.
# 2. Whole `framewise analyze` (local backend) wall time on the real clips, median of
#    ROUNDS, next to `framewise keyframes` (the same extraction without OCR) and to the
#    same analyze with FW_OCR_OFF=texture,big,deskew (the OCR before the texture skip and
#    the big-text pass), in turn within each round.
# 3. Big display words: 60 generated title cards (20 designs at 480x352, 1280x720 and
#    1920x1080; 1-3 words of 40-80 px at 352 px high, scaled with the frame; white on red,
#    blue, orange, purple, teal or dark on white; turned by -10..+10 degrees), read by
#    fwbench_ocr per variant (the steps turned off with FW_OCR_OFF, the big-text pass's
#    scale with FW_OCR_BIG_SCALE) and by the tesseract CLI on the raw picture: words read
#    (case-sensitive, spaces ignored) by size, polarity and tilt, and the mean CPU ms per card.
# 4. OCR per keyframe on the busy 1080p file (bench/work/synth-1080p30-60s-v1.mp4, made by
#    bench/keyframes.sh: noise, fractals, cellular automata): `framewise analyze --backend
#    local --ocr-threads 1`, the backend's own ocr_ms per keyframe, now and with
#    FW_OCR_OFF=texture,big,deskew (the code before the texture skip). That "before" takes
#    about 30 min, so it runs only with BEFORE=1.
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
PY=/usr/bin/python3
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

# ---------------------------------------------------------------- title cards (section 3)
# background|text colour|font|size at 352 px high|degrees|line 1|line 2 (cards-v1: bump the
# suffix when this list changes)
CARDS=$WORK/cards-v1
bold=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
cards=(
  "0xd62828|white|$bold|64|10|SUMMER|SALE" "0x1d4ed8|white|$bold|56|-10|Big News|"
  "0xf77f00|white|$bold|80|5|OPEN|NOW" "0x7b2cbf|white|$bold|48|-5|Watch Live|"
  "0x008080|white|$bold|40|0|Free Delivery|Today" "white|0x222222|$bold|72|-10|GAME|OVER"
  "0xd62828|white|$font|44|-5|Coming Soon|" "0x1d4ed8|white|$bold|40|5|SUBSCRIBE|"
  "0xf77f00|white|$bold|52|-10|FLASH|DEAL" "0x7b2cbf|white|$bold|64|10|Thank|You"
  "0x008080|white|$bold|56|-5|LAUNCH|DAY" "white|0x1d1d1d|$font|48|10|New Arrivals|"
  "0xd62828|white|$bold|40|-10|Level Complete|" "0x1d4ed8|white|$bold|72|0|TOP|STORIES"
  "0xf77f00|white|$font|56|-5|Learn More|" "0x7b2cbf|white|$bold|44|5|BEST OFFER|EVER"
  "0x008080|white|$bold|80|-10|WIN|" "white|0x202020|$bold|40|5|Meet the Team|"
  "0xd62828|white|$cjk|64|5|新品上市|" "white|0x222222|$cjk|56|-10|限时优惠|"
)
if [ ! -s "$CARDS/card-19-1920x1080.txt" ]; then
  mkdir -p "$CARDS"
  i=0
  for c in "${cards[@]}"; do
    IFS='|' read -r bg fg f size deg l1 l2 <<<"$c"
    for geo in 480x352 1280x720 1920x1080; do
      fs=$((size * ${geo#*x} / 352))
      y1="(h-text_h)/2" y2=""
      [ -n "$l2" ] && y1="(h/2-${fs}*1.15)" y2="(h/2+${fs}*0.05)"
      vf="drawtext=fontfile=$f:text='$l1':fontsize=$fs:fontcolor=$fg:x=(w-text_w)/2:y=$y1"
      [ -n "$l2" ] && vf+=",drawtext=fontfile=$f:text='$l2':fontsize=$fs:fontcolor=$fg:x=(w-text_w)/2:y=$y2"
      [ "$deg" != 0 ] && vf+=",rotate=a=${deg}*PI/180:c=$bg"
      name=$(printf 'card-%02d-%s' "$i" "$geo")
      ffmpeg -nostdin -v error -y -f lavfi -i "color=c=$bg:s=$geo" -frames:v 1 -vf "$vf" "$CARDS/$name.png"
      # the words, then what the card is: polarity and tilt
      printf '%s %s\n%s %s\n' "$l1" "$l2" "$([ "$bg" = white ] && echo dark || echo light)" "$deg" > "$CARDS/$name.txt"
    done
    i=$((i + 1))
  done
fi

RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-ocr.XXXXXX")
trap 'rm -rf "$RUNS"' EXIT
out=$(mktemp)
{
  echo "# OCR benchmark"
  echo
  echo "Machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//');"
  echo "$(tesseract --version 2>&1 | head -1), languages $LANGS, OMP_THREAD_LIMIT=1;"
  echo "median of $ROUNDS. Command: \`bash bench/ocr.sh\`. Load average (1/5/15 min) at the"
  echo "start: $(cut -d' ' -f1-3 /proc/loadavg) (the cores are shared; the end's is at the bottom)."
  echo
  echo "## OCR time per keyframe (ms) and lines read"
  echo
  echo "framewise: one read by a loaded engine (\`fwbench_ocr\`). tesseract CLI: one run per"
  echo "picture, as a pipeline calling it per keyframe pays it, start-up (loading $LANGS) included;"
  echo "its start-up alone, on a blank 64x64 PNG, is the last time column."
  echo
  echo "| picture | framewise 1 worker | before, 1 worker | framewise 2 workers | tesseract --psm 11, 1 | tesseract --psm 11, 2 at once | tesseract --psm 3, 1 | tesseract start-up | lines read: framewise / psm 11 / psm 3 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
} | tee "$out"

for pic in dialog-1024x768 window-1920x1080; do
  png=$WORK/$pic.png
  if [ "$pic" = dialog-1024x768 ]; then lines=("${dialog_lines[@]}"); else lines=("${window_lines[@]}"); fi
  one=() zero=() two=() cli11=() cli3=() par=() boot=()
  for r in $(seq "$ROUNDS"); do
    "$OCR" "$png" 2 1 "$LANGS" > "$RUNS/fw1"
    one+=("$(head -1 "$RUNS/fw1" | cut -d' ' -f1)")
    FW_OCR_OFF=texture,big,deskew "$OCR" "$png" 2 1 "$LANGS" > "$RUNS/fw0"
    zero+=("$(head -1 "$RUNS/fw0" | cut -d' ' -f1)")
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
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s |\n' "$pic" "$(m "${one[@]}")" "$(m "${zero[@]}")" "$(m "${two[@]}")" \
    "$(m "${cli11[@]}")" "$(m "${par[@]}")" "$(m "${cli3[@]}")" "$(m "${boot[@]}")" \
    "$(score "$RUNS/fwtext" "${lines[@]}")" "$(score "$RUNS/c11.txt" "${lines[@]}")" \
    "$(score "$RUNS/c3.txt" "${lines[@]}")" | tee -a "$out"
done

{
  echo
  echo "## Whole \`framewise analyze\` (local backend) on the real clips"
  echo
  echo "| clip | keyframes | keyframes only (s) | analyze, local (s) | before (s) | OCR lines read | before |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} | tee -a "$out"
for c in message-board.ogv vhs-tutorial.mp4 vhs-neofetch.webm mahjongg-video.ogv pyscenedetect-testvideo.mp4 tour.mp4 vtest.avi; do
  clip=$VIDEOS/$c
  [ -f "$clip" ] || continue
  kf=() an=() old=()
  for r in $(seq "$ROUNDS"); do
    s=$(now); "$FW" keyframes "$clip" -o "$RUNS/k" -q --max-pixels 458752; e=$(now)
    kf+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
    s=$(now); "$FW" analyze "$clip" -o "$RUNS/a" -q --no-cache; e=$(now)
    an+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
    s=$(now); FW_OCR_OFF=texture,big,deskew "$FW" analyze "$clip" -o "$RUNS/b" -q --no-cache; e=$(now)
    old+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
  done
  n=$(grep -o '"keyframes": *[0-9][0-9]*' "$RUNS/a/report.json" | tail -1 | grep -o '[0-9]*$')
  lines=$( (grep -o '"conf":' "$RUNS/a/report.json" || true) | wc -l)
  lines0=$( (grep -o '"conf":' "$RUNS/b/report.json" || true) | wc -l)
  printf '| %s | %s | %.2f | %.2f | %.2f | %s | %s |\n' "$c" "$n" "$(printf '%s\n' "${kf[@]}" | median)" \
    "$(printf '%s\n' "${an[@]}" | median)" "$(printf '%s\n' "${old[@]}" | median)" "$lines" \
    "$lines0" | tee -a "$out"
done

# ---------------------------------------------------------------- 3. title cards
# words read per class from fwbench_ocr --each output (or tesseract CLI text files)
score_cards() {
  "$PY" - "$@" <<'PYEOF'
import sys, os, re
src, kind = sys.argv[1], sys.argv[2]
texts, cpu = {}, []
if kind == 'fw':
    cur = None
    for line in open(src, encoding='utf-8'):
        line = line.rstrip('\n')
        if line.startswith('== '):
            f = line.split(' ')
            cur = f[1]; texts[cur] = ''; cpu.append(float(f[3]))
        elif cur:
            texts[cur] += line + '\n'
else:  # a directory of NAME.txt from the CLI, and a file of ms per card
    for n in os.listdir(src):
        if n.endswith('.txt'):
            texts[n[:-4] + '.png'] = open(os.path.join(src, n), encoding='utf-8').read()
    cpu = [float(x) for x in open(sys.argv[3])]
hit, tot = {}, {}
for path, text in texts.items():
    base = os.path.basename(path)
    words, what = open(os.path.join(os.environ['CARDS'], base[:-4] + '.txt'), encoding='utf-8').read().split('\n')[:2]
    pol, deg = what.split()
    geo = re.search(r'(\d+x\d+)', base).group(1)
    text = text.replace(' ', '')  # lines stay apart: a word is never read across two
    for w in words.split():
        for k in (geo, pol, 'tilted' if deg != '0' else 'level', 'all'):
            tot[k] = tot.get(k, 0) + 1
            hit[k] = hit.get(k, 0) + (w in text)
cell = lambda k: f"{hit.get(k, 0)}/{tot.get(k, 0)}"
print(' | '.join([cell('480x352'), cell('1280x720'), cell('1920x1080'), cell('light'), cell('dark'),
                  cell('tilted'), cell('all'), f"{sum(cpu) / max(len(cpu), 1):.0f}"]))
PYEOF
}
{
  echo
  echo "## Big display words: title cards"
  echo
  echo "60 cards (\`$CARDS\`, made here): 20 designs of 1-3 words, 40-80 px at 480x352 and"
  echo "scaled with the frame at 1280x720 and 1920x1080; white on red, blue, orange, purple or"
  echo "teal (\"light\") or dark on white (\"dark\"); 18 of 20 turned by 5 or 10 degrees either"
  echo "way (\"tilted\"). A word is read when it is in the card's text (case-sensitive, spaces"
  echo "ignored). framewise: \`fwbench_ocr --each\` (one engine; CPU ms per card). The first"
  echo "pass is the one screens get; the big-text pass reads the picture shrunk 2, 3 or 4 times"
  echo "(FW_OCR_BIG_SCALE; 4 is 1/2 of a 480x352 card, which the first pass enlarges x2)."
  echo
  echo "| variant | 480x352 | 1280x720 | 1920x1080 | light on colour | dark on white | tilted | all words | ms per card |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} | tee -a "$out"
export CARDS
ls "$CARDS"/*.png > "$RUNS/cards.list"
variants=(
  "before: first pass only, no texture skip|texture,big,deskew|4"
  "texture skip, first pass only|big,deskew|4"
  "+ big-text pass at 1/2, not turned|deskew|2"
  "+ big-text pass at 1/3, not turned|deskew|3"
  "+ big-text pass at 1/4, not turned|deskew|4"
  "+ big-text pass at 1/2, turned level|none|2"
  "+ big-text pass at 1/3, turned level|none|3"
  "+ big-text pass at 1/4, turned level (default)|none|4"
)
for v in "${variants[@]}"; do
  IFS='|' read -r name off k <<<"$v"
  FW_OCR_OFF=$off FW_OCR_BIG_SCALE=$k "$OCR" --each "$LANGS" < "$RUNS/cards.list" > "$RUNS/cards.out"
  printf '| %s | %s |\n' "$name" "$(score_cards "$RUNS/cards.out" fw)" | tee -a "$out"
done
for psm in 11 3; do
  mkdir -p "$RUNS/cli$psm"
  : > "$RUNS/cli$psm.ms"
  while read -r png; do
    n=$(basename "$png" .png)
    s=$(now); tesseract "$png" "$RUNS/cli$psm/$n" --psm $psm -l "$LANGS" >/dev/null 2>&1; e=$(now)
    awk -v a="$s" -v b="$e" 'BEGIN {print (b - a) * 1000}' >> "$RUNS/cli$psm.ms"
  done < "$RUNS/cards.list"
  printf '| tesseract CLI --psm %s on the raw card (wall ms, start-up included) | %s |\n' "$psm" \
    "$(score_cards "$RUNS/cli$psm" cli "$RUNS/cli$psm.ms")" | tee -a "$out"
done

# ---------------------------------------------------------------- 4. the busy 1080p file
BUSY=$WORK/synth-1080p30-60s-v1.mp4
busy_row() { # label, report.json, wall s
  "$PY" - "$@" <<'PYEOF'
import json, sys
label, path, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
r = json.load(open(path))
ms = sorted(o['fields']['ocr_ms'] for o in r['observations'])
lines = sum(len(o['fields']['lines']) for o in r['observations'])
skipped = sum(bool(o['fields'].get('ocr_skipped')) for o in r['observations'])
n = len(ms)
print(f"| {label} | {n} | {sum(ms) / n:.0f} | {ms[n // 2]:.0f} | {ms[-1]:.0f} | {skipped} | {lines} | {wall:.1f} |")
PYEOF
}
{
  echo
  echo "## OCR per keyframe on the busy 1080p file"
  echo
  echo "\`$BUSY\` (bench/keyframes.sh's recipe: 60 s of testsrc2, Mandelbrot, game of life,"
  echo "SMPTE bars, gradients and a cellular automaton, all with noise; almost no text)."
  echo "\`framewise analyze $BUSY --backend local --ocr-threads 1 --no-cache\`: ms per keyframe"
  echo "from each observation's \`fields.ocr_ms\` (the backend's own figure, one worker), the"
  echo "keyframes Tesseract never saw (\`ocr_skipped\`), the lines read (all of them junk: the"
  echo "file has no text to read) and the whole run's wall time."
  echo
  echo "| code | keyframes | mean ms | median ms | max ms | skipped | lines | analyze wall s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} | tee -a "$out"
if [ -f "$BUSY" ]; then
  runs=("now||$RUNS/busy-now")
  [ "${BEFORE:-0}" = 1 ] && runs+=("before (FW_OCR_OFF=texture,big,deskew)|texture,big,deskew|$RUNS/busy-before")
  for r in "${runs[@]}"; do
    IFS='|' read -r label off dir <<<"$r"
    s=$(now)
    FW_OCR_OFF=$off "$FW" analyze "$BUSY" --backend local --ocr-threads 1 --no-cache -q -o "$dir"
    e=$(now)
    busy_row "$label" "$dir/report.json" "$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')" | tee -a "$out"
  done
  [ "${BEFORE:-0}" = 1 ] || echo "(the \"before\" row needs BEFORE=1: about 30 min)" | tee -a "$out"
else
  echo "($BUSY is absent: run bench/keyframes.sh first, which makes it)" | tee -a "$out"
fi

{
  echo
  echo "Load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee -a "$out"
cp "$out" "$RESULTS"
rm -f "$out"
echo
echo "ocr.sh: wrote $RESULTS"
