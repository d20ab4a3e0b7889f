"""Upserts kept encoded (graph.store.upserts): a seed's write gives the file a write of the same dicts gives.

The seed hands the TinyDB store its articles as JSON bytes and outlines in a
spool, not as dicts; the database file, its stories and its side files must
come out byte for byte as they did when the store encoded the dicts itself,
for a first write and for one that updates, deletes, adds and regroups stories.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.generate import generate
from graph.documents import parse_file
from graph.store.base import StoreError
from graph.store.tinydb.store import TinyDBStore
from graph.store.upserts import EncodedUpserts, outline

VERSION = re.compile(rb'"version":"[0-9a-f]{32}"')


def _documents(folder: Path, count: int) -> list[dict[str, Any]]:
    docs = []
    for path in generate(folder, count, seed=7):
        doc = parse_file(path, path.read_bytes())
        doc["_seed"] = {"path": str(path), "hash": f"h{len(docs)}"}
        docs.append(doc)
    return docs


def _encoded(docs: list[dict[str, Any]], memory_bytes: int) -> EncodedUpserts:
    upserts = EncodedUpserts(memory_bytes)
    for doc in docs:
        upserts.append(doc["id"], orjson.dumps(doc), orjson.dumps(outline(doc)))
    return upserts


def _files(db: Path) -> dict[str, Any]:
    """The database (its version blanked) and its side files (without what names the file and version)."""
    files: dict[str, Any] = {"db": VERSION.sub(b'"version":"-"', db.read_bytes())}
    for side in ("snapshot", "marks"):
        saved = orjson.loads((db.parent / f".{db.name}.{side}").read_bytes())
        saved.pop("database"), saved.pop("version")
        if saved.get("changes"):
            saved["changes"][0] = "-"
        files[side] = saved
    return files


def _write(db: Path, upserts: Any, deletes: list[str]) -> None:
    async def run() -> None:
        store = TinyDBStore(db, preload=False)
        await store.open()
        await store.write(upserts, deletes)
        await store.close()

    asyncio.run(run())


@pytest.mark.parametrize("memory_bytes", [0, 2**30], ids=["spooled-to-a-file", "held-in-memory"])
def test_encoded_upserts_write_the_same_files_as_the_same_documents(tmp_path: Path, memory_bytes: int) -> None:
    docs = _documents(tmp_path / "corpus", 300)
    plain, encoded = tmp_path / "plain" / "db.json", tmp_path / "encoded" / "db.json"

    _write(plain, docs, [])
    with _encoded(docs, memory_bytes) as upserts:
        _write(encoded, upserts, [])
    assert _files(encoded) == _files(plain)

    # A second write: some articles updated (one now links another's URL: stories merge),
    # some deleted, some new.
    updated = [dict(doc, title=f"Changed {n}") for n, doc in enumerate(docs[:40])]
    updated[0]["related"] = [{"title": "Elsewhere", "webUrl": docs[200]["webUrl"]}]
    added = [dict(doc, id=f"new-{n}", webUrl=f"https://new.test/{n}") for n, doc in enumerate(docs[:5])]
    deletes = [doc["id"] for doc in docs[250:260]]
    _write(plain, [*updated, *added], deletes)
    with _encoded([*updated, *added], memory_bytes) as upserts:
        _write(encoded, upserts, deletes)
    assert _files(encoded) == _files(plain)
    assert b"Changed 0" in _files(encoded)["db"]


def test_encoded_upserts_read_back_as_the_documents(tmp_path: Path) -> None:
    docs = _documents(tmp_path / "corpus", 20)
    with _encoded(docs, 0) as upserts:
        assert len(upserts) == 20 and upserts.ids == [doc["id"] for doc in docs]
        assert list(upserts) == docs and upserts[-1] == docs[-1] and upserts[2:4] == docs[2:4]
        assert upserts.encoded(3) == orjson.dumps(docs[3])
        assert upserts.outline(3) == outline(docs[3])
        assert "body" not in upserts.outline(3) and upserts.outline(3)["_seed"] == docs[3]["_seed"]


def test_a_document_orjson_cannot_encode_fails_the_write_and_leaves_the_database(tmp_path: Path) -> None:
    docs = _documents(tmp_path / "corpus", 3)
    db = tmp_path / "db" / "db.json"
    _write(db, docs, [])
    before = db.read_bytes()
    with EncodedUpserts() as upserts:
        upserts.append_document(dict(docs[0], huge=2**70))  # an unknown key's value beyond 64 bits
        assert upserts[0]["huge"] == 2**70
        with pytest.raises(StoreError, match=r"db\.json: cannot write the database: .*the old database is unchanged"):
            _write(db, upserts, [])
    assert db.read_bytes() == before
