#!/usr/bin/env bash
# Install the Node.js GraphQL clients that tests/test_clients.py runs (Apollo
# Client, graphql-request; pinned in tests/clients/package-lock.json).
# Idempotent: when node_modules was installed from the current lock file,
# nothing is done. The Python client (gql) comes with the `test` extra.
#
# usage: scripts/setup-clients.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
clients=$repo/tests/clients
stamp=$clients/node_modules/.lock.sha256

command -v node >/dev/null || { echo "setup-clients: node is not installed (Node.js 18 or newer is needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-clients: npm is not installed" >&2; exit 1; }

lock=$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$lock" ]; then
    echo "setup-clients: tests/clients/node_modules is up to date"
    exit 0
fi
cd "$clients"
npm ci --no-audit --no-fund --loglevel=error
echo "$lock" > "$stamp"
echo "setup-clients: installed $(node -p 'Object.entries(require("./package.json").dependencies).map(([n, v]) => n + "@" + v).join(", ")')"
