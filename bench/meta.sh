# Sourced by the benchmarks: what a result file says of the run. Needs $BIN (the framewise
# binary) and a notes array.
#
# meta_begin: records the binary's sha256 and the load average at the start.
# meta_end NAME HINT: at the end, adds to notes when the binary changed meanwhile or the
#   machine was not idle at the start (HINT: what that may have done to the numbers); sets
#   LOAD0, LOAD1, BIN_SUM0, cpu and gitrev for the result's header.
bin_sum() { sha256sum "$BIN" | cut -c1-16; }
meta_begin() {
  BIN_SUM0=$(bin_sum)
  LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
}
meta_end() {
  LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
  BIN_SUM1=$(bin_sum)
  if [ "$BIN_SUM1" != "$BIN_SUM0" ]; then
    notes+=("**the framewise binary changed during the benchmark** (sha256 $BIN_SUM0… -> $BIN_SUM1…, rebuilt by someone else?): results mix two builds; re-run.")
    echo "$1: WARNING: $BIN changed while the benchmark ran" >&2
  fi
  if awk -v l="${LOAD0%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    notes+=("the machine was not idle at the start (1-min load average ${LOAD0%% *}): $2.")
  fi
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  [ -n "$cpu" ] || cpu=$(uname -m)
  gitrev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then gitrev="$gitrev (+ uncommitted changes)"; fi
}
