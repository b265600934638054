#!/bin/sh
# make install gives a usable library and program: install the build into a temporary
# DESTDIR, build a small C program against it with pkg-config and run it, run the
# installed framewise (its version; an analysis that must find the installed presets),
# and format the manual page.
# Usage: install.sh BUILD_DIR [EXTRA_CFLAGS]   (EXTRA_CFLAGS: the sanitizers of an ASan build)
set -eu
build=$1 extra=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/framewise-test
root=$tmp/root
fail() { echo "install: $*" >&2; exit 1; }

DESTDIR=$root cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in bin/framewise include/framewise.h lib/pkgconfig/framewise.pc \
         lib/libframewise.so lib/libframewise.so.0 share/man/man1/framewise.1 \
         share/framewise/presets/general.json share/framewise/presets/lexicons/pii.txt; do
  [ -e "$root$prefix/$f" ] || fail "$f not installed"
done
ls "$root$prefix"/lib/libframewise.so.0.* > /dev/null 2>&1 || fail "no versioned library"

# a program of a user, built the way they would
cat > "$tmp/hello.c" <<'C'
#include <framewise.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    fw_params p = fw_params_default();
    fw_error err;
    if (fw_params_set(&p, "max-gap", "4.5", &err) || p.max_gap_s != 4.5)
        return 1;
    if (fw_params_set(&p, "max-gap", "-1", &err) != FW_EINVAL ||
        strncmp(err.message, "max-gap: must be >= 0", 21) != 0)
        return 2;
    if (strcmp(fw_strerror(FW_ENET), "unknown error") == 0)
        return 3;
    printf("framewise %s: %s\n", FW_VERSION, err.message);
    return 0;
}
C
# framewise.pc says prefix=/opt/framewise-test: pkg-config's sysroot (the DESTDIR) is put
# before its paths (and before the system paths of the libraries it requires, harmless)
export PKG_CONFIG_PATH="$root$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
flags=$(pkg-config --cflags --libs framewise) || fail "pkg-config does not know framewise"
echo "$flags" | grep -qF -- "-I$root$prefix/include" || fail "no -I into the prefix: $flags"
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # the flags are words
cc -std=c11 -Wall -Werror $extra -o "$tmp/hello" "$tmp/hello.c" $flags || fail "cannot build against it"
readelf -d "$tmp/hello" | grep -q 'NEEDED.*libframewise\.so\.0\]' || fail "not linked to libframewise.so.0"
out=$(LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/hello") || fail "the program failed ($?)"
echo "$out"
[ "$out" = "framewise $(sed -n 's/^#define FW_VERSION "\(.*\)"/\1/p' "$root$prefix/include/framewise.h"): max-gap: must be >= 0, not -1" ] ||
  fail "unexpected output: $out"

# the README's example (docs/examples/keyframes.c) on a clip: a setting by name
ffmpeg -nostdin -v error -f lavfi -i color=c=blue:s=160x120:d=1:r=5 -pix_fmt yuv420p \
  "$tmp/clip.mp4" || fail "ffmpeg cannot make the clip"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $extra -o "$tmp/keyframes" "$(dirname "$0")/../docs/examples/keyframes.c" \
  $flags || fail "the README's example does not build"
out=$(LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/keyframes" "$tmp/clip.mp4" 0.5) ||
  fail "the README's example failed"
echo "$out"
echo "$out" | grep -q 'frame 0 .*first' || fail "the example kept no first frame"
err=$(LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/keyframes" "$tmp/clip.mp4" -1 2>&1) &&
  fail "a bad setting was accepted"
[ "$err" = "max-gap: must be >= 0, not -1" ] || fail "unexpected message: $err"

fw=$root$prefix/bin/framewise
"$fw" --version | grep -q '^framewise 0\.' || fail "framewise --version"
# the installed program finds the installed presets: the support preset's events file
# comes from share/framewise/presets (report.json's settings name it)
unset FRAMEWISE_PRESETS
"$fw" analyze "$tmp/clip.mp4" --preset support --no-cache -q -o "$tmp/out" --json > "$tmp/report.json" ||
  fail "installed framewise analyze failed"
grep -F 'share/framewise/presets/events/support.json' "$tmp/report.json" | grep -qF "$root$prefix/" ||
  { grep '"events"' "$tmp/report.json"; fail "the installed presets were not used"; }

# the manual page: groff finds no problem in it, and it lists the settings with defaults
page=$root$prefix/share/man/man1/framewise.1
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed: $warnings"
[ -z "$warnings" ] || fail "groff warns: $warnings"
MANWIDTH=100 MANPAGER=cat man -l "$page" > "$tmp/page.txt" 2> /dev/null ||
  groff -man -Tutf8 "$page" > "$tmp/page.txt"
for want in 'FRAMEWISE(1)' 'framewise keyframes VIDEO' '--max-gap S' '(default: 10)' \
            '--max-pixels P' '(default: 458752)' '--preset NAME' 'FW_TRACE'; do
  grep -qF -- "$want" "$tmp/page.txt" || fail "the manual page has no '$want'"
done
echo "installed, built against, ran, manual page ok"
