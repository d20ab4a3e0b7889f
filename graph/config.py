"""Settings, read once from NEWSGRAPH_* environment variables (each also a CLI flag)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PREFIX = "NEWSGRAPH_"
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Limits:
    """Bounds enforced on every request before it runs (see SECURITY.md)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_directives: int = 50
    max_body_bytes: int = 64 * 1024
    max_page_size: int = 100
    max_list_size: int = 100
    max_cost: int = 50_000
    timeout_seconds: float = 5.0
    # Work units graphql-core's field-merging check may spend on one query (its
    # default, 500,000, is ~0.7 s of CPU; realistic queries spend a few hundred).
    max_validation_work: int = 50_000
    # Filter work of one request: conditions x the articles they may be checked on (a condition
    # on a document field — excerpt, body, URLs, images, related — counts ten). 20M is 200
    # column conditions over 100k articles, ~0.2-1 s of work.
    max_filter_work: int = 20_000_000
    # Connections: open at once per worker (more are answered 503 and closed; each holds a file
    # descriptor, and 21,000 slow ones exhausted them), seconds a client may take to send a
    # request's head and, separately, its body (then 408 and closed), idle seconds kept alive.
    max_connections: int = 1000
    read_timeout_seconds: float = 10.0
    keep_alive_seconds: float = 5.0
    # Live changes (graph.live): subscriptions one connection may hold, connections holding
    # subscriptions (WebSocket or SSE) open at once per process, messages waiting for a client
    # before it is disconnected as too slow (WebSocket close 4408, SSE stream ended), seconds
    # between keep-alive pings, and how often a TinyDB server looks at the file for another
    # process's write (and PostgreSQL's listener reconnects).
    max_subscriptions_per_connection: int = 10
    max_subscription_connections: int = 1000
    subscription_buffer: int = 100
    keep_alive_ping_seconds: float = 15.0
    change_poll_seconds: float = 0.25


@dataclass(frozen=True)
class Settings:
    db: str = "db/newsgraph.json"
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Worker processes of `serve` (each a copy of the app; one per core behind a proxy).
    workers: int = 1
    cors_origins: tuple[str, ...] = ()
    introspection: bool = True
    graphiql: bool = True
    # The reader app at / (graph/reader.py); off leaves / a 404 that says so (API-only deployments).
    frontend: bool = True
    # `serve` on a TinyDB file that does not exist: refused unless this is on (then an empty one is made).
    create: bool = False
    # Whole answers kept per (request, data version); 0 turns the cache off.
    response_cache: int = 1024
    # Memory is bounded in bytes, not only in entries (issue 12: a worker grew by 690 MB of
    # cached answers and 289 MB of persisted queries). The defaults keep a worker over a 10k
    # article store (~120 MB resident) under twice that whatever requests it gets.
    # Bytes of answers (and the requests they are kept under) the response cache may hold.
    response_cache_bytes: int = 32 << 20
    # Automatic persisted queries remembered, and the bytes of query text they may hold.
    persisted_queries: int = 10_000
    persisted_query_bytes: int = 8 << 20
    # Bytes each query cache (parsed documents, compiled plans) may hold, estimated from the query.
    query_cache_bytes: int = 16 << 20
    # The compiled execution path (graph.execution.plan); off runs every query through graphql-core.
    compiled_execution: bool = True
    # GET /metrics in the Prometheus text format (graph.metrics); off answers 404.
    metrics: bool = False
    # One line per request (graph.access): "text" (readable) or "json"; off with access_log=false.
    access_log: bool = True
    log_format: str = "text"
    # A JSON manifest of trusted documents (graph.trusted); set, only those operations run.
    trusted_documents: str = ""
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from NEWSGRAPH_* variables; non-None overrides (CLI flags) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        limit_values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "limits":
                continue
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _cast(f.name, raw, f.type)
        for f in fields(Limits):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None:
                limit_values[f.name] = _cast(f.name, raw, f.type)
        for name, value in overrides.items():
            if value is None:
                continue
            if name in {f.name for f in fields(Limits)}:
                limit_values[name] = value
            else:
                values[name] = value
        if values.get("trusted_documents") and "graphiql" not in values:
            # Trusted documents only: GraphiQL (whose queries would be refused) is off unless asked for.
            values["graphiql"] = False
        settings = cls(**values, limits=Limits(**limit_values))
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in ("response_cache", "response_cache_bytes", "persisted_queries", "persisted_query_bytes",
                     "query_cache_bytes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be 1..65535, got {self.port}")
        if self.workers < 1:
            raise ConfigError(f"workers must be 1 or more, got {self.workers}")
        for f in fields(Limits):
            if getattr(self.limits, f.name) <= 0:
                raise ConfigError(f"{f.name} must be positive, got {getattr(self.limits, f.name)}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"log_format must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}")
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("database_url must start with postgresql://")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _cast(name: str, raw: str, type_: Any) -> Any:
    type_name = type_ if isinstance(type_, str) else getattr(type_, "__name__", str(type_))
    variable = PREFIX + name.upper()
    if type_name == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be an integer, got {raw!r}") from None
    if type_name == "float":
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a number, got {raw!r}") from None
    if type_name == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{variable} must be true or false, got {raw!r}")
    if type_name.startswith("tuple"):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw
