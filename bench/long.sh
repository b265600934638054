#!/usr/bin/env bash
# Long-run benchmark: peak memory and wall time of `framewise analyze -` fed on the fly, through a
# pipe, by an FFmpeg that encodes a synthetic live stream (MPEG-TS, H.264) as it goes.
#
# Usage: bash bench/long.sh [FRAMEWISE_BINARY]     (default: build/framewise; build it: make build)
#        LONG_CASES="local:640x360:1 vlm:640x360:2" bash bench/long.sh     a quick version
# Run from anywhere; paths are relative to the repository root. Needs ffmpeg, GNU time
# (/usr/bin/time), python3 and the DejaVu font (bash scripts/deps.sh bench).
#
# Environment:
#   LONG_CASES  "BACKEND:WxH:MINUTES ..." (default: local at 640x360 for 10, 60 and 120 min and
#               at 1920x1080 for 30 min, then vlm at 640x360 for 10 and 120 min and 1080p 30 min);
#               BACKEND: local (the embedded default, Tesseract OCR) or vlm (the openai backend
#               against the project's model-server double, tests/server, started here); about
#               25 minutes on 2 cores: run it when the machine is free
#   LONG_FPS    frame rate of the generated stream (default 10: keeps 2 cores ahead of real time)
#   LONG_ARGS   extra framewise analyze options, appended (e.g. LONG_ARGS="--live on")
#   LONG_RESULTS  the results file (default bench/results/long.md)
#
# The stream, per case: testsrc2 (moving pattern and counter) with a big "STATE N" line,
# N = floor(t/5), so its on-screen state changes every 5 s; libx264 ultrafast zerolatency, a GOP
# of 50 frames, MPEG-TS on stdout, piped into
#   /usr/bin/time -f '%M %e %x' framewise analyze - -o OUT --no-cache --quiet $LONG_ARGS
# (the store is off: --no-cache; vlm adds --url of the double). Only the framewise
# process is measured: GNU time wraps it alone, not ffmpeg. Reported per case: frames decoded,
# keyframes and observations (report.json .stats), peak RSS ("maximum resident set size", MB =
# kB/1024), wall s (framewise's whole life: it waits for the encoder, so this is at least about
# the video's length / the encoder's speed), realtime factor (video seconds / wall seconds), the
# size of report.json, the lines of report.jsonl and the exit codes. Then two verdicts:
#   peak RSS growth from the shortest to the longest case of each backend at its first size
#   (the default: 640x360 120 min vs 10 min), target within +-10 %;
#   peak RSS of each 1080p case, target <= 150 MB.
# Output: markdown on stdout, the same in bench/results/long.md (overwritten).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BIN=${1:-build/framewise}
CASES=${LONG_CASES:-local:640x360:10 local:640x360:60 local:640x360:120 local:1920x1080:30 vlm:640x360:10 vlm:640x360:120 vlm:1920x1080:30}
FPS=${LONG_FPS:-10}
ARGS=${LONG_ARGS:-}
RESULTS=${LONG_RESULTS:-bench/results/long.md}
TIME=/usr/bin/time
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf # the font tests/clips.sh uses
RSS_GROWTH_MAX=10                                    # %
RSS_1080_MAX=150                                     # MB

