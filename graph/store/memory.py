"""An immutable in-memory snapshot of the articles, with the indexes reads need.

The TinyDB store loads its file into a Snapshot once and swaps in a new one
when the file changes; every read is answered from here without I/O. A
Snapshot is never mutated after it is built, so a request that started on one
sees a consistent view even while a newer one is swapped in.
"""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cmp_to_key
from typing import Any

from graph import filters
from graph.filters import And, Compare, Filter, ProviderIs
from graph.search import SearchIndex
from graph.store.base import (
    TEXT_SORT_FIELDS,
    ArticleQuery,
    Document,
    IntStats,
    OrderKey,
    Page,
    ProviderQuery,
    Window,
    bucket_start,
)

URL_FIELDS = ("originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl")
# Fields with an exact-value index: filter field -> how a document's indexed values are found.
INDEXED = ("id", "category", "type", "published", "topics", "provider")
MATCH_CACHE_SIZE = 64


def _sortable(field: str, value: Any) -> Any:
    if field in TEXT_SORT_FIELDS or field == "id":
        return (value.casefold(), value) if field != "id" else value
    return value


def compare_keys(a: Sequence[Any], b: Sequence[Any], order: Sequence[OrderKey]) -> int:
    """Total order of two key tuples: nulls last in both directions, per-key direction."""
    for key, va, vb in zip(order, a, b):
        if va is None and vb is None:
            continue
        if va is None:
            return 1
        if vb is None:
            return -1
        sa, sb = _sortable(key.field, va), _sortable(key.field, vb)
        if sa == sb:
            continue
        less = sa < sb
        if key.descending:
            less = not less
        return -1 if less else 1
    return 0


def sort_in_order(items: list[Any], order: Sequence[OrderKey], value: Callable[[Any, str], Any]) -> list[Any]:
    """Stable multi-pass sort honouring per-key direction with nulls last."""
    for key in reversed(order):
        present = []
        missing = []
        for item in items:
            (missing if value(item, key.field) is None else present).append(item)
        field = key.field
        present.sort(key=lambda item: _sortable(field, value(item, field)), reverse=key.descending)
        items = present + missing
    return items


def window_slice(
    items: list[Any], keys: Callable[[Any], tuple[Any, ...]], order: Sequence[OrderKey], window: Window
) -> Page:
    """Apply Relay's after/before/first/last to a fully ordered list."""
    wrap = cmp_to_key(lambda a, b: compare_keys(a, b, order))
    start, end = 0, len(items)
    if window.after is not None:
        start = bisect.bisect_right(items, wrap(window.after), key=lambda item: wrap(keys(item)))
    if window.before is not None:
        end = bisect.bisect_left(items, wrap(window.before), key=lambda item: wrap(keys(item)))
        end = max(end, start)
    lo, hi = start, end
    if window.first is not None:
        hi = min(hi, lo + window.first)
    if window.last is not None:
        lo = max(lo, hi - window.last)
    chosen = items[lo:hi]
    return Page(
        items=chosen,
        keys=[keys(item) for item in chosen],
        has_next=hi < len(items),
        has_previous=lo > 0,
    )


