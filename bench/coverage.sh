#!/usr/bin/env bash
# Coverage benchmark: which states of a video each keyframe method keeps, at what cost.
#
# Usage: bash bench/coverage.sh [FRAMEWISE_BINARY]   (default: build/framewise; `make bench`
#        builds first). Env: ROUNDS (default 5) timed rounds per clip.
#
# Clips: the generated clips of tests/clips.sh (the same recipes and ground truth as the
# tests; the timer slide at 25 fps here) and the real clips of ../shared/videos whose
# MANIFEST gives states (their states below, from the MANIFEST, annotated by eye on frames
# decoded 4-10 times a second, with the times of ffmpeg's `select=gt(scene,0.0005)`; states
# shorter than 0.4 s are left out).
# Methods: framewise `auto` (default settings), `interval --fps 1`, `motion` (the seed's
# rule: 1 fps, threshold 30, against the last kept frame), `scene`, and the seed's own
# script (../shared/baselines/seed_extract.py, 1 fps + threshold 30 against the last sample).
# Reported per clip and method: states covered (a keyframe inside the state's interval),
# keyframes, keyframes per minute, image tokens per minute (framewise at analyze's default
# budget, 0.45 MP, as Qwen-VL counts them; the seed sends every frame at full size), and
# the median wall time of ROUNDS alternating runs (each method once per round, the order
# rotating) with its ratio to `ffmpeg -threads 2 -i X -f null -` in the same rounds. The
# 60 s 1080p bench file of bench/keyframes.sh (no states: everything moves) is timed too.
# Output: markdown on stdout and in bench/results/coverage.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${1:-build/framewise}
ROUNDS=${ROUNDS:-5}
RESULTS=bench/results/coverage.md
WORK=bench/work/coverage
VIDEOS=../shared/videos
SEED=../shared/baselines/seed_extract.py
PY=/usr/bin/python3
BUSY=bench/work/synth-1080p30-60s-v1.mp4
BUDGET=$((448 * 1024)) # analyze's default --max-pixels
die() { echo "coverage.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "no framewise at '$BIN' (make build)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v ffmpeg >/dev/null || die "no ffmpeg (bash scripts/deps.sh bench)"
"$PY" -c 'import cv2, PIL' 2>/dev/null || die "no python3-opencv/python3-pil (bash scripts/deps.sh bench)"
mkdir -p "$WORK" "$(dirname "$RESULTS")"
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-coverage.XXXXXX")
trap 'rm -rf "$RUNS"' EXIT

# ---- the clips and their states ("START END LABEL"; one label may have several intervals:
# the same picture shown again) -------------------------------------------------------------
declare -A STATES PATHS
for name in $(bash tests/clips.sh --list); do
  fps=25
  out=$WORK/$name-$fps.mp4
  [ -s "$out" ] || bash tests/clips.sh "$name" "$out" "$fps"
  PATHS[$name]=$out
  STATES[$name]=$(bash tests/clips.sh "$name" --states)
done
real_states() {
  case "$1" in
    pyscenedetect-testvideo.mp4) # 29.97 fps; each photo while fully visible (no fade)
      printf '%s\n' "1.001 6.006 photo 1" "8.008 11.044 photo 2" "14.147 17.618 photo 3" \
        "18.619 22.156 photo 4" ;;
    vhs-tutorial.mp4) # the states of 0.4 s or more (the menu's first pass over bubbles, gum
      # and skate takes 0.28 s each; gum comes back at 5.16 s, the same picture)
      printf '%s\n' "0.3 2.52 command being typed" "2.96 3.24 menu: gum" "5.16 5.96 menu: gum" \
        "3.52 4.60 menu: glow" "4.60 5.16 menu: skate, going back up" "5.96 6.6 gum printed" ;;
    vhs-neofetch.webm) # then the welcome line is typed, 3.12-8.56 s
      printf '%s\n' "0.52 1.08 neofetch typed" "1.6 3.12 neofetch output" \
        "8.56 13.4 welcome message typed out" ;;
    pitivi-tears_of_steel.webm) # frames 0-1 (the skyline) are under 0.4 s
      printf '%s\n' "0.086 2.0 dark interior" ;;
  esac
}
REAL=(pyscenedetect-testvideo.mp4 vhs-tutorial.mp4 vhs-neofetch.webm pitivi-tears_of_steel.webm)
CLIPS=($(bash tests/clips.sh --list))
for c in "${REAL[@]}"; do
  if [ -r "$VIDEOS/$c" ]; then
    PATHS[$c]=$VIDEOS/$c
    STATES[$c]=$(real_states "$c")
    CLIPS+=("$c")
  fi
done
TIMED=("${CLIPS[@]}")
if [ -s "$BUSY" ]; then
  PATHS[busy-1080p]=$BUSY
  TIMED+=(busy-1080p)
fi

METHODS=(ffmpeg auto interval motion scene seed)
run() { # method clip outdir -> stdout: keyframe list JSON (framewise) or seed's line
  local m=$1 v=${PATHS[$2]} o=$3
  rm -rf "$o"
  case "$m" in
    ffmpeg) ffmpeg -nostdin -v error -threads 2 -i "$v" -f null - ;;
    auto) "$BIN" keyframes "$v" -o "$o" --threads 2 -q --json --max-pixels $BUDGET ;;
    interval) "$BIN" keyframes "$v" -o "$o" --threads 2 -q --json --max-pixels $BUDGET --policy interval --fps 1 ;;
    motion) "$BIN" keyframes "$v" -o "$o" --threads 2 -q --json --max-pixels $BUDGET --policy motion ;;
    scene) "$BIN" keyframes "$v" -o "$o" --threads 2 -q --json --max-pixels $BUDGET --policy scene ;;
    seed) "$PY" "$SEED" "$v" "$o" ;;
  esac
}

