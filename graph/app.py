"""The HTTP app: GraphQL over HTTP on /graphql, GraphiQL for browsers, /healthz, the reader at /.

create_app(settings, store=None) builds it; the lifespan opens the store (or
uses the one a test passes) and closes it at shutdown.

/graphql follows the GraphQL over HTTP spec: POST with a JSON body, or GET with
query parameters (queries only; a mutation over GET is 405). The response is
application/graphql-response+json when the client asks for it (request errors
are then 400 without ``data``), else application/json (request errors are 200,
as the spec asks for that media type). Every step is a small function so that
caching and persisted queries can slot in between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from graph import access, tracing
from graph.access import AccessLog, configure_access_log
from graph.response_cache import CachedAnswer, ResponseCache, etag_matches
from graph.config import Settings
from graph.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX, UNAVAILABLE
from graph.execution.executor import Executor, NotAllowed, Outcome, error_payload, internal_error
from graph.graphiql import STATIC_PATH, graphiql_page, static_files
from graph.live import Hub, TooMany
from graph.subscriptions import EventStream, WebSocketEndpoint
from graph.logs import configure_logging
from graph.metrics import Metrics
from graph.persisted import PersistedQueries, PersistedQueryError
from graph.reader import reader_routes
from graph.tracing import TracingMiddleware
from graph.trusted import NotTrusted, TrustedDocuments
from graph.schema import schema as strawberry_schema
from graph.schema.context import Context
from graph.store import open_store
from graph.store.base import NotReady, Store, StoreUnavailable

log = logging.getLogger("newsgraph")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
METHODS = "GET, POST"
QUERY_ONLY = frozenset({OperationType.QUERY})
NOT_STREAMED = frozenset({OperationType.QUERY, OperationType.MUTATION})
EVENT_STREAM = "text/event-stream"


class JSONBytes(Response):
    media_type = JSON

    def __init__(self, content: Any, status_code: int = 200, media_type: str = JSON, **kwargs: Any) -> None:
        super().__init__(orjson.dumps(content), status_code=status_code, media_type=media_type, **kwargs)


@dataclass(frozen=True)
class GraphQLParams:
    """One GraphQL-over-HTTP request's parameters, checked for their types."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None  # a persisted document request (graph.persisted)


class Refusal(Exception):
    """A request refused before it ran: an HTTP status and one error for the body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = BAD_USER_INPUT,
        headers: dict[str, str] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error or error_payload(message, code)
        self.headers = headers or {}

    @classmethod
    def internal(cls, status: int, detail: str, exc: BaseException) -> Refusal:
        """An unexpected failure: logged under an error id, the client gets only the id."""
        error = internal_error(detail, exc)
        return cls(status, error["message"], error=error)


# ---- content negotiation -------------------------------------------------------------------------


def _ranges(accept: str) -> list[tuple[str, float]]:
    """An Accept header's media ranges, lowercased, with their quality (1 when not given)."""
    ranges = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((pieces[0].lower(), quality))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when nothing it accepts can be given.

    No Accept, */* and application/* get application/json (the spec's default);
    graphql-response+json only when named. Equal preferences favour
    graphql-response+json, as the spec recommends.
    """
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for media, quality in _ranges(accept):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            candidate = (quality, 1, GRAPHQL_RESPONSE)
        elif media in (JSON, "application/*", "*/*"):
            candidate = (quality, 0, JSON)
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]


def wants_event_stream(accept: str | None) -> bool:
    """Whether to answer as GraphQL over SSE: text/event-stream is preferred over every JSON type the
    header accepts. graphql-sse clients name it alone; clients such as urql list it after the JSON
    types for every request, and their queries get JSON (and the response cache) as before."""
    if accept is None or EVENT_STREAM not in accept.lower():
        return False
    ranges = _ranges(accept)
    stream = max((q for media, q in ranges if media == EVENT_STREAM), default=0.0)
    as_json = max((q for media, q in ranges if media in (GRAPHQL_RESPONSE, JSON, "application/*", "*/*")), default=0.0)
    return stream > 0 and stream > as_json


