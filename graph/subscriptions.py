"""Subscriptions at /graphql: GraphQL over WebSocket and GraphQL over Server-Sent Events.

- WebSocket: the ``graphql-transport-ws`` subprotocol of the graphql-ws
  library (connection_init/ack, subscribe, next, error, complete, ping/pong,
  its close codes). Queries sent as ``subscribe`` get one ``next`` and
  ``complete``.
- SSE: the graphql-sse protocol's distinct connections mode: a GET or POST
  with ``Accept: text/event-stream`` gets a stream of ``next`` events (errors
  found before execution too, as the protocol asks) ending with ``complete``.

Both run documents through the same executor as queries (limits, validation,
introspection setting, masking) and the events through graph.live. Bounds:
subscriptions per connection, connections per process, a bounded outbox per
connection (a client that does not read is disconnected: close code 4408, or
the end of the stream) and keep-alive pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from graph.errors import BAD_USER_INPUT
from graph.execution.executor import Outcome, error_payload, internal_error
from graph.live import Connection, Feed, Hub, TooMany, too_many
from graph.persisted import PersistedQueries, PersistedQueryError
from graph.schema.context import Context
from graph.store.base import Store

log = logging.getLogger("newsgraph.live")

PROTOCOL = "graphql-transport-ws"
PING = '{"type":"ping"}'
SSE_PING = ":\n\n"
SSE_COMPLETE = "event: complete\ndata:\n\n"
CLOSE_TIMEOUT_SECONDS = 1.0
# Close codes of graphql-transport-ws.
BAD_MESSAGE, UNAUTHORIZED, TIMEOUT, DUPLICATE, TOO_MANY_INITS, UNSUPPORTED = 4400, 4401, 4408, 4409, 4429, 4406
TRY_AGAIN_LATER = 1013


def ws_message(kind: str, subscription_id: str, payload: str | None = None) -> str:
    head = '{"id":' + orjson.dumps(subscription_id).decode() + ',"type":"' + kind + '"'
    return head + ("}" if payload is None else ',"payload":' + payload + "}")


def sse_event(result: str) -> str:
    return "event: next\ndata: " + result + "\n\n"


class WebSocketEndpoint:
    """/graphql for WebSocket upgrades (graphql-transport-ws)."""

    def __init__(self, hub: Hub, persisted: PersistedQueries) -> None:
        self.hub = hub
        # Resolves a subscribe message's query as /graphql resolves a request's: persisted queries by
        # hash, and with trusted documents (graph.trusted, a PersistedQueries of its own) only those.
        self.persisted = persisted

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        if PROTOCOL not in scope.get("subprotocols", ()):
            await websocket.close(UNSUPPORTED, f"Subprotocol not acceptable: use {PROTOCOL}")
            return
        await websocket.accept(subprotocol=PROTOCOL)
        try:
            connection = self.hub.connect()
        except TooMany as exc:
            await websocket.close(TRY_AGAIN_LATER, str(exc))
            return
        try:
            await _Session(self.hub, self.persisted, websocket, connection).run()
        finally:
            self.hub.disconnect(connection)


class _Session:
    def __init__(self, hub: Hub, persisted: PersistedQueries, websocket: WebSocket, connection: Connection) -> None:
        self.hub = hub
        self.persisted = persisted
        self.websocket = websocket
        self.connection = connection
        self.limits = hub.limits
        self.acknowledged = False

    async def run(self) -> None:
        reading = asyncio.ensure_future(self.read())
        writing = asyncio.ensure_future(self.write())
        slow = asyncio.ensure_future(self.connection.overflowed.wait())
        try:
            done, _ = await asyncio.wait({reading, writing, slow}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, writing, slow):
                task.cancel()
        close: tuple[int, str] | None = None
        if slow in done:
            close = (TIMEOUT, f"client too slow: more than {self.limits.subscription_buffer} messages were waiting")
        elif reading in done and not reading.cancelled() and reading.exception() is None:
            close = reading.result()
        if close is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(*close), CLOSE_TIMEOUT_SECONDS)

    async def write(self) -> None:
        outbox = self.connection.outbox
        while True:
            try:
                message = await asyncio.wait_for(outbox.get(), self.limits.keep_alive_ping_seconds)
            except TimeoutError:
                message = PING
            await self.websocket.send_text(message)

    async def read(self) -> tuple[int, str] | None:
        """Handle client messages; returns the close code and reason to close with, None when the client left."""
        try:
            first = await asyncio.wait_for(self.receive(), self.limits.read_timeout_seconds)
        except TimeoutError:
            return (TIMEOUT, "Connection initialisation timeout")
        message = first
        while True:
            if message is None:
                return None
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                return (BAD_MESSAGE, "Invalid message received")
            kind = message["type"]
            if kind == "connection_init":
                if self.acknowledged:
                    return (TOO_MANY_INITS, "Too many initialisation requests")
                self.acknowledged = True
                self.connection.push('{"type":"connection_ack"}')
            elif kind == "ping":
                self.connection.push('{"type":"pong"}')
            elif kind == "pong":
                pass
            elif kind == "subscribe":
                # One at a time, in order: an answer to a later message means this one is live.
                closing = await self.subscribe(message)
                if closing is not None:
                    return closing
            elif kind == "complete":
                self.complete(message.get("id"))
            else:
                return (BAD_MESSAGE, f"Invalid message received: unknown type {kind!r}")
            message = await self.receive()

    async def receive(self) -> Any:
        """The next message, parsed (a non-object or unparsable text is returned as it is, to be refused)."""
        try:
            text = await self.websocket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            return None
        except KeyError:
            return "binary"  # a binary frame: receive_text finds no "text"
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return "invalid"

    async def subscribe(self, message: dict[str, Any]) -> tuple[int, str] | None:
        if not self.acknowledged:
            return (UNAUTHORIZED, "Unauthorized")
        subscription_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(subscription_id, str) or not subscription_id or not isinstance(payload, dict):
            return (BAD_MESSAGE, "Invalid message received: subscribe needs an id and a payload")
        if subscription_id in self.connection.subscriptions:
            return (DUPLICATE, f"Subscriber for {subscription_id} already exists")
        await self.start(subscription_id, payload)
        return None

    async def start(self, subscription_id: str, payload: dict[str, Any]) -> None:
        query, variables, operation_name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        push = self.connection.push
        extensions, document_id = payload.get("extensions"), payload.get("documentId")
        if (query is None or isinstance(query, str)) and (extensions is None or isinstance(extensions, dict)):
            try:
                query = self.persisted.resolve(query, extensions, document_id if isinstance(document_id, str) else None)
            except PersistedQueryError as exc:
                push(ws_message("error", subscription_id, orjson.dumps([error_payload(str(exc), exc.code)]).decode()))
                return
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            push(ws_message("error", subscription_id, _errors_json("subscribe needs a query string and variables as an object")))
            return
        if operation_name is not None and not isinstance(operation_name, str):
            push(ws_message("error", subscription_id, _errors_json("operationName must be a string")))
            return
        try:
            reader = await self.hub_store_reader()
            prepared = await self.hub.prepare(query, variables, operation_name, reader)
            if prepared is None:
                outcome = await self.hub.executor.run(query, variables, operation_name, Context(reader, self.limits))
                push(ws_message("next", subscription_id, orjson.dumps(outcome.payload).decode()))
                push(ws_message("complete", subscription_id))
            elif isinstance(prepared, Outcome):
                push(ws_message("error", subscription_id, orjson.dumps(prepared.payload["errors"]).decode()))
            else:
                self.hub.attach(prepared, self.connection, subscription_id, lambda result: ws_message("next", subscription_id, result))
        except TooMany as exc:
            push(ws_message("error", subscription_id, orjson.dumps([too_many(exc)]).decode()))
        except Exception as exc:  # noqa: BLE001 - masked like any unexpected failure
            push(ws_message("error", subscription_id, orjson.dumps([internal_error("starting a subscription", exc)]).decode()))

    async def hub_store_reader(self) -> Any:
        store: Store = self.websocket.app.state.store
        return await store.reader()

    def complete(self, subscription_id: Any) -> None:
        if not isinstance(subscription_id, str):
            return
        subscriber = self.connection.subscriptions.pop(subscription_id, None)
        if subscriber is not None:
            self.hub.detach(subscriber)


def _errors_json(message: str) -> str:
    return orjson.dumps([error_payload(message, BAD_USER_INPUT)]).decode()


class EventStream:
    """One SSE response (graphql-sse distinct connections mode) as an ASGI app.

    ``first`` is sent at once (an answer, or errors) and ends the stream unless
    ``feed`` is given; then the feed's events follow until the client leaves or
    falls too far behind.
    """

    status_code = 200  # for graph.metrics
    headers = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
    ]

    def __init__(self, hub: Hub, connection: Connection, first: str | None, feed: Feed | None) -> None:
        self.hub = hub
        self.connection = connection
        self.first = first
        self.feed = feed

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        connection = self.connection
        try:
            if self.feed is not None:
                self.hub.attach(self.feed, connection, "sse", sse_event)
            elif self.first is not None:
                connection.push(sse_event(self.first))
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            writing = asyncio.ensure_future(self._write(send))
            leaving = asyncio.ensure_future(_disconnected(receive))
            slow = asyncio.ensure_future(connection.overflowed.wait())
            try:
                done, _ = await asyncio.wait({writing, leaving, slow}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (writing, leaving, slow):
                    task.cancel()
            if leaving not in done:
                with contextlib.suppress(Exception):
                    ending = b"" if slow in done else SSE_COMPLETE.encode()
                    await asyncio.wait_for(
                        send({"type": "http.response.body", "body": ending, "more_body": False}), CLOSE_TIMEOUT_SECONDS
                    )
        finally:
            self.hub.disconnect(connection)

    async def _write(self, send: Any) -> None:
        outbox = self.connection.outbox
        streaming = self.feed is not None
        while True:
            if not streaming and outbox.empty():
                return
            try:
                message = await asyncio.wait_for(outbox.get(), self.hub.limits.keep_alive_ping_seconds)
            except TimeoutError:
                message = SSE_PING
            await send({"type": "http.response.body", "body": message.encode(), "more_body": True})


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
