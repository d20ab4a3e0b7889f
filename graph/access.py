"""The access log and request ids: one line per HTTP request, and an id every answer carries.

Every request gets a request id: the client's ``X-Request-ID`` when it is a
sane token (REQUEST_ID: letters, digits and ``._:-``, at most 128 characters),
else a new random one. It is sent back in the ``X-Request-ID`` header of every
answer, errors included, and names the request's line in the access log, so a
report that quotes it (or the error id of a masked error, which the line holds
too) leads to that line.

One line per request goes to stdout through the ``newsgraph.access`` logger
(off with NEWSGRAPH_ACCESS_LOG=false): the time the request arrived (UTC), the
request id, method, path (never the query string: GET variables stay out of
logs), status, duration, bytes of the response body, the GraphQL operation name,
whether the response cache answered, and the error ids of masked errors. Readable
text by default, one JSON object a line with NEWSGRAPH_LOG_FORMAT=json:

    2026-12-03T13:20:01.123Z 5c0e9f2a41b84d7e POST /graphql 200 3.2ms 1534B op=Latest cache=miss
    {"time": "2026-12-03T13:20:01.123Z", "request_id": "5c0e…", "method": "POST", "path": "/graphql",
     "status": 200, "duration_ms": 3.2, "bytes": 1534, "operation": "Latest", "cache": "miss", "error_ids": []}

Requests the connection layer refuses before the app sees them (graph.server:
503 past the connection cap, 408, 414, 431) get an id and a line too, with
``-`` for what was never read.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HEADER_KEY = HEADER.lower().encode()
_OPERATION_NAME = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,63})")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

log = logging.getLogger("newsgraph.access")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(headers: Any) -> str:
    """The request id for raw ASGI headers: the client's X-Request-ID when sane, else a new one."""
    for name, value in headers:
        if name == _HEADER_KEY:
            given = value.decode("latin-1").strip()
            if REQUEST_ID.fullmatch(given):
                return given
            break
    return new_request_id()


def operation_name(name: str | None, query: str | None) -> str | None:
    """A request's operation name: its operationName, else the first operation's name in the text;
    None when there is none or it is not a GraphQL name (at most 64 characters)."""
    if name is None and query:
        found = _OPERATION_NAME.search(query)
        name = found.group(1) if found else None
    if not name or not _NAME.fullmatch(name):
        return None
    return name


@dataclass
class RequestRecord:
    """What the access log line of one request says; the endpoint fills in the GraphQL parts."""

    request_id: str
    method: str = "-"
    path: str = "-"
    arrived: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    status: int = 0
    bytes: int = 0
    operation: str | None = None
    cache: str | None = None  # "hit" or "miss" on /graphql answers the cache could hold
    error_ids: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        arrived = datetime.fromtimestamp(self.arrived, timezone.utc)
        return {
            "time": arrived.strftime("%Y-%m-%dT%H:%M:%S.") + f"{arrived.microsecond // 1000:03d}Z",
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "bytes": self.bytes,
            "operation": self.operation,
            "cache": self.cache,
            "error_ids": self.error_ids,
        }


_current: ContextVar[RequestRecord | None] = ContextVar("newsgraph_request", default=None)


def current() -> RequestRecord | None:
    """The record of the request being answered (None outside one)."""
    return _current.get()


def note_error_id(error_id: str) -> None:
    """Put a masked error's id on the current request's line (graph.execution.executor.internal_error)."""
    record = _current.get()
    if record is not None:
        record.error_ids.append(error_id)


def format_line(values: dict[str, Any], log_format: str) -> str:
    if log_format == "json":
        return orjson.dumps(values).decode()
    line = (
        f"{values['time']} {values['request_id']} {values['method']} {values['path']} {values['status']} "
        f"{values['duration_ms']:.1f}ms {values['bytes']}B op={values['operation'] or '-'} cache={values['cache'] or '-'}"
    )
    if values["error_ids"]:
        line += " error_ids=" + ",".join(values["error_ids"])
    return line


def write(record: RequestRecord, log_format: str) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info("%s", format_line(record.fields(), log_format))


class AccessLog:
    """ASGI middleware: a request id on every request and answer, and (when ``enabled``) its log line."""

    def __init__(self, app: Any, enabled: bool = True, log_format: str = "text") -> None:
        self.app = app
        self.enabled = enabled
        self.log_format = log_format

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id_from(scope.get("headers", ())), scope["method"], scope["path"])
        header = (_HEADER_KEY, record.request_id.encode())
        written = False

        def finish() -> None:
            nonlocal written
            if self.enabled and not written:
                write(record, self.log_format)
            written = True

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif message["type"] == "http.response.body":
                record.bytes += len(message.get("body", b""))
                if not message.get("more_body", False):
                    finish()  # before the answer is complete: whoever reads it can find its line
            await send(message)

        token = _current.set(record)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
            if not record.status:
                record.status = 500  # the app raised: Starlette's outermost middleware answers 500
            finish()


def configure_access_log() -> None:
    """Access lines go to stdout as they are (the formatting is format_line's), once per process."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
