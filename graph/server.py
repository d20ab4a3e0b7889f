"""The HTTP server around the app: uvicorn, with bounds on connections a client cannot hold open.

uvicorn alone let 21,000 connections that each sent headers and one byte of a
body exhaust the file descriptors (issue 12): it has no cap on open connections
(limit_concurrency answers 503 only once a request arrives, and counts the
capped connections themselves) and no timeout on reading a request, and its
httptools protocol buffers a request line and headers of any size. Protocol,
uvicorn's httptools protocol (llhttp, its C parser: twice the requests per
second of its h11 protocol on a cached answer, issue 11) with three additions,
closes that:

- at most ``max_connections`` connections per worker: one more is answered 503
  (a JSON error, ``Retry-After: 1``) and closed as soon as it is accepted, and
  past twice the cap (a flood) closed without an answer, so that a worker never
  holds more than twice the cap in descriptors;
- a request's head (request line and headers) must arrive within
  ``read_timeout_seconds`` of its first byte (or of the connection opening),
  else 408 and close; the body has its own timeout in graph.app.read_body;
- a head over its bounds is answered with a GraphQL error body and the
  connection closed, before more of it is buffered: 414 when the request line
  is over REQUEST_LINE_BYTES or the whole head's bound (a GET query too long
  for a URL; httptools cannot parse longer URLs), 431 when the head is over
  ``head_bytes``.

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

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from graph import access
from graph.config import Limits, Settings
from graph.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX

log = logging.getLogger("newsgraph.server")

# Headers besides the request line (h11, uvicorn's other parser, buffers 16 KiB for both).
HEADER_BYTES = 16 * 1024
# The longest request line: httptools.parse_url keeps offsets in 16 bits, so a longer URL is a
# parse error (a plain-text 400) where it should be a 414.
REQUEST_LINE_BYTES = 65_535
# Seconds a refused connection is still read from (and what it sends dropped) before it closes;
# shorter past the connection cap, where connections arrive faster than they should.
LINGER_SECONDS = 2.0
REFUSED_LINGER_SECONDS = 0.5
# File descriptors a worker needs besides its connections: the listening socket, the
# database file and its side files, PostgreSQL's pool, logs, imports.
RESERVED_DESCRIPTORS = 64


def head_bytes(limits: Limits) -> int:
    """The request head a worker buffers: a request line, and headers as long as a GET query of
    the body limit URL-encoded (up to three bytes a character) and 16 KiB more. Past it, 431."""
    return 3 * limits.max_body_bytes + HEADER_BYTES


@functools.cache
def _settings() -> Settings:
    """The settings of this worker (cmd_serve passes settings to workers through the environment)."""
    return Settings.from_env()


def _limits() -> Limits:
    return _settings().limits


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection cap, a head read timeout and a bound on the
    head (see the module docstring).

    A head is being read from a request's first byte (or the connection's opening) until its
    headers are complete; ``_head`` keeps its first ``head_bytes + 1`` bytes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self._head_limit = head_bytes(self.limits)
        self._line_limit = min(REQUEST_LINE_BYTES, self._head_limit)
        self._head: bytearray | None = bytearray()  # None between a head's end and the next request
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
        head = self._head
        if head is not None and len(head) <= self._head_limit:
            head += data[: self._head_limit + 1 - len(head)]
            line_end = head.find(b"\r\n")
            if line_end > self._line_limit or (line_end < 0 and len(head) > self._line_limit):
                message = (
                    f"the request line is over {self._line_limit:,} bytes; send long queries with POST "
                    "(or as persisted queries, whose GET URLs stay short)"
                )
                self._refuse(414, message, QUERY_TOO_COMPLEX)
                return
        super().data_received(data)
        if self._head is not None and len(self._head) > self._head_limit and not self._lingering:
            self._refuse(431, f"the request headers are over {self._head_limit:,} bytes", BAD_USER_INPUT)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to bytes its parser refuses is plain text with no request id.
        self._refuse(400, f"the request is not valid HTTP/1.1 ({msg.rstrip('.')})", BAD_USER_INPUT)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head is None:  # the first bytes of the next request on a kept-alive connection
            self._head = bytearray()
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._head = None
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.read_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._head is None:
            return
        if self.cycle is not None and not self.cycle.response_complete:
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

        Written by hand, not through the cycle: the request may be half parsed.
        What the client still sends is read and dropped for ``linger`` seconds before the
        close, so that it reads the answer instead of a reset.
        """
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
        # Refused before the app saw a request: it gets its request id and access log line here.
        record = access.RequestRecord(access.new_request_id(), status=status, bytes=len(body))
        head = [
            b"HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase.encode()),
            b"content-type: application/json",
            b"content-length: %d" % len(body),
            b"connection: close",
            b"x-request-id: " + record.request_id.encode(),
            *(name + b": " + value for name, value in headers or ()),
        ]
        settings = _settings()
        if settings.access_log:
            access.write(record, settings.log_format)
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
        # WebSocket upgrades (subscriptions, graph.subscriptions) pass through the httptools protocol
        # to uvicorn's websockets one; a message is bounded like a request body.
        "ws_max_size": limits.max_body_bytes,
        "log_level": "info",
        "access_log": False,
    }
