"""Live changes: from each committed write to the subscribers whose subscription selects it.

One Hub per app follows the store's change sets (Store.changes: the TinyDB
store's new snapshots, PostgreSQL's LISTEN/NOTIFY) and, for each write:

- matches every distinct ArticleQuery (where/search) once, through the
  store's own query engine (graph.store.changes.matching_ids): ADDED and
  UPDATED articles on the data after the write, UPDATED and REMOVED ones on
  the data before it;
- executes each distinct subscription (document, operation, variables) once
  per event, over the data after the write, with the query limits and error
  masking of queries (graph.execution.executor);
- hands the encoded result to every subscriber of that subscription.

Subscribers belong to a Connection (a WebSocket, or one SSE response) whose
outbox is bounded: a client that does not read fills it and is disconnected
instead of being buffered for without bound (graph.subscriptions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    BREAK,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    visit,
)
from graphql.execution import create_source_event_stream
from graphql.execution.executor import Executor as GraphQLExecutor

from graph.budget import spending, starting_now
from graph.config import Limits
from graph.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX
from graph.execution.executor import ALL_OPERATIONS, Executor, Outcome, Prepared, error_payload, format_error, format_execution_error
from graph.schema.context import Context
from graph.schema.fields import ChangeStream
from graph.schema.subscription import ChangeKind
from graph.paging import ArticleQuery
from graph.store.base import Document, Reader, Store
from graph.store.changes import ChangeSet, matching_ids

log = logging.getLogger("newsgraph.live")


class Connection:
    """One client connection's subscriptions and its bounded outbox of messages to send."""

    def __init__(self, buffer: int) -> None:
        self.outbox: asyncio.Queue[str] = asyncio.Queue(buffer)
        self.overflowed = asyncio.Event()
        self.subscriptions: dict[str, Subscriber] = {}

    def push(self, message: str) -> None:
        """Queue a message; a full outbox marks the client as too slow (its connection is then closed)."""
        if self.overflowed.is_set():
            return
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


@dataclass(eq=False)
class Subscriber:
    """One subscription of one connection; ``frame`` wraps a result (JSON text) in the transport's message."""

    connection: Connection
    frame: Callable[[str], str]
    feed: Feed | None = None

    def send(self, result: str) -> None:
        self.connection.push(self.frame(result))


@dataclass(eq=False)
class Feed:
    """A distinct subscription: one document, operation and variables, and who follows it."""

    key: tuple[str, str | None, bytes]
    prepared: Prepared
    variables: Mapping[str, Any] | None
    operation_name: str | None
    query: ArticleQuery
    subscribers: set[Subscriber] = field(default_factory=set)
    # What an event's payload depends on besides the event: the document and operation, and the
    # variables only when something below the root field's arguments reads one. Feeds that differ
    # only in what they select (where/search) share each event's payload: one execution, not one
    # a feed (27,390 executions for 1,000 changed articles over 100 filters in the live benchmark).
    payload_key: Any = None


