#!/usr/bin/env bash
# Keyframe-extraction benchmark: framewise policies vs a plain FFmpeg decode and vs the seed script.
#
# Usage: bash bench/keyframes.sh [FRAMEWISE_BINARY]     (default: build/framewise)
# Run from anywhere; paths are relative to the repository root. `make bench` builds first, then runs this.
#
# For each input, every command is run once per round, in turn (the starting command rotates from round
# to round so no command is always first), for ROUNDS rounds (default 5, env ROUNDS=N). Reported: the
# median wall time, its ratio to the median of `ffmpeg -f null` decode, the keyframes kept and the
# largest peak RSS (GNU time -v) over the rounds. Each run writes into a fresh, empty output directory.
# If one seed-script run takes more than SEED_SLOW seconds (default 60), the seed gets only 3 rounds.
#
# Inputs:  bench/work/synth-1080p30-60s-v1.mp4 (generated once with ffmpeg lavfi, cached; bench/work/ is
#          gitignored) and ../shared/videos/vtest.avi (skipped with a note when absent).
# Output:  markdown table on stdout, the same in bench/results/keyframes.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BIN=${1:-build/framewise}
ROUNDS=${ROUNDS:-5}
SEED_SLOW=${SEED_SLOW:-60}
SEED_ROUNDS_SLOW=3
WORK=bench/work
RESULTS=bench/results/keyframes.md
SEED=../shared/baselines/seed_extract.py
VTEST=../shared/videos/vtest.avi
SYNTH=$WORK/synth-1080p30-60s-v1.mp4 # bump the suffix when the recipe below changes
TIME=/usr/bin/time
PY=/usr/bin/python3

