"""GET /metrics: what the server did, in the Prometheus text format (off unless NEWSGRAPH_METRICS=true).

- ``newsgraph_requests_total`` and ``newsgraph_request_duration_seconds`` (a
  histogram) of /graphql by ``operation`` (the operation's name; ``anonymous``
  without one, ``other`` past MAX_OPERATIONS distinct names, so a client cannot
  grow the label set without bound) and ``outcome``: ``ok``, ``cached`` (from
  the response cache), ``errors`` (ran, with errors in the answer),
  ``request_error`` (did not run: parse, validation, limits), ``refused`` (an
  HTTP 4xx before running), ``internal_error`` (5xx);
- ``newsgraph_cache_hits_total`` / ``newsgraph_cache_misses_total`` by
  ``cache`` (graph.lru.CACHE_STATS: response, persisted_queries, plan,
  parsed_documents, match, facet, provider_match, decoded_documents);
- ``newsgraph_plan_fallbacks_total`` by ``reason``: queries the compiled plan
  handed to graphql-core, by the class name of what it raised;
- ``newsgraph_untrusted_documents_refused_total`` by ``form`` (``id``: a hash or
  documentId not in the manifest; ``text``: a query whose text is not one of its
  documents), with NEWSGRAPH_TRUSTED_DOCUMENTS (graph.trusted);
- ``newsgraph_store_articles`` and ``newsgraph_data_version_info{version}``;
- ``newsgraph_process_*`` (CPU seconds, resident memory, open files).

Every figure is this process's own: with ``serve --workers N`` each worker
keeps and reports its own counters, and a scrape reaches whichever worker
accepts the connection (scrape each worker's port separately, or run one
worker per port behind the balancer, to see them all).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from graph.access import operation_name
from graph.lru import CACHE_STATS
from graph.execution.plan import PLAN_FALLBACKS

MAX_OPERATIONS = 200
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One app's request metrics and the process's cache figures, in a registry of its own."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsgraph_requests", "GraphQL requests by operation name and outcome", ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsgraph_request_duration_seconds", "Time to answer a GraphQL request, by operation name and outcome",
            ["operation", "outcome"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.untrusted = Counter(
            "newsgraph_untrusted_documents_refused",
            "Operations refused for not being trusted documents (NEWSGRAPH_TRUSTED_DOCUMENTS), by how they were sent",
            ["form"], registry=self.registry,
        )
        self.subscription_connections = Gauge(
            "newsgraph_subscription_connections", "Open connections holding subscriptions (WebSocket and SSE)",
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "newsgraph_subscriptions", "Subscriptions followed (articleChanges)", registry=self.registry
        )
        self.state = _StateCollector()
        self.registry.register(self.state)
        ProcessCollector(namespace="newsgraph", registry=self.registry)
        self._operations: set[str] = set()

    def operation(self, name: str | None, query: str | None) -> str:
        """The label of a request's operation: its operationName, else the name of the first operation in the text."""
        name = operation_name(name, query)
        if name is None:
            return "anonymous"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATIONS:
                return "other"
            self._operations.add(name)
        return name

    def observe(self, operation: str, outcome: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self.requests.labels(operation, outcome).inc()
        self.latency.labels(operation, outcome).observe(seconds)

    async def render(self, store: Any) -> bytes:
        """The text exposition; the store's size and data version are read now."""
        try:
            reader = await store.reader()
            self.state.articles = await reader.count()
            self.state.version = str(reader.version)
        except Exception:  # noqa: BLE001 - a broken store must not break the scrape that would show it
            self.state.articles = None
        return generate_latest(self.registry)


class _StateCollector:
    """Figures kept outside prometheus-client (plain counters on hot paths), read at each scrape."""

    def __init__(self) -> None:
        self.articles: int | None = None
        self.version = ""

    def collect(self) -> Iterator[Metric]:
        hits = CounterMetricFamily("newsgraph_cache_hits", "Cache lookups that found their entry", labels=["cache"])
        misses = CounterMetricFamily("newsgraph_cache_misses", "Cache lookups that did not", labels=["cache"])
        for name, stats in sorted(CACHE_STATS.items()):
            hits.add_metric([name], stats.hits)
            misses.add_metric([name], stats.misses)
        yield hits
        yield misses
        fallbacks = CounterMetricFamily(
            "newsgraph_plan_fallbacks", "Queries the compiled plan handed to graphql-core, by exception class",
            labels=["reason"],
        )
        for reason, count in sorted(PLAN_FALLBACKS.items()):
            fallbacks.add_metric([reason], count)
        yield fallbacks
        if self.articles is not None:
            yield GaugeMetricFamily("newsgraph_store_articles", "Articles in the store", value=self.articles)
            info = GaugeMetricFamily("newsgraph_data_version_info", "The data version served", labels=["version"])
            info.add_metric([self.version], 1)
            yield info
