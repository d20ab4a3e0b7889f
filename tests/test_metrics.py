"""GET /metrics on a real server (graph.metrics): off by default (404); on, the counters move."""

from __future__ import annotations

import re

import pytest

from conftest import article
from server import running_server, write_db

PAGE = "query Page { articles(first: 2) { totalCount nodes { id title provider { name } } } }"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    docs = [article(id=f"a{n}", title=f"Story number {n}", topics=["AI"]) for n in range(5)]
    return write_db(tmp_path_factory.mktemp("metrics") / "db.json", docs)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when it is not there)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if got == wanted:
                return float(match.group(3))
    return 0.0


def test_metrics_are_off_by_default(db):
    with running_server(db) as server:
        assert server.client.get("/metrics").status_code == 404


def test_counters_move_with_requests(db):
    with running_server(db, "--metrics") as server:
        before = server.client.get("/metrics")
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain")
        for _ in range(3):
            server.data(PAGE)  # the first computes, the next two come from the response cache
        server.data('{ article(id: "a1") { id } }')
        assert "errors" in server.post({"query": "{ nope }"}).json()
        server.data("query Schema { __schema { queryType { name } } }")  # the compiled plan hands introspection over
        after = server.client.get("/metrics").text

        assert sample(after, "newsgraph_requests_total", operation="Page", outcome="ok") == 1
        assert sample(after, "newsgraph_requests_total", operation="Page", outcome="cached") == 2
        assert sample(after, "newsgraph_requests_total", operation="anonymous", outcome="ok") == 1
        assert sample(after, "newsgraph_requests_total", operation="anonymous", outcome="request_error") == 1
        assert sample(after, "newsgraph_request_duration_seconds_count", operation="Page", outcome="ok") == 1
        assert sample(after, "newsgraph_cache_hits_total", cache="response") == 2
        assert sample(after, "newsgraph_cache_misses_total", cache="response") >= 3
        assert sample(after, "newsgraph_cache_misses_total", cache="plan") >= 2
        assert sample(after, "newsgraph_cache_misses_total", cache="match") >= 1
        assert sample(after, "newsgraph_store_articles") == 5
        version = server.client.get("/healthz").json()["version"]
        assert sample(after, "newsgraph_data_version_info", version=version) == 1
        assert sample(after, "newsgraph_process_cpu_seconds_total") > 0
        assert sample(after, "newsgraph_plan_fallbacks_total", reason="introspection") >= 1
        assert sample(after, "newsgraph_requests_total", operation="Schema", outcome="ok") == 1


def test_the_environment_turns_metrics_on(db):
    with running_server(db, env={"NEWSGRAPH_METRICS": "true", "NEWSGRAPH_RESPONSE_CACHE": "0"}) as server:
        for _ in range(2):
            server.data(PAGE)
        text = server.client.get("/metrics").text
        assert sample(text, "newsgraph_requests_total", operation="Page", outcome="ok") == 2
        assert sample(text, "newsgraph_cache_hits_total", cache="plan") >= 1
        assert sample(text, "newsgraph_cache_hits_total", cache="response") == 0