die() { echo "keyframes.sh: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable framewise at '$BIN' (build it: make build, or pass its path as \$1)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v ffmpeg >/dev/null || die "ffmpeg not found (bash scripts/deps.sh bench)"
command -v ffprobe >/dev/null || die "ffprobe not found (bash scripts/deps.sh bench)"
[ -x "$TIME" ] || die "GNU time not found at $TIME (bash scripts/deps.sh bench)"
[ -x "$PY" ] || die "$PY not found"

mkdir -p "$WORK" "$(dirname "$RESULTS")"
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench.XXXXXX")
trap 'rm -rf "$RUNS"' EXIT
notes=()
source bench/meta.sh
meta_begin

# ---------------------------------------------------------------- input (a): synthetic 1080p30, 60 s
# Six 10 s shots (so five hard cuts), all with motion, plus light temporal grain like a real camera:
#   testsrc2 (moving gradient/counter) | mandelbrot zoom | game of life (coarse cells) |
#   SMPTE HD bars with a picture-in-picture box gliding over them | slowly rotating gradients |
#   scrolling cellular automaton (whole-frame motion, like a pan).
# Encoded with libx264 -bf 3 -g 250 (an IDR every 250 frames plus scene-cut I-frames).
SYNTH_CMD=(ffmpeg -nostdin -v error -y
  -f lavfi -t 10 -i "testsrc2=s=1920x1080:r=30"
  -f lavfi -t 10 -i "mandelbrot=s=960x540:r=30"
  -f lavfi -t 10 -i "life=s=192x108:r=30:mold=10:ratio=0.3:life_color=#ffd040:death_color=#802020:mold_color=#102040"
  -f lavfi -t 10 -i "smptehdbars=s=1920x1080:r=30"
  -f lavfi -t 10 -i "testsrc2=s=480x270:r=30"
  -f lavfi -t 10 -i "gradients=s=1920x1080:r=30:speed=0.02:nb_colors=3"
  -f lavfi -t 10 -i "cellauto=s=480x270:r=30:rule=110:random_fill_ratio=0.5"
  -filter_complex "[1]scale=1920:1080:flags=bicubic[m];[2]scale=1920:1080:flags=neighbor[l];[3][4]overlay=x='(W-w)*(0.5+0.5*sin(t*1.3))':y='(H-h)*(0.5+0.5*sin(t*0.9))'[b];[6]scale=1920:1080:flags=neighbor[c];[0][m][l][b][5][c]concat=n=6:v=1:a=0,setsar=1,noise=alls=3:allf=t,format=yuv420p[v]"
  -map "[v]" -c:v libx264 -preset veryfast -crf 23 -bf 3 -g 250 -pix_fmt yuv420p -movflags +faststart)
if [ -s "$SYNTH" ]; then
  echo "keyframes.sh: using cached $SYNTH" >&2
else
  echo "keyframes.sh: generating $SYNTH (60 s 1080p30 H.264; about a minute on 2 cores)..." >&2
  "${SYNTH_CMD[@]}" "$SYNTH.part.mp4"
  mv "$SYNTH.part.mp4" "$SYNTH"
fi

inputs=("$SYNTH")
if [ -f "$VTEST" ]; then
  inputs+=("$VTEST")
else
  notes+=("$VTEST is absent: skipped.")
  echo "keyframes.sh: $VTEST absent, skipping it" >&2
fi
have_seed=1
if [ ! -f "$SEED" ]; then
  have_seed=0
  notes+=("$SEED is absent: seed baseline skipped.")
  echo "keyframes.sh: $SEED absent, skipping the seed baseline" >&2
fi

# ---------------------------------------------------------------- commands
# Names and templates; X = input, OUT = a fresh empty directory.
names=(ffmpeg auto interval iframe seed)
# BASE_BIN=path: another framewise build (e.g. the last release) timed in the same rounds, for
# auto, interval and iframe: the machine's speed drifts by 20 % and more from minute to minute.
if [ -n "${BASE_BIN:-}" ]; then
  [ -x "$BASE_BIN" ] || die "BASE_BIN '$BASE_BIN' is not an executable"
  names+=(base-auto base-interval base-iframe)
fi
cmd_for() { # NAME INPUT OUTDIR -> sets array CMD
  case "$1" in
    ffmpeg)   CMD=(ffmpeg -v error -threads 2 -i "$2" -f null -) ;;
    auto)     CMD=("$BIN" keyframes "$2" -o "$3" --policy auto --threads 2 -q --json) ;;
    interval) CMD=("$BIN" keyframes "$2" -o "$3" --policy interval --fps 1 --threads 2 -q --json) ;;
    iframe)   CMD=("$BIN" keyframes "$2" -o "$3" --policy iframe --threads 2 -q --json) ;;
    seed)     CMD=("$PY" "$SEED" "$2" "$3") ;;
    base-*)   cmd_for "${1#base-}" "$2" "$3"; CMD[0]=$BASE_BIN ;;
  esac
}
target_for() { # NAME -> ratio target ("" = none)
  case "$1" in auto) echo 1.10 ;; interval) echo 0.80 ;; iframe) echo 0.10 ;; *) echo "" ;; esac
}

# One timed run. Appends "input<TAB>name<TAB>round<TAB>seconds<TAB>rss_kb<TAB>kept<TAB>status" to $RUNS/raw.tsv.
run_one() { # INPUT NAME ROUND
  local x=$1 name=$2 round=$3 out log tfile t0 t1 rc kept rss secs status
  out=$(mktemp -d "$RUNS/out.XXXXXX")
  log=$RUNS/$name.$round.stdout
  tfile=$RUNS/$name.$round.time
  cmd_for "$name" "$x" "$out"
  t0=$(date +%s.%N)
  set +e
  "$TIME" -v -o "$tfile" "${CMD[@]}" >"$log" 2>"$RUNS/$name.$round.stderr" </dev/null
  rc=$?
  set -e
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tfile")
  status=ok
  kept=""
  if [ "$rc" -ne 0 ]; then
    status="exit$rc"
    echo "keyframes.sh: $name on $x failed (exit $rc):" >&2
    tail -n 5 "$RUNS/$name.$round.stderr" >&2 || true
  elif [ "$name" = seed ]; then
    kept=$(sed -n 's/^saved \([0-9]*\) keyframes of \([0-9]*\) frames.*/\1/p' "$log" | head -n 1)
  elif [ "$name" != ffmpeg ]; then
    kept=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["keyframes"]))' "$log" 2>/dev/null) || {
      status=badjson
      kept=""
    }
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$x" "$name" "$round" "$secs" "${rss:-0}" "$kept" "$status" >>"$RUNS/raw.tsv"
  printf '  round %d  %-8s %7ss  %6s MB  kept=%s  %s\n' "$round" "$name" "$secs" \
    "$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" "${kept:--}" "$status" >&2
  rm -rf "$out"
}