class Snapshot:
    """Articles held in memory, with id, URL, value and search indexes."""

    def __init__(self, docs: Iterable[Document], version: str) -> None:
        self.version = version
        self.docs: list[Document] = sorted(docs, key=lambda d: d["id"])
        self.by_id: dict[str, int] = {doc["id"]: n for n, doc in enumerate(self.docs)}
        self.by_url: dict[str, int] = {}
        self.index: dict[str, dict[Any, list[int]]] = {name: {} for name in INDEXED}
        names: dict[str, Counter[str]] = {}
        article_counts: Counter[str] = Counter()
        topic_counts: Counter[str] = Counter()
        for n, doc in enumerate(self.docs):
            for field in URL_FIELDS:
                url = doc.get(field)
                if url and url not in self.by_url:
                    self.by_url[url] = n
            self.index["id"].setdefault(doc["id"], []).append(n)
            for field in ("category", "type"):
                self.index[field].setdefault(doc.get(field), []).append(n)
            self.index["published"].setdefault(doc.get("published") is True, []).append(n)
            for topic in set(doc.get("topics") or ()):
                self.index["topics"].setdefault(topic, []).append(n)
                topic_counts[topic] += 1
            provider = doc.get("provider")
            domain = provider.get("domain") if provider else None
            self.index["provider"].setdefault(domain, []).append(n)
            if domain is not None:
                article_counts[domain] += 1
                names.setdefault(domain, Counter())[provider.get("name") or ""] += 1
            for item in doc.get("related") or ():
                related_provider = item.get("provider")
                if related_provider:
                    names.setdefault(related_provider["domain"], Counter())[related_provider.get("name") or ""] += 1
        self.providers: dict[str, dict[str, Any]] = {}
        for domain, counter in names.items():
            named = [(count, name) for name, count in counter.items() if name]
            if named:
                best = min(named, key=lambda cn: (-cn[0], cn[1].casefold(), cn[1]))[1]
            else:
                best = domain
            self.providers[domain] = {"name": best, "domain": domain, "articleCount": article_counts[domain]}
        self.topic_counts = topic_counts
        self._search: SearchIndex | None = None
        self._matches: OrderedDict[ArticleQuery, tuple[list[int], dict[int, float] | None]] = OrderedDict()

    # ---- lookups ---------------------------------------------------------------

    def get(self, article_id: str) -> Document | None:
        n = self.by_id.get(article_id)
        return None if n is None else self.docs[n]

    def get_by_url(self, url: str) -> Document | None:
        n = self.by_url.get(url)
        return None if n is None else self.docs[n]

    def provider(self, domain: str | None) -> dict[str, Any] | None:
        return None if domain is None else self.providers.get(domain)

    def provider_name(self, doc: Document) -> str | None:
        provider = doc.get("provider")
        info = self.providers.get(provider["domain"]) if provider else None
        return info["name"] if info else None

    # ---- article queries -------------------------------------------------------

    def search_index(self) -> SearchIndex:
        if self._search is None:
            self._search = SearchIndex(self.docs)
        return self._search

    def matches(self, query: ArticleQuery) -> tuple[list[int], dict[int, float] | None]:
        """Matching document numbers in query order, and relevance scores when searching."""
        cached = self._matches.get(query)
        if cached is not None:
            self._matches.move_to_end(query)
            return cached
        scores: dict[int, float] | None = None
        candidates: Iterable[int]
        if query.search is not None:
            found = self.search_index().search(query.search)
            scores = found if found is not None else {n: 0.0 for n in range(len(self.docs))}
            candidates = scores.keys()
        else:
            narrowed = self._narrow(query.filter)
            candidates = range(len(self.docs)) if narrowed is None else narrowed
        if query.filter != filters.TRUE:
            lookup = self.provider
            f = query.filter
            docs = self.docs
            candidates = [n for n in candidates if filters.matches(f, docs[n], "article", lookup)]
        numbers = sorted(candidates)  # id order: documents are held sorted by id
        value = self._value_function(scores)
        numbers = sort_in_order(numbers, query.order, value)
        result = (numbers, scores)
        self._matches[query] = result
        if len(self._matches) > MATCH_CACHE_SIZE:
            self._matches.popitem(last=False)
        return result

    def _value_function(self, scores: dict[int, float] | None) -> Callable[[int, str], Any]:
        docs = self.docs

        def value(n: int, field: str) -> Any:
            if field == "relevance":
                return scores.get(n, 0.0) if scores is not None else None
            if field == "providerName":
                return self.provider_name(docs[n])
            return docs[n].get(field)

        return value

    def _narrow(self, f: Filter) -> list[int] | None:
        """Candidates from an exact-value index, or None to scan everything."""
        parts = f.parts if isinstance(f, And) else (f,)
        best: list[int] | None = None
        for part in parts:
            found = self._indexed(part)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best

    def _indexed(self, part: Filter) -> list[int] | None:
        if isinstance(part, Compare):
            table = self.index.get(part.field)
            if table is None:
                return None
            if part.op in ("eq", "has"):
                if part.field == "published":
                    return table.get(part.value is True, [])
                return table.get(part.value, [])
            if part.op == "in" and part.field != "published":
                out: set[int] = set()
                for value in part.value:
                    out.update(table.get(value, ()))
                return sorted(out)
        if isinstance(part, ProviderIs):
            inner = part.filter
            if isinstance(inner, Compare) and inner.field == "domain" and inner.op == "eq":
                return self.index["provider"].get(inner.value, [])
        return None

    def find(self, query: ArticleQuery, window: Window) -> Page:
        numbers, scores = self.matches(query)
        value = self._value_function(scores)
        fields = [key.field for key in query.order]

        def keys(n: int) -> tuple[Any, ...]:
            return tuple(value(n, field) for field in fields)

        page = window_slice(numbers, keys, query.order, window)
        page.items = [self.docs[n] for n in page.items]
        return page

    def count_matches(self, query: ArticleQuery) -> int:
        return len(self.matches(query)[0])

    def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        numbers, _ = self.matches(query)
        counts: Counter[str] = Counter()
        docs = self.docs
        for n in numbers:
            doc = docs[n]
            if field == "topics":
                counts.update(set(doc.get("topics") or ()))
            elif field == "provider":
                provider = doc.get("provider")
                if provider:
                    counts[provider["domain"]] += 1
            elif field == "published":
                counts["true" if doc.get("published") is True else "false"] += 1
            else:
                value = doc.get(field)
                if value is not None:
                    counts[value] += 1
        ranked = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))
        return ranked if first is None else ranked[:first]

    def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        numbers, _ = self.matches(query)
        values = [v for v in (self.docs[n].get(field) for n in numbers) if v is not None]
        if not values:
            return IntStats(0, None, None, None)
        return IntStats(len(values), min(values), max(values), sum(values) / len(values))

    def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        numbers, _ = self.matches(query)
        values = [v for v in (self.docs[n].get("publishedDateTime") for n in numbers) if v is not None]
        if not values:
            return None, None
        return min(values), max(values)

    def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        numbers, _ = self.matches(query)
        counts: Counter[date] = Counter()
        for n in numbers:
            value = self.docs[n].get("publishedDateTime")
            if value is not None:
                counts[bucket_start(date.fromisoformat(value[:10]), interval)] += 1
        return [(day.isoformat(), count) for day, count in sorted(counts.items())]

    # ---- providers and topics --------------------------------------------------

    def provider_matches(self, query: ProviderQuery) -> list[dict[str, Any]]:
        infos = sorted(self.providers.values(), key=lambda p: p["domain"])
        if query.filter != filters.TRUE:
            infos = [p for p in infos if filters.matches(query.filter, p, "provider", self.provider)]
        return sort_in_order(infos, query.order, lambda p, field: p[field])

    def find_providers(self, query: ProviderQuery, window: Window) -> Page:
        infos = self.provider_matches(query)
        fields = [key.field for key in query.order]
        return window_slice(infos, lambda p: tuple(p[f] for f in fields), query.order, window)

    def topic(self, name: str) -> dict[str, Any] | None:
        count = self.topic_counts.get(name)
        return None if not count else {"name": name, "articleCount": count}

    def topics(self, first: int | None) -> list[dict[str, Any]]:
        ranked = sorted(self.topic_counts.items(), key=lambda tc: (-tc[1], tc[0]))
        if first is not None:
            ranked = ranked[:first]
        return [{"name": name, "articleCount": count} for name, count in ranked]

    def stats(self) -> dict[str, Any]:
        dates = [d["publishedDateTime"] for d in self.docs if d.get("publishedDateTime")]
        return {
            "articles": len(self.docs),
            "providers": len(self.providers),
            "topics": len(self.topic_counts),
            "oldest": min(dates) if dates else None,
            "newest": max(dates) if dates else None,
        }


