"""Documents held as JSON bytes: the database file's own bytes, sliced by span, decode to the stored articles."""

from __future__ import annotations

import orjson
import pytest
from conftest import article

from graph.store.tinydb.document_bytes import DECODED_CACHE_SIZE, EncodedDocuments
from graph.store.tinydb.store import ARTICLES, encode_database


def database(*docs: dict) -> dict:
    table = {str(n + 1): doc for n, doc in enumerate(docs)}
    return {"meta": {"1": {"format": 1, "version": "f" * 32}}, ARTICLES: table, "extra": {"1": {"kept": True}}}


def test_encode_database_is_orjson_byte_for_byte_and_its_spans_hold_each_article():
    docs = [
        article(id="a", title="Ünïcödé \"quoted\" \\ and \u2028 separators", topics=["x", "y"]),
        article(id="b", title="B", related=[{"title": "r", "webUrl": "https://r.example/1"}], secured="s3cr3t"),
        {"id": "c"},
    ]
    data = database(*docs)
    payload, spans = encode_database(data)
    assert payload == orjson.dumps(data)
    assert sorted(spans) == ["1", "2", "3"]
    for key, (start, end) in spans.items():
        assert orjson.loads(payload[start:end]) == data[ARTICLES][key]


def test_encode_database_with_no_articles_table_or_an_empty_one():
    for data in ({"meta": {"1": {"format": 1}}}, database()):
        payload, spans = encode_database(data)
        assert (payload, spans) == (orjson.dumps(data), {})


def test_decoding_drops_what_is_never_served_and_leaves_the_buffer_alone():
    data = database({**article(id="a", title="A", secured="s3cr3t"), "_seed": {"path": "a.md", "hash": "h"}})
    payload, spans = encode_database(data)
    docs = EncodedDocuments(payload, [spans["1"][0]], [spans["1"][1]])
    assert len(docs) == 1
    assert "secured" not in docs[0] and "_seed" not in docs[0]
    assert docs[0]["id"] == "a"
    assert docs.decode(0) == docs[0] and docs.decode(0) is not docs[0]
    assert b"s3cr3t" in payload  # the file keeps it


def test_the_cache_shares_decoded_documents_and_stays_bounded():
    docs = EncodedDocuments.encode([{"id": str(n)} for n in range(DECODED_CACHE_SIZE + 10)])
    first = docs[0]
    assert docs[0] is first  # served from the cache
    for n in range(1, len(docs)):
        assert docs[n] == {"id": str(n)}
    assert docs[0] is not first  # pushed out by the others
    assert [doc["id"] for doc in docs] == [str(n) for n in range(len(docs))]
    with pytest.raises(IndexError):
        docs[len(docs)]


@pytest.mark.parametrize(
    "starts, ends, sound",
    [
        ([0, 9], [9, 18], True),
        ([1, 9], [9, 18], False),  # not at an object's start
        ([0, 9], [9, 19], False),  # past the buffer
        ([0, 9], [9, 17], False),  # not at an object's end
        ([0, 9], [0, 18], False),  # empty
        ([-1, 9], [9, 18], False),
    ],
)
def test_spans_are_checked_against_the_buffer(starts, ends, sound):
    buffer = b'{"a":"1"}{"b":"2"}'
    assert EncodedDocuments(buffer, starts, ends).spans_are_objects() is sound


def test_encode_keeps_order_and_values():
    originals = [article(id=f"id{n}", title=f"T{n}", quality=n, topics=["t"] * (n % 3)) for n in range(50)]
    docs = EncodedDocuments.encode(originals)
    assert list(docs) == originals
    assert docs.size == sum(len(orjson.dumps(doc)) for doc in originals)
