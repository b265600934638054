#!/usr/bin/env bash
# docs/openapi.yaml through a real OpenAPI 3.1 linter (Redocly CLI, from npm, installed into
# NPM_DIR), then its operations against docs/api.md and the server's router: every route is
# documented in both, and nothing else is. Skips (77) only when npm or its registry is not
# there. Usage: run.sh NPM_DIR   (env: FW_SOURCE_DIR)
set -euo pipefail
npm_dir=$1
src=${FW_SOURCE_DIR:?}
command -v npm >/dev/null || { echo "skipped: npm is not installed (scripts/deps.sh test)"; exit 77; }
mkdir -p "$npm_dir"
cp "$src/tests/openapi/package.json" "$npm_dir/package.json"
if [ ! -x "$npm_dir/node_modules/.bin/redocly" ]; then
  if ! (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
    echo "skipped: npm install failed (no registry?):"; tail -5 "$npm_dir/npm.log"; exit 77
  fi
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$npm_dir/node_modules/.bin/redocly" lint "$src/docs/openapi.yaml" \
  --config "$src/tests/openapi/redocly.yaml" --max-problems 50

python3 - "$src" <<'PY'
import re, sys, yaml
src = sys.argv[1]
spec = yaml.safe_load(open(f"{src}/docs/openapi.yaml"))
assert spec["openapi"].startswith("3.1"), "OpenAPI 3.1"
ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item
       if m in ("get", "post", "put", "delete", "patch")}
doc = open(f"{src}/docs/api.md").read()
documented = {(m, p) for m, p in re.findall(r"^#+ `(GET|POST|PUT|DELETE|PATCH) ([^`]+)`", doc, re.M)}
router = open(f"{src}/src/serve/server.c").read()
missing_doc = ops - documented
extra_doc = documented - ops
assert not missing_doc, f"in openapi.yaml, not in api.md: {sorted(missing_doc)}"
assert not extra_doc, f"in api.md, not in openapi.yaml: {sorted(extra_doc)}"
# every path's fixed parts appear in the router
for _, p in ops:
    for part in re.split(r"\{[^}]+\}", p):
        part = part.rstrip("/")
        if part and part not in router:
            raise SystemExit(f"{p}: '{part}' is not routed in src/serve/server.c")
print(f"ok: {len(ops)} operations, linted, documented in api.md, routed")
PY