def wants_graphiql(request: Request) -> bool:
    """A browser asking for the page: GET, HTML accepted, no query."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


# ---- reading the request -------------------------------------------------------------------------


def params_from_query_string(request: Request) -> GraphQLParams:
    """GET /graphql?query=…&variables=…&operationName=…&extensions=…"""
    values = request.query_params
    query = values.get("query")
    extensions = _json_object(values.get("extensions"), "extensions")
    document_id = values.get("documentId")
    if query is None and document_id is None and not (extensions and "persistedQuery" in extensions):
        raise Refusal(400, "a GET request needs a query parameter")
    return GraphQLParams(
        query=query,  # type: ignore[arg-type] # resolved from the persisted query registry
        variables=_json_object(values.get("variables"), "variables"),
        operation_name=values.get("operationName") or None,
        extensions=extensions,
        document_id=document_id,
    )


def _json_object(text: str | None, name: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Refusal(400, f"{name} must be a JSON object") from None
    if value is not None and not isinstance(value, dict):
        raise Refusal(400, f"{name} must be a JSON object")
    return value


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The request body, refused with 415 unless JSON, with 413 past ``limit`` bytes (never read
    further) and with 408 when it has not all arrived within ``timeout`` seconds."""
    media, _, parameters = request.headers.get("content-type", "").partition(";")
    if media.strip().lower() != JSON:
        raise Refusal(415, f"unsupported media type: send the request body as {JSON}")
    charset = parameters.partition("charset=")[2].strip().strip('"').lower()
    if charset and charset not in ("utf-8", "utf8"):
        raise Refusal(415, f"unsupported charset {charset!r}: send the request body as UTF-8")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        # A client that sends its headers and then a byte now and then held a connection (and a
        # file descriptor) for ever; 21,000 of them exhausted the server's (issue 12).
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > limit:
                    raise _too_large(limit)
    except TimeoutError:
        message = f"the request body did not arrive within the read timeout of {timeout:g} s"
        raise Refusal(408, message, headers={"Connection": "close"}) from None
    return bytes(body)


def _too_large(limit: int) -> Refusal:
    return Refusal(
        413, f"request body is over the request body limit of {limit} bytes", QUERY_TOO_COMPLEX
    )


def params_from_body(body: bytes) -> GraphQLParams:
    """The parameters of a JSON request body; batches (JSON arrays) are not supported."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Refusal(400, "the request body is not valid JSON") from None
    if isinstance(data, list):
        raise Refusal(400, "batching is not supported: send one operation per request, as a JSON object")
    if not isinstance(data, dict):
        raise Refusal(400, "the request body must be a JSON object with a query")
    query = data.get("query")
    extensions = data.get("extensions")
    document_id = data.get("documentId")
    if document_id is not None and not isinstance(document_id, str):
        raise Refusal(400, "documentId must be a string")
    persisted = document_id is not None or (isinstance(extensions, dict) and "persistedQuery" in extensions)
    if not isinstance(query, str) and not (query is None and persisted):
        raise Refusal(400, "the request body needs a query string")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise Refusal(400, "variables must be a JSON object")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise Refusal(400, "operationName must be a string")
    if extensions is not None and not isinstance(extensions, dict):
        raise Refusal(400, "extensions must be a JSON object")
    return GraphQLParams(query, variables, operation_name or None, extensions, document_id)


def not_allowed(request: Request) -> str:
    """The 405 text; a browser's CORS preflight (reaching here when its origin is not configured) says how to allow it."""
    origin = request.headers.get("origin")
    if request.method == "OPTIONS" and origin:
        return (
            f"OPTIONS is not allowed here: this is a CORS preflight from {origin}, an origin this server does not "
            f"allow; to let it call the API, serve with NEWSGRAPH_CORS_ORIGINS={origin} (or --cors-origins {origin})"
        )
    return f"{request.method} is not allowed here"


# ---- the endpoint --------------------------------------------------------------------------------


