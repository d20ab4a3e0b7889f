"""OpenTelemetry spans (graph.tracing): the real app in-process with the SDK's in-memory exporter
(both stores), a real server configured only by OTEL_* variables (console exporter), and no
opentelemetry import at all when those variables do not ask for traces."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from conftest import ROOT, article
from graph import tracing
from graph.app import create_app
from graph.config import Settings
from server import running_server, write_db

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

QUERY = "query Titles { articles(first: 2) { totalCount nodes { id title } } }"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)
        provider.shutdown()


def test_a_request_is_a_tree_of_spans_down_to_the_store(spans, make_store, run):
    store = make_store()
    run(store.write([article(id="a1", title="One"), article(id="a2", title="Two")], []))
    app = create_app(Settings(), store=store)

    async def request() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.post(
                    "/graphql", json={"query": QUERY},
                    headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "x-request-id": "traced-1"},
                )

    response = run(request())
    assert response.json()["data"]["articles"]["totalCount"] == 2
    finished = spans.get_finished_spans()
    by_name = {span.name: span for span in finished}
    request_span = by_name["POST /graphql"]
    # The incoming traceparent is continued.
    assert format(request_span.context.trace_id, "032x") == TRACE_ID
    assert format(request_span.parent.span_id, "016x") == PARENT_ID
    assert dict(request_span.attributes) == {
        "http.request.method": "POST", "url.path": "/graphql", "http.response.status_code": 200,
        "newsgraph.request_id": "traced-1", "graphql.operation.name": "Titles",
    }
    parents = {span.context.span_id: span for span in finished}

    def ancestors(span):
        names = []
        while span.parent is not None and span.parent.span_id in parents:
            span = parents[span.parent.span_id]
            names.append(span.name)
        return names

    assert ancestors(by_name["graphql.parse"]) == ["POST /graphql"]
    assert ancestors(by_name["graphql.validate"]) == ["POST /graphql"]
    assert ancestors(by_name["graphql.execute"]) == ["POST /graphql"]
    assert by_name["graphql.execute"].attributes["graphql.operation.type"] == "query"
    store_spans = [span for span in finished if span.name.startswith("store.")]
    assert {"store.find_articles", "store.count_articles"} <= {span.name for span in store_spans}
    for span in store_spans:
        assert ancestors(span) == ["graphql.execute", "POST /graphql"]
        assert span.attributes["newsgraph.store"] == type(run(store.reader())).__name__
    assert {span.context.trace_id for span in finished} == {int(TRACE_ID, 16)}


def test_a_real_server_traces_when_otel_variables_say_so(tmp_path):
    db = write_db(tmp_path / "db.json", [article(id="a1", title="One")])
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "10", "OTEL_SERVICE_NAME": "news-test"}
    with running_server(db, env=env) as server:
        server.data(QUERY)
    log = server.log()  # the spans are flushed when the server stops
    for name in ("POST /graphql", "graphql.parse", "graphql.validate", "graphql.execute", "store.find_articles"):
        assert f'"name": "{name}"' in log, name
    assert '"service.name": "news-test"' in log


@pytest.mark.parametrize("otel", [{}, {"OTEL_TRACES_EXPORTER": "none"}, {"OTEL_SDK_DISABLED": "true",
                                                                        "OTEL_TRACES_EXPORTER": "console"}])
def test_without_otel_variables_nothing_of_opentelemetry_is_imported(tmp_path, otel):
    db = write_db(tmp_path / "db.json", [article(id="a1", title="One")])
    script = (
        "import sys, graph.app\n"
        "app = graph.app.app_from_env()\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "NEWSGRAPH_DB": str(db), **otel}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
    if otel:
        return
    # The control: the same script with an exporter configured does import it.
    traced = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, "OTEL_TRACES_EXPORTER": "console"},
                            capture_output=True, text=True, timeout=60)
    assert "'opentelemetry.sdk.trace'" in traced.stdout, traced.stderr
