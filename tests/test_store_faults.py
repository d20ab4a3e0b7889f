"""A database file that is not one we can read is a clear one-line error naming the file,
through `newsgraph stats` and `newsgraph seed` alike, and the file is left as it was.
The side file of seed marks is only a cache: stale, damaged or missing, the seed stays right.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import SEEDS, newsgraph
from tinydb import TinyDB

DB = "db/newsgraph.json"


def put(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / DB
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def valid_database() -> bytes:
    return orjson.dumps({"meta": {"1": {"format": 1, "version": "a" * 32}}, "articles": {}})


def json_error(content: bytes) -> str:
    """orjson's own words for what is wrong (they vary between its versions)."""
    try:
        orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        return f"not a newsgraph database (invalid JSON: {exc})"
    raise AssertionError("valid JSON")


BAD_DATABASES = [
    (b"\x00\x01garbage", json_error(b"\x00\x01garbage")),
    (valid_database()[:30], json_error(valid_database()[:30])),
    (b"[1, 2]", "not a newsgraph database (the top level is not an object)"),
    (b'{"articles": []}', "not a newsgraph database (the articles table is not an object)"),
    (b'{"articles": {"1": "text"}}', "not a newsgraph database (article record 1 is not an object)"),
    (b'{"meta": [], "articles": {}}', "not a newsgraph database (the meta table is not an object)"),
    (orjson.dumps({"meta": {"1": {"format": 99, "version": "x"}}, "articles": {}}),
     "database format 99 is not one this newsgraph reads (1)"),
]


@pytest.mark.parametrize(("content", "reason"), BAD_DATABASES, ids=[r for _, r in BAD_DATABASES])
@pytest.mark.parametrize("command", ["stats", "seed"])
def test_an_unreadable_database_is_one_line_naming_the_file(tmp_path, command, content, reason):
    path = put(tmp_path, content)
    args = [command, str(SEEDS)] if command == "seed" else [command]
    result = newsgraph(*args, "--db", DB, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"newsgraph: error: {DB}: {reason}\n"
    assert path.read_bytes() == content


def test_an_empty_file_is_an_empty_database(tmp_path):
    put(tmp_path, b"")
    result = newsgraph("seed", str(SEEDS), "--db", DB, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("loaded 1: 1 new, ")


def seed(tmp_path: Path, *args: str):
    return newsgraph("seed", *args, "--db", DB, cwd=tmp_path)


def write_seeds(tmp_path: Path, count: int) -> None:
    (tmp_path / "s").mkdir(exist_ok=True)
    for n in range(count):
        (tmp_path / "s" / f"a{n}.md").write_text(f"---\ntitle: T{n}\n---\n", encoding="utf-8")


def test_a_database_changed_by_another_program_is_read_again(tmp_path):
    write_seeds(tmp_path, 3)
    assert seed(tmp_path, "s").stdout.startswith("loaded 3: 3 new, ")
    with TinyDB(tmp_path / DB) as db:  # stock TinyDB rewrites the file its own way
        from tinydb import Query

        db.table("articles").remove(Query().id == "a1")
    result = seed(tmp_path, "s")
    assert result.stdout.startswith("loaded 3: 1 new, 0 updated, 2 unchanged; ")
    with TinyDB(tmp_path / DB) as db:
        assert sorted(doc["id"] for doc in db.table("articles").all()) == ["a0", "a1", "a2"]


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 1, "database": [1, 2, 3], "marks": {}}'])
def test_a_damaged_or_stale_marks_file_changes_nothing(tmp_path, damage):
    write_seeds(tmp_path, 3)
    seed(tmp_path, "s")
    (tmp_path / "db" / ".newsgraph.json.marks").write_bytes(damage)
    result = seed(tmp_path, "s")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("loaded 3: 0 new, 0 updated, 3 unchanged; ")
    (tmp_path / "db" / ".newsgraph.json.marks").unlink()
    (tmp_path / "s" / "a0.md").write_text("---\ntitle: changed\n---\n", encoding="utf-8")
    result = seed(tmp_path, "s")
    assert result.stdout.startswith("loaded 3: 0 new, 1 updated, 2 unchanged; ")
    # written again, the marks file is back and used
    assert (tmp_path / "db" / ".newsgraph.json.marks").exists()
    assert seed(tmp_path, "s").stdout.startswith("loaded 3: 0 new, 0 updated, 3 unchanged; ")
