"""A version's search index derived from the previous version's equals the one built from scratch."""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import article
from graph.search import SearchIndex, parse_query
from graph.store.tinydb.snapshot import Snapshot
from graph.store.tinydb.store import TinyDBStore

WORDS = [f"w{i}" for i in range(60)] + ["Zürich", "zurich", "naïve"]


def _doc(rnd: random.Random, n: int) -> dict:
    return article(
        id=f"a{n:03d}",
        title=" ".join(rnd.choices(WORDS, k=rnd.randint(1, 6))),
        body=" ".join(rnd.choices(WORDS, k=rnd.randint(0, 20))),
        topics=rnd.sample(["T one", "T two", "x"], rnd.randint(0, 2)),
        # Names drawn per article, so a provider's canonical name (which phrases read) changes with the counts.
        provider={"name": rnd.choice(["P a", "P b", "Q"]), "domain": rnd.choice(["a.test", "b.test"])},
        related=[{"title": " ".join(rnd.choices(WORDS, k=3))}] if rnd.random() < 0.3 else [],
    )


def _assert_same(built: SearchIndex, derived: SearchIndex) -> None:
    assert (derived.count, derived.average_length) == (built.count, built.average_length)
    assert np.array_equal(derived.lengths, built.lengths)
    for word in built.vocabulary:
        docs, frequencies = built.postings[word]
        got_docs, got_frequencies = derived.postings[word]
        assert np.array_equal(got_docs, docs) and np.array_equal(got_frequencies, frequencies), word
    # Words whose documents all went stay in the vocabulary, with no postings.
    assert all(len(derived.postings[word][0]) == 0 for word in set(derived.vocabulary) - set(built.vocabulary))
    assert np.array_equal(derived.sequence, built.sequence) and np.array_equal(derived.doc_starts, built.doc_starts)
    assert set(built.name_words) <= set(derived.name_words)
    # A first page ranked on the derived index (its terms' bounds over words left without postings
    # included) is the built index's, scored whole.
    for text in ("w1*", "w*", "w3 w4*", "zurich OR w5*"):
        query = parse_query(text)
        full, pruned = built.search(query), derived.search(query)
        if full is None or not len(full.numbers):
            continue
        expected = sorted(zip(full.numbers.tolist(), full.values.tolist()), key=lambda nv: (-nv[1], nv[0]))[:3]
        numbers = pruned.contenders(pruned.numbers, 3)
        got = sorted(zip(numbers.tolist(), pruned.of(numbers).tolist()), key=lambda nv: (-nv[1], nv[0]))[:3]
        assert got == expected, text


@pytest.mark.parametrize("seed", range(6))
def test_an_index_derived_write_after_write_equals_a_fresh_build(seed):
    rnd = random.Random(seed)
    docs = {d["id"]: d for d in (_doc(rnd, n) for n in rnd.sample(range(300), 80))}
    snapshot = Snapshot.build(docs.values(), "v0")
    snapshot.search_index()
    for step in range(25):
        added, updated, removed = [], [], []
        for _ in range(rnd.randint(0, 8)):
            doc = _doc(rnd, rnd.randrange(300))
            article_id, roll = doc["id"], rnd.random()
            if article_id in added or article_id in updated or article_id in removed:
                continue
            if article_id not in docs:
                docs[article_id] = doc
                added.append(article_id)
            elif roll < 0.6:
                docs[article_id] = doc
                updated.append(article_id)
            else:
                del docs[article_id]
                removed.append(article_id)
        new = Snapshot.build(docs.values(), f"v{step + 1}")
        new.recorded = (snapshot.version, tuple(added), tuple(updated), tuple(removed))
        derived = new._search_after(snapshot)
        assert derived is not None
        _assert_same(SearchIndex(new.docs, new.columns["providerName"]), derived)
        new._search = derived
        snapshot = new


def test_a_record_that_does_not_follow_the_served_version_builds_the_index_whole():
    rnd = random.Random(7)
    first = Snapshot.build([_doc(rnd, n) for n in range(20)], "v0")
    first.search_index()
    second = Snapshot.build([_doc(rnd, n) for n in range(21)], "v2")
    second.recorded = ("v1", ("a020",), (), ())  # a version between them was never served here
    assert second._search_after(first) is None
    second.recorded = ("v0", (), (), ())  # says nothing changed, though a020 is new
    assert second._search_after(first) is None


def test_the_store_derives_each_written_version_s_index_from_the_served_one(tmp_path, run):
    rnd = random.Random(3)
    store = TinyDBStore(tmp_path / "db.json")
    run(store.open())
    run(store.write([_doc(rnd, n) for n in range(50)], []))
    served = run(store.reader()).snapshot
    served.search_index()
    run(store.write([_doc(rnd, n) for n in (3, 60)], ["a007"]))
    snapshot = run(store.reader()).snapshot
    assert snapshot.previous is served  # kept until its index is derived, then let go
    derived = snapshot.search_index()
    assert snapshot.previous is None
    _assert_same(SearchIndex(snapshot.docs, snapshot.columns["providerName"]), derived)
    run(store.close())
