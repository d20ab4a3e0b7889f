"""The HTTP server around the app: uvicorn, with bounds on connections a client cannot hold open.

uvicorn alone let 21,000 connections that each sent headers and one byte of a
body exhaust the file descriptors (issue 12): it has no cap on open connections
(limit_concurrency answers 503 only once a request arrives, and counts the
capped connections themselves) and no timeout on reading a request. Protocol,
uvicorn's h11 protocol with three additions, closes that:

- at most ``max_connections`` connections per worker: one more is answered 503
  (a JSON error, ``Retry-After: 1``) and closed as soon as it is accepted, and
  past twice the cap (a flood) closed without an answer, so that a worker never
  holds more than twice the cap in descriptors;
- a request's head (request line and headers) must arrive within
  ``read_timeout_seconds`` of its first byte (or of the connection opening),
  else 408 and close; the body has its own timeout in graph.app.read_body;
- a head over the size the parser buffers (HEAD_BYTES) is answered with a
  GraphQL error body instead of h11's plain-text 400 or a reset: 414 when the
  request line alone does not fit (a GET query too long for a URL), 431 when the
  headers do not.

Errors are answered and then the connection is closed the way nginx's
lingering close does it: the rest of what the client sends is read and dropped
for a moment, so that it gets the answer instead of a reset.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from http import HTTPStatus
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from graph.config import Limits, Settings
from graph.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX

log = logging.getLogger("newsgraph.server")

# Headers besides the request line: uvicorn's default buffer (h11's) is 16 KiB for both.
HEADER_BYTES = 16 * 1024
# Seconds a refused connection is still read from (and what it sends dropped) before it closes;
# shorter past the connection cap, where connections arrive faster than they should.
LINGER_SECONDS = 2.0
REFUSED_LINGER_SECONDS = 0.5
# File descriptors a worker needs besides its connections: the listening socket, the
# database file and its side files, PostgreSQL's pool, logs, imports.
RESERVED_DESCRIPTORS = 64


def head_bytes(limits: Limits) -> int:
    """The request head a worker buffers: a GET query of the body limit, URL-encoded (up to
    three bytes a character), and the headers. Past it, 414 or 431."""
    return 3 * limits.max_body_bytes + HEADER_BYTES


@functools.cache
def _limits() -> Limits:
    """The limits of this worker (cmd_serve passes settings to workers through the environment)."""
    return Settings.from_env().limits


class Protocol(H11Protocol):
    """uvicorn's h11 protocol with a connection cap, a head read timeout and JSON errors for heads
    too large to parse (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.limits.max_connections
        if len(self.connections) > cap:
            log.warning("connection limit of %d reached: new connections get 503", cap)
            if len(self.connections) > 2 * cap:
                self.transport.close()  # a flood: no answer, every descriptor counts
                return
            message = f"the server has {cap} connections open, its limit; retry shortly"
            self._refuse(503, message, BAD_USER_INPUT, [(b"retry-after", b"1")], linger=REFUSED_LINGER_SECONDS)
            return
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the answer is written; what the client still sends is dropped
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # the head is complete (or the connection is done)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """h11 refused the request: a JSON answer when it is a head too large to buffer."""
        buffered, _ = self.conn.trailing_data
        limit = head_bytes(self.limits)
        if len(buffered) <= limit:
            super().send_400_response(msg)  # malformed, not too large: uvicorn's answer
            return
        self._cancel_head_timer()
        if b"\r\n" not in buffered[: limit + 2]:
            message = (
                f"the request line is over {limit:,} bytes; send long queries with POST "
                "(or as persisted queries, whose GET URLs stay short)"
            )
            self._refuse(414, message, QUERY_TOO_COMPLEX)
        else:
            self._refuse(431, f"the request headers are over {limit:,} bytes", BAD_USER_INPUT)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.read_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is not h11.IDLE:
            return  # a response is under way (pipelining): uvicorn's keep-alive timer takes over
        seconds = self.limits.read_timeout_seconds
        self._refuse(408, f"the request did not arrive within the read timeout of {seconds:g} s", BAD_USER_INPUT)

    def _refuse(
        self,
        status: int,
        message: str,
        code: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        linger: float = LINGER_SECONDS,
    ) -> None:
        """Answer one GraphQL error (application/json: nothing was negotiated) and close.

        Written by hand, not through h11: the connection's parser may be in its error state.
        What the client still sends is read and dropped for ``linger`` seconds before the
        close, so that it reads the answer instead of a reset.
        """
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
        head = [
            b"HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase.encode()),
            b"content-type: application/json",
            b"content-length: %d" % len(body),
            b"connection: close",
            *(name + b": " + value for name, value in headers or ()),
        ]
        self._cancel_head_timer()
        self._lingering = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's answer, if one comes, is not written
            self.cycle.message_event.set()
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(linger, self.transport.close)


def descriptors_for(limits: Limits) -> int:
    """Raise this process's soft limit on open files so that max_connections fit; returns the
    connections that fit (max_connections, or fewer when the hard limit is lower)."""
    needed = 2 * limits.max_connections + RESERVED_DESCRIPTORS  # the cap, and as many being refused
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    return max(1, min(limits.max_connections, (soft - RESERVED_DESCRIPTORS) // 2))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What uvicorn.run gets besides the app, host, port, workers and loop."""
    limits = settings.limits
    return {
        "http": Protocol,
        "timeout_keep_alive": limits.keep_alive_seconds,
        "h11_max_incomplete_event_size": head_bytes(limits),
        # WebSocket upgrades (subscriptions, graph.subscriptions) pass through the h11 protocol to
        # uvicorn's websockets one; a message is bounded like a request body.
        "ws_max_size": limits.max_body_bytes,
        "log_level": "info",
        "access_log": False,
    }
