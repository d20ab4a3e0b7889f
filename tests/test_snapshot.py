"""The in-memory snapshot's own structures, where the API-level tests cannot reach them."""

from __future__ import annotations

from conftest import article

from graph.store.tinydb.document_bytes import EncodedDocuments
from graph.store.tinydb.snapshot import Snapshot, derive_state, url_hash


def test_a_url_hash_collision_does_not_hand_out_the_wrong_article():
    docs = [
        article(id="a", title="A", webUrl="https://a.example/1"),
        article(id="b", title="B", webUrl="https://b.example/2"),
    ]
    state = derive_state(docs)
    # Make a.example's URL hash like b.example's: both now sit under one hash, a first.
    collided = url_hash("https://b.example/2")
    state["url_hashes"] = sorted(collided if h == url_hash("https://a.example/1") else h for h in state["url_hashes"])
    state["url_numbers"] = [0, 1]
    snapshot = Snapshot(EncodedDocuments.encode(docs), "v", state)
    assert snapshot.get_by_url("https://b.example/2")["id"] == "b"
    assert snapshot.get_by_url("https://a.example/1") is None  # its hash is gone from the index
    assert snapshot.get_by_url("https://c.example/3") is None


def test_a_url_in_several_articles_finds_the_lowest_id():
    docs = [
        article(id="z", title="Z", originalUrl="https://x.example/shared"),
        article(id="m", title="M", ampWebUrl="https://x.example/shared"),
        article(id="q", title="Q", webUrl="https://x.example/shared", cdnAmpWebUrl="https://x.example/shared"),
    ]
    snapshot = Snapshot.build(docs, "v")
    assert snapshot.get_by_url("https://x.example/shared")["id"] == "m"


def test_url_hashes_are_stable_and_64_bit():
    # Saved in the side file: the same URL must hash the same in every process.
    assert url_hash("https://a.example/1") == 1802722053938456121
    assert -(2**63) <= url_hash("https://a.example/1") < 2**63
    assert url_hash("https://a.example/1") != url_hash("https://a.example/2")
    assert url_hash("https://\udce9.example/") == url_hash("https://\udce9.example/")  # lone surrogates too
