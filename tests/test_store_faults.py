"""A database file that is not one we can read is a clear one-line error naming the file,
through `newsgraph stats` and `newsgraph seed` alike, and the file is left as it was.
The side file of seed marks is only a cache: stale, damaged or missing, the seed stays right.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import SEEDS, newsgraph, opened_snapshot
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


# ---- the snapshot side file: only a cache, never believed when it does not fit the file


def served(tmp_path: Path) -> tuple[list[tuple[str, str]], bool]:
    """(id, title) of every article a freshly opened store serves, and whether it came from the side file."""
    snapshot = opened_snapshot(tmp_path / DB)
    pairs = [(doc["id"], doc["title"]) for doc in snapshot.docs]
    # Loaded through the side file, the snapshot holds the database file's own bytes.
    return pairs, snapshot.docs.size == (tmp_path / DB).stat().st_size


def test_a_server_starts_from_the_side_file_written_with_the_database(tmp_path):
    write_seeds(tmp_path, 3)
    seed(tmp_path, "s")
    assert served(tmp_path) == ([("a0", "T0"), ("a1", "T1"), ("a2", "T2")], True)


def shifted_spans(saved: dict) -> dict:
    return {**saved, "starts": [s + 1 for s in saved["starts"]]}


def swapped_spans(saved: dict) -> dict:
    # Each span still a whole JSON object, but of the wrong article: the column check catches it.
    return {**saved, "starts": saved["starts"][::-1], "ends": saved["ends"][::-1]}


def short_columns(saved: dict) -> dict:
    columns = {field: values[:-1] for field, values in saved["state"]["columns"].items()}
    return {**saved, "state": {**saved["state"], "columns": columns}}


def other_database(saved: dict) -> dict:
    return {**saved, "database": [0, 0, 0]}


def other_version(saved: dict) -> dict:
    return {**saved, "version": "0" * 32}


@pytest.mark.parametrize(
    "damage", [b"", b"{not json", b"[]", shifted_spans, swapped_spans, short_columns, other_database, other_version]
)
def test_a_damaged_or_stale_side_file_is_ignored(tmp_path, damage):
    write_seeds(tmp_path, 3)
    seed(tmp_path, "s")
    side = tmp_path / "db" / ".newsgraph.json.snapshot"
    side.write_bytes(damage if isinstance(damage, bytes) else orjson.dumps(damage(orjson.loads(side.read_bytes()))))
    assert served(tmp_path) == ([("a0", "T0"), ("a1", "T1"), ("a2", "T2")], False)


def test_a_database_edited_by_stock_tinydb_is_served_as_edited(tmp_path):
    write_seeds(tmp_path, 3)
    seed(tmp_path, "s")
    with TinyDB(tmp_path / DB) as db:  # rewrites the file in place, its own way; the side file stays behind
        from tinydb import Query

        db.table("articles").update({"title": "edited"}, Query().id == "a1")
    assert served(tmp_path) == ([("a0", "T0"), ("a1", "edited"), ("a2", "T2")], False)
    (tmp_path / "s" / "a0.md").write_text("---\ntitle: changed\n---\n", encoding="utf-8")
    assert seed(tmp_path, "s").stdout.startswith("loaded 3: 0 new, 1 updated, 2 unchanged; ")
    # the write brings the side file back (and keeps the edit: the seed only rewrites what its files changed)
    assert served(tmp_path) == ([("a0", "changed"), ("a1", "edited"), ("a2", "T2")], True)


# ---- a missing database file is an error, never an empty store (issue 12, item 9) ---------------


def test_a_database_deleted_under_a_running_server_is_a_503_until_it_is_back(tmp_path):
    from server import running_server

    db = tmp_path / DB
    assert newsgraph("seed", str(SEEDS), "--db", str(db), "--quiet").returncode == 0
    query = {"query": "{ articles { totalCount } }"}
    with running_server(db) as server:
        assert server.post(query).json() == {"data": {"articles": {"totalCount": 1}}}
        db.unlink()
        health = server.client.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "reason": "the database file newsgraph.json is missing"}
        response = server.post({"query": "{ articles { totalCount __typename } }"})
        assert response.status_code == 503
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert error["message"] == f"Internal server error (error id {error['extensions']['errorId']})"
        assert str(tmp_path) not in response.text
        # The log names the file, under the error id.
        assert f"error id {error['extensions']['errorId']}: the store could not be read" in server.log()
        assert f"{db}: the database file is missing" in server.log()
        # A seed brings it back; the server notices without a restart.
        assert newsgraph("seed", str(SEEDS), "--db", str(db), "--quiet").returncode == 0
        assert server.client.get("/healthz").status_code == 200
        assert server.post(query).json() == {"data": {"articles": {"totalCount": 1}}}


def test_serve_refuses_a_missing_database_unless_told_to_create_it(tmp_path):
    from server import running_server

    missing = tmp_path / "nowhere" / "newsgraph.json"
    refused = newsgraph("serve", "--db", str(missing), "--port", "1")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"newsgraph: error: {missing}: no database here (`newsgraph seed` creates it; "
        "`serve --create` starts with an empty one)\n"
    )
    assert not missing.exists()
    refused = newsgraph("serve", "--port", "1", env={"NEWSGRAPH_DB": str(missing)})
    assert refused.returncode == 1 and "no database here" in refused.stderr

    for args, env in ((["--create"], None), ([], {"NEWSGRAPH_CREATE": "true"})):
        target = tmp_path / ("flag" if args else "env") / "newsgraph.json"
        target.parent.mkdir()  # for the server's log; the database itself is made by serve
        with running_server(target, *args, env=env) as server:
            assert target.exists()
            assert server.client.get("/healthz").json()["articles"] == 0
            assert server.data("{ articles { totalCount } }") == {"articles": {"totalCount": 0}}
            assert "created an empty database" in server.log()