: >"$RUNS/raw.tsv"
: >"$RUNS/inputs.tsv"
for x in "${inputs[@]}"; do
  info=$(ffprobe -v error -select_streams v:0 -count_packets \
    -show_entries stream=codec_name,width,height,avg_frame_rate,nb_read_packets:format=duration \
    -of default=nw=1 "$x" | tr '\n' ' ')
  printf '%s\t%s\n' "$x" "$info" >>"$RUNS/inputs.tsv"
  echo "keyframes.sh: $x ($info)" >&2
  cat "$x" >/dev/null # warm the page cache so round 1 is not a cold read
  active=("${names[@]}")
  if [ "$have_seed" -ne 1 ]; then
    active=()
    for name in "${names[@]}"; do [ "$name" = seed ] || active+=("$name"); done
  fi
  seed_rounds=$ROUNDS
  for ((r = 1; r <= ROUNDS; r++)); do
    n=${#active[@]}
    for ((i = 0; i < n; i++)); do
      name=${active[$(((i + r - 1) % n))]}
      if [ "$name" = seed ] && [ "$r" -gt "$seed_rounds" ]; then continue; fi
      run_one "$x" "$name" "$r"
      if [ "$name" = seed ] && [ "$seed_rounds" -gt "$SEED_ROUNDS_SLOW" ]; then
        s=$(awk -F'\t' -v x="$x" -v r="$r" '$1 == x && $2 == "seed" && $3 == r { print $4 }' "$RUNS/raw.tsv")
        if awk -v s="$s" -v lim="$SEED_SLOW" 'BEGIN { exit !(s > lim) }'; then
          seed_rounds=$SEED_ROUNDS_SLOW
          notes+=("seed on $x took ${s}s (> ${SEED_SLOW}s) in one run: seed reduced to $SEED_ROUNDS_SLOW rounds.")
          echo "keyframes.sh: seed is slow (${s}s): $SEED_ROUNDS_SLOW rounds for it" >&2
        fi
      fi
    done
  done
done

# ---------------------------------------------------------------- report
meta_end keyframes.sh "timings may be noisy; compare the min-max spread"
ffv=$(ffmpeg -version | head -n 1)
cvv=$("$PY" -c 'import cv2; print(cv2.__version__)' 2>/dev/null || echo "not installed")

{
  echo "# framewise keyframes benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- machine: $(nproc) CPUs (nproc), $cpu, $(uname -sr), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
  echo "- ffmpeg: $ffv"
  echo "- framewise: \`$BIN\` (sha256 $BIN_SUM0…), git $gitrev; seed baseline: \`$SEED\` (OpenCV $cvv)"
  echo "- method: per input, each command once per round in turn (start rotates each round), $ROUNDS rounds;" \
    "wall time by \`date +%s.%N\` around \`/usr/bin/time -v\`; **median** reported; ratio = the median over the rounds of each run's time / the ffmpeg decode's time in the same round (robust to the machine's drift);" \
    "peak RSS = largest \"Maximum resident set size\" over the rounds, in MB (= kB/1024); a fresh empty output dir per run."
  echo "- load average (1/5/15 min): $LOAD0 at start, $LOAD1 at end (the benchmark itself keeps about 1-2 cores busy)"
  echo "- targets (ratio vs ffmpeg decode): auto <= 1.10, interval <= 0.80, iframe <= 0.10; framewise peak RSS <= 150 MB at 1080p."
  echo
  echo "Inputs:"
  echo
  while IFS=$'\t' read -r x info; do echo "- \`$x\`: $info"; done <"$RUNS/inputs.tsv"
  echo "  - \`$SYNTH\` is made by: \`$(printf '%q ' "${SYNTH_CMD[@]}")OUT.mp4\`"
  echo
  echo "Commands (X = input, OUT = fresh empty directory):"
  echo
  for name in "${names[@]}"; do
    cmd_for "$name" X OUT
    echo "- $name: \`$(printf '%s ' "${CMD[@]}" | sed "s#$BIN#framewise#; s/ \$//")\`"
  done
  [ -z "${BASE_BIN:-}" ] || echo "- base-*: the same with \`$BASE_BIN\` (sha256 $(sha256sum "$BASE_BIN" | cut -c1-16)…)"
  echo
} >"$RUNS/header.md"

"$PY" - "$RUNS/raw.tsv" "$RUNS/header.md" "$SYNTH" "${notes[@]+"${notes[@]}"}" >"$RUNS/report.md" <<'EOF'
import sys, statistics
raw, header, synth, notes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
order = ["ffmpeg", "auto", "base-auto", "interval", "base-interval", "iframe", "base-iframe", "seed"]
targets = {"auto": 1.10, "interval": 0.80, "iframe": 0.10}
label = {
    "ffmpeg": "ffmpeg decode (-threads 2, -f null)",
    "auto": "framewise --policy auto",
    "interval": "framewise --policy interval --fps 1",
    "iframe": "framewise --policy iframe",
    "seed": "seed_extract.py (OpenCV)",
    "base-auto": "base build --policy auto",
    "base-interval": "base build --policy interval --fps 1",
    "base-iframe": "base build --policy iframe",
}
runs = {}
by_round = {}
inputs = []
for line in open(raw):
    x, name, rnd, secs, rss, kept, status = line.rstrip("\n").split("\t")
    if x not in inputs:
        inputs.append(x)
    runs.setdefault((x, name), []).append((float(secs), int(rss or 0), kept, status))
    by_round[(x, name, rnd)] = float(secs)

out = [open(header).read().rstrip("\n"), ""]
out.append("| input | command | runs | median s | min-max s | ratio vs ffmpeg | target | pass/miss | keyframes kept | peak RSS MB |")
out.append("|---|---|---:|---:|---:|---:|---|---|---:|---:|")
misses = []
for x in inputs:
    base = runs.get((x, "ffmpeg"))
    base_ok = base and all(r[3] == "ok" for r in base)
    base_med = statistics.median(r[0] for r in base) if base_ok else None
    is1080 = x == synth
    for name in order:
        rs = runs.get((x, name))
        if not rs:
            continue
        bad = [r[3] for r in rs if r[3] != "ok"]
        med = statistics.median(r[0] for r in rs)
        rss = max(r[1] for r in rs) / 1024
        kept_set = sorted({r[2] for r in rs if r[2] != ""}, key=lambda k: int(k))
        kept = "/".join(kept_set) if kept_set else "—"
        pairs = [by_round[k] / by_round[(x, "ffmpeg", k[2])] for k in by_round
                 if k[0] == x and k[1] == name and (x, "ffmpeg", k[2]) in by_round]
        ratio = statistics.median(pairs) if base_med and pairs else None
        t = targets.get(name)
        tgt, verdict = "—", "—"
        if name == "ffmpeg":
            tgt = "baseline"
        if t is not None:
            tgt = f"<= {t:.2f}" + (", <= 150 MB" if is1080 else "")
            why = []
            if ratio is None:
                why.append("no baseline")
            elif ratio > t:
                why.append(f"ratio {ratio:.2f}")
            if is1080 and rss > 150:
                why.append(f"RSS {rss:.0f} MB")
            verdict = "pass" if not why else "**MISS** (" + ", ".join(why) + ")"
            if why:
                misses.append(f"{x}: {label[name]}: " + ", ".join(why))
        if bad:
            verdict = "**ERROR** (" + ", ".join(sorted(set(bad))) + ")"
            misses.append(f"{x}: {label[name]}: run failed ({', '.join(sorted(set(bad)))})")
        rtxt = f"{ratio:.3f}" if ratio is not None else "—"
        out.append(f"| `{x}` | {label[name]} | {len(rs)} | {med:.3f} | {min(r[0] for r in rs):.2f}-{max(r[0] for r in rs):.2f} | {rtxt} | {tgt} | {verdict} | {kept} | {rss:.1f} |")
out.append("")
if misses:
    out.append("Missed targets / failures:")
    out.append("")
    out += [f"- {m}" for m in misses]
    out.append("")
if notes:
    out.append("Notes:")
    out.append("")
    out += [f"- {n}" for n in notes]
    out.append("")
print("\n".join(out))
EOF

cp "$RUNS/report.md" "$RESULTS"
cat "$RESULTS"
echo "keyframes.sh: wrote $RESULTS" >&2