# ---- timed rounds (alternating); the first round's output is the one judged ---------------
for clip in "${TIMED[@]}"; do
  for r in $(seq 1 "$ROUNDS"); do
    n=${#METHODS[@]}
    for k in $(seq 0 $((n - 1))); do
      m=${METHODS[$(((k + r) % n))]}
      t0=$(date +%s.%N)
      run "$m" "$clip" "$RUNS/out" >"$RUNS/$clip.$m.$r.out" 2>"$RUNS/err" ||
        die "$m on $clip failed: $(head -c 300 "$RUNS/err")"
      t1=$(date +%s.%N)
      awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$RUNS/$clip.$m.$r.time"
    done
  done
done

# ---- the report -----------------------------------------------------------------------------
export RUNS ROUNDS
{
  for clip in "${TIMED[@]}"; do
    echo "@clip $clip ${PATHS[$clip]}"
    ffprobe -v error -select_streams v:0 -show_entries stream=width,height,avg_frame_rate:format=duration \
      -of default=nw=1 "${PATHS[$clip]}"
    [ -n "${STATES[$clip]:-}" ] && printf '%s\n' "${STATES[$clip]}" | sed 's/^/@state /'
  done
} >"$RUNS/clips.txt"
"$PY" - "$RUNS/clips.txt" "$RESULTS" "$BIN" <<'PY'
import json, os, re, statistics, subprocess, sys, datetime
clips_txt, results, binary = sys.argv[1:4]
runs, rounds = os.environ["RUNS"], int(os.environ["ROUNDS"])
methods = ["auto", "interval", "motion", "scene", "seed"]
names = {"auto": "framewise auto", "interval": "interval --fps 1", "motion": "motion (seed's rule)",
         "scene": "scene", "seed": "seed_extract.py"}
clips, cur = [], None
for line in open(clips_txt):
    line = line.rstrip("\n")
    if line.startswith("@clip "):
        _, name, path = line.split(" ", 2)
        cur = {"name": name, "path": path, "states": {}}
        clips.append(cur)
    elif line.startswith("@state "):
        a, b, label = line[7:].split(" ", 2)
        cur["states"].setdefault(label, []).append((float(a), float(b)))
    elif "=" in line:
        k, v = line.split("=", 1)
        cur[k] = v
def fps(c):
    n, d = c["avg_frame_rate"].split("/")
    return float(n) / float(d)
def tokens(w, h):  # Qwen-VL: 32x32 px per token after rounding each side to 32
    return round(w / 32) * round(h / 32)
def judged(c, m):
    out = open(f"{runs}/{c['name']}.{m}.1.out").read()
    if m == "seed":
        frames = json.loads(re.search(r"\[(.*)\]", out).group(0))
        times = [f / round(fps(c)) for f in frames]  # the seed's own clock: index / int(fps)
        w, h = int(c["width"]), int(c["height"])
        return times, sum(tokens(w, h) for _ in times)
    kf = json.loads(out)["keyframes"]
    return [k["time"] for k in kf], sum(k["image_tokens"] for k in kf)
def med(c, m):
    return statistics.median(float(open(f"{runs}/{c['name']}.{m}.{r}.time").read()) for r in range(1, rounds + 1))
lines = ["# framewise coverage benchmark", "",
         f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M:%S} UTC; machine: {os.cpu_count()} CPUs",
         f"- framewise: `{binary}`, git {subprocess.run(['git','rev-parse','--short','HEAD'],capture_output=True,text=True).stdout.strip()}",
         "- method: bench/coverage.sh (its header says what is measured and how); states covered = "
         "states with a keyframe inside one of their intervals; tokens at analyze's 0.45 MP budget "
         "(the seed: full size); time = median of %d alternating rounds, ratio to `ffmpeg -threads 2 -i X -f null -`." % rounds, ""]
totals = {m: [0, 0, 0.0, 0.0] for m in methods}  # covered, states, kf, minutes
lines += ["| clip | states | method | covered | missed | keyframes | per min | image tokens/min | median s | vs decode |",
          "|---|---:|---|---:|---|---:|---:|---:|---:|---:|"]
for c in clips:
    dur = float(c["duration"])
    dec = med(c, "ffmpeg")
    for m in methods:
        times, tok = judged(c, m)
        st = c["states"]
        cov = [l for l, iv in st.items() if any(a - 1e-6 <= t < b for t in times for a, b in iv)]
        miss = [l for l in st if l not in cov]
        t = med(c, m)
        if st:
            tt = totals[m]
            tt[0] += len(cov); tt[1] += len(st); tt[2] += len(times); tt[3] += dur / 60
        lines.append("| %s | %s | %s | %s | %s | %d | %.1f | %s | %.2f | %.2f |" % (
            c["name"], len(st) if st else "—", names[m], ("%d/%d" % (len(cov), len(st))) if st else "—",
            ", ".join(miss[:4]) + (" …" if len(miss) > 4 else "") if st else "",
            len(times), len(times) / dur * 60, format(round(tok / dur * 60), ","), t, t / dec))
    lines.append("| %s | | ffmpeg decode | | | | | | %.2f | 1.00 |" % (c["name"], dec))
lines += ["", "All clips with states together:", "",
          "| method | states covered | keyframes per minute |", "|---|---:|---:|"]
for m in methods:
    cv, n, k, mins = totals[m]
    lines.append("| %s | %d/%d (%.0f %%) | %.1f |" % (names[m], cv, n, 100.0 * cv / max(1, n), k / max(mins, 1e-9)))
open(results, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
