"""The served schema is snapshotted in schema.graphql and must keep the public contract.

The contract check (tests/contract.py) runs against the public contract when
../shared is beside the clone and against the repository's own snapshot when it
is not: a fresh clone runs every test with nothing beside it.

When a change to the schema is intended, regenerate the snapshot with
``.venv/bin/newsgraph export-schema > schema.graphql`` and review the diff.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT, newsgraph
from contract import compare
from graphql import build_schema

from graph.schema import sdl

SNAPSHOT = ROOT / "schema.graphql"
# Used when present, never required.
SHARED_CONTRACT = ROOT.parent / "shared" / "contract" / "schema.graphql"
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "contract_check.py"
REGENERATE = "the served schema drifted from schema.graphql; if intended, run `.venv/bin/newsgraph export-schema > schema.graphql`"


def test_snapshot_matches_the_served_schema():
    assert SNAPSHOT.read_text(encoding="utf-8") == sdl(), REGENERATE


def test_snapshot_matches_export_schema_command():
    result = newsgraph("export-schema", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == SNAPSHOT.read_text(encoding="utf-8"), REGENERATE


def test_the_served_schema_keeps_every_item_of_the_public_contract():
    """The contract is the public one when ../shared is beside the clone, else the repository's snapshot."""
    contract_file = SHARED_CONTRACT if SHARED_CONTRACT.is_file() else SNAPSHOT
    problems, checked = compare(build_schema(sdl()), build_schema(contract_file.read_text(encoding="utf-8")))
    assert problems == [], f"{contract_file}: " + "; ".join(problems)
    assert checked > 500, checked


def test_the_snapshot_passes_the_shared_contract_checker_when_it_is_there():
    """CI's own checker, as CI runs it, when ../shared is beside the clone; without it the test above stands."""
    if not CONTRACT_CHECK.is_file():
        return
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), "schema.graphql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Only the summary line: no differences were printed before it.
    (summary,) = result.stdout.splitlines()
    matched, total = summary.removeprefix("contract: ").removesuffix(" items match").split(" of ")
    assert matched == total and int(total) > 500, summary
