"""Rollups of the PostgreSQL articles table: counts and facets read instead of scanned.

Two rollups, recounted in the write transaction that changes what they count
(graph.store.postgres.writes), so they are as exact and as current as the rows:

- ``ng_periods`` / ``ng_period_facets``: per calendar month (grain ``m``) and
  per day (grain ``d``) of publishedDateTime, in UTC, the article count,
  quality and heat statistics, first and last date, and the count of every
  facet value (topics, provider, category, type, published, day). Undated
  articles are month ``'infinity'``. All articles, or those in a date range,
  are then summed from the whole months of the range, the whole days at its
  ends and the articles of the partial days at its very ends (none when the
  bounds are dates): a few thousand rows however many articles match.
- ``ng_combos``: articles per (provider domain, category, type, published), so a
  count filtered by those alone (``published: true, category: "news"``) sums a
  small table instead of counting most of the articles.

Write side: ``before_write`` (while the old rows are still there) and
``after_write`` (once the new rows are in); ``rebuild`` recounts everything.
Read side: ``period_plan`` and ``combo_count``, which say None when a query is
not one they can answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from graph import filters
from graph.filters import And, Compare, Filter, Not, Or, ProviderIs
from graph.paging import ArticleQuery
from graph.store.postgres.sql import ARTICLE_SCOPE, Params, Scope, compile_filter

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# The month and day of an article, whatever the session's time zone; undated articles in month 'infinity'.
MONTH_OF = "coalesce(date_trunc('month', a.published_at AT TIME ZONE 'UTC')::date, 'infinity'::date)"
DAY_OF = "(a.published_at AT TIME ZONE 'UTC')::date"
GRAINS = {"m": "1 month", "d": "1 day"}

# Facet kinds of ng_period_facets (and of the summary rows of graph.store.postgres.store).
TOPICS, PROVIDER, CATEGORY, TYPE, PUBLISHED, DAY = 1, 2, 3, 4, 5, 6

# The articles of some periods of one grain (%(periods)s, a date[]; %(length)s, its interval):
# dated ones by a range of the published_at index per period, undated ones (month 'infinity').
_PERIOD_ROWS = """
    SELECT t.period, a.topics, a.provider_domain, a.category, a.type, a.published, a.quality, a.heat,
        a.published_text
    FROM unnest(%(periods)s::date[]) AS t(period) JOIN ng_articles a
        ON a.published_at >= (t.period::timestamp AT TIME ZONE 'UTC')
        AND a.published_at < ((t.period + %(length)s::interval) AT TIME ZONE 'UTC')
    WHERE t.period <> 'infinity'
    UNION ALL
    SELECT 'infinity'::date, a.topics, a.provider_domain, a.category, a.type, a.published, a.quality, a.heat,
        a.published_text
    FROM ng_articles a WHERE a.published_at IS NULL AND 'infinity'::date = ANY(%(periods)s::date[])
