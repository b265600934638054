# Sourced by the benchmarks: the model-server double (tests/server) on a free loopback
# port. Needs $VLM (the fwtest_vlm binary) and $RUNS (a scratch folder).
#
# bench_vlm ARGS...: stops the double started before (if any), starts "fwtest_vlm ARGS",
# waits until it listens; sets VLM_PID and URL (http://127.0.0.1:PORT/v1). The caller's
# EXIT trap kills $VLM_PID.
VLM_PID=
bench_vlm() {
  if [ -n "$VLM_PID" ]; then kill "$VLM_PID" 2>/dev/null && wait "$VLM_PID" 2>/dev/null || true; fi
  rm -f "$RUNS/port"
  "$VLM" --port-file "$RUNS/port" "$@" >"$RUNS/vlm.log" 2>&1 &
  VLM_PID=$!
  for _ in $(seq 100); do [ -s "$RUNS/port" ] && break; sleep 0.05; done
  [ -s "$RUNS/port" ] || { echo "bench: the model-server double did not start" >&2; exit 1; }
  URL=http://127.0.0.1:$(cat "$RUNS/port")/v1
}
