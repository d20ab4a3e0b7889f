"""A real `newsgraph serve` on 127.0.0.1, in a subprocess, for tests of HTTP behaviour.

    with running_server(db_path, "--no-introspection") as server:
        response = server.post({"query": "{ __typename }"})
        server.log()         # what the server wrote to stdout and stderr so far
        server.cpu_seconds() # user + system CPU time the server process has used

The server runs the real CLI (python -m graph serve) on a free port against
the TinyDB file given; it is started, waited for (GET /healthz answers 200)
and stopped by the context manager. NEWSGRAPH_* variables of the test process
are not passed on: a test sets what it needs through ``args`` and ``env``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from graph.store.tinydb.store import TinyDBStore

STARTUP_SECONDS = 30.0
JSON = "application/json"


class ServerError(RuntimeError):
    """The server did not start, or stopped unexpectedly."""


def write_db(path: Path, docs: list[dict[str, Any]]) -> Path:
    """A TinyDB database file holding these stored documents, written by the real store."""

    async def write() -> None:
        store = TinyDBStore(path)
        await store.open()
        try:
            await store.write(docs, [])
        finally:
            await store.close()

    asyncio.run(write())
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A started server: its URL, process and log; HTTP helpers for tests."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/graphql"
        self.log_path = log_path
        self.client = httpx.Client(base_url=self.base, timeout=30.0)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has spent so far (from /proc/PID/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # After the ")" that ends the command name, utime and stime are fields 12 and 13.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def post(self, body: Any, accept: str | None = JSON, **kwargs: Any) -> httpx.Response:
        """POST a JSON body to /graphql (``accept=None`` sends no Accept header)."""
        headers = {"content-type": JSON, **kwargs.pop("headers", {})}
        if accept is not None:
            headers["accept"] = accept
        return self.client.post("/graphql", json=body, headers=headers, **kwargs)

    def get(self, params: dict[str, str] | None = None, accept: str | None = JSON, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if accept is not None:
            headers["accept"] = accept
        return self.client.get("/graphql", params=params, headers=headers, **kwargs)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed."""
        response = self.post({"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"the server exited with status {server.process.returncode}:\n{server.log()}")
        with contextlib.suppress(httpx.TransportError):
            if server.client.get("/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise ServerError(f"the server did not answer /healthz within {STARTUP_SECONDS:g} s:\n{server.log()}")


@contextlib.contextmanager
def running_server(db: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run `newsgraph serve --db DB ARGS...` on a free 127.0.0.1 port until the block ends."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    full_env.update(env or {})
    port = free_port()
    log_path = db.parent / f"server-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "graph", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = Server(process, port, log_path)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def threaded_server(app: Any) -> Iterator[str]:
    """A real uvicorn on 127.0.0.1 serving an ASGI app in a thread (no lifespan); yields its base URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(400):  # a bounded wait for startup, not a timing assertion
            if server.started or not thread.is_alive():
                break
            time.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
