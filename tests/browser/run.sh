#!/usr/bin/env bash
# The page end to end: Debian's Chromium driven by playwright-core (from npm, installed
# into NPM_DIR; no browser is ever downloaded) against a real framewise serve and the
# model-server double. Skips (77) only when npm or its registry is not there.
# Usage: run.sh NPM_DIR   (env: FRAMEWISE_BIN, FWTEST_VLM_BIN, FW_SOURCE_DIR)
set -euo pipefail
npm_dir=$1
src=${FW_SOURCE_DIR:?}
command -v npm >/dev/null || { echo "skipped: npm is not installed (scripts/deps.sh test)"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium is missing (scripts/deps.sh test)"; exit 1; }
mkdir -p "$npm_dir"
cp "$src/tests/browser/package.json" "$npm_dir/package.json"
if [ ! -f "$npm_dir/node_modules/playwright-core/package.json" ]; then
  if ! (cd "$npm_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund \
        --loglevel=error >npm.log 2>&1); then
    echo "skipped: npm install failed (no registry?):"; tail -5 "$npm_dir/npm.log"; exit 77
  fi
fi

tmp=$(mktemp -d /tmp/fwbrowser.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# a clip: seven flat colour shots (seven keyframes)
inputs=() chain=""
i=0
for c in red white blue yellow 0x00ff00 cyan magenta; do
  inputs+=(-f lavfi -i "color=c=$c:s=320x240:r=25:d=1"); chain+="[$i]"; i=$((i + 1))
done
ffmpeg -nostdin -v error "${inputs[@]}" -filter_complex "${chain}concat=n=7:v=1[v]" -map '[v]' \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -y "$tmp/clip.mp4"

# wait_for FILE PATTERN: until FILE holds PATTERN (at most 10 s)
wait_for() {
  for _ in $(seq 500); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.02; done
  echo "FAIL: '$2' not in $1:"; cat "$1"; exit 1
}
# the model's text carries markup: the page must show it as text
"$FWTEST_VLM_BIN" --port-file "$tmp/vlm.port" --latency 50 \
  --inject-text '<img src=x onerror="window.__pwned=1"><b>bold</b>' >"$tmp/vlm.log" 2>&1 &
pids+=($!)
wait_for "$tmp/vlm.port" '[0-9]'
vport=$(cat "$tmp/vlm.port")
"$FRAMEWISE_BIN" serve --listen 127.0.0.1:0 --token page-token --data "$tmp/data" \
  --store "$tmp/store.db" --url "http://127.0.0.1:$vport/v1" --summary extractive \
  >"$tmp/serve.log" 2>&1 &
pids+=($!)
wait_for "$tmp/serve.log" 'listening on'
port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/serve.log" | head -1)

NPM_DIR="$npm_dir" node "$src/tests/browser/page.test.mjs" "http://127.0.0.1:$port" page-token \
  "$tmp/clip.mp4" "$npm_dir/serve-page.png" "$tmp/profile"
echo "screenshot: $npm_dir/serve-page.png"
