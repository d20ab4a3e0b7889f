#!/usr/bin/env bash
# Install graphql-codegen (the CLI and its client preset) that tests/test_trusted_documents.py
# runs to write a real persisted-documents.json, from tests/codegen/package-lock.json.
# Idempotent: nothing is done when node_modules was installed from the current lock file.
#
# usage: scripts/setup-codegen.sh
set -euo pipefail

dir=$(cd "$(dirname "$0")/../tests/codegen" && pwd)
stamp=$dir/node_modules/.lock.sha256
for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "setup-codegen: $tool is not installed (Node.js 18 or newer)" >&2; exit 1; }
done
lock=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" > "$stamp"
fi
echo "setup-codegen: tests/codegen/node_modules is up to date"
