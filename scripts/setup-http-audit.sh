#!/usr/bin/env bash
# Install the GraphQL-over-HTTP audit that tests/test_http_audit.py runs:
# graphql-http's serverAudits, from the npm packages pinned in
# tests/http-audit/package-lock.json, run by tests/http-audit/audit.mjs.
# Idempotent: when node_modules was installed from the current lock file,
# nothing is done.
#
# usage: scripts/setup-http-audit.sh
#   then: node tests/http-audit/audit.mjs http://127.0.0.1:PORT/graphql --strict
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
audit=$repo/tests/http-audit
stamp=$audit/node_modules/.lock.sha256

command -v node >/dev/null || { echo "setup-http-audit: node is not installed (Node.js 18 or newer is needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-http-audit: npm is not installed" >&2; exit 1; }

lock=$(sha256sum "$audit/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$lock" ]; then
    echo "setup-http-audit: tests/http-audit/node_modules is up to date"
    exit 0
fi
cd "$audit"
# npm ci installs exactly the lock file; no audit or funding calls.
npm ci --no-audit --no-fund --loglevel=error
echo "$lock" > "$stamp"
echo "setup-http-audit: installed $(node -p 'Object.entries(require("./package.json").dependencies).map(([n, v]) => n + "@" + v).join(", ")')"