die() { echo "long.sh: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable framewise at '$BIN' (build it: make build, or pass its path as \$1)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
VLM=$(dirname "$BIN")/tests/fwtest_vlm # the double built beside it
command -v ffmpeg >/dev/null || die "ffmpeg not found (bash scripts/deps.sh bench)"
command -v python3 >/dev/null || die "python3 not found"
[ -x "$TIME" ] || die "GNU time not found at $TIME (bash scripts/deps.sh bench)"
[ -f "$FONT" ] || die "font $FONT not found (fonts-dejavu-core: bash scripts/deps.sh bench)"
[[ $FPS =~ ^[0-9]+([.][0-9]+)?$ ]] || die "LONG_FPS '$FPS' is not a number"

read -r -a EXTRA <<<"$ARGS"

RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-long.XXXXXX")
source bench/vlm.sh
trap 'if [ -n "$VLM_PID" ]; then kill "$VLM_PID" 2>/dev/null; fi; rm -rf "$RUNS"' EXIT
URL=
notes=()
source bench/meta.sh
meta_begin
START=$(date +%s)

# drawtext: '\:' keeps the expression's colons inside the text option
DRAW="drawtext=fontfile=$FONT:text='STATE %{eif\:floor(t/5)\:d}':fontsize=48:fontcolor=white:box=1:boxcolor=black:boxborderw=12:x=40:y=40"
ff_for() { # SIZE SECONDS -> sets array FF
  FF=(ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=s=$1:r=$FPS:d=$2" -vf "$DRAW"
    -c:v libx264 -preset ultrafast -tune zerolatency -g 50 -pix_fmt yuv420p -f mpegts -)
}
fw_for() { # BACKEND OUTDIR -> sets array FW (what GNU time runs)
  FW=("$BIN" analyze - -o "$2" --no-cache --quiet)
  if [ "$1" = vlm ]; then
    if [ -z "$URL" ]; then
      [ -x "$VLM" ] || die "no model-server double at $VLM (make build)"
      bench_vlm --slots 4
    fi
    FW+=(--url "$URL")
  fi
  FW+=("${EXTRA[@]+"${EXTRA[@]}"}")
}
show() { printf '%q ' "$@" | sed "s#$BIN#framewise#g; s/ \$//"; } # a command line, shell-quoted

: >"$RUNS/raw.tsv"
: >"$RUNS/commands.md"
n=0
for c in $CASES; do
  [[ $c =~ ^(local:|vlm:)?([0-9]+)x([0-9]+):([0-9]+([.][0-9]+)?)$ ]] ||
    die "bad case '$c' in LONG_CASES (want BACKEND:WxH:MINUTES)"
  [[ $c == *:*:* ]] || c=local:$c
  backend=${c%%:*}
  c=${c#*:}
  size=${c%%:*}
  min=${c#*:}
  secs=$(awk -v m="$min" 'BEGIN { printf "%g", m * 60 }')
  n=$((n + 1))
  out=$RUNS/out.$n
  ff_for "$size" "$secs"
  fw_for "$backend" "$out"
  echo "- $backend, $size, $min min: \`$(show "${FF[@]}") | $(show "$TIME" -f '%M %e %x' -o TIMEFILE "${FW[@]}" | sed "s#$out#OUT#; s#$URL#URL#")\`" >>"$RUNS/commands.md"
  echo "long.sh: case $n: $backend, $size, $min min at $FPS fps..." >&2

  set +e
  "${FF[@]}" </dev/null 2>"$RUNS/ff.$n.err" |
    "$TIME" -f '%M %e %x' -o "$RUNS/time.$n" "${FW[@]}" >"$RUNS/fw.$n.out" 2>"$RUNS/fw.$n.err"
  st=("${PIPESTATUS[@]}")
  set -e
  ffrc=${st[0]}
  rc=${st[1]}
  # GNU time writes "Command exited with non-zero status N" (or "...terminated by signal N") first
  rss="" wall=""
  read -r rss wall _ < <(tail -n 1 "$RUNS/time.$n" 2>/dev/null) || true
  rep=$out/report.json
  if [ -s "$rep" ]; then
    read -r frames kf obs < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stats"]; print(s.get("frames_decoded","-"), s.get("keyframes","-"), s.get("observations","-"))' "$rep" 2>/dev/null || echo "- - -")
    jbytes=$(stat -c %s "$rep")
  else
    frames=- kf=- obs=- jbytes=-
  fi
  if [ -f "$out/report.jsonl" ]; then jlines=$(wc -l <"$out/report.jsonl"); else jlines=-; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$min" "$secs" "$frames" "$kf" "$obs" \
    "${rss:-0}" "${wall:-0}" "$rc" "$ffrc" "$jbytes" "$jlines" "$backend" >>"$RUNS/raw.tsv"
  printf 'long.sh:   %s frames, %s keyframes, %s observations, %s MB peak, %s s wall, exit %s (ffmpeg %s)\n' \
    "$frames" "$kf" "$obs" "$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" "${wall:-?}" "$rc" "$ffrc" >&2

  expect=$(awk -v s="$secs" -v f="$FPS" 'BEGIN { printf "%d", s * f + 0.5 }')
  [ "$frames" = - ] || [ "$frames" = "$expect" ] ||
    notes+=("$size $min min: $frames frames decoded, the stream had $expect.")
  [ "$rc" -eq 0 ] || notes+=("$size $min min: framewise exited with $rc.")
  [ "$ffrc" -eq 0 ] || notes+=("$size $min min: ffmpeg exited with $ffrc (141: SIGPIPE, framewise stopped reading).")
  [ -s "$rep" ] || notes+=("$size $min min: no report.json.")
  for f in fw ff; do
    if [ -s "$RUNS/$f.$n.err" ]; then
      who=framewise
      [ "$f" = fw ] || who=ffmpeg
      notes+=("$size $min min: $who's stderr ($(wc -l <"$RUNS/$f.$n.err") lines), the first: \`$(head -n 3 "$RUNS/$f.$n.err" | tr '\n`' " '" | sed 's/ *$//')\`")
    fi
  done
  rm -rf "$out"
done

# ---------------------------------------------------------------- report
meta_end long.sh "wall times may be long"
took=$(($(date +%s) - START))

{
  echo "# framewise long-run benchmark: \`analyze -\` on a live MPEG-TS pipe"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); the benchmark took ${took} s"
  echo "- machine: $(nproc) CPUs (nproc), $cpu, $(uname -sr), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
  echo "- load average (1/5/15 min): $LOAD0 at start, $LOAD1 at end (the encoder and framewise share the cores)"
  echo "- ffmpeg: $(ffmpeg -version | head -n 1)"
  echo "- framewise: \`$BIN\` (sha256 $BIN_SUM0…), git $gitrev"
  echo "- stream: testsrc2 at **$FPS fps** with a \"STATE N\" line (N = floor(t/5): a new state every 5 s), libx264 ultrafast zerolatency, GOP 50, MPEG-TS, generated while framewise reads it"
  if [ -n "$ARGS" ]; then echo "- extra options (LONG_ARGS): \`$ARGS\`"; else echo "- extra options (LONG_ARGS): none"; fi
  echo "- method: GNU time around framewise only; peak RSS = \"maximum resident set size\" in MB (kB/1024); wall = framewise's life (it waits for the encoder); realtime = video s / wall s; one run per case"
  echo "- command: \`${LONG_CASES:+LONG_CASES=\"$LONG_CASES\" }${LONG_FPS:+LONG_FPS=$LONG_FPS }${LONG_ARGS:+LONG_ARGS=\"$LONG_ARGS\" }${LONG_RESULTS:+LONG_RESULTS=$LONG_RESULTS }bash bench/long.sh${1:+ $1}\`"
  echo
  echo "Commands (OUT = a fresh directory, TIMEFILE = GNU time's output):"
  echo
  cat "$RUNS/commands.md"
  echo
  echo "| backend | case | frames | keyframes | observations | peak RSS MB | wall s | realtime | report.json KB | report.jsonl lines | exit |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{
    ex = $9; if ($10 != 0) ex = ex " (ffmpeg " $10 ")"
    kb = ($11 == "-") ? "-" : sprintf("%.1f", $11 / 1024)
    rt = ($8 > 0) ? sprintf("%.2fx", $3 / $8) : "-"
    printf "| %s | %s, %s min | %s | %s | %s | %.1f | %.1f | %s | %s | %s | %s |\n", $13, $1, $2, $4, $5, $6, $7 / 1024, $8, rt, kb, $12, ex
  }' "$RUNS/raw.tsv"
  echo
  # growth: shortest vs longest case of each backend at its first case's size
  for b in $(cut -f13 "$RUNS/raw.tsv" | awk '!seen[$0]++'); do
    awk -F'\t' -v lim="$RSS_GROWTH_MAX" -v b="$b" '
      $13 != b { next }
      size == "" { size = $1 }
      $1 == size { if (lo == "" || $3 + 0 < lo + 0) { lo = $3; lom = $2; lor = $7; loe = $9 }
                   if (hi == "" || $3 + 0 > hi + 0) { hi = $3; him = $2; hir = $7; hie = $9 } }
      END {
        if (hi + 0 <= lo + 0) { printf "- %s: peak RSS growth n/a (needs two durations at %s)\n", b, size; exit }
        d = 100 * (hir - lor) / lor
        v = (d <= lim && d >= -lim) ? "PASS" : "FAIL"
        if (loe != 0 || hie != 0) v = "FAIL (a run failed)"
        printf "- %s: peak RSS at %s min vs %s min (%s): %+.1f %% (%.1f -> %.1f MB; target within +-%d %%): **%s**\n", b, him, lom, size, d, lor / 1024, hir / 1024, lim, v
      }' "$RUNS/raw.tsv"
  done
  awk -F'\t' -v lim="$RSS_1080_MAX" '
    $1 ~ /x1080$/ { any = 1; mb = $7 / 1024
      v = (mb <= lim) ? "PASS" : "FAIL"; if ($9 != 0) v = "FAIL (exit " $9 ")"
      printf "- %s: peak RSS at 1080p %s min: %.1f MB (target <= %d MB): **%s**\n", $13, $2, mb, lim, v }
    END { if (!any) print "- peak RSS at 1080p: n/a (no 1920x1080 case)" }' "$RUNS/raw.tsv"
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    echo
    for x in "${notes[@]}"; do echo "- $x"; done
  fi
} >"$RUNS/report.md"

mkdir -p "$(dirname "$RESULTS")"
cp "$RUNS/report.md" "$RESULTS"
cat "$RESULTS"
echo "long.sh: wrote $RESULTS" >&2
