"""The PostgreSQL store: articles as JSONB documents, queries compiled to SQL.

Selected by ``NEWSGRAPH_DATABASE_URL=postgresql://…`` (or ``--database-url``);
everything else (seed, serve, the API) is unchanged. Any number of processes
on any number of machines can serve one database: nothing is cached between
requests except what ``Reader.version`` guards, and that version lives in the
database (``ng_state``), bumped in every write transaction.

- Schema: graph.store.pg_schema (versioned migrations, run at open).
- Rows: graph.store.pg_rows (what is derived from each document in Python).
- Writes: graph.store.pg_write (one transaction, catalogs updated by deltas).
- Queries: graph.store.pg_sql (filter AST, search, order, keyset -> SQL).

Each Reader method is one SQL statement (one round trip, one snapshot) on a
pooled connection (psycopg 3 + psycopg-pool, async).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from graph import filters
from graph.store import pg_write
from graph.store.base import (
    ArticleQuery,
    Document,
    IntStats,
    Page,
    ProviderQuery,
    SeedMark,
    StoreError,
    Window,
    WriteResult,
)
from graph.store.pg_schema import MigrationReport, migrate
from graph.store.pg_sql import (
    ARTICLE_SCOPE,
    PROVIDER_SCOPE,
    Ordering,
    Params,
    article_ordering,
    compile_filter,
    keyset,
    provider_ordering,
    relevance,
    search_condition,
)

CONNECT_TIMEOUT_SECONDS = 10
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
INT_KEYS = frozenset({"quality", "heat", "articleCount"})
BUCKETS = {
    "DAY": "d",
    "WEEK": "date_trunc('week', d::timestamp)::date",
    "MONTH": "date_trunc('month', d::timestamp)::date",
    "YEAR": "date_trunc('year', d::timestamp)::date",
}
FACET_COLUMNS = {"provider": "a.provider_domain", "category": "a.category", "type": "a.type"}


def describe_url(url: str) -> str:
    """host:port/dbname of a connection URL, for messages (never the password)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://?"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"postgresql://{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Per-connection settings: orjson for JSON, UTC, shortest-exact float text (relevance rounding)."""
    set_json_loads(orjson.loads, conn)
    await conn.execute("SET TimeZone TO 'UTC'")
    await conn.execute("SET extra_float_digits TO 1")


async def migrate_database(database_url: str, rebuild: bool = False) -> MigrationReport:
    """Create or upgrade the schema (``newsgraph db migrate``); also done by every store open."""
    conn = await _connect(database_url)
    async with conn:
        try:
            return await migrate(conn, rebuild=rebuild)
        except psycopg.Error as exc:
            raise StoreError(f"{describe_url(database_url)}: cannot prepare the database: {_reason(exc)}") from None


async def _connect(database_url: str) -> psycopg.AsyncConnection[Any]:
    try:
        conn = await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
    except psycopg.Error as exc:
        raise StoreError(f"{describe_url(database_url)}: cannot connect to PostgreSQL: {_reason(exc)}") from None
    await configure(conn)
    return conn


class PostgresStore:
    """Articles in a PostgreSQL database; see the module docstring."""

    name = "postgres"

    def __init__(self, database_url: str, *, min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE) -> None:
        self.database_url = database_url
        self.where = describe_url(database_url)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        """Connect, bring the schema up to date, and open the connection pool."""
        if self._pool is not None:
            return
        conn = await _connect(self.database_url)
        async with conn:
            try:
                await migrate(conn)
            except psycopg.Error as exc:
                raise StoreError(f"{self.where}: cannot prepare the database: {_reason(exc)}") from None
        pool = AsyncConnectionPool(
            self.database_url,
            min_size=self._min_size,
            max_size=self._max_size,
            open=False,
            kwargs={"autocommit": True},
            configure=configure,
            timeout=CONNECT_TIMEOUT_SECONDS,
            name=f"newsgraph {self.where}",
        )
        # The server just answered; the pool connects in the background and the first
        # request waits for it (up to CONNECT_TIMEOUT_SECONDS) if it must.
        await pool.open(wait=False)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _opened(self) -> AsyncConnectionPool:
        if self._pool is None:
            await self.open()
        assert self._pool is not None
        return self._pool

    async def reader(self) -> PostgresReader:
        """A reader at the database's current version (one small query per request)."""
        pool = await self._opened()
        try:
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT version FROM ng_state")).fetchone()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"{self.where}: cannot read: {_reason(exc)}") from None
        assert row is not None
        return PostgresReader(pool, row[0])

    async def seed_marks(self) -> dict[str, SeedMark]:
        pool = await self._opened()
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT id, seed_path, seed_hash FROM ng_articles")
            return {i: SeedMark(path or "", digest or "") for i, path, digest in await cursor.fetchall()}

    async def write(self, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
        """All upserts and deletes in one transaction: committed together or not at all."""
        pool = await self._opened()
        try:
            async with pool.connection() as conn:
                return await pg_write.write(conn, upserts, deletes)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"{self.where}: the write failed and nothing was changed: {_reason(exc)}") from None


