#!/usr/bin/env bash
# Install the GraphQL-over-HTTP audit suite (graphql-http's serverAudits) into
# build/gql-http-audit, where tests/test_http_audit.py looks for it.
#
# The source folder (../shared/tools/gql-http-audit, beside the repo) is
# read-only, so it is copied and `npm ci` runs in the copy. Idempotent: when the
# copy is current and node_modules matches the lock file, nothing is done.
#
# usage: scripts/setup-http-audit.sh [SOURCE_DIR]
#   SOURCE_DIR defaults to $GQL_HTTP_AUDIT_SOURCE, then ../shared/tools/gql-http-audit
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
source_dir=${1:-${GQL_HTTP_AUDIT_SOURCE:-$repo/../shared/tools/gql-http-audit}}
target=$repo/build/gql-http-audit

if [ ! -f "$source_dir/audit.mjs" ] || [ ! -f "$source_dir/package-lock.json" ]; then
    echo "setup-http-audit: no audit suite at $source_dir (expected audit.mjs and package-lock.json)" >&2
    exit 1
fi
command -v node >/dev/null || { echo "setup-http-audit: node is not installed (Node.js 18 or newer is needed)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-http-audit: npm is not installed" >&2; exit 1; }

mkdir -p "$target"
changed=0
for name in audit.mjs package.json package-lock.json README.md; do
    [ -f "$source_dir/$name" ] || continue
    if ! cmp -s "$source_dir/$name" "$target/$name"; then
        # The source files are read-only; the copies need not be.
        cp "$source_dir/$name" "$target/$name"
        chmod u+w "$target/$name"
        changed=1
    fi
done

# A stamp beside the installed packages records the lock file they came from:
# when it matches, the install is current.
stamp=$target/node_modules/.installed-from
if [ "$changed" = 0 ] && [ -f "$stamp" ] && cmp -s "$stamp" "$target/package-lock.json"; then
    echo "setup-http-audit: $target is up to date"
    exit 0
fi
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error)
cp "$target/package-lock.json" "$stamp"
echo "setup-http-audit: installed into $target"
echo "run: node build/gql-http-audit/audit.mjs http://127.0.0.1:PORT/graphql --strict"
