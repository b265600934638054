#!/usr/bin/env bash
# docs/openapi.yaml checked three ways, all with Debian packages:
#  1. against the official OpenAPI 3.0 schema with every $ref resolved (JSON::Validator,
#     libjson-validator-perl; the schema ships with it, nothing is fetched);
#  2. its operations against docs/api.md and the server's router: every route is documented
#     in both, with an operationId, a summary and security, and nothing else is;
#  3. the contract: a real `framewise serve` with the model-server double answers a call of
#     every operation, and each answer's status and body must match the spec.
# Usage: run.sh   (env: FRAMEWISE_BIN, FWTEST_VLM_BIN, FW_SOURCE_DIR)
set -euo pipefail
src=${FW_SOURCE_DIR:?}
spec="$src/docs/openapi.yaml"
perl -MJSON::Validator -e 1 2>/dev/null ||
  { echo "FAIL: JSON::Validator is missing (scripts/deps.sh test: libjson-validator-perl)"; exit 1; }

python3 - "$src" <<'PY'
import re, sys, yaml
src = sys.argv[1]
spec = yaml.safe_load(open(f"{src}/docs/openapi.yaml"))
assert spec["openapi"].startswith("3.0."), "OpenAPI 3.0.x (what Debian's validator checks)"
ops = {}
for p, item in spec["paths"].items():
    for m, op in item.items():
        if m in ("get", "post", "put", "delete", "patch"):
            ops[(m.upper(), p)] = op
ids = [op.get("operationId") for op in ops.values()]
assert all(ids) and len(set(ids)) == len(ids), f"operationIds missing or repeated: {ids}"
for (m, p), op in ops.items():
    assert op.get("summary"), f"{m} {p}: no summary"
    assert any(c.startswith("2") or c == "101" for c in op["responses"]), f"{m} {p}: no success"
    open_op = op.get("security") == []
    assert open_op or spec.get("security"), f"{m} {p}: no security"
    if not open_op:
        assert "401" in op["responses"], f"{m} {p}: needs a token but declares no 401"
doc = open(f"{src}/docs/api.md").read()
documented = {(m, p) for m, p in re.findall(r"^#+ `(GET|POST|PUT|DELETE|PATCH) ([^`]+)`", doc, re.M)}
router = open(f"{src}/src/serve/server.c").read()
missing_doc = set(ops) - documented
extra_doc = documented - set(ops)
assert not missing_doc, f"in openapi.yaml, not in api.md: {sorted(missing_doc)}"
assert not extra_doc, f"in api.md, not in openapi.yaml: {sorted(extra_doc)}"
# every path's fixed parts appear in the router
for _, p in ops:
    for part in re.split(r"\{[^}]+\}", p):
        part = part.rstrip("/")
        if part and part not in router:
            raise SystemExit(f"{p}: '{part}' is not routed in src/serve/server.c")
print(f"ok: {len(ops)} operations documented in api.md and routed")
PY

. "$src/tests/fixtures/serve_env.sh"
serve_env_init fwopenapi
mkdir -p "$tmp/root" "$tmp/outside"
ffmpeg -nostdin -v error -f lavfi -i "color=c=red:s=160x120:r=10:d=1" -f lavfi \
  -i "color=c=blue:s=160x120:r=10:d=1" -filter_complex "[0][1]concat=n=2:v=1[v]" -map '[v]' \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -y "$tmp/root/clip.mp4"
cp "$tmp/root/clip.mp4" "$tmp/outside/clip.mp4"

start_vlm
start_serve --token contract-token --allow-root "$tmp/root"
perl "$src/tests/openapi/contract.pl" "$spec" "http://127.0.0.1:$port" contract-token \
  "$tmp/root/clip.mp4" "$tmp/outside/clip.mp4" || { echo "serve.log:"; tail -20 "$tmp/serve.log"; exit 1; }
