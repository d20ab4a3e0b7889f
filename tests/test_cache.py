"""Response cache, ETags and automatic persisted queries, against a real server.

The cache must never serve an answer computed from older data: a seed changes
the data version, and the next request is computed afresh.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import article, newsgraph
from server import running_server, write_db

QUERY = "{ articles { totalCount nodes { id title } } }"


def docs(*titles: str) -> list[dict]:
    return [article(id=f"a{i}", title=title) for i, title in enumerate(titles)]


@pytest.fixture
def db(tmp_path):
    return write_db(tmp_path / "db.json", docs("First", "Second"))


def test_repeated_query_is_served_from_cache_until_a_seed_changes_the_data(db, tmp_path):
    with running_server(db) as server:
        first = server.post({"query": QUERY})
        again = server.post({"query": QUERY})
        assert first.content == again.content
        assert first.headers["etag"] == again.headers["etag"]
        assert again.json()["data"]["articles"]["totalCount"] == 2

        corpus = tmp_path / "more"
        corpus.mkdir()
        (corpus / "003_c3.md").write_text("---\ntitle: Third\n---\nbody\n")
        result = newsgraph("seed", str(corpus), "--db", str(db))
        assert result.returncode == 0, result.stderr

        after = server.post({"query": QUERY})
        assert after.json()["data"]["articles"]["totalCount"] == 3
        assert after.headers["etag"] != first.headers["etag"]


def test_get_answers_carry_validators_and_304_only_while_nothing_changed(db, tmp_path):
    with running_server(db) as server:
        response = server.get({"query": QUERY})
        assert response.status_code == 200
        etag = response.headers["etag"]
        assert response.headers["cache-control"] == "public, no-cache"
        assert response.headers["vary"] == "Accept"

        unchanged = server.get({"query": QUERY}, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag

        other = server.get({"query": QUERY}, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200

        corpus = tmp_path / "more"
        corpus.mkdir()
        (corpus / "c3.md").write_text("---\ntitle: Third\n---\n")
        assert newsgraph("seed", str(corpus), "--db", str(db)).returncode == 0
        changed = server.get({"query": QUERY}, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert changed.json()["data"]["articles"]["totalCount"] == 3


def test_answers_with_errors_are_not_cached(db):
    with running_server(db) as server:
        query = '{ articles(after: "garbage") { totalCount } }'
        response = server.post({"query": query})
        assert "etag" not in response.headers
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_cache_can_be_turned_off(db):
    with running_server(db, "--response-cache", "0") as server:
        assert server.post({"query": QUERY}).json()["data"]["articles"]["totalCount"] == 2


def test_media_type_is_part_of_the_cache_key(db):
    with running_server(db) as server:
        plain = server.post({"query": QUERY})
        typed = server.post({"query": QUERY}, accept="application/graphql-response+json")
        assert plain.headers["content-type"].startswith("application/json")
        assert typed.headers["content-type"].startswith("application/graphql-response+json")


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query_hash: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash}}


def test_persisted_query_round_trip_over_post_and_get(db):
    with running_server(db) as server:
        digest = sha(QUERY)
        unknown = server.post({"extensions": persisted(digest)})
        assert unknown.status_code == 200
        assert [e["extensions"]["code"] for e in unknown.json()["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"

        registered = server.post({"query": QUERY, "extensions": persisted(digest)})
        assert registered.json()["data"]["articles"]["totalCount"] == 2

        by_hash = server.post({"extensions": persisted(digest)})
        assert by_hash.json() == registered.json()

        short_get = server.get({"extensions": json.dumps(persisted(digest))})
        assert short_get.status_code == 200
        assert short_get.json() == registered.json()


def test_document_id_names_a_persisted_query_as_the_graphql_over_http_appendix_sends_it(db):
    with running_server(db) as server:
        digest = sha(QUERY)
        unknown = server.post({"documentId": f"sha256:{digest}"})
        assert [e["extensions"]["code"] for e in unknown.json()["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = server.post({"query": QUERY, "extensions": persisted(digest)})
        assert server.post({"documentId": f"sha256:{digest}"}).json() == registered.json()
        assert server.post({"documentId": digest.upper()}).json() == registered.json()
        assert server.get({"documentId": f"sha256:{digest}"}).json() == registered.json()
        for bad in ("md5:" + digest[:32], "sha256:" + digest[:63], 42):
            response = server.post({"documentId": bad})
            assert response.status_code == 400, bad
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_persisted_query_hash_mismatch_is_refused(db):
    with running_server(db) as server:
        response = server.post({"query": QUERY, "extensions": persisted(sha("{ __typename }"))})
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "provided sha does not match query"
        # and the wrong pairing was not remembered
        again = server.post({"extensions": persisted(sha("{ __typename }"))})
        assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_persisted_query_with_an_unknown_version_is_refused(db):
    with running_server(db) as server:
        response = server.post({"query": QUERY, "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(QUERY)}}})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


# ---- memory bounded in bytes (issue 12, item 4) --------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_the_response_cache_holds_its_byte_budget_under_many_large_distinct_answers(tmp_path):
    # 40 articles of ~7 KB: each request (distinct by a trailing comment) answers ~300 KB.
    big = [article(id=f"b{n:02d}", title=f"Big {n}", body=f"word{n} " * 1_100) for n in range(40)]
    db = write_db(tmp_path / "db.json", big)
    query = "{ articles(first: 40) { nodes { id body } } }"
    budget = 8 << 20
    with running_server(db, "--response-cache-bytes", str(budget)) as server:
        assert len(server.post({"query": query}).content) > 250_000
        for n in range(20):  # warm: allocator arenas, imports, the parsed-document cache
            server.post({"query": f"{query} #warm{n}"})
        before = rss_mb(server.pid)
        for n in range(300):  # 90 MB of answers: an entry-count bound (1,024) would keep them all
            response = server.post({"query": f"{query} #{n}"})
            assert response.status_code == 200
        grown = rss_mb(server.pid) - before
        # The cache may grow by its budget (8 MB) and the allocator keeps some slack; 90 MB would not fit.
        assert grown < 50, f"RSS grew by {grown:.0f} MB over 300 answers of 300 KB with an 8 MB cache"
        # Recent answers are still served from the cache (same bytes, same ETag).
        last = server.post({"query": f"{query} #299"})
        assert last.headers["etag"] == response.headers["etag"]


def test_persisted_queries_forget_the_oldest_past_their_byte_budget(db):
    with running_server(db, "--persisted-query-bytes", "100000") as server:
        texts = [QUERY + f"\n# {n} " + "x" * 40_000 for n in range(3)]
        for text in texts:
            registered = server.post({"query": text, "extensions": persisted(sha(text))})
            assert registered.json()["data"]["articles"]["totalCount"] == 2
        # 3 x 40 KB do not fit in 100,000 bytes: the oldest was forgotten, the newest are known.
        oldest = server.post({"extensions": persisted(sha(texts[0]))})
        assert [e["extensions"]["code"] for e in oldest.json()["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
        for text in texts[1:]:
            assert server.post({"extensions": persisted(sha(text))}).json()["data"]["articles"]["totalCount"] == 2


def test_every_request_keyed_cache_stays_within_its_byte_budget(db):
    """The caches in-process, each fed far more than its budget."""
    from graph.response_cache import ResponseCache
    from graph.config import Limits
    from graph.execution.executor import Executor
    from graph.persisted import PersistedQueries
    from graph.schema import schema

    answers = ResponseCache(1024, 1 << 20)
    for n in range(50):
        answers.put(("POST", "application/json", b"q" * 10_000 + str(n).encode()), "v1", b"x" * 100_000, "application/json")
    assert answers.weight <= 1 << 20 and 0 < len(answers) <= 10

    queries = PersistedQueries(10_000, 1 << 20)
    for n in range(50):
        text = f"# {n}\n" + "{ __typename }" + " " * 60_000
        queries.resolve(text, persisted(sha(text)))
    assert queries.weight <= 1 << 20 and 0 < len(queries) <= 17

    executor = Executor(schema._schema, Limits(), cache_bytes=1 << 20)
    for n in range(50):  # 1,990 tokens in 4 KB of text: about 1.1 MB of syntax tree each
        executor.prepare(f"{{ a{n} " + "a " * 1_990 + "}")
    assert executor._prepared.weight <= 1 << 20 and len(executor._prepared) <= 1
