"""Connections a client cannot hold open (issue 12, item 8), against a real server on 127.0.0.1:
a cap on open connections, read timeouts for a request's head and body, JSON answers for heads
too large to parse, one INFO line for a client that goes away, and a log that a flood cannot grow.
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import article
from server import running_server, write_db

CAP = 50
SLOW_CLIENTS = 80
READ_TIMEOUT = 2
BODY = orjson.dumps({"query": "{ articles { totalCount } }"})
HEAD = (
    b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return write_db(tmp_path / "db.json", [article(id="a1", title="First")])


def answer(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the one answer a connection gets before it is closed."""
    data = b""
    while chunk := sock.recv(65_536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    return status, orjson.loads(body)


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_slow_clients_cannot_hold_more_than_the_cap_nor_longer_than_the_read_timeout(db):
    args = ("--max-connections", str(CAP), "--read-timeout-seconds", str(READ_TIMEOUT))
    with running_server(db, *args) as server:
        server.client.close()  # its kept-alive connection would count against the cap
        idle = descriptors(server.pid)
        slow = []
        for _ in range(SLOW_CLIENTS):  # headers and one byte of the body, then nothing
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(HEAD + BODY[:1])
            slow.append(sock)
        try:
            answers = [answer(sock) for sock in slow]
        finally:
            for sock in slow:
                sock.close()
        refused = [body for status, body in answers if status == 503]
        timed_out = [body for status, body in answers if status == 408]
        # Past the cap a connection is refused at once; the others wait for their body until the timeout.
        assert len(refused) >= SLOW_CLIENTS - CAP and len(refused) + len(timed_out) == SLOW_CLIENTS
        assert refused[0]["errors"][0]["message"] == (
            f"the server has {CAP} connections open, its limit; retry shortly"
        )
        assert timed_out[0] == {
            "errors": [
                {
                    "message": f"the request body did not arrive within the read timeout of {READ_TIMEOUT} s",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        }
        # Every slow connection is gone: nothing was kept open, and the server answers again.
        assert descriptors(server.pid) <= idle + 1
        again = httpx.post(server.url, json={"query": "{ articles { totalCount } }"}, timeout=30)
        assert again.json() == {"data": {"articles": {"totalCount": 1}}}
        log = server.log()
        assert "Traceback" not in log and " ERROR " not in log
        assert log.count("connection limit of 50 reached") == 1  # repeated lines are not repeated


def test_a_request_head_that_never_ends_gets_408_after_the_read_timeout(db):
    with running_server(db, "--read-timeout-seconds", str(READ_TIMEOUT)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
            status, body = answer(sock)
        assert status == 408
        assert body["errors"][0]["message"] == f"the request did not arrive within the read timeout of {READ_TIMEOUT} s"
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            pass  # opened and never used: closed by the same timeout
        assert server.client.get("/healthz").status_code == 200


def test_a_client_that_goes_away_mid_body_is_one_info_line(db):
    with running_server(db) as server:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(HEAD + BODY[:5])
                time.sleep(0.2)  # the app is reading the body when the client leaves
        deadline = time.monotonic() + 10
        while server.log().count("went away") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [line for line in server.log().splitlines() if "went away" in line]
        assert len(lines) == 3
        assert all(" INFO newsgraph: client 127.0.0.1:" in line for line in lines), lines
        assert "Traceback" not in server.log() and " ERROR " not in server.log()


def test_bytes_that_are_not_http_get_a_json_400_with_a_request_id(db):
    with running_server(db) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            data = b""
            while chunk := sock.recv(65_536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert re.search(rb"(?im)^x-request-id: [0-9a-f]{32}$", head), head
        assert orjson.loads(body) == {
            "errors": [
                {
                    "message": "the request is not valid HTTP/1.1 (Invalid HTTP request received)",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        }
        assert server.client.get("/healthz").status_code == 200


def test_heads_too_large_to_parse_get_a_json_error_not_a_reset(db):
    with running_server(db) as server:
        # A GET whose URL is over what the server parses (64 KiB).
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            # Never finished: the server must answer once what it buffers is over its bound.
            sock.sendall(b"GET /graphql?query=" + b"%20" * 100_000)
            sock.sendall(b"%20" * 100_000)
            status, body = answer(sock)
        assert status == 414
        assert body == {
            "errors": [
                {
                    "message": "the request line is over 65,535 bytes; send long queries with POST "
                    "(or as persisted queries, whose GET URLs stay short)",
                    "extensions": {"code": "QUERY_TOO_COMPLEX"},
                }
            ]
        }
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"GET /graphql?query={__typename} HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sock.sendall(b"".join(b"X-Pad-%d: %s\r\n" % (n, b"x" * 1000) for n in range(250)))
            status, body = answer(sock)
        assert status == 431
        assert body["errors"][0]["message"] == "the request headers are over 212,992 bytes"
        # A complete request line just over the bound: 414 too, not the parser's plain-text 400.
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            query = b"%7B__typename%7D%23" + b"x" * 70_000  # "{__typename}#xxx…": 70 KB
            sock.sendall(b"GET /graphql?query=" + query + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            status, body = answer(sock)
        assert status == 414
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        # Just under the bound, the request is parsed and answered.
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            query = b"%7B__typename%7D%23" + b"x" * 65_450
            line = b"GET /graphql?query=" + query + b" HTTP/1.1"
            assert len(line) <= 65_535
            sock.sendall(line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            status, body = answer(sock)
        assert (status, body) == (200, {"data": {"__typename": "Query"}})
        assert server.client.get("/healthz").status_code == 200
