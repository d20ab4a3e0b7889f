"""Every request ends within the execution time limit, and a filter too large to finish is refused first.

Through a real server on both stores: a filter of thousands of conditions is
priced (conditions x articles) and refused before it runs; a request under that
price but slower than the time limit ends at the limit with QUERY_TOO_COMPLEX,
and other clients are served meanwhile (the work runs off the event loop).
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import orjson
import pytest
from conftest import article
from server import running_server, write_db

from graph.store.postgres.store import PostgresStore

COUNT_QUERY = "query ($w: ArticleFilter) { articles(where: $w, first: 1) { totalCount } }"
TIMEOUT = 1.0


def _docs(count: int) -> list[dict]:
    # Long bodies that never hold the searched fragments: every condition scans all of them.
    body = "lorem ipsum dolor sit amet " * 800
    return [article(id=f"a{n:05d}", title=f"Article {n}", body=body, quality=n % 100) for n in range(count)]


@pytest.fixture(params=["tinydb", "postgres"])
def server_args(request, tmp_path):
    docs = _docs(3000)
    db = tmp_path / "db" / "newsgraph.json"
    if request.param == "tinydb":
        write_db(db, docs)
        return db, []
    url = request.getfixturevalue("pg_schema_url")

    async def seed() -> None:
        store = PostgresStore(url)
        await store.open()
        try:
            await store.write(docs, [])
        finally:
            await store.close()

    asyncio.run(seed())
    db.parent.mkdir(parents=True, exist_ok=True)
    return db, ["--database-url", url]


def _ask(server, conditions: int) -> dict:
    """totalCount of an OR of ``conditions`` body-contains conditions (sent compact: 2,218 fit in 64 KiB)."""
    where = {"OR": [{"body": {"contains": f"q{n % 10}"}} for n in range(conditions)]}
    body = orjson.dumps({"query": COUNT_QUERY, "variables": {"w": where}})
    response = server.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_filter_over_the_work_limit_is_refused_before_it_runs(server_args):
    db, args = server_args
    with running_server(db, *args) as server:
        started = time.monotonic()
        answer = _ask(server, 2218)
        elapsed = time.monotonic() - started
        cpu = server.cpu_seconds()
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "filter work of 66,540,000" in error["message"] and "limit of 20,000,000" in error["message"]
    assert elapsed < 2.0, f"refused after {elapsed:.2f} s"
    assert cpu < 10, cpu


def test_a_slow_request_ends_at_the_time_limit_and_others_are_served_meanwhile(server_args):
    db, args = server_args
    limits = ["--timeout-seconds", str(TIMEOUT), "--max-filter-work", str(10**12)]
    with running_server(db, *args, *limits) as server:
        health: list[float] = []
        done = threading.Event()

        def poll() -> None:
            with httpx.Client(base_url=server.base) as client:
                while not done.is_set():
                    started = time.monotonic()
                    assert client.get("/healthz", timeout=30).status_code == 200
                    health.append(time.monotonic() - started)
                    time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            started = time.monotonic()
            answer = _ask(server, 2000)
            elapsed = time.monotonic() - started
        finally:
            done.set()
            poller.join()
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert "execution time limit of 1 s" in answer["errors"][0]["message"]
    assert elapsed < TIMEOUT + 0.5 + 0.5, f"answered after {elapsed:.2f} s"  # the limit + 0.5 s, + noise
    assert len(health) >= 10, health
    slowest = sorted(health)[int(len(health) * 0.99) - 1]
    assert slowest < 0.25, f"/healthz p99 {slowest * 1000:.0f} ms while the slow request ran"
