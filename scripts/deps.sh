#!/usr/bin/env bash
# Installs the Debian packages framewise needs to build, test and benchmark.
# Non-interactive; uses sudo only when not root; does nothing when all are present.
# Usage: scripts/deps.sh [build|test|bench|fuzz]   (each level includes build and test;
#        bench and fuzz are each test plus their own)
set -euo pipefail
level=${1:-test}

build_pkgs=(build-essential cmake pkg-config
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  libjansson-dev libcurl4-openssl-dev
  libtesseract-dev libleptonica-dev tesseract-ocr-eng tesseract-ocr-chi-sim
  libsqlite3-dev libxxhash-dev libcivetweb-dev libssl-dev libhiredis-dev)
# nodejs/npm: the browser test's playwright-core comes from npm (browser tooling only);
# libjson-validator-perl validates docs/openapi.yaml and the service's answers
# redis-server: the tests start their own on a free loopback port (see below: the package's
# own daemon is kept from starting)
test_pkgs=(ffmpeg redis-server libcmocka-dev fonts-dejavu-core fonts-noto-cjk chromium nodejs python3-yaml
  groff-base man-db libjson-validator-perl)
bench_pkgs=(time curl python3-opencv python3-pil python3-numpy tesseract-ocr)
# clang with its compiler-rt: libFuzzer, ASan and UBSan for tests/fuzz (make fuzz)
fuzz_pkgs=(clang libclang-rt-14-dev)

pkgs=("${build_pkgs[@]}")
case "$level" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) pkgs+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "deps.sh: unknown level '$level' (build|test|bench|fuzz)" >&2; exit 2 ;;
esac

# a Node.js from elsewhere (NodeSource) brings its own npm; Debian's npm would conflict
if [ "$level" != build ] && ! command -v npm >/dev/null; then
  pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q </dev/null
# a package that starts a daemon on install (redis-server) must not leave it running: a
# policy-rc.d that says 101 keeps every service from starting during the install
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