class GraphQLEndpoint:
    """/graphql as an ASGI app: negotiate, read, answer from the cache or run, render."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.executor = Executor(
            strawberry_schema._schema,
            settings.limits,
            settings.introspection,
            settings.compiled_execution,
            cache_bytes=settings.query_cache_bytes,
        )
        self.cache = ResponseCache(settings.response_cache, settings.response_cache_bytes)
        self.persisted: PersistedQueries | TrustedDocuments = (
            TrustedDocuments.load(settings.trusted_documents) if settings.trusted_documents
            else PersistedQueries(settings.persisted_queries, settings.persisted_query_bytes)
        )
        self.hub = Hub(self.executor, settings.limits, settings.introspection)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        if self.metrics is None:
            response = await self.handle(request)
        else:
            started = time.perf_counter()
            response = await self.handle(request)
            self.metrics.observe(scope.get(OPERATION) or "anonymous", _outcome(scope, response.status_code), started)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return Response(not_allowed(request), 405, {"Allow": METHODS}, "text/plain")
        if self.settings.graphiql and wants_graphiql(request):
            return HTMLResponse(graphiql_page(reader_link=self.settings.frontend), headers={"Vary": "Accept"})
        if wants_event_stream(request.headers.get("accept")):
            return await self.event_stream(request)
        media = negotiate(request.headers.get("accept"))
        try:
            if media is None:
                raise Refusal(406, f"not acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}")
            raw, get_params = await self.raw_params(request)
            reader = await self.reader(request)
            key = (request.method, media, raw)
            cached = self.cache.get(key, reader.version)
            if cached is not None:
                self.note_operation(request, cached.operation or None, "hit")
                request.scope[OUTCOME] = "cached"
                return self.answer(request, cached)
            params = get_params()
            query = self.resolve(request, params)
            operation = access.operation_name(params.operation_name, query) or ""
            self.note_operation(request, operation or None, "miss")
            outcome = await self.run(request, params, query, reader)
            failure = getattr(reader, "failure", None)
            if isinstance(failure, NotReady):
                headers = {"Retry-After": str(failure.retry_after)}
                raise Refusal(503, failure.reason, UNAVAILABLE, headers)
            if failure is not None:
                # The store stopped answering mid-request: whatever the executor made of it (field
                # errors, or a timeout blaming the query), the answer is the server's 503.
                raise Refusal.internal(503, "the store could not be read", failure)
        except NotTrusted as exc:
            # A request error (nothing ran): 400 with graphql-response+json, 200 with plain JSON (the spec's rule).
            return self.refuse_untrusted(request, exc, 400 if media == GRAPHQL_RESPONSE else 200, media or JSON)
        except Refusal as refusal:
            return self.refuse(refusal, media or JSON)
        except ClientDisconnect:
            # Nobody to answer; a client going away is routine, not an error with a traceback.
            client = f"{request.client.host}:{request.client.port}" if request.client else "?"
            log.info("client %s went away before its request was complete", client)
            return Response(status_code=400)
        except Exception as exc:  # noqa: BLE001 - anything unexpected is masked and logged
            return self.refuse(Refusal.internal(500, "while handling a request", exc), media or JSON)
        if outcome.kind == "ok" and "errors" not in outcome.payload:
            # Only complete answers are kept: errors may be passing (a timeout, a store hiccup).
            answer = self.cache.put(key, reader.version, orjson.dumps(outcome.payload), media, operation)
            return self.answer(request, answer)
        request.scope[OUTCOME] = "errors" if outcome.kind == "ok" else "request_error"
        return self.render(outcome, media)

    async def raw_params(self, request: Request) -> tuple[bytes | str, Callable[[], GraphQLParams]]:
        """The request's parameters as sent (the query string, or the body read within its limits: the
        response cache's key) and how to parse them (only on a cache miss)."""
        if request.method == "GET":
            return request.url.query, lambda: params_from_query_string(request)
        limits = self.settings.limits
        raw = await read_body(request, limits.max_body_bytes, limits.read_timeout_seconds)
        return raw, lambda: params_from_body(raw)

    async def event_stream(self, request: Request) -> Any:
        """GraphQL over SSE (graphql-sse, distinct connections mode): request errors and answers as events too."""
        try:
            params = (await self.raw_params(request))[1]()
            query = self.resolve(request, params)
            reader = await self.reader(request)
            feed = await self.hub.prepare(query, params.variables, params.operation_name, reader)
            first = None
            if isinstance(feed, Outcome):
                feed, first = None, feed.payload
            elif feed is None:  # a query (or mutation): one answer, as over POST
                first = (await self.run(request, params, query, reader)).payload
            try:
                connection = self.hub.connect()
            except TooMany as exc:
                raise Refusal(503, str(exc), QUERY_TOO_COMPLEX) from None
        except NotTrusted as exc:
            return self.refuse_untrusted(request, exc, 400, JSON)
        except Refusal as refusal:
            return self.refuse(refusal, JSON)
        except Exception as exc:  # noqa: BLE001 - anything unexpected is masked and logged
            return self.refuse(Refusal.internal(500, "while starting an event stream", exc), JSON)
        return EventStream(self.hub, connection, None if first is None else orjson.dumps(first).decode(), feed)

    def refuse_untrusted(self, request: Request, exc: NotTrusted, status: int, media: str) -> Response:
        """An operation outside the trusted documents: refused, and counted by how it was sent."""
        if self.metrics is not None:
            self.metrics.untrusted.labels(exc.form).inc()
        request.scope[OUTCOME] = "refused"
        return self.refuse(Refusal(status, str(exc), exc.code), media)

    async def reader(self, request: Request) -> Any:
        store: Store = request.app.state.store
        try:
            return tracing.traced(await store.reader())
        except Exception as exc:  # noqa: BLE001 - a broken store is the server's problem, not the client's
            raise Refusal.internal(503, "the store could not be read", exc) from None

    def resolve(self, request: Request, params: GraphQLParams) -> str:
        """The query text to run: the one sent, or the persisted (or trusted) document the request names."""
        try:
            return self.persisted.resolve(params.query, params.extensions, params.document_id)  # type: ignore[return-value]
        except NotTrusted:
            raise
        except PersistedQueryError as exc:
            raise Refusal(exc.status, str(exc), exc.code) from None

    def note_operation(self, request: Request, name: str | None, cache: str) -> None:
        """What the access log and /metrics say of this request: its operation name and the cache's part."""
        record = access.current()
        if record is not None:
            record.operation = name
            record.cache = cache
        if self.metrics is not None:
            request.scope[OPERATION] = self.metrics.operation(name, None)

    async def run(self, request: Request, params: GraphQLParams, query: str, reader: Any) -> Outcome:
        """Execute against one reader of the newest data; only queries run over GET."""
        context = Context(reader=reader, limits=self.settings.limits)
        allowed = QUERY_ONLY if request.method == "GET" else NOT_STREAMED
        try:
            return await self.executor.run(query, params.variables, params.operation_name, context, allowed)
        except NotAllowed as exc:
            if str(exc) == OperationType.SUBSCRIPTION.value:
                message = (
                    "subscription operations need a streaming transport: GraphQL over WebSocket "
                    f"(graphql-transport-ws) or GraphQL over SSE (Accept: {EVENT_STREAM}) at /graphql"
                )
                error = error_payload(message, BAD_USER_INPUT)
                return Outcome("request-error", {"errors": [error]}, errors=[error])
            message = f"{exc} operations cannot be sent with GET; use POST"
            raise Refusal(405, message, headers={"Allow": "POST"}) from None

    @staticmethod
    def answer(request: Request, cached: CachedAnswer) -> Response:
        """A complete answer; over GET with its validators, so browsers and CDNs can revalidate."""
        headers = {"Vary": "Accept", "ETag": cached.etag}
        if request.method == "GET":
            headers["Cache-Control"] = "public, no-cache"
            if etag_matches(request.headers.get("if-none-match"), cached.etag):
                return Response(status_code=304, headers=headers)
        return Response(cached.body, 200, headers, cached.media)

    @staticmethod
    def render(outcome: Outcome, media: str) -> Response:
        # With graphql-response+json a request that never ran is a 400; plain JSON stays 200 (the spec's rule).
        status = 400 if outcome.kind == "request-error" and media == GRAPHQL_RESPONSE else 200
        return JSONBytes(outcome.payload, status, media, headers={"Vary": "Accept"})

    @staticmethod
    def refuse(refusal: Refusal, media: str) -> Response:
        headers = {"Vary": "Accept", **refusal.headers}
        return JSONBytes({"errors": [refusal.error]}, refusal.status, media, headers=headers)