def _selection_reads_variables(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """Whether anything but the root field's arguments reads a variable: the operation's and the
    root field's directives, the selection below it, any fragment of the document."""
    nodes: list[Any] = [*(operation.directives or ())]
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            nodes.extend(selection.directives or ())
            if selection.selection_set is not None:
                nodes.append(selection.selection_set)
        else:
            nodes.append(selection)
    nodes.extend(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    found = False

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> Any:
            nonlocal found
            found = True
            return BREAK

    for node in nodes:
        visit(node, Finder())
        if found:
            return True
    return False


def change_events(changes: ChangeSet, after: set[str], before: set[str]) -> list[tuple[ChangeKind, str]]:
    """The events of one write for one query, in id order, from the ids it matches after and before the write."""
    kinds: dict[str, ChangeKind] = {}
    for article_id in changes.added:
        if article_id in after:
            kinds[article_id] = ChangeKind.ADDED
    for article_id in changes.updated:
        if article_id in after or article_id in before:
            kinds[article_id] = ChangeKind.UPDATED
    for article_id in changes.removed:
        if article_id in before:
            kinds[article_id] = ChangeKind.REMOVED
    return [(kinds[article_id], article_id) for article_id in sorted(kinds)]


class TooMany(Exception):
    """A limit on subscriptions or connections was reached; the message names it."""


class Hub:
    """The app's subscriptions; see the module docstring."""

    def __init__(self, executor: Executor, limits: Limits, introspection: bool = True) -> None:
        self.executor = executor
        self.limits = limits
        self.introspection = introspection
        self.feeds: dict[tuple[str, str | None, bytes], Feed] = {}
        self.connections = 0
        self.subscriptions = 0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    # ---- following the store -------------------------------------------------------------------

    async def start(self, store: Store) -> None:
        """Follow the store's writes; returns once later writes are seen (or after the read timeout:
        a database that is down is followed as soon as it answers)."""
        self._ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._follow(store), name="newsgraph-live")
        try:
            await asyncio.wait_for(self._ready.wait(), self.limits.read_timeout_seconds)
        except TimeoutError:
            log.warning("not yet following the store's writes; subscriptions get events once it answers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self, store: Store) -> None:
        while True:
            try:
                async for changes in store.changes(self.limits.change_poll_seconds, self._ready):
                    if self.feeds:
                        await self.deliver(changes)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - following must outlive a failed write or a lost database
                log.exception("following the store's changes failed; following again")
                await asyncio.sleep(self.limits.change_poll_seconds)

    async def deliver(self, changes: ChangeSet) -> None:
        """Send one write's events to every subscriber whose subscription selects them."""
        by_query: dict[ArticleQuery, list[Feed]] = {}
        for feed in list(self.feeds.values()):
            by_query.setdefault(feed.query, []).append(feed)
        docs: dict[str, Document | None] = {}
        payloads: dict[tuple[Any, ChangeKind, str], str] = {}
        context = Context(reader=changes.after, limits=self.limits)
        for query, feeds in by_query.items():
            try:
                events = await self._events(changes, query)
            except Exception:  # noqa: BLE001 - one subscription's failure must not starve the others
                log.exception("matching a write's changes against a subscription failed")
                continue
            if not events:
                continue
            missing = [i for kind, i in events if kind is not ChangeKind.REMOVED and i not in docs]
            if missing:
                docs.update(zip(missing, await changes.after.get_articles(missing)))
            for kind, article_id in events:
                doc = None if kind is ChangeKind.REMOVED else docs.get(article_id)
                # An ArticleChange as graph.schema.fields reads it.
                change = {"kind": kind, "id": article_id, "article": doc, "version": changes.version}
                for feed in feeds:
                    if not feed.subscribers:
                        continue
                    shared = (feed.payload_key, kind, article_id)
                    result = payloads.get(shared)
                    if result is None:
                        payload = await self.executor.run_event(
                            feed.prepared, feed.variables, feed.operation_name, context, change
                        )
                        result = payloads[shared] = orjson.dumps(payload).decode()
                    for subscriber in list(feed.subscribers):
                        subscriber.send(result)

    async def _events(self, changes: ChangeSet, query: ArticleQuery) -> list[tuple[ChangeKind, str]]:
        budget = starting_now(self.limits)
        with spending(budget):
            after = await matching_ids(changes.after, query, changes.added + changes.updated)
            before = await matching_ids(changes.before, query, changes.updated + changes.removed)
        return change_events(changes, after, before)

    # ---- connections and subscriptions ---------------------------------------------------------

    def connect(self) -> Connection:
        """A new connection that may hold subscriptions; raises TooMany past the per-process limit."""
        limit = self.limits.max_subscription_connections
        if self.connections >= limit:
            raise TooMany(f"too many subscription connections: the limit is {limit} per server process")
        self.connections += 1
        return Connection(self.limits.subscription_buffer)

    def disconnect(self, connection: Connection) -> None:
        self.connections -= 1
        for subscriber in list(connection.subscriptions.values()):
            self.detach(subscriber)
        connection.subscriptions.clear()

    async def prepare(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None, reader: Reader
    ) -> Feed | Outcome | None:
        """The feed of a subscription (shared with identical ones), a request error, or None when the
        operation is not a subscription (the transport runs it as a query)."""
        context = Context(reader=reader, limits=self.limits)
        checked = await self.executor.check(query, variables, operation_name, context, ALL_OPERATIONS)
        if isinstance(checked, Outcome):
            return checked
        prepared, operation = checked
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        key = (query, operation_name, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
        feed = self.feeds.get(key)
        if feed is not None:
            return feed
        stream = await self._source(prepared, variables, operation_name, context)
        if isinstance(stream, Outcome):
            return stream
        payload_key = key if _selection_reads_variables(prepared.document, operation) else key[:2]
        return Feed(key, prepared, variables, operation_name, stream.query, payload_key=payload_key)

    async def _source(
        self, prepared: Prepared, variables: Mapping[str, Any] | None, operation_name: str | None, context: Context
    ) -> ChangeStream | Outcome:
        """What the subscription's root field asks for (graphql-core coerces variables and arguments)."""
        schema: GraphQLSchema = self.executor.schema
        built = GraphQLExecutor.build(
            schema,
            prepared.document,
            context_value=context,
            raw_variable_values=dict(variables) if variables is not None else None,
            operation_name=operation_name,
            hide_suggestions=not self.introspection,
        )
        if isinstance(built, list):
            return _request_error([format_error(e, BAD_USER_INPUT) for e in built])
        stream = create_source_event_stream(built)
        if asyncio.iscoroutine(stream) or isinstance(stream, asyncio.Future):
            stream = await stream
        if isinstance(stream, ExecutionResult):
            return _request_error([format_execution_error(e) for e in stream.errors or ()])
        assert isinstance(stream, ChangeStream)
        return stream

    def attach(self, feed: Feed, connection: Connection, subscription_id: str, frame: Callable[[str], str]) -> Subscriber:
        """Follow a feed; raises TooMany past the per-connection limit."""
        limit = self.limits.max_subscriptions_per_connection
        if len(connection.subscriptions) >= limit:
            raise TooMany(f"too many subscriptions on this connection: the limit is {limit}")
        feed = self.feeds.setdefault(feed.key, feed)  # an identical subscription may have started meanwhile
        subscriber = Subscriber(connection, frame, feed)
        connection.subscriptions[subscription_id] = subscriber
        feed.subscribers.add(subscriber)
        self.subscriptions += 1
        return subscriber

    def detach(self, subscriber: Subscriber) -> None:
        feed = subscriber.feed
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        self.subscriptions -= 1
        if not feed.subscribers and self.feeds.get(feed.key) is feed:
            del self.feeds[feed.key]
        subscriber.feed = None


def _request_error(errors: list[dict[str, Any]]) -> Outcome:
    return Outcome("request-error", {"errors": errors}, errors=errors)


def too_many(exc: TooMany) -> dict[str, Any]:
    return error_payload(str(exc), QUERY_TOO_COMPLEX)
