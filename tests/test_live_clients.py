"""Live changes end to end: a real `newsgraph serve`, real clients, a seed in another process.

Clients: the graphql-ws and graphql-sse npm clients driven from Node
(tests/clients/live.mjs; scripts/setup-clients.sh installs them), Python gql
with its websockets transport (tests/live_clients.py), and the websockets
library speaking graphql-transport-ws by hand for the protocol's edges. Each
client runs as a subprocess; a test waits until the server counts its
subscriptions (/metrics), seeds with the real CLI and compares what the client
printed with the events the seed must produce.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from conftest import newsgraph
from live_server import need
from server import Server, running_server

TESTS = Path(__file__).resolve().parent
CLIENTS = TESTS / "clients"
WAIT_SECONDS = 60.0
TOPIC_FEED = """subscription Feed($where: ArticleFilter, $search: String) {
  articleChanges(where: $where, search: $search) { kind id version article { title topics provider { name } } }
}"""
WHERE_AI = {"topics": {"has": "AI"}}


def write_article(folder: Path, article_id: str, title: str, topics: list[str], body: str = "Body.") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", f"title: {title}", f"topics: {json.dumps(topics)}", "provider: {name: The Lens, domain: thelensnola.org}", "---", body]
    (folder / f"{article_id}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextlib.contextmanager
def serving(kind: str, tmp_path: Path, request: pytest.FixtureRequest, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server with /metrics on a fresh store of this kind (one seeded article), and the env that seeds it."""
    store_env: dict[str, str] = {}
    db = tmp_path / "db" / "newsgraph.json"
    db.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if kind == "postgres":
            import pg

            store_env["NEWSGRAPH_DATABASE_URL"] = stack.enter_context(pg.fresh_schema(request.getfixturevalue("pg_url")))
        else:
            store_env["NEWSGRAPH_DB"] = str(db)
        first = tmp_path / "first"
        write_article(first, "start", "Start", ["Other"])
        assert seed(store_env, first).returncode == 0
        yield stack.enter_context(running_server(db, "--metrics", *args, env={**store_env, **(env or {})})), store_env