"""
# (A statement cannot delete and insert one key, so the old rows go first, in statements of their own.)
_FORGET_PERIODS = (
    "DELETE FROM ng_periods WHERE grain = %(grain)s AND period = ANY(%(periods)s::date[])",
    "DELETE FROM ng_period_facets WHERE grain = %(grain)s AND period = ANY(%(periods)s::date[])",
)
_COUNT_PERIODS = f"""
WITH r AS MATERIALIZED ({_PERIOD_ROWS}),
totals AS (
    INSERT INTO ng_periods
    SELECT %(grain)s, period, count(*), count(quality), min(quality), max(quality), sum(quality),
        count(heat), min(heat), max(heat), sum(heat), min(published_text), max(published_text)
    FROM r GROUP BY period
)
INSERT INTO ng_period_facets
SELECT * FROM (
SELECT %(grain)s, period, {TOPICS}, t, count(*) FROM r, unnest(r.topics) AS t GROUP BY period, t
UNION ALL SELECT %(grain)s, period, {PROVIDER}, provider_domain, count(*) FROM r WHERE provider_domain IS NOT NULL
    GROUP BY 2, 4
UNION ALL SELECT %(grain)s, period, {CATEGORY}, category, count(*) FROM r WHERE category IS NOT NULL GROUP BY 2, 4
UNION ALL SELECT %(grain)s, period, {TYPE}, type, count(*) FROM r WHERE type IS NOT NULL GROUP BY 2, 4
UNION ALL SELECT %(grain)s, period, {PUBLISHED}, CASE WHEN published THEN 'true' ELSE 'false' END, count(*) FROM r
    GROUP BY 2, 4
UNION ALL SELECT %(grain)s, period, {DAY}, left(published_text, 10), count(*) FROM r
    WHERE published_text IS NOT NULL GROUP BY 2, 4
) AS f ORDER BY 2  -- a period's rows together: a range of periods reads few pages
"""
_PERIODS_OF = f"SELECT DISTINCT {MONTH_OF}::text, {DAY_OF}::text FROM ng_articles a WHERE {{where}}"
_COMBOS_OF = (
    "SELECT provider_domain AS d, category AS c, type AS t, published AS p, count(*) AS n "
    "FROM ng_articles a WHERE {where} GROUP BY 1, 2, 3, 4"
)
_KEY = "jsonb_build_array(x.d, x.c, x.t, x.p)::text"
Periods = tuple[set[str], set[str]]  # months, days (as text: 'infinity' has no Python date)


async def before_write(conn: AsyncConnection, ids: list[str]) -> Periods:
    """Take the rows about to be replaced or deleted out of ng_combos; returns their periods."""
    await conn.execute(
        f"WITH x AS ({_COMBOS_OF.format(where='a.id = ANY(%(ids)s)')}) "
        f"UPDATE ng_combos AS k SET n = k.n - x.n FROM x WHERE k.key = {_KEY}",
        {"ids": ids},
    )
    return await _periods(conn, "a.id = ANY(%(ids)s)", {"ids": ids})


async def after_write(conn: AsyncConnection, ids: list[str], old: Periods) -> None:
    """Count the rows now stored under ids into ng_combos, and recount the periods old and new rows are in."""
    await _add_combos(conn, "a.id = ANY(%(ids)s)", {"ids": ids})
    months, days = await _periods(conn, "a.id = ANY(%(ids)s)", {"ids": ids})
    await _recount(conn, (old[0] | months, old[1] | days))


async def rebuild(conn: AsyncConnection) -> None:
    """Recount both rollups from every row."""
    await conn.execute("TRUNCATE ng_combos, ng_periods, ng_period_facets")
    await _add_combos(conn, "TRUE", {})
    await _recount(conn, await _periods(conn, "TRUE", {}))


async def _periods(conn: AsyncConnection, where: str, params: dict[str, Any]) -> Periods:
    cursor = await conn.execute(_PERIODS_OF.format(where=where), params)
    rows = await cursor.fetchall()
    return {month for month, _ in rows}, {day for _, day in rows if day is not None}


async def _recount(conn: AsyncConnection, periods: Periods) -> None:
    """Recount the rollup rows of these months and days from the articles."""
    for grain, chosen in zip(GRAINS, periods):
        if chosen:
            values = {"grain": grain, "periods": sorted(chosen), "length": GRAINS[grain]}
            for statement in _FORGET_PERIODS:
                await conn.execute(statement, values)
            await conn.execute(_COUNT_PERIODS, values)


async def _add_combos(conn: AsyncConnection, where: str, params: dict[str, Any]) -> None:
    await conn.execute(
        f"WITH x AS ({_COMBOS_OF.format(where=where)}) "
        "INSERT INTO ng_combos AS k (key, provider_domain, category, type, published, n) "
        f"SELECT {_KEY}, x.d, x.c, x.t, x.p, x.n FROM x "
        "ON CONFLICT (key) DO UPDATE SET n = k.n + excluded.n",
        params,
    )
    await conn.execute("DELETE FROM ng_combos WHERE n <= 0")


# ---- reading: counts by combination -----------------------------------------------

COMBO_FIELDS = {"category": "k.category", "type": "k.type", "published": "k.published"}
COMBO_OPS = frozenset({"eq", "ne", "in", "notIn", "isNull"})


def _no_folded(name: str) -> str:
    raise AssertionError(f"ng_combos has no casefolded {name}")


COMBO_SCOPE = Scope(
    entity="article",
    value=lambda name, kind: COMBO_FIELDS[name],
    folded=_no_folded,
    domain="k.provider_domain",
)


def _combo_filter(f: Filter) -> bool:
    """Whether a filter reads only what ng_combos holds (provider, category, type, published)."""
    if isinstance(f, (And, Or)):
        return all(_combo_filter(part) for part in f.parts)
    if isinstance(f, Not):
        return _combo_filter(f.part)
    if isinstance(f, ProviderIs):
        return True  # compiled against ng_providers by domain, which ng_combos holds
    if isinstance(f, Compare):
        return f.field in COMBO_FIELDS and f.op in COMBO_OPS
    return False


def combo_count(query: ArticleQuery, params: Params) -> str | None:
    """SQL of the number of matches summed from ng_combos, or None when the query reads more than it holds."""
    if query.search or not _combo_filter(query.filter):
        return None
    condition = compile_filter(query.filter, COMBO_SCOPE, params, positive=True)
    return f"SELECT coalesce(sum(k.n), 0) FROM ng_combos k WHERE {condition}"


# ---- reading: date ranges by period -----------------------------------------------


@dataclass(frozen=True)
class PeriodPlan:
    """How to answer a query from ng_periods: which periods (SQL on ``grain`` and ``period``) hold only
    matches, and the matches outside them: ``edges``, SQL on ng_articles ``a`` for each end of the range
    that has a partial day (none for all articles, or for bounds that are dates)."""

    periods: str
    edges: tuple[str, ...]

    def outside(self) -> str:
        """SQL on ng_articles ``a``: the matches outside the periods."""
        return " OR ".join(f"({edge})" for edge in self.edges) or "FALSE"


def _day_start(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(moment: datetime) -> datetime:
    return _day_start(moment).replace(day=1)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def _bounds(f: Filter) -> tuple[tuple[datetime, bool] | None, datetime | None] | None:
    """(lower instant, strict), upper instant of a filter that is only a publishedDateTime range; else None."""
    lower: tuple[datetime, bool] | None = None
    upper: datetime | None = None
    for part in f.parts if isinstance(f, And) else (f,):
        if not (isinstance(part, Compare) and part.field == "publishedDateTime" and isinstance(part.value, datetime)):
            return None
        if part.op in ("gt", "gte"):
            bound = (part.value, part.op == "gt")
            if lower is None or bound > lower:  # the later instant; at one instant, gt
                lower = bound
        elif part.op in ("lt", "lte"):
            upper = part.value if upper is None else min(upper, part.value)
        else:
            return None
    return lower, upper


def period_plan(query: ArticleQuery, params: Params) -> PeriodPlan | None:
    """For all articles, or a publishedDateTime range spanning a whole day at least: the rollup's part and
    the partial days at the ends (read as articles). None for any other query."""
    f = query.filter
    if query.search:
        return None
    if f == filters.TRUE:
        return PeriodPlan("grain = 'm'", ())
    bounds = _bounds(f)
    if bounds is None:
        return None
    lower, upper = bounds
    # Whole days [first_day, end_day) and whole months [first_month, end_month) inside the range
    # (None: unbounded). A period ending at the upper bound is inside for lt and lte alike: the
    # edges apply the filter itself, so the periods only need to be inside.
    first_day = first_month = end_day = end_month = None
    if lower is not None:
        first_day = _day_start(lower[0])
        if first_day < lower[0] or (lower[1] and first_day == lower[0]):
            first_day += timedelta(days=1)
        first_month = _month_start(first_day)
        if first_month < first_day:
            first_month = _next_month(first_month)
    if upper is not None:
        end_day = _day_start(upper)
        end_month = _month_start(end_day)
    if first_day is not None and end_day is not None and first_day >= end_day:
        return None  # less than a day: reading the articles is as quick

    def between(grain: str, start: datetime | None, end: datetime | None) -> str:
        parts = [f"grain = '{grain}'", "period <> 'infinity'"]  # a range never matches an undated article
        if start is not None:
            parts.append(f"period >= {params(start.date(), 'date')}")
        if end is not None:
            parts.append(f"period < {params(end.date(), 'date')}")
        return "(" + " AND ".join(parts) + ")"

    if first_month is None or end_month is None or first_month < end_month:
        periods = [between("m", first_month, end_month)]
        if first_day is not None and first_day < first_month:
            periods.append(between("d", first_day, first_month))
        if end_day is not None and end_month < end_day:
            periods.append(between("d", end_month, end_day))
    else:
        periods = [between("d", first_day, end_day)]
    condition = compile_filter(f, ARTICLE_SCOPE, params, positive=True)
    edges = []
    if first_day is not None:
        edges.append(f"{condition} AND a.published_at < {params(first_day, 'timestamptz')}")
    if end_day is not None:
        edges.append(f"{condition} AND a.published_at >= {params(end_day, 'timestamptz')}")
    return PeriodPlan(" OR ".join(periods), tuple(edges))
