#!/usr/bin/env bash
# make demo: the main job on the embedded default (no model server): keyframes, scenes
# and `analyze` with the local backend (OCR + descriptors, text timeline) on a
# generated sample that looks like a support screen recording.
set -euo pipefail
bin=${1:-build/framewise}
out=${FW_DEMO_DIR:-framewise-out/demo}
mkdir -p "$out"
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
cjk=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
clip="$out/sample-v2.mp4"

if [ ! -s "$clip" ]; then
  echo "demo: generating $clip (a 24 s screen recording: login, an error dialog, a new screen)"
  # 0-8 s:  a login form; at 4 s an error dialog appears (no cut: only part of the screen
  #         changes), at 6 s its Chinese hint
  # 8-24 s: a cut to a dashboard that then stays still (a long static stretch)
  dlg="drawbox=x=160:y=150:w=320:h=110:color=white@1:t=fill:enable='gte(t,4)',drawtext=fontfile=$font:text='Login failed\: connection timed out':fontsize=16:fontcolor=red:x=175:y=175:enable='gte(t,4)',drawtext=fontfile=$cjk:text='请检查网络连接':fontsize=20:fontcolor=black:x=175:y=215:enable='gte(t,6)'"
  ffmpeg -nostdin -v error \
    -f lavfi -i "color=c=0x2b3e50:s=640x360:r=30:d=8" \
    -f lavfi -i "color=c=0xeeeeee:s=640x360:r=30:d=16" \
    -filter_complex "[0]drawtext=fontfile=$font:text='Sign in':fontsize=32:fontcolor=white:x=260:y=60,drawbox=x=200:y=130:w=240:h=30:color=white:t=fill,drawbox=x=200:y=180:w=240:h=30:color=white:t=fill,$dlg[a];[1]drawtext=fontfile=$font:text='Dashboard':fontsize=32:fontcolor=black:x=40:y=30,drawbox=x=40:y=100:w=560:h=200:color=0x3377cc:t=fill[b];[a][b]concat=n=2:v=1[v]" \
    -map "[v]" -c:v libx264 -preset veryfast -pix_fmt yuv420p -y "$clip"
fi

echo
echo "== framewise keyframes $clip  (policy auto: cuts, on-screen changes, max gap)"
"$bin" keyframes "$clip" -o "$out/keyframes" --json > "$out/keyframes.json"
"$bin" keyframes "$clip" -o "$out/keyframes" -q --csv > "$out/keyframes.csv"
"$bin" keyframes "$clip" -o "$out/keyframes"
echo
echo "== framewise scenes $clip"
"$bin" scenes "$clip" -q | tee "$out/scenes.csv"
echo
echo
echo "== framewise analyze $clip --preset support  (backend local: Tesseract OCR + descriptors, no server)"
"$bin" analyze "$clip" -o "$out/analyze" --preset support
echo
frames=$(grep -o '"frames_decoded": [0-9]*' "$out/keyframes.json" | grep -o '[0-9]*$')
kept=$(($(wc -l < "$out/keyframes.csv") - 1))
echo "demo: kept $kept of $frames frames; the dialog at 00:04 and the cut at 00:08 each got one,"
echo "      the still dashboard only max-gap frames."
echo "demo: results are in $out/:"
echo "      keyframes/kf_*.jpg   the kept frames"
echo "      keyframes.json       the list with times, reasons and scores (keyframes.csv: the same as CSV)"
echo "      scenes.csv           the shot list"
echo "      analyze/report.html  the report to open in a browser: summary, timeline with thumbnails,"
echo "                           segments, events, review"
echo "      analyze/report.json  everything (schema framewise.report/1): observations, text timeline,"
echo "                           segments, events, summary, review; report.jsonl: the same as a stream"
echo "      analyze/captions.vtt analyze/captions.srt  captions from the segments; analyze/report.md"
echo "demo: with a vision-language model server: $bin analyze $clip --url http://HOST:PORT/v1"