class SnapshotReader:
    """The async Reader interface over one Snapshot (answers at once, never awaits I/O)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.version = snapshot.version

    async def count(self) -> int:
        return len(self.snapshot.docs)

    async def get_articles(self, ids: Sequence[str]) -> list[Document | None]:
        return [self.snapshot.get(i) for i in ids]

    async def get_articles_by_url(self, urls: Sequence[str]) -> list[Document | None]:
        return [self.snapshot.get_by_url(u) for u in urls]

    async def find_articles(self, query: ArticleQuery, window: Window) -> Page:
        return self.snapshot.find(query, window)

    async def count_articles(self, query: ArticleQuery) -> int:
        return self.snapshot.count_matches(query)

    async def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        return self.snapshot.facet_counts(query, field, first)

    async def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        return self.snapshot.int_stats(query, field)

    async def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        return self.snapshot.date_range(query)

    async def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        return self.snapshot.histogram(query, interval)

    async def get_providers(self, domains: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.snapshot.provider(d) for d in domains]

    async def find_providers(self, query: ProviderQuery, window: Window) -> Page:
        return self.snapshot.find_providers(query, window)

    async def count_providers(self, query: ProviderQuery) -> int:
        return len(self.snapshot.provider_matches(query))

    async def get_topics(self, names: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.snapshot.topic(n) for n in names]

    async def list_topics(self, first: int | None) -> list[dict[str, Any]]:
        return self.snapshot.topics(first)

    async def stats(self) -> dict[str, Any]:
        return self.snapshot.stats()
