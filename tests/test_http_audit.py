"""The GraphQL over HTTP audit suite (graphql-http's serverAudits) against a real server.

The audit is pinned in tests/http-audit (package.json, package-lock.json) and run by
tests/http-audit/audit.mjs; scripts/setup-http-audit.sh (part of `make test`) installs it.
Without it the test is skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from conftest import ROOT, article
from live_server import need
from server import running_server, write_db

AUDIT = ROOT / "tests" / "http-audit"
SUMMARY = re.compile(r"audit: (\d+) of (\d+) audits pass; must failures: (\d+), should failures: (\d+)")


def test_every_must_and_should_audit_passes(tmp_path):
    node = shutil.which("node")
    installed = (AUDIT / "audit.mjs").is_file() and (AUDIT / "node_modules" / "graphql-http").is_dir()
    need(node is not None and installed, "the GraphQL over HTTP audit is not installed: run scripts/setup-http-audit.sh")
    db = write_db(tmp_path / "db.json", [article(id="a1", title="First")])
    with running_server(db) as server:
        result = subprocess.run(
            [node, str(AUDIT / "audit.mjs"), server.url, "--strict"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    report = result.stdout + result.stderr
    failures = [line for line in result.stdout.splitlines() if line.split()[1:2] in (["error"], ["warn"])]
    assert failures == [], report
    summary = SUMMARY.search(result.stdout)
    assert summary, report
    passed, total, must, should = map(int, summary.groups())
    assert (must, should) == (0, 0)
    assert passed == total >= 61  # graphql-http 1.23.1 has 61 audits
    assert result.returncode == 0, report