def seed(store_env: dict[str, str], folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return newsgraph("seed", str(folder), "--quiet", *args, env=store_env)


def subscriptions(server: Server) -> tuple[int, int]:
    """(open subscription connections, subscriptions) as /metrics reports them."""
    text = server.client.get("/metrics").text
    connections = re.search(r"^newsgraph_subscription_connections ([0-9.e+]+)$", text, re.M)
    followed = re.search(r"^newsgraph_subscriptions ([0-9.e+]+)$", text, re.M)
    assert connections and followed, text
    return int(float(connections.group(1))), int(float(followed.group(1)))


def wait_for_subscriptions(server: Server, count: int, clients: list[subprocess.Popen[str]] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + WAIT_SECONDS
    while subscriptions(server)[1] < count:
        for client in clients:
            if client.poll() is not None:
                out, err = client.communicate()  # reads and closes its pipes (no file left for the GC to warn of)
                raise AssertionError(f"a client exited early: {out}{err}")
        assert time.monotonic() < deadline, f"{count} subscriptions never arrived:\n{server.log()}"
        time.sleep(0.05)


def node_client(transport: str, url: str, count: int, query: str, variables: Any = None) -> subprocess.Popen[str]:
    need(shutil.which("node") is not None, "node is not installed (Node.js 18 or newer is needed)")
    need((CLIENTS / "node_modules" / "graphql-ws").is_dir(), "tests/clients is not installed (run scripts/setup-clients.sh)")
    command = ["node", "live.mjs", transport, url, str(count), query]
    if variables is not None:
        command.append(json.dumps(variables))
    return subprocess.Popen(command, cwd=CLIENTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def gql_client(url: str, count: int, query: str, variables: Any = None) -> subprocess.Popen[str]:
    command = [sys.executable, str(TESTS / "live_clients.py"), url, str(count), query]
    if variables is not None:
        command.append(json.dumps(variables))
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def results(client: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, err = client.communicate(timeout=WAIT_SECONDS)
    assert client.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def changes(lines: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    found = []
    for line in lines:
        assert "errors" not in line and "error" not in line, line
        event = line["data"]["articleChanges"]
        found.append((event["kind"], event["id"], (event["article"] or {}).get("title")))
    return found


def three_writes(store_env: dict[str, str], folder: Path) -> list[str]:
    """Seed three times (add, update out of the match and into it, prune); the versions each produced."""
    versions = []
    write_article(folder, "ai-1", "Robots vote", ["AI"])
    write_article(folder, "ai-2", "Models learn", ["AI", "Science"])
    write_article(folder, "other", "Gardens bloom", ["Gardening"])
    for step in range(3):
        if step == 1:
            write_article(folder, "ai-2", "Models rest", ["Science"])  # leaves the match: UPDATED anyway
            write_article(folder, "other", "Gardens learn", ["Gardening", "AI"])  # enters it
        if step == 2:
            (folder / "ai-1.md").unlink()
        done = seed(store_env, folder, *(["--prune"] if step == 2 else []))
        assert done.returncode == 0, done.stderr
        versions.append(done.stdout)
    return versions


EXPECTED = [
    ("ADDED", "ai-1", "Robots vote"),
    ("ADDED", "ai-2", "Models learn"),
    ("UPDATED", "ai-2", "Models rest"),
    ("UPDATED", "other", "Gardens learn"),
    ("REMOVED", "ai-1", None),
]


@pytest.mark.parametrize("transport", ["ws", "sse"])
def test_node_clients_get_a_seeds_events(
    transport: str, store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with serving(store_kind, tmp_path, request) as (server, store_env):
        client = node_client(transport, server.url, len(EXPECTED), TOPIC_FEED, {"where": WHERE_AI})
        wait_for_subscriptions(server, 1, [client])
        three_writes(store_env, tmp_path / "seeds")
        got = results(client)
        assert changes(got) == EXPECTED
        # The version of each event is the one /healthz reports once the write is visible.
        last = got[-1]["data"]["articleChanges"]["version"]
        assert server.client.get("/healthz").json()["version"] == last


def test_gql_python_client_gets_a_seeds_events(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving(store_kind, tmp_path, request) as (server, store_env):
        client = gql_client(server.url, 3, TOPIC_FEED, {"search": "learn*"})
        wait_for_subscriptions(server, 1, [client])
        three_writes(store_env, tmp_path / "seeds")
        assert changes(results(client)) == [
            ("ADDED", "ai-2", "Models learn"),
            ("UPDATED", "ai-2", "Models rest"),  # matched before the write
            ("UPDATED", "other", "Gardens learn"),
        ]


def test_two_serve_processes_over_one_postgres_both_deliver(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving("postgres", tmp_path, request) as (first, store_env):
        with running_server(tmp_path / "unused.json", "--metrics", env=store_env) as second:
            # The Node client first: without tests/clients it skips the test before any process starts
            # (started second, it left the first client running: a ResourceWarning at teardown).
            node = node_client("ws", second.url, len(EXPECTED), TOPIC_FEED, {"where": WHERE_AI})
            clients = [gql_client(first.url, len(EXPECTED), TOPIC_FEED, {"where": WHERE_AI}), node]
            wait_for_subscriptions(first, 1, clients[:1])
            wait_for_subscriptions(second, 1, clients[1:])
            three_writes(store_env, tmp_path / "seeds")
            assert changes(results(clients[0])) == EXPECTED
            assert changes(results(clients[1])) == EXPECTED


# ---- the protocol's edges and the limits, with the websockets library ----------------------------


async def _connect(server: Server, **kwargs: Any) -> Any:
    ws = await websockets.connect(server.url.replace("http", "ws", 1), subprotocols=["graphql-transport-ws"], **kwargs)
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


def _subscribe(n: int, query: str = TOPIC_FEED, variables: Any = None) -> str:
    return json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": query, "variables": variables}})


def test_eleventh_subscription_on_a_connection_is_refused(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving("tinydb", tmp_path, request) as (server, _):

        async def scenario() -> None:
            async with await _connect(server) as ws:
                for n in range(11):
                    await ws.send(_subscribe(n, variables={"search": f"word{n}"}))
                await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
                replies = [json.loads(await ws.recv()) for _ in range(3)]
                assert replies[0]["id"] == "10" and replies[0]["type"] == "error"
                assert replies[0]["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
                assert "the limit is 10" in replies[0]["payload"][0]["message"]
                assert replies[1:] == [
                    {"id": "q", "type": "next", "payload": {"data": {"__typename": "Query"}}},
                    {"id": "q", "type": "complete"},
                ]
                assert subscriptions(server) == (1, 10)
                # Completing one makes room for another.
                await ws.send(json.dumps({"id": "3", "type": "complete"}))
                await ws.send(_subscribe(11))
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await ws.recv()) == {"type": "pong"}
                assert subscriptions(server) == (1, 10)
                # A duplicate id closes the connection, as graphql-transport-ws says.
                await ws.send(_subscribe(11))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
            assert subscriptions(server) == (0, 0)

        asyncio.run(scenario())


def test_a_client_that_does_not_read_is_disconnected(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"NEWSGRAPH_SUBSCRIPTION_BUFFER": "4"}
    with serving("tinydb", tmp_path, request, env=env) as (server, store_env):
        folder = tmp_path / "big"
        for n in range(40):
            write_article(folder, f"big-{n:02}", f"Big {n}", ["AI"], body="word " * 100_000)  # ~500 KB each

        async def scenario() -> None:
            # A tiny receive buffer, and the client reads nothing: the server's sends block, its outbox fills.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", server.port))
            async with await _connect(server, sock=sock, max_queue=1) as ws:
                await ws.send(_subscribe(1, "subscription { articleChanges { article { body } } }"))
                await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
                await ws.recv()  # the query's answer: the subscription is live
                await ws.recv()
                assert (await asyncio.to_thread(seed, store_env, folder)).returncode == 0
                while subscriptions(server)[0]:
                    await asyncio.sleep(0.05)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
                assert "client too slow" in closed.value.rcvd.reason

        asyncio.run(scenario())


def test_connection_limit_and_subprotocol(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving("tinydb", tmp_path, request, env={"NEWSGRAPH_MAX_SUBSCRIPTION_CONNECTIONS": "1"}) as (server, _):

        async def scenario() -> None:
            async with await _connect(server):
                second = await websockets.connect(server.url.replace("http", "ws", 1), subprotocols=["graphql-transport-ws"])
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await second.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
                assert "the limit is 1 per server process" in closed.value.rcvd.reason
                refused = await asyncio.to_thread(
                    server.post, {"query": TOPIC_FEED}, "text/event-stream"
                )
                assert refused.status_code == 503
                assert "the limit is 1 per server process" in refused.json()["errors"][0]["message"]
            with pytest.raises(websockets.InvalidStatus):
                await websockets.connect(server.url.replace("http", "ws", 1), subprotocols=["graphql-ws"])
            # A message is bounded like a request body (64 KiB by default).
            while subscriptions(server)[0]:  # the first connection's end reached the server
                await asyncio.sleep(0.05)
            async with await _connect(server) as ws:
                await ws.send(_subscribe(1, "subscription { articleChanges { id } }" + " " * 70_000))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

        asyncio.run(scenario())


def test_subscription_over_plain_http_is_refused(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving("tinydb", tmp_path, request) as (server, _):
        plain = server.post({"query": TOPIC_FEED})
        assert plain.status_code == 200
        error = plain.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "GraphQL over WebSocket" in error["message"] and "text/event-stream" in error["message"]
        assert "data" not in plain.json()
        strict = server.post({"query": TOPIC_FEED}, "application/graphql-response+json")
        assert strict.status_code == 400
        assert strict.json()["errors"] == [error]
        # Over GET too: the same error (405 would send the client to POST, which cannot stream either).
        over_get = server.get({"query": TOPIC_FEED})
        assert over_get.status_code == 200
        assert over_get.json() == {"errors": [error]}


def test_sse_reports_request_errors_as_events(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with serving("tinydb", tmp_path, request, "--no-introspection") as (server, _):
        for query, code in [
            ("subscription { articleChanges { nope } }", "GRAPHQL_VALIDATION_FAILED"),
            ("subscription { __schema { types { name } } }", "GRAPHQL_VALIDATION_FAILED"),
            ('subscription { articleChanges(where: {publishedDateTime: {gt: "x"}}) { id } }', "BAD_USER_INPUT"),
        ]:
            response = server.post({"query": query}, "text/event-stream")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = response.text.split("\n\n")
            assert events[0].startswith("event: next\ndata: ")
            payload = json.loads(events[0].removeprefix("event: next\ndata: "))
            assert payload["errors"][0]["extensions"]["code"] == code, payload
            assert events[1] == "event: complete\ndata:"
        assert subscriptions(server) == (0, 0)
