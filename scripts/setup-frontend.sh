#!/usr/bin/env bash
# Build the reader app (frontend/: Preact + urql, from the npm packages pinned in
# frontend/package-lock.json) into graph/reader_static/, which `newsgraph serve` answers at /.
#
# Steps: the schema the server serves (`newsgraph export-schema`, or the file named by
# FRONTEND_SCHEMA) goes to build/frontend/schema.graphql; graphql-codegen types the
# operations in frontend/src/operations/*.graphql from it; `tsc --noEmit` checks the
# sources (a type error fails the build); esbuild bundles; the build fails when the
# bundle is over its budget (200 KiB gzipped). Idempotent: when graph/reader_static/
# was built from the same schema, lock file, build files and sources, nothing is done.
#
# usage: scripts/setup-frontend.sh [--force]
#        FRONTEND_SCHEMA=path/to/schema.graphql scripts/setup-frontend.sh   (another schema)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src=$repo/frontend
out=$repo/graph/reader_static
work=$repo/build/frontend
stamp=$out/.inputs.sha256
python=${PYTHON:-$repo/.venv/bin/python}

command -v node >/dev/null || { echo "setup-frontend: node is not installed (Node.js 18 or newer is needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-frontend: npm is not installed" >&2; exit 1; }

mkdir -p "$work"
if [ -n "${FRONTEND_SCHEMA:-}" ]; then
    cp "$FRONTEND_SCHEMA" "$work/schema.graphql"
else
    "$python" -m graph export-schema -o "$work/schema.graphql"
fi

inputs=$(cd "$src" && cat package.json package-lock.json build.mjs codegen.yml tsconfig.json \
    $(find src -type f ! -path 'src/generated/*' | sort) "$work/schema.graphql" | sha256sum | cut -d' ' -f1)
if [ "${1:-}" != "--force" ] && [ -f "$out/reader.json" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
    echo "setup-frontend: graph/reader_static is up to date"
    exit 0
fi

cd "$src"
# npm ci installs exactly the lock file (no audit or funding calls); again only when the lock changed.
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.newsgraph-lock.sha256 2>/dev/null)" != "$lock" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock" > node_modules/.newsgraph-lock.sha256
fi
npx --no-install graphql-codegen --config codegen.yml --errors-only
npx --no-install tsc --noEmit -p .
node build.mjs
echo "$inputs" > "$stamp"
