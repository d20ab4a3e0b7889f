"""A server's first start over a large database: searches get a 503 with Retry-After while the
search index is built (other queries are answered), then answers; the next start reads the index
from its side file and answers searches at once."""

from __future__ import annotations

import random
import time

from conftest import article
from server import running_server, write_db

SEARCH = {"query": '{ articles(search: "w7x", first: 3) { totalCount nodes { id } } }'}
PLAIN = {"query": "{ articles(first: 1) { totalCount } }"}


def _warm(server, seconds=120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.client.get("/healthz").json()["warm"]:
            return
        time.sleep(0.1)
    raise AssertionError("not warm in time")


def test_searches_wait_for_the_index_with_a_503_then_the_next_start_reads_it(tmp_path):
    rng = random.Random(7)
    vocabulary = [f"w{n}x" for n in range(20_000)]
    # ~1.2M postings: seconds of building, where a request sent at once always finds it unbuilt.
    docs = [article(id=f"a{n:05d}", title=f"title {n}", body=" ".join(rng.choices(vocabulary, k=400))) for n in range(3000)]
    db = write_db(tmp_path / "db.json", docs)
    expected = sum("w7x" in doc["body"].split() for doc in docs)
    with running_server(db) as server:
        refused = server.post(SEARCH)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "search index of 3,000 articles is being built" in error["message"] and '"warm": true' in error["message"]
        assert server.post(PLAIN).json() == {"data": {"articles": {"totalCount": 3000}}}
        _warm(server)
        assert server.post(SEARCH).json()["data"]["articles"]["totalCount"] == expected
    assert (tmp_path / ".db.json.search").exists()
    with running_server(db) as server:  # the index is read back: searches are answered from the start
        answered = server.post(SEARCH)
        assert answered.status_code == 200 and answered.json()["data"]["articles"]["totalCount"] == expected
        assert "search index read" in server.log()
