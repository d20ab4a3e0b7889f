"""The PostgreSQL store's reads: each Reader method is at most one SQL statement (one round
trip, one snapshot) on a pooled connection, reading as little as the answer needs.

- a page is read in the order of an index and stops at first + 1 rows (a
  topic's page from ng_article_topics; a one-word search from its search
  groups, sql.group_ranking; a newest-first page from the date bound its
  filter implies); documents are fetched for the page rows only, with their
  providers (kept per data version);
- totalCount comes from a catalog or rollup when one holds it exactly (all
  articles, a provider, a topic, a search word, a date range, combinations of
  provider/category/type/published), else from one count;
- all facets of a match set come from one statement, kept for the request.

Which index or catalog answers is chosen here from the filter's shape; the
conditions themselves are always compiled by graph.store.postgres.sql.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from graph import filters
from graph.budget import current as current_budget
from graph.dates import format_datetime
from graph.paging import ArticleQuery, OrderKey, Page, ProviderQuery, Window
from graph.store.base import FACET_FIELDS, INTERVALS, Document, IntStats, StoreUnavailable, bucket_start
from graph.store.postgres import stories as pg_stories
from graph.store.postgres.rollups import CATEGORY, DAY, PROVIDER, PUBLISHED, TOPICS, TYPE, combo_count, period_plan
from graph.store.postgres.sql import (
    ARTICLE_SCOPE,
    PROVIDER_SCOPE,
    Ordering,
    Params,
    article_ordering,
    compile_filter,
    group_ranking,
    holds_nul,
    keyset,
    provider_ordering,
    relevance,
    search_condition,
)
from graph.stories import StoryQuery

log = logging.getLogger("newsgraph.store")
# How long a request waits for a pooled connection before its answer is a 503: well within the
# execution time limit (5 s), so that a database that is down is never reported as the query
# running too long (issue 12: requests waited 5 s for QUERY_TOO_COMPLEX, or 10-20 s for a 503).
ACQUIRE_TIMEOUT_SECONDS = 2.0
INT_KEYS = frozenset({"quality", "heat", "articleCount"})


DEFAULT_ORDER = ArticleQuery().order  # publishedDateTime DESC, id
# An article row's provider as [domain, name, articleCount] (NULL without one): selected with the
# row, so that resolving the provider needs no query of its own. A subquery in a select list is
# evaluated after the sort and limit, for the rows returned only.
PROVIDER_OF = (
    "(SELECT jsonb_build_array(p.domain, p.name, p.article_count) FROM ng_providers p "
    "WHERE p.domain = a.provider_domain)"
)
PROVIDER_BY_ID = (
    "(SELECT jsonb_build_array(p.domain, p.name, p.article_count) FROM ng_articles x "
    "JOIN ng_providers p ON p.domain = x.provider_domain WHERE x.id = a.id)"
)


def _ordered_topic(query: ArticleQuery) -> tuple[str, filters.Filter] | None:
    """The topic whose articles the query wants newest first (the order of ng_article_topics), if it
    does, and the rest of its filter."""
    if query.search or query.order != DEFAULT_ORDER:
        return None
    return _topic_part(query.filter)


# Quality comparisons ng_article_topics can decide (its quality column is the article's).
QUALITY_OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _topic_quality(rest: filters.Filter, params: Params) -> tuple[list[str], bool]:
    """Conditions on tp.quality implied by the top-level quality comparisons of a topic's other filter
    parts, and whether they are all of it (then the topic's index alone decides the matches).

    A null quality fails them as it fails the articles' own comparisons (`... IS TRUE`)."""
    if rest == filters.TRUE:
        return [], True
    conditions = []
    whole = True
    for part in rest.parts if isinstance(rest, filters.And) else (rest,):
        value = getattr(part, "value", None)
        if (
            isinstance(part, filters.Compare)
            and part.field == "quality"
            and part.op in QUALITY_OPERATORS
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            conditions.append(f"(tp.quality {QUALITY_OPERATORS[part.op]} {params(value, 'numeric')})")
        else:
            whole = False
    return conditions, whole


def _topic_count(query: ArticleQuery, params: Params) -> str | None:
    """SQL counting a topic's articles within a quality range from the topic's index alone (an
    index-only scan of the topic's entries); None for any other query."""
    if query.search:
        return None
    split = _topic_part(query.filter)
    if split is None:
        return None
    topic, rest = split
    if not _topic_quality(rest, Params())[1]:
        return None
    conditions = _topic_quality(rest, params)[0]
    where = " AND ".join([f"tp.topic = {params(topic, 'text')}", *conditions])
    return f"SELECT count(*) FROM ng_article_topics tp WHERE {where}"


def _topic_part(f: filters.Filter) -> tuple[str, filters.Filter] | None:
    """A filter's first top-level `topics has` part and the rest of it; None without one."""
    parts = f.parts if isinstance(f, filters.And) else (f,)
    for n, part in enumerate(parts):
        if isinstance(part, filters.Compare) and (part.field, part.op) == ("topics", "has"):
            if isinstance(part.value, str) and not holds_nul(part.value):
                rest = parts[:n] + parts[n + 1 :]
                return part.value, rest[0] if len(rest) == 1 else filters.And(rest)
    return None


def _ranks_by_groups(query: ArticleQuery, window: Window) -> bool:
    """Whether a page can be ranked by search groups (pg_sql.group_ranking): a search for one whole
    word, no filter, relevance order, the first items of the matches or those after a cursor."""
    if query.search is None or query.search.single_word is None or query.filter != filters.TRUE:
        return False
    if query.order != (OrderKey("relevance", True), OrderKey("id")):
        return False
    if window.first is None or window.last is not None or window.before is not None:
        return False
    after = window.after
    if after is None:
        return True
    return isinstance(after[0], (int, float)) and isinstance(after[1], str) and not holds_nul(after[1])


def _article_conditions(query: ArticleQuery, params: Params, text_bounds: bool = False) -> list[str]:
    """The SQL conditions of a query's matches; ``text_bounds`` adds _published_text_bounds (for pages
    read newest first only: elsewhere they help no index and the planner, taking them for
    independent conditions, would expect a fraction of the rows and choose a worse plan)."""
    conditions = []
    if query.filter != filters.TRUE:
        conditions.append(compile_filter(query.filter, ARTICLE_SCOPE, params, positive=True))
        if text_bounds:
            conditions += _published_text_bounds(query.filter, params)
    if query.search:
        conditions.append(search_condition(query.search, params))
    return conditions or ["TRUE"]


def _published_text_bounds(f: filters.Filter, params: Params) -> list[str]:
    """Bounds on published_text implied by the publishedDateTime ranges the whole filter requires.

    The indexes that serve the newest-first order (alone, after a provider, a category) are on
    published_text, the served form (UTC, whole seconds, fixed width: text order is time order),
    while the filter compares instants (published_at). Without a bound on the indexed column a
    provider's page "before T" walked the provider's index from its newest article and fetched
    every row newer than T to reject it (issue 18: 0.15x PostGraphile). The bound is implied
    (published_at < T gives published_text <= T's second, truncated), so it never changes an
    answer: the exact comparison stays, and rejects the few rows of T's own second.
    Only the top-level ANDed parts give bounds (under NOT or OR they would not be implied).
    """
    bounds = []
    for part in f.parts if isinstance(f, filters.And) else (f,):
        if not (isinstance(part, filters.Compare) and part.field == "publishedDateTime"):
            continue
        value = part.value
        if part.op in ("lt", "lte", "gt", "gte") and isinstance(value, datetime) and value.tzinfo is not None:
            operator = "<=" if part.op in ("lt", "lte") else ">="
            bounds.append(f"(a.published_text {operator} {params(format_datetime(value), 'text')})")
    return bounds


def _storable(keys: Sequence[str]) -> list[str]:
    """The keys PostgreSQL can compare: one with U+0000 cannot be sent, and no stored text holds it."""
    return [key for key in keys if "\x00" not in key]


def _key_value(field: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if field in INT_KEYS else float(value)
    return value


def _matching(query: ArticleQuery) -> tuple[Any, Any]:
    """What decides the match set (not its order)."""
    return (query.filter, query.search)


def _catalog_count(query: ArticleQuery, params: Params) -> str | None:
    """SQL reading the number of matches from a catalog, when one holds it exactly; else None.

    Every count here is kept in the write transaction that changes it: the
    articles with one provider domain (ng_providers), with one topic
    (ng_topics), with one search word (ng_search_words.df). (All articles: the
    reader read their count with the version.)
    """
    f, search = query.filter, query.search
    if search:
        if search.single_word is not None and f == filters.TRUE:
            word = params(search.single_word.text, "text")
            return f"SELECT coalesce((SELECT df FROM ng_search_words WHERE word = {word}), 0)"
        return None
    if isinstance(f, filters.ProviderIs) and isinstance(inner := f.filter, filters.Compare):
        if (inner.field, inner.op) == ("domain", "eq") and isinstance(inner.value, str) and not holds_nul(inner.value):
            domain = params(inner.value, "text")
            return f"SELECT coalesce((SELECT article_count FROM ng_providers WHERE domain = {domain}), 0)"
    if isinstance(f, filters.Compare) and (f.field, f.op) == ("topics", "has"):
        if isinstance(f.value, str) and not holds_nul(f.value):
            topic = params(f.value, "text")
            return f"SELECT coalesce((SELECT article_count FROM ng_topics WHERE name = {topic}), 0)"
    return None


# Every facet of a match set in one statement: the matches are read once (m), and each
# facet is one aggregate over them. Kind 0 is the totals row; the others are (value, count).
MATCHES_SUMMARY = f"""
WITH m AS MATERIALIZED (
    SELECT a.topics, a.provider_domain, a.category, a.type, a.published, a.quality, a.heat, a.published_text
    FROM ng_articles a WHERE {{where}}
)
SELECT 0, NULL, count(*), ARRAY[count(quality), min(quality), max(quality), sum(quality),
    count(heat), min(heat), max(heat), sum(heat)], min(published_text), max(published_text) FROM m
UNION ALL SELECT {TOPICS}, t, count(*), NULL, NULL, NULL FROM m, unnest(m.topics) AS t GROUP BY t
UNION ALL SELECT {PROVIDER}, provider_domain, count(*), NULL, NULL, NULL FROM m WHERE provider_domain IS NOT NULL
    GROUP BY 2
UNION ALL SELECT {CATEGORY}, category, count(*), NULL, NULL, NULL FROM m WHERE category IS NOT NULL GROUP BY 2
UNION ALL SELECT {TYPE}, type, count(*), NULL, NULL, NULL FROM m WHERE type IS NOT NULL GROUP BY 2
UNION ALL SELECT {PUBLISHED}, CASE WHEN published THEN 'true' ELSE 'false' END, count(*), NULL, NULL, NULL FROM m
    GROUP BY 2
UNION ALL SELECT {DAY}, left(published_text, 10), count(*), NULL, NULL, NULL FROM m
    WHERE published_text IS NOT NULL GROUP BY 2
"""
# The same rows summed from the rollup of whole periods (graph.store.postgres.rollups).
PERIODS_SUMMARY = """
SELECT 0, NULL, sum(n), ARRAY[sum(quality_count), min(quality_min), max(quality_max), sum(quality_sum),
    sum(heat_count), min(heat_min), max(heat_max), sum(heat_sum)], min(first_text), max(last_text)
FROM ng_periods WHERE {periods}
UNION ALL SELECT kind, value, sum(n), NULL, NULL, NULL FROM ng_period_facets WHERE {periods} GROUP BY kind, value
"""
SUMMARY_FACETS = {TOPICS: "topics", PROVIDER: "provider", CATEGORY: "category", TYPE: "type", PUBLISHED: "published"}


# The parts above merged into one JSON value: [totals, {kind: [[value, count], ...]}], totals being
# [count, quality count, min, max, sum, heat count, min, max, sum, first date, last date] (the
# statistics as text: they are unbounded integers), each facet most frequent first, ties by
# value in code point order, days in date order.
SUMMARY = f"""
WITH parts(kind, value, n, numbers, low, high) AS ({{parts}}),
facets AS (SELECT kind, value COLLATE "C" AS value, sum(n) AS n FROM parts WHERE kind > 0 GROUP BY 1, 2)
SELECT json_build_array(
    (SELECT json_build_array(coalesce(sum(n), 0), sum(numbers[1])::text, min(numbers[2])::text,
        max(numbers[3])::text, sum(numbers[4])::text, sum(numbers[5])::text, min(numbers[6])::text,
        max(numbers[7])::text, sum(numbers[8])::text, min(low), max(high))
     FROM parts WHERE kind = 0),
    (SELECT coalesce(json_object_agg(kind, items), '{{{{}}}}') FROM (
        SELECT kind, json_agg(json_build_array(value, n)
            ORDER BY CASE WHEN kind = {DAY} THEN 0 ELSE -n END, value) AS items
        FROM facets GROUP BY kind) AS x))
"""


def _summary_sql(query: ArticleQuery, params: Params) -> str:
    """One statement giving every facet of the matches: from the rollup for the whole periods of a date range
    (or of everything), from the articles for the rest."""
    plan = period_plan(query, params)
    if plan is None:
        parts = MATCHES_SUMMARY.format(where=" AND ".join(_article_conditions(query, params)))
    else:
        parts = PERIODS_SUMMARY.format(periods=plan.periods)
        if plan.edges:
            parts = MATCHES_SUMMARY.format(where=plan.outside()) + " UNION ALL " + parts
    return SUMMARY.format(parts=parts)


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _stats(count: str | None, low: str | None, high: str | None, total: str | None) -> IntStats:
    if not count or count == "0":
        return IntStats(0, None, None, None)
    # Python's int / int: the correctly rounded mean, as the TinyDB store computes it.
    return IntStats(int(count), _int(low), _int(high), int(total or 0) / int(count))


# The first day of a day's bucket, from its ISO text ("YYYY-MM-DD"): weeks need the calendar.
BUCKET_OF = {
    "DAY": lambda day: day,
    "MONTH": lambda day: day[:8] + "01",
    "YEAR": lambda day: day[:5] + "01-01",
    "WEEK": lambda day: bucket_start(date.fromisoformat(day), "WEEK").isoformat(),
}


@dataclass
class Summary:
    """The count and every facet of one match set."""

    count: int
    facets: dict[str, list[list[Any]]]  # [value, count] pairs, as they come (see SUMMARY)
    stats: dict[str, IntStats]
    dates: tuple[str | None, str | None]
    days: list[list[Any]]

    @classmethod
    def of(cls, value: list[Any]) -> Summary:
        (count, *numbers, first, last), by_kind = value
        facets = {name: by_kind.get(str(kind), []) for kind, name in SUMMARY_FACETS.items()}
        stats = {"quality": _stats(*numbers[:4]), "heat": _stats(*numbers[4:])}
        return cls(int(count), facets, stats, (first, last), by_kind.get(str(DAY), []))

    def histogram(self, interval: str) -> list[tuple[str, int]]:
        bucket_of = BUCKET_OF[interval]
        buckets: dict[str, int] = {}
        for day, count in self.days:  # in date order, so the buckets are too
            start = bucket_of(day)
            buckets[start] = buckets.get(start, 0) + count
        return list(buckets.items())


class PostgresReader:
    """The Reader interface over a connection pool, at one data version.

    A reader serves one request: what it learns about a match set (its facets)
    is kept for the rest of that request.
    """

    # Independent reads of one request (the facets of a sidebar) overlap: each is a statement of its
    # own on a pooled connection, so running them at once saves round trips (graph.execution.plan).
    overlapping_reads = True

    def __init__(
        self,
        pool: AsyncConnectionPool,
        version: str,
        article_count: int,
        unavailable: Callable[[BaseException], StoreUnavailable],
        providers: dict[str, dict[str, Any] | None] | None = None,
    ) -> None:
        self._pool = pool
        self._unavailable = unavailable
        # Set when the database stopped answering during this request: every later read fails
        # at once with it, and graph.app answers the request 503 whatever the executor made of it.
        self.failure: StoreUnavailable | None = None
        self.version = version
        self._article_count = article_count
        self._summaries: dict[tuple[Any, Any], Summary] = {}
        # Summaries being read: facets asked at once (a sidebar's, disjunctive facets) share one statement.
        self._reading: dict[tuple[Any, Any], asyncio.Future[Summary]] = {}
        # Providers by domain, learnt with the articles that name them (shared by the readers at this
        # version: PostgresStore._providers_at), and the domains of related items of the articles
        # returned so far that are not known yet (fetched with the next provider lookup, which
        # resolving those items would make next).
        self._providers: dict[str, dict[str, Any] | None] = {} if providers is None else providers
        self._related_domains: set[str] = set()
        # Counts asked while a page of the same matches may be read at once (a connection's
        # totalCount beside its nodes, graph.execution.plan runs them together): the page's
        # statement takes the count along (one statement instead of two) and resolves the future.
        self._counts_waiting: dict[tuple[Any, Any], asyncio.Future[int]] = {}

    def _learn(self, doc: Document | None, provider: Any) -> Document | None:
        """Keep what a row said of its article's provider ([domain, name, articleCount]) and its related domains."""
        if provider is not None:
            domain, name, count = provider
            self._providers[domain] = {"name": name, "domain": domain, "articleCount": count}
        if doc is not None:
            for item in doc.get("related") or ():
                owner = item.get("provider") if isinstance(item, dict) else None
                domain = owner.get("domain") if isinstance(owner, dict) else None
                if isinstance(domain, str) and domain not in self._providers:
                    self._related_domains.add(domain)
        return doc

    async def _all(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        if self.failure is not None:
            raise self.failure
        try:
            async with self._pool.connection(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.errors.QueryCanceled:
            raise  # a statement stopped on purpose, not a server gone
        except psycopg.OperationalError as exc:  # includes PoolTimeout and PoolClosed
            self.failure = self._unavailable(exc)
            raise self.failure from None

    async def _one(self, sql: str, params: Any = None) -> tuple[Any, ...]:
        rows = await self._all(sql, params)
        return rows[0]

    async def count(self) -> int:
        return self._article_count

    async def get_articles(self, ids: Sequence[str]) -> list[Document | None]:
        rows = await self._all(
            f"SELECT a.id, a.doc, {PROVIDER_OF} FROM ng_articles a WHERE a.id = ANY(%s)", (_storable(ids),)
        )
        found = {key: self._learn(doc, provider) for key, doc, provider in rows}
        return [found.get(i) for i in ids]

    async def get_articles_by_url(self, urls: Sequence[str]) -> list[Document | None]:
        rows = await self._all(
            f"""
            SELECT DISTINCT ON (u.url) u.url, a.doc, {PROVIDER_OF} FROM ng_article_urls u
            JOIN ng_articles a ON a.id = u.id WHERE u.url = ANY(%s) ORDER BY u.url, u.id
            """,
            (_storable(urls),),
        )
        found = {url: self._learn(doc, provider) for url, doc, provider in rows}
        return [found.get(u) for u in urls]

    # ---- articles ------------------------------------------------------------------

    def _price(self, query: ArticleQuery) -> None:
        """Refuse a filter over the filter work limit before any statement runs (graph.budget)."""
        current_budget().price_filter(filters.work(query.filter) * self._article_count)

    async def find_articles(self, query: ArticleQuery, window: Window) -> Page:
        self._price(query)
        # One turn of the loop: a totalCount asked beside this page (started after it) registers.
        await asyncio.sleep(0)
        if _ranks_by_groups(query, window):
            return await self._find_by_groups(query, window)
        topic = _ordered_topic(query)
        if topic is not None:
            return await self._find_in_topic(query, *topic, window)
        params = Params()
        conditions = _article_conditions(
            query, params, text_bounds=bool(query.order) and query.order[0].field == "publishedDateTime"
        )
        score = None
        cte = None
        source = "ng_articles a"
        if any(key.field == "relevance" for key in query.order) and query.search is not None:
            if query.search.terms:
                ranked = relevance(query.search.terms, params)
                cte, score = ranked.cte, ranked.score
                source += f" CROSS JOIN r {ranked.joins}"
            else:
                score = "0::numeric"
        ordering = article_ordering(query.order, score)
        if any(key.field == "providerName" for key in query.order):
            source += " LEFT JOIN ng_providers pn ON pn.domain = a.provider_domain"
        rows, has_next, has_previous = await self._page(
            params, cte, source, " AND ".join(conditions), ordering, ["a.doc", PROVIDER_OF], window, counted=query
        )
        return self._article_page(query, ordering, rows, has_next, has_previous)

    async def _find_in_topic(self, query: ArticleQuery, topic: str, rest: filters.Filter, window: Window) -> Page:
        """A page of one topic's articles, newest first, read in order from ng_article_topics (the same
        values as the articles' columns), so it stops at first + 1 rows.

        The topic's own condition is left out (ng_article_topics says it): kept, the planner would
        count it twice and take the join for far more selective than it is.
        """
        params = Params()
        conditions = [
            *_article_conditions(replace(query, filter=rest), params),
            f"tp.topic = {params(topic, 'text')}",
            # Implied by the rest's quality range, decided in the topic's index (its INCLUDE column):
            # only the entries in range are joined to their articles.
            *_topic_quality(rest, params)[0],
        ]
        ordering = article_ordering(query.order, None)
        ordering = replace(ordering, columns=[replace(c, sql=c.sql.replace("a.", "tp.", 1)) for c in ordering.columns])
        rows, has_next, has_previous = await self._page(
            params,
            None,
            "ng_article_topics tp JOIN ng_articles a ON a.id = tp.id",
            " AND ".join(conditions),
            ordering,
            ["a.doc", PROVIDER_OF],
            window,
            counted=query,
        )
        return self._article_page(query, ordering, rows, has_next, has_previous)

    def _article_page(
        self, query: ArticleQuery, ordering: Ordering, rows: list[tuple[Any, ...]], has_next: bool, has_previous: bool
    ) -> Page:
        """A Page from rows of (doc, provider, sort columns...)."""
        fields = [key.field for key in query.order]
        return Page(
            items=[self._learn(row[0], row[1]) for row in rows],
            keys=[self._keys(fields, ordering, row[2:]) for row in rows],
            has_next=has_next,
            has_previous=has_previous,
        )

    async def _find_by_groups(self, query: ArticleQuery, window: Window) -> Page:
        """A first page (or one after a cursor) of a one-word search by relevance, ranked by search groups."""
        assert query.search is not None and window.first is not None
        params = Params()
        assert query.search.single_word is not None
        ranking = group_ranking(query.search.single_word, params, window.first + 1, window.after)
        ordering = article_ordering(query.order, "a.score")
        # The candidates stand in for the articles; the documents of the page alone are read
        # (a subquery in the select list is evaluated after the sort and limit).
        rows, has_next, has_previous = await self._page(
            params,
            ranking.cte,
            "c AS a",
            "TRUE",
            ordering,
            ["(SELECT x.doc FROM ng_articles x WHERE x.id = a.id)", PROVIDER_BY_ID],
            window,
            not_after=ranking.not_after,
            counted=query,
        )
        return self._article_page(query, ordering, rows, has_next, has_previous)

    @staticmethod
    def _keys(fields: list[str], ordering: Ordering, columns: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(_key_value(f, columns[n]) for f, n in zip(fields, ordering.value_columns))

    async def _page(
        self,
        params: Params,
        cte: str | None,
        source: str,
        where: str,
        ordering: Ordering,
        payload: list[str],
        window: Window,
        not_after: str | None = None,
        counted: ArticleQuery | None = None,
    ) -> tuple[list[tuple[Any, ...]], bool, bool]:
        """One page by keyset, and whether items exist beyond it (window_slice's semantics, in SQL).

        Returns rows of (payload..., sort columns...). The flags follow
        graph.store.tinydb.ordering.window_slice exactly: has_next says an item exists
        after the page in the whole ordered match list, has_previous one before it.
        ``not_after`` is SQL saying some match is not after the ``after`` cursor,
        for a source that holds only the matches the page can draw from.
        ``counted``: the article query of the page; a count of its matches waiting
        (count_articles) is then answered by this statement too.
        """
        forward = window.last is None or window.first is not None
        limit = window.first if forward else window.last
        bounds = [where]
        after = before = None
        if window.after is not None:
            after = keyset(ordering, window.after, params, later=True)
            bounds.append(after)
        if window.before is not None:
            before = keyset(ordering, window.before, params, later=False)
            bounds.append(before)
        flags = ["TRUE AS _"]
        if after is not None:
            not_after = not_after or f"EXISTS (SELECT 1 FROM {source} WHERE {where} AND NOT {after})"
            flags.append(f"{not_after} AS not_after")
        if before is not None:
            flags.append(f"EXISTS (SELECT 1 FROM {source} WHERE {where} AND NOT {before}) AS not_before")
        not_before_at = len(flags) - 1
        waiting = None if counted is None else self._counts_waiting.pop(_matching(counted), None)
        if waiting is not None:
            count_sql = self._count_sql(counted, params)  # type: ignore[arg-type]
            if count_sql is None:
                waiting.cancel()  # nothing to count in SQL after all: count_articles answers alone
                waiting = None
            else:
                # A scalar subquery of the one-row flags: evaluated once, by its own plan (the
                # catalog, rollup or index it would use alone).
                flags.append(f"({count_sql}) AS total")
        columns = [*payload, *(f"{c.sql} AS k{n}" for n, c in enumerate(ordering.columns))]
        limit_sql = "" if limit is None else f" LIMIT {params(limit + 1, 'bigint')}"
        sql = (
            (f"WITH {cte} " if cte else "")
            + f"SELECT f.*, pg.* FROM (SELECT {', '.join(flags)}) AS f LEFT JOIN LATERAL ("
            + f"SELECT TRUE AS present, {', '.join(columns)} FROM {source} WHERE {' AND '.join(bounds)} "
            + f"ORDER BY {ordering.clause(reverse=not forward)}{limit_sql}"
            + f") AS pg ON TRUE ORDER BY {ordering.clause(reverse=not forward, alias='pg')}"
        )
        try:
            rows = await self._all(sql, params.values)
        except BaseException:
            if waiting is not None:
                waiting.cancel()  # the count is read on its own (or fails there as this did)
            raise
        flag_count = len(flags)
        first_row = rows[0]
        if waiting is not None:
            waiting.set_result(int(first_row[flag_count - 1]))
        not_after = bool(first_row[1]) if after is not None else False
        not_before = bool(first_row[not_before_at]) if before is not None else False
        items = [row[flag_count + 1 :] for row in rows if row[flag_count]]
        more_in_range = limit is not None and len(items) > limit
        if limit is not None:
            items = items[:limit]
        if not forward:
            items.reverse()
        range_nonempty = bool(items) or more_in_range
        trimmed = False
        if forward and window.first is not None and window.last is not None:
            kept = items[-window.last :] if window.last else []
            trimmed = len(items) > len(kept)
            items = kept
        has_next = forward and more_in_range
        if not has_next and before is not None:
            if range_nonempty:
                has_next = not_before
            else:
                has_next = await self._exists(cte, source, where if after is None else f"{where} AND {after}", params)
        has_previous = (more_in_range if not forward else trimmed) or (after is not None and not_after)
        return items, has_next, has_previous

    async def _exists(self, cte: str | None, source: str, where: str, params: Params) -> bool:
        sql = (f"WITH {cte} " if cte else "") + f"SELECT EXISTS (SELECT 1 FROM {source} WHERE {where})"
        return bool((await self._one(sql, params.values))[0])

    async def count_articles(self, query: ArticleQuery) -> int:
        self._price(query)
        key = _matching(query)
        summary = self._summaries.get(key)
        if summary is not None:
            return summary.count
        if query.filter == filters.TRUE and not query.search:
            return self._article_count
        if key not in self._counts_waiting:
            # A page of these matches asked at the same time (it waits one turn of the loop for
            # this) takes the count into its statement; two turns here let it claim the count.
            waiting = self._counts_waiting[key] = asyncio.get_running_loop().create_future()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if self._counts_waiting.get(key) is waiting:
                del self._counts_waiting[key]  # no page came: count alone
            else:
                try:
                    return await asyncio.shield(waiting)
                except asyncio.CancelledError:
                    if not waiting.cancelled():
                        raise  # this request itself was cancelled
                    # the page's statement did not answer it: count alone
        params = Params()
        counted = self._count_sql(query, params)
        assert counted is not None
        return int((await self._one(counted, params.values))[0])

    def _count_sql(self, query: ArticleQuery, params: Params) -> str | None:
        """SQL counting a query's matches (from a catalog, a rollup, a topic's index, or the articles);
        None when no statement is needed (the count of all articles is read with the version)."""
        if query.filter == filters.TRUE and not query.search:
            return None
        counted = _catalog_count(query, params) or combo_count(query, params) or _topic_count(query, params)
        if counted is None and (plan := period_plan(query, params)) is not None:
            counted = f"SELECT coalesce((SELECT sum(n) FROM ng_periods WHERE {plan.periods}), 0)" + "".join(
                f" + (SELECT count(*) FROM ng_articles a WHERE {edge})" for edge in plan.edges
            )
        if counted is None:
            where = " AND ".join(_article_conditions(query, params))
            counted = f"SELECT count(*) FROM ng_articles a WHERE {where}"
        return counted

    async def _summary(self, query: ArticleQuery) -> Summary:
        """Every facet of the matches, from one statement (one scan); kept for the rest of the request."""
        key = _matching(query)
        summary = self._summaries.get(key)
        if summary is not None:
            return summary
        reading = self._reading.get(key)
        if reading is None:
            self._price(query)
            reading = self._reading[key] = asyncio.ensure_future(self._read_summary(query))
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        summary = self._summaries[key] = await asyncio.shield(reading)
        return summary

    async def _read_summary(self, query: ArticleQuery) -> Summary:
        params = Params()
        return Summary.of((await self._one(_summary_sql(query, params), params.values))[0])

    async def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        if field not in FACET_FIELDS:
            raise ValueError(f"unknown facet field {field!r}")
        counts = (await self._summary(query)).facets[field]
        return [(value, count) for value, count in (counts if first is None else counts[:first])]

    async def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        if field not in ("quality", "heat"):
            raise ValueError(f"unknown statistics field {field!r}")
        return (await self._summary(query)).stats[field]

    async def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        return (await self._summary(query)).dates

    async def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        return (await self._summary(query)).histogram(interval)

    # ---- stories ---------------------------------------------------------------------------

    async def get_stories(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        rows = await self._all(
            f"SELECT sa.article_id, {pg_stories.COLUMNS} FROM ng_story_articles sa JOIN ng_stories s "
            "ON s.id = sa.story_id WHERE sa.article_id = ANY(%s)",
            (_storable(ids),),
        )
        found = {row[0]: pg_stories.story_of_row(row[1:]) for row in rows}
        return [found.get(i) for i in ids]

    def _story_where(self, query: StoryQuery, params: Params) -> str:
        articles = ArticleQuery(filter=query.filter, search=query.search)
        if query.filter != filters.TRUE:
            self._price(articles)
        return pg_stories.matching_stories(_article_conditions(articles, params))

    async def find_stories(self, query: StoryQuery, window: Window) -> Page:
        params = Params()
        where = self._story_where(query, params)
        ordering = pg_stories.story_ordering(query.order)
        rows, has_next, has_previous = await self._page(
            params, None, "ng_stories s", where, ordering, [pg_stories.COLUMNS], window
        )
        fields = [key.field for key in query.order]
        return Page(
            items=[pg_stories.story_of_row(row) for row in rows],
            keys=[self._keys(fields, ordering, row[pg_stories.COLUMN_COUNT :]) for row in rows],
            has_next=has_next,
            has_previous=has_previous,
        )

    async def count_stories(self, query: StoryQuery) -> int:
        params = Params()
        where = self._story_where(query, params)
        return int((await self._one(f"SELECT count(*) FROM ng_stories s WHERE {where}", params.values))[0])

    # ---- providers and topics ------------------------------------------------------------

    async def get_providers(self, domains: Sequence[str]) -> list[dict[str, Any] | None]:
        known = self._providers
        missing = [d for d in domains if d not in known]
        if missing:
            wanted = _storable({*missing, *self._related_domains})
            self._related_domains.clear()
            rows = await self._all(
                "SELECT domain, name, article_count FROM ng_providers WHERE domain = ANY(%s)", (wanted,)
            )
            for domain in wanted:
                known[domain] = None
            for d, n, c in rows:
                known[d] = {"name": n, "domain": d, "articleCount": c}
        return [known.get(d) for d in domains]

    async def find_providers(self, query: ProviderQuery, window: Window) -> Page:
        params = Params()
        where = "TRUE" if query.filter == filters.TRUE else compile_filter(query.filter, PROVIDER_SCOPE, params, positive=True)
        ordering = provider_ordering(query.order)
        rows, has_next, has_previous = await self._page(
            params, None, "ng_providers p", where, ordering, ["p.name", "p.domain", "p.article_count"], window
        )
        fields = [key.field for key in query.order]
        return Page(
            items=[{"name": r[0], "domain": r[1], "articleCount": r[2]} for r in rows],
            keys=[self._keys(fields, ordering, row[3:]) for row in rows],
            has_next=has_next,
            has_previous=has_previous,
        )

    async def count_providers(self, query: ProviderQuery) -> int:
        params = Params()
        where = "TRUE" if query.filter == filters.TRUE else compile_filter(query.filter, PROVIDER_SCOPE, params, positive=True)
        return int((await self._one(f"SELECT count(*) FROM ng_providers p WHERE {where}", params.values))[0])

    async def get_topics(self, names: Sequence[str]) -> list[dict[str, Any] | None]:
        rows = await self._all("SELECT name, article_count FROM ng_topics WHERE name = ANY(%s)", (_storable(names),))
        found = {n: {"name": n, "articleCount": c} for n, c in rows if c > 0}
        return [found.get(n) for n in names]

    async def list_topics(self, first: int | None) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT name, article_count FROM ng_topics ORDER BY article_count DESC, name LIMIT %s::bigint", (first,)
        )
        return [{"name": n, "articleCount": c} for n, c in rows]

    async def stats(self) -> dict[str, Any]:
        articles, providers, topics, oldest, newest = await self._one(
            """
            SELECT (SELECT article_count FROM ng_state), (SELECT count(*) FROM ng_providers),
                (SELECT count(*) FROM ng_topics),
                (SELECT min(published_text) FROM ng_articles WHERE published_text <> ''),
                (SELECT max(published_text) FROM ng_articles WHERE published_text <> '')
            """
        )
        return {
            "articles": int(articles),
            "providers": int(providers),
            "topics": int(topics),
            "oldest": oldest,
            "newest": newest,
        }

