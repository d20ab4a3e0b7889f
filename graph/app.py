"""The HTTP app: GraphQL over HTTP on /graphql, GraphiQL for browsers, /healthz.

create_app(settings, store=None) builds it; the lifespan opens the store (or
uses the one a test passes) and closes it at shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import OperationType
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from graph.config import Settings
from graph.errors import BAD_USER_INPUT
from graph.executor import Executor, NotAllowed, error_payload
from graph.graphiql import graphiql_page
from graph.schema import schema as strawberry_schema
from graph.schema.context import Context
from graph.store import open_store
from graph.store.base import Store, StoreError

log = logging.getLogger("newsgraph")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class JSONBytes(Response):
    media_type = JSON

    def __init__(self, content: Any, status_code: int = 200, media_type: str = JSON, **kwargs: Any) -> None:
        super().__init__(orjson.dumps(content), status_code=status_code, media_type=media_type, **kwargs)


def _accepts(request: Request) -> str | None:
    """The response media type for this request, or None when none it accepts can be given."""
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return JSON
    best: tuple[float, str] | None = None
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for parameter in pieces[1:]:
            if parameter.startswith("q="):
                with contextlib.suppress(ValueError):
                    quality = float(parameter[2:])
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            candidate = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            candidate = JSON if media == JSON else GRAPHQL_RESPONSE
        else:
            continue
        if best is None or quality > best[0]:
            best = (quality, candidate)
    return best[1] if best else None


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.executor = Executor(strawberry_schema._schema, settings.limits, settings.introspection)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and _wants_html(request):
            if not self.settings.graphiql:
                return Response("GraphiQL is turned off on this server.", status_code=404, media_type="text/plain")
            return HTMLResponse(graphiql_page())
        media = _accepts(request)
        if media is None:
            return Response(
                f"Not acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}",
                status_code=406,
                media_type="text/plain",
            )
        if request.method == "GET":
            params, problem = self._from_query_string(request)
        elif request.method == "POST":
            params, problem = await self._from_body(request)
        else:
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        if isinstance(problem, Response):
            return problem
        if problem is not None:
            return JSONBytes({"errors": [error_payload(problem, BAD_USER_INPUT)]}, 400, media)

        allowed = frozenset({OperationType.QUERY})
        store: Store = request.app.state.store
        try:
            reader = await store.reader()
        except StoreError:
            log.exception("the store could not be read")
            return JSONBytes({"errors": [error_payload("the store is unavailable", "SERVICE_UNAVAILABLE")]}, 503, media)
        context = Context(reader=reader, limits=self.settings.limits)
        try:
            outcome = await self.executor.run(
                params["query"], params.get("variables"), params.get("operationName"), context, allowed
            )
        except NotAllowed as exc:
            status = 405 if request.method == "GET" else 400
            headers = {"Allow": "POST"} if request.method == "GET" else None
            message = f"{exc} operations are not supported here; this API is read-only"
            if request.method == "GET":
                message = f"{exc} operations cannot be sent with GET"
            return JSONBytes({"errors": [error_payload(message, BAD_USER_INPUT)]}, status, media, headers=headers)
        status = 200
        if outcome.kind == "request-error" and media == GRAPHQL_RESPONSE:
            status = 400
        return JSONBytes(outcome.payload, status, media)

    def _from_query_string(self, request: Request) -> tuple[dict[str, Any], Any]:
        query = request.query_params.get("query")
        if not query:
            return {}, "a GET request needs a query parameter"
        params: dict[str, Any] = {"query": query}
        raw_variables = request.query_params.get("variables")
        if raw_variables:
            try:
                params["variables"] = orjson.loads(raw_variables)
            except orjson.JSONDecodeError:
                return {}, "variables must be a JSON object"
            if params["variables"] is not None and not isinstance(params["variables"], dict):
                return {}, "variables must be a JSON object"
        if request.query_params.get("operationName"):
            params["operationName"] = request.query_params["operationName"]
        return params, None

    async def _from_body(self, request: Request) -> tuple[dict[str, Any], Any]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            return {}, Response(
                f"Unsupported media type: send {JSON}", status_code=415, media_type="text/plain"
            )
        limit = self.settings.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return {}, _too_large(limit)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return {}, _too_large(limit)
        try:
            data = orjson.loads(bytes(body))
        except orjson.JSONDecodeError:
            return {}, "the request body is not valid JSON"
        if not isinstance(data, dict):
            return {}, "the request body must be a JSON object with a query"
        query = data.get("query")
        if not isinstance(query, str) or not query.strip():
            return {}, "the request body needs a query string"
        variables = data.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return {}, "variables must be a JSON object"
        operation_name = data.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            return {}, "operationName must be a string"
        extensions = data.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            return {}, "extensions must be a JSON object"
        return {"query": query, "variables": variables, "operationName": operation_name}, None


def _too_large(limit: int) -> Response:
    return Response(
        f"Request body too large: the limit is {limit} bytes", status_code=413, media_type="text/plain"
    )


async def healthz(request: Request) -> Response:
    try:
        reader = await request.app.state.store.reader()
        count = await reader.count()
    except Exception:
        log.exception("health check failed")
        return JSONBytes({"status": "unavailable"}, 503)
    return JSONBytes({"status": "ok", "articles": count, "version": reader.version})


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """The ASGI app. A store passed in is used as it is (tests); otherwise one is opened from settings."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = store is None
        app.state.store = open_store(settings) if own else store
        await app.state.store.open()
        try:
            yield
        finally:
            if own:
                await app.state.store.close()

    endpoint = GraphQLEndpoint(settings)
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "accept"],
            )
        )
    routes = [
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def app_from_env() -> Starlette:
    """Factory for uvicorn (``graph.app:app_from_env``), configured from NEWSGRAPH_* variables."""
    return create_app(Settings.from_env())