# Where the endpoint notes, in the request's scope, what /metrics counts a request under.
OPERATION = "newsgraph.operation"
OUTCOME = "newsgraph.outcome"


def _outcome(scope: Any, status: int) -> str:
    if status >= 500:
        return "internal_error"
    outcome = scope.get(OUTCOME)
    if outcome is not None:
        return outcome
    return "ok" if status < 400 else "refused"


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    body = await metrics.render(request.app.state.store)
    return Response(body, 200, media_type=metrics.content_type)


async def healthz(request: Request) -> Response:
    try:
        reader = await request.app.state.store.reader()
        count = await reader.count()
    except StoreUnavailable as exc:
        # Said without a path or URL (the log has them): e.g. "the database file newsgraph.json is missing".
        log.error("health check failed: %s", exc)
        return JSONBytes({"status": "unavailable", "reason": exc.reason}, 503)
    except Exception:
        log.exception("health check failed")
        return JSONBytes({"status": "unavailable"}, 503)
    # warm: every index is built (the TinyDB store builds its search index beside the server after a load).
    warm = getattr(reader, "warm", True)
    return JSONBytes({"status": "ok", "articles": count, "version": reader.version, "warm": warm})


def cors_middleware(settings: Settings) -> list[Middleware]:
    """CORS for the configured origins only; none configured means no CORS headers at all."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "accept"],
            max_age=600,
        )
    ]


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """The ASGI app. A store passed in is used as it is (tests); otherwise one is opened from settings."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = store is None
        app.state.store = open_store(settings) if own else store
        await app.state.store.open()
        await endpoint.hub.start(app.state.store)
        try:
            yield
        finally:
            await endpoint.hub.stop()
            if own:
                await app.state.store.close()

    metrics = Metrics() if settings.metrics else None
    endpoint = GraphQLEndpoint(settings, metrics)
    if metrics is not None:
        metrics.subscription_connections.set_function(lambda: endpoint.hub.connections)
        metrics.subscriptions.set_function(lambda: endpoint.hub.subscriptions)
    routes: list[BaseRoute] = [
        # No methods= here: the endpoint answers every method itself (405 with Allow: GET, POST).
        Route("/graphql", endpoint),
        WebSocketRoute("/graphql", WebSocketEndpoint(endpoint.hub, endpoint.persisted)),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if metrics is not None:
        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    if settings.graphiql:
        routes.append(Mount(STATIC_PATH, app=static_files(), name="graphiql-static"))
    # Last: the reader's page answers every path a browser asks for (the app routes it).
    routes.extend(reader_routes(settings.frontend))
    # The access log outermost: its request id is on every answer, CORS preflights included.
    middleware = [Middleware(AccessLog, enabled=settings.access_log, log_format=settings.log_format)]
    if tracing.enabled():
        middleware.append(Middleware(TracingMiddleware))
    app = Starlette(routes=routes, middleware=[*middleware, *cors_middleware(settings)], lifespan=lifespan)
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn (``graph.app:app_from_env``), configured from NEWSGRAPH_* variables."""
    settings = Settings.from_env()
    configure_logging(settings.log_format)
    configure_access_log()
    tracing.setup_from_env()
    return create_app(settings)
