#!/usr/bin/env bash
# Make the browser test runnable: Debian's Chromium at /usr/bin/chromium
# (installed with apt-get when missing; never a downloaded browser build) and
# Playwright for Python in the project's venv (the `test` extra pins it; its
# wheel carries the driver, and no browser is downloaded), then the GraphiQL
# bundle the test opens (scripts/setup-graphiql.sh).
#
# usage: scripts/setup-browser.sh      (as root, or with chromium already installed)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-browser: /usr/bin/chromium is missing; as root run: apt-get update && apt-get install -y chromium" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # fonts-liberation: metric-compatible fonts for pages that name none we ship.
    apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi
# (The Debian wrapper script complains about its own memory check on stderr; harmless.)
/usr/bin/chromium --version 2>/dev/null

if ! "$python" -c "import playwright" 2>/dev/null; then
    "$python" -m pip install --quiet 'playwright>=1.49'
fi
"$python" -c "from importlib.metadata import version; print('playwright (python)', version('playwright'))"

"$repo/scripts/setup-graphiql.sh"
