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

. "$src/tests/fixtures/serve_env.sh"
serve_env_init fwbrowser

# a clip: seven flat colour shots (seven keyframes)
inputs=() chain=""
i=0
for c in red white blue yellow 0x00ff00 cyan magenta; do
  inputs+=(-f lavfi -i "color=c=$c:s=320x240:r=25:d=1"); chain+="[$i]"; i=$((i + 1))
done
ffmpeg -nostdin -v error "${inputs[@]}" -filter_complex "${chain}concat=n=7:v=1[v]" -map '[v]' \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -y "$tmp/clip.mp4"

# the model's text carries markup: the page must show it as text
start_vlm --latency 50 --inject-text '<img src=x onerror="window.__pwned=1"><b>bold</b>'
start_serve --token page-token

NPM_DIR="$npm_dir" node "$src/tests/browser/page.test.mjs" "http://127.0.0.1:$port" page-token \
  "$tmp/clip.mp4" "$npm_dir/serve-page.png" "$tmp/profile"
echo "screenshot: $npm_dir/serve-page.png"
