"""OpenTelemetry tracing, when the SDK is installed (``pip install 'newsgraph[tracing]'``) and the
standard OTEL_* variables ask for it; otherwise nothing, and opentelemetry is never imported.

Tracing is on when OTEL_TRACES_EXPORTER (``otlp``, ``console``, … : the SDK's
exporter entry points) or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, unless OTEL_SDK_DISABLED=true or the
exporter is ``none``. Everything else (OTEL_SERVICE_NAME, default ``newsgraph``;
OTEL_RESOURCE_ATTRIBUTES; OTEL_TRACES_SAMPLER; OTEL_BSP_*; the exporter's own
variables) is read by the SDK as usual. A tracer provider already installed (by
``opentelemetry-instrument``) is used as it is.

Spans: one per HTTP request (``POST /graphql``, a server span continuing an
incoming ``traceparent``, with the request id and operation name), and inside it
``graphql.parse``, ``graphql.validate``, ``graphql.execute`` and one
``store.<method>`` per call of the store's reader (``store.find_articles``, …).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from graph import access

log = logging.getLogger("newsgraph.tracing")

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_NOTHING = contextlib.nullcontext()
_tracer: Any = None  # an opentelemetry Tracer while tracing is on


def enabled() -> bool:
    return _tracer is not None


def configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the OTEL_* variables ask for traces."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters == "none":
        return False
    return bool(exporters) or any(env.get(name) for name in ENDPOINT_VARIABLES)


def setup_from_env() -> bool:
    """Turn tracing on when configured() and the SDK is installed; returns whether it is on."""
    if _tracer is not None:
        return True
    if not configured():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OTEL_* variables ask for traces, but opentelemetry-sdk is not installed "
                    "(pip install 'newsgraph[tracing]'): no tracing")
        return False
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "newsgraph"}
        provider = TracerProvider(resource=Resource.create(attributes))
        for name in (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(","):
            exporter = _exporter(name.strip())
            if exporter is not None:
                provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    use(provider)
    return True


def _exporter(name: str) -> Any:
    found = entry_points(group="opentelemetry_traces_exporter", name=name)
    if not found:
        hint = " (pip install opentelemetry-exporter-otlp-proto-http)" if name == "otlp" else ""
        log.warning("OTEL_TRACES_EXPORTER names %r, which is not installed%s: its spans are dropped", name, hint)
        return None
    return next(iter(found)).load()()


def use(provider: Any) -> None:
    """Trace with this TracerProvider from now on (None: stop); for embedding and tests."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer("newsgraph")


def span(name: str, **attributes: Any) -> Any:
    """A context manager: a child span of the current one while tracing is on, else nothing at all."""
    if _tracer is None:
        return _NOTHING
    return _tracer.start_as_current_span(name, attributes=attributes)


def traced(reader: Any) -> Any:
    """The reader, with a span around each of its async calls while tracing is on."""
    return reader if _tracer is None else _TracedReader(reader)


class _TracedReader:
    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._store = type(reader).__name__

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._reader, name)
        if not inspect.iscoroutinefunction(value):
            return value
        tracer, store = _tracer, self._store

        async def call(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(f"store.{name}", attributes={"newsgraph.store": store}):
                return await value(*args, **kwargs)

        return call


class TracingMiddleware:
    """ASGI middleware: a server span per HTTP request (inside the access log's, whose request id it carries)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _tracer is None:
            await self.app(scope, receive, send)
            return
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind, Status, StatusCode

        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", ())}
        attributes = {"http.request.method": scope["method"], "url.path": scope["path"]}
        name = f"{scope['method']} {scope['path']}"
        with _tracer.start_as_current_span(
            name, context=propagate.extract(carrier), kind=SpanKind.SERVER, attributes=attributes
        ) as request_span:

            async def send_traced(message: Any) -> None:
                if message["type"] == "http.response.start":
                    request_span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        request_span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                record = access.current()
                if record is not None:
                    request_span.set_attribute("newsgraph.request_id", record.request_id)
                    if record.operation:
                        request_span.set_attribute("graphql.operation.name", record.operation)
                    if record.error_ids:
                        request_span.set_attribute("newsgraph.error_ids", record.error_ids)
