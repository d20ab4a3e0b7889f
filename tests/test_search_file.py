"""The search index a server keeps beside the database: read back at the next start, never used
for a file it does not describe."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import article
from graph import search
from graph.store.tinydb.snapshot import SEARCH_PREBUILD_MIN
from graph.store.tinydb.store import TinyDBStore

COUNT = SEARCH_PREBUILD_MIN


def _seed(run, path, title=lambda n: f"word{n} shared", count=COUNT):
    writer = TinyDBStore(path, preload=False)  # as the seed command opens it
    run(writer.open())
    run(writer.write([article(id=f"a{n:05d}", title=title(n), body=f"body{n % 7} text") for n in range(count)], []))
    run(writer.close())


def _start(run, path):
    """A server's store over path: its search index once built or read, and the save (if any) done."""
    server = TinyDBStore(path)
    run(server.open())
    snapshot = run(server.reader()).snapshot
    index = snapshot.search_index()
    for thread in threading.enumerate():
        if thread.name == "newsgraph-search-file":
            thread.join()
    run(server.close())
    return snapshot, index


def _same(a, b):
    assert a.vocabulary == b.vocabulary and a.name_words == b.name_words
    for name, array in a.arrays().items():
        assert np.array_equal(array, b.arrays()[name]), name


def _ids(snapshot, index, text):
    scores = index.search(search.parse_query(text))
    return sorted(snapshot.columns["id"][n] for n in np.asarray(scores.numbers).tolist())


def test_a_second_start_reads_the_index_the_first_built(tmp_path, run, caplog):
    path = tmp_path / "db.json"
    _seed(run, path)
    caplog.set_level(logging.INFO, logger="newsgraph.store")
    _, built = _start(run, path)
    assert (tmp_path / ".db.json.search").exists()
    assert "search index saved" in caplog.text and "search index read" not in caplog.text
    caplog.clear()
    snapshot, read = _start(run, path)
    assert "search index read" in caplog.text and "saved" not in caplog.text
    _same(built, read)
    assert _ids(snapshot, read, "word7") == ["a00007"]
    assert _ids(snapshot, read, '"word1* shared"')[:3] == ["a00001", "a00010", "a00011"]


def test_the_index_of_an_older_version_is_not_used(tmp_path, run, caplog):
    path = tmp_path / "db.json"
    _seed(run, path)
    _start(run, path)
    _seed(run, path, title=lambda n: "zebra" if n == 3 else f"word{n} shared")
    caplog.set_level(logging.INFO, logger="newsgraph.store")
    snapshot, index = _start(run, path)
    assert "search index read" not in caplog.text and "search index saved" in caplog.text
    assert _ids(snapshot, index, "zebra") == ["a00003"] and _ids(snapshot, index, "word3") == []
    caplog.clear()
    _, again = _start(run, path)  # the new version's index, saved, is read
    assert "search index read" in caplog.text
    _same(index, again)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "another database's arrays"])
def test_a_damaged_file_is_ignored_and_the_index_built(tmp_path, run, caplog, damage):
    path = tmp_path / "db.json"
    _seed(run, path)
    _, built = _start(run, path)
    side = tmp_path / ".db.json.search"
    raw = side.read_bytes()
    if damage == "truncated":
        side.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        side.write_bytes(raw[: raw.index(b"\n") + 1] + os.urandom(len(raw) // 2))
    else:  # the same number of articles, other words: only the spot checks can tell
        other = tmp_path / "other" / "db.json"
        _seed(run, other, title=lambda n: f"other{n} words")
        _start(run, other)
        other_raw = (tmp_path / "other" / ".db.json.search").read_bytes()
        header = json.loads(raw[: raw.index(b"\n")])
        header["arrays"] = json.loads(other_raw[: other_raw.index(b"\n")])["arrays"]
        head = json.dumps(header, separators=(",", ":")).encode()
        other_head = other_raw.index(b"\n")
        assert len(head) == other_head  # same lengths: the arrays stay aligned where the header says
        side.write_bytes(head + other_raw[other_head:])
    caplog.set_level(logging.INFO, logger="newsgraph.store")
    snapshot, index = _start(run, path)
    assert "search index read" not in caplog.text
    if damage != "truncated":  # a cut header is not even recognised as this database's
        assert "not usable" in caplog.text
    _same(built, index)
    assert _ids(snapshot, index, "word7") == ["a00007"]


def test_a_side_file_that_cannot_be_written_leaves_the_server_searching(tmp_path, run, caplog):
    path = tmp_path / "db.json"
    _seed(run, path)
    (tmp_path / ".db.json.search").mkdir()  # nothing can be renamed over a folder
    caplog.set_level(logging.INFO, logger="newsgraph.store")
    snapshot, index = _start(run, path)
    assert "was not saved" in caplog.text
    assert _ids(snapshot, index, "word7") == ["a00007"]


def test_word_codes_are_the_same_in_every_process():
    """A saved index's phrase codes are read by other processes: not Python's per-process str hash."""
    words = ["zurich", "straße", "new", "york"]
    code = f"from graph.search import word_code; print([word_code(w) for w in {words!r}])"
    outputs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert outputs == {f"{[search.word_code(w) for w in words]}\n"}


def test_arrays_of_other_documents_are_refused():
    docs = [article(id=f"d{n}", title=f"alpha{n}") for n in range(40)]
    others = [article(id=f"d{n}", title=f"beta{n}") for n in range(40)]
    names = [None] * 40
    arrays = search.SearchIndex(docs, names).arrays()
    _same(search.SearchIndex(docs, names), search.SearchIndex.from_arrays(arrays, docs, names))
    with pytest.raises(ValueError, match="does not describe"):
        search.SearchIndex.from_arrays(arrays, others, names)
