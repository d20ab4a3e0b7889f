"""Response cache, ETags and automatic persisted queries, against a real server.

The cache must never serve an answer computed from older data: a seed changes
the data version, and the next request is computed afresh.
"""

from __future__ import annotations

import hashlib
import json

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
