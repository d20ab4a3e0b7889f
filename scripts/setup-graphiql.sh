#!/usr/bin/env bash
# Build the offline GraphiQL bundle (GraphiQL + explorer plugin + React, from
# the npm packages pinned in graphiql/package-lock.json) into graph/static/,
# which the app serves under /graphql/static. Without it the GraphiQL page
# loads GraphiQL from a CDN. Idempotent: when graph/static/ was built from the
# current lock file, build script and sources, nothing is done.
#
# usage: scripts/setup-graphiql.sh [--force]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src=$repo/graphiql
out=$repo/graph/static
stamp=$out/.inputs.sha256

command -v node >/dev/null || { echo "setup-graphiql: node is not installed (Node.js 18 or newer is needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-graphiql: npm is not installed" >&2; exit 1; }

inputs=$(cd "$src" && cat package.json package-lock.json build.mjs src/* | sha256sum | cut -d' ' -f1)
if [ "${1:-}" != "--force" ] && [ -f "$out/graphiql.json" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
    echo "setup-graphiql: graph/static is up to date"
    exit 0
fi

cd "$src"
# npm ci installs exactly the lock file; no audit or funding calls.
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
echo "$inputs" > "$stamp"
