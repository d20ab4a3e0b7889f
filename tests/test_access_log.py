"""The access log and request ids (graph.access) on a real server: one line per request in text
or JSON, the client's X-Request-ID kept when sane and returned on every answer, and the error id
of a masked error on its request's line."""

from __future__ import annotations

import re
import socket

import orjson
import pytest

from conftest import article
from server import running_server, write_db

QUERY = 'query One { article(id: "ok") { title } }'
BROKEN = '{ ok: article(id: "ok") { title } broken: article(id: "broken") { images { url } } }'
GENERATED = re.compile(r"[0-9a-f]{32}")
TEXT_LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<request_id>\S+) (?P<method>\S+) (?P<path>\S+) "
    r"(?P<status>\d{3}) (?P<duration_ms>\d+\.\d)ms (?P<bytes>\d+)B op=(?P<operation>\S+) cache=(?P<cache>\S+)"
    r"(?: error_ids=(?P<error_ids>\S+))?"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    docs = [article(id="ok", title="Fine"), {"id": "broken", "title": "t", "body": "", "images": ["x"]}]  # an image no seed file could store
    return write_db(tmp_path_factory.mktemp("access") / "db.json", docs)


def text_lines(log: str) -> dict[str, dict[str, str]]:
    """The access lines of a server log by request id."""
    lines = {}
    for line in log.splitlines():
        match = TEXT_LINE.fullmatch(line)
        if match:
            lines[match["request_id"]] = match.groupdict()
    return lines


def json_lines(log: str) -> dict[str, dict]:
    lines = {}
    for line in log.splitlines():
        if line.startswith("{"):
            value = orjson.loads(line)
            if "request_id" in value:
                lines[value["request_id"]] = value
    return lines


def test_text_lines_say_what_each_request_was(db):
    with running_server(db) as server:
        first = server.post({"query": QUERY}, headers={"X-Request-ID": "client-id.1:a_b"})
        again = server.post({"query": QUERY})
        bad = server.post({"query": "{ nope }"}, headers={"X-Request-ID": "has spaces and ; semicolons"})
        long = server.get({"query": "{ __typename }"}, headers={"X-Request-ID": "x" * 129})
        health = server.client.get("/healthz")
        log = server.log()
    assert first.headers["x-request-id"] == "client-id.1:a_b"
    for response in (again, bad, long, health):
        assert GENERATED.fullmatch(response.headers["x-request-id"])
    lines = text_lines(log)
    assert lines["client-id.1:a_b"] | {"time": "", "duration_ms": ""} == {
        "time": "", "request_id": "client-id.1:a_b", "method": "POST", "path": "/graphql", "status": "200",
        "duration_ms": "", "bytes": str(len(first.content)), "operation": "One", "cache": "miss", "error_ids": None,
    }
    assert lines[again.headers["x-request-id"]]["cache"] == "hit"
    assert lines[again.headers["x-request-id"]]["operation"] == "One"
    assert (lines[bad.headers["x-request-id"]]["operation"], lines[bad.headers["x-request-id"]]["cache"]) == ("-", "miss")
    get = lines[long.headers["x-request-id"]]
    assert (get["method"], get["path"], get["status"]) == ("GET", "/graphql", "200")  # no query string in the log
    assert lines[health.headers["x-request-id"]]["path"] == "/healthz"
    assert lines[health.headers["x-request-id"]]["cache"] == "-"


def test_json_lines_and_the_masked_error_id(db):
    with running_server(db, env={"NEWSGRAPH_LOG_FORMAT": "json"}) as server:
        ok = server.post({"query": QUERY, "operationName": "One"}, headers={"X-Request-ID": "abc"})
        broken = server.post({"query": BROKEN})
        not_found = server.client.get("/nope", headers={"X-Request-ID": "req-404"})
        log = server.log()
    lines = json_lines(log)
    line = lines["abc"]
    assert line["time"].endswith("Z") and isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    del line["time"], line["duration_ms"]
    assert line == {
        "request_id": "abc", "method": "POST", "path": "/graphql", "status": 200, "bytes": len(ok.content),
        "operation": "One", "cache": "miss", "error_ids": [],
    }
    [error] = broken.json()["errors"]
    error_id = error["extensions"]["errorId"]
    assert lines[broken.headers["x-request-id"]]["error_ids"] == [error_id]
    assert lines[broken.headers["x-request-id"]]["operation"] is None
    # The server's own log is JSON too, and its masked error line carries the same id.
    [logged] = [v for v in map(orjson.loads, (l for l in log.splitlines() if l.startswith("{"))) if v.get("error_id")]
    assert logged["error_id"] == error_id and logged["level"] == "ERROR"
    assert "AttributeError: 'str' object has no attribute 'get'" in logged["traceback"]
    assert not_found.status_code == 404 and not_found.headers["x-request-id"] == "req-404"
    assert lines["req-404"]["status"] == 404


def test_the_access_log_can_be_turned_off_and_ids_stay(db):
    with running_server(db, "--no-access-log") as server:
        response = server.post({"query": QUERY}, headers={"X-Request-ID": "kept-id"})
        log = server.log()
    assert response.headers["x-request-id"] == "kept-id"
    assert "kept-id" not in log and text_lines(log) == {}


def test_a_connection_refused_before_the_app_gets_an_id_and_a_line(db):
    with running_server(db, "--max-body-bytes", "100") as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            # A request line over what the connection layer buffers: 414 from graph.server, not the app.
            sock.sendall(b"GET /graphql?query=" + b"x" * 400 * 1024 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        log = server.log()
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 414 ")
    [request_id] = re.findall(r"x-request-id: (\S+)", head)
    line = text_lines(log)[request_id]
    assert (line["method"], line["path"], line["status"], line["operation"]) == ("-", "-", "414", "-")