def _article_conditions(query: ArticleQuery, params: Params) -> list[str]:
    conditions = []
    if query.filter != filters.TRUE:
        conditions.append(compile_filter(query.filter, ARTICLE_SCOPE, params, positive=True))
    if query.search:
        conditions.append(search_condition(query.search, params))
    return conditions or ["TRUE"]


def _storable(keys: Sequence[str]) -> list[str]:
    """The keys PostgreSQL can compare: one with U+0000 cannot be sent, and no stored text holds it."""
    return [key for key in keys if "\x00" not in key]


def _key_value(field: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if field in INT_KEYS else float(value)
    return value


class PostgresReader:
    """The Reader interface over a connection pool, at one data version."""

    def __init__(self, pool: AsyncConnectionPool, version: str) -> None:
        self._pool = pool
        self.version = version

    async def _all(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()

    async def _one(self, sql: str, params: Any = None) -> tuple[Any, ...]:
        rows = await self._all(sql, params)
        return rows[0]

    async def count(self) -> int:
        return int((await self._one("SELECT article_count FROM ng_state"))[0])

    async def get_articles(self, ids: Sequence[str]) -> list[Document | None]:
        rows = await self._all("SELECT id, doc FROM ng_articles WHERE id = ANY(%s)", (_storable(ids),))
        found = dict(rows)
        return [found.get(i) for i in ids]

    async def get_articles_by_url(self, urls: Sequence[str]) -> list[Document | None]:
        rows = await self._all(
            """
            SELECT DISTINCT ON (u.url) u.url, a.doc FROM ng_article_urls u JOIN ng_articles a ON a.id = u.id
            WHERE u.url = ANY(%s) ORDER BY u.url, u.id
            """,
            (_storable(urls),),
        )
        found = dict(rows)
        return [found.get(u) for u in urls]

    # ---- articles ------------------------------------------------------------------

    async def find_articles(self, query: ArticleQuery, window: Window) -> Page:
        params = Params()
        conditions = _article_conditions(query, params)
        score = None
        cte = None
        source = "ng_articles a"
        if any(key.field == "relevance" for key in query.order) and query.search is not None:
            if query.search:
                ranked = relevance(query.search, params)
                cte, score = ranked.cte, ranked.score
                source += f" CROSS JOIN r {ranked.joins}"
            else:
                score = "0::numeric"
        ordering = article_ordering(query.order, score)
        if any(key.field == "providerName" for key in query.order):
            source += " LEFT JOIN ng_providers pn ON pn.domain = a.provider_domain"
        rows, has_next, has_previous = await self._page(
            params, cte, source, " AND ".join(conditions), ordering, ["a.doc"], window
        )
        fields = [key.field for key in query.order]
        return Page(
            items=[row[0] for row in rows],
            keys=[self._keys(fields, ordering, row[1:]) for row in rows],
            has_next=has_next,
            has_previous=has_previous,
        )

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
    ) -> tuple[list[tuple[Any, ...]], bool, bool]:
        """One page by keyset, and whether items exist beyond it (window_slice's semantics, in SQL).

        Returns rows of (payload..., sort columns...). The flags follow
        graph.store.memory.window_slice exactly: has_next says an item exists
        after the page in the whole ordered match list, has_previous one before it.
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
            flags.append(f"EXISTS (SELECT 1 FROM {source} WHERE {where} AND NOT {after}) AS not_after")
        if before is not None:
            flags.append(f"EXISTS (SELECT 1 FROM {source} WHERE {where} AND NOT {before}) AS not_before")
        columns = [*payload, *(f"{c.sql} AS k{n}" for n, c in enumerate(ordering.columns))]
        limit_sql = "" if limit is None else f" LIMIT {params(limit + 1, 'bigint')}"
        sql = (
            (f"WITH {cte} " if cte else "")
            + f"SELECT f.*, pg.* FROM (SELECT {', '.join(flags)}) AS f LEFT JOIN LATERAL ("
            + f"SELECT TRUE AS present, {', '.join(columns)} FROM {source} WHERE {' AND '.join(bounds)} "
            + f"ORDER BY {ordering.clause(reverse=not forward)}{limit_sql}"
            + f") AS pg ON TRUE ORDER BY {ordering.clause(reverse=not forward, alias='pg')}"
        )
        rows = await self._all(sql, params.values)
        flag_count = len(flags)
        first_row = rows[0]
        not_after = bool(first_row[1]) if after is not None else False
        not_before = bool(first_row[flag_count - 1]) if before is not None else False
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
        params = Params()
        where = " AND ".join(_article_conditions(query, params))
        return int((await self._one(f"SELECT count(*) FROM ng_articles a WHERE {where}", params.values))[0])

    async def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        params = Params()
        where = " AND ".join(_article_conditions(query, params))
        limit = params(first, "bigint")
        if field == "topics":
            sql = (
                f"SELECT t, count(*) FROM ng_articles a, unnest(a.topics) AS t WHERE {where} "
                f"GROUP BY t ORDER BY count(*) DESC, t LIMIT {limit}"
            )
        elif field == "published":
            sql = (
                "SELECT v, count(*) FROM (SELECT CASE WHEN a.published THEN 'true' ELSE 'false' END COLLATE \"C\" AS v "
                f"FROM ng_articles a WHERE {where}) AS x GROUP BY v ORDER BY count(*) DESC, v LIMIT {limit}"
            )
        elif field in FACET_COLUMNS:
            column = FACET_COLUMNS[field]
            sql = (
                f"SELECT {column}, count(*) FROM ng_articles a WHERE {where} AND {column} IS NOT NULL "
                f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {limit}"
            )
        else:
            raise ValueError(f"unknown facet field {field!r}")
        return [(value, int(count)) for value, count in await self._all(sql, params.values)]

    async def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        if field not in ("quality", "heat"):
            raise ValueError(f"unknown statistics field {field!r}")
        params = Params()
        where = " AND ".join(_article_conditions(query, params))
        count, low, high, total = await self._one(
            f"SELECT count(a.{field}), min(a.{field}), max(a.{field}), sum(a.{field}) FROM ng_articles a WHERE {where}",
            params.values,
        )
        if not count:
            return IntStats(0, None, None, None)
        # Python's int / int: the correctly rounded mean, as the TinyDB store computes it.
        return IntStats(int(count), int(low), int(high), int(total) / int(count))

    async def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        params = Params()
        where = " AND ".join(_article_conditions(query, params))
        low, high = await self._one(
            f"SELECT min(a.published_text), max(a.published_text) FROM ng_articles a WHERE {where}", params.values
        )
        return low, high

    async def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        bucket = BUCKETS.get(interval)
        if bucket is None:
            raise ValueError(f"unknown interval {interval!r}")
        params = Params()
        where = " AND ".join(_article_conditions(query, params))
        rows = await self._all(
            f"SELECT {bucket} AS b, count(*) FROM (SELECT left(a.published_text, 10)::date AS d FROM ng_articles a "
            f"WHERE {where} AND a.published_text IS NOT NULL) AS x GROUP BY b ORDER BY b",
            params.values,
        )
        return [(_day(b), int(count)) for b, count in rows]

    # ---- providers and topics ------------------------------------------------------------

    async def get_providers(self, domains: Sequence[str]) -> list[dict[str, Any] | None]:
        rows = await self._all(
            "SELECT domain, name, article_count FROM ng_providers WHERE domain = ANY(%s)", (_storable(domains),)
        )
        found = {d: {"name": n, "domain": d, "articleCount": c} for d, n, c in rows}
        return [found.get(d) for d in domains]

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


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
