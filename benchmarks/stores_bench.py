"""TinyDB store against PostgreSQL store: the same corpus, the same Reader calls, p50/p99 side by side.

    python -m benchmarks.stores_bench [--sizes 10000,100000] [--seconds 2] [--database-url URL]

For each size, generates a corpus (benchmarks.generate), seeds it into a fresh
TinyDB file and into a fresh schema of a PostgreSQL database (graph.seed, the
code `newsgraph seed` runs), then times a fixed set of Reader calls, the ones
the GraphQL layer makes, on each store in turn. Every call is timed alone
(`await store.reader()` included, as a request pays it once); each query kind
runs for --seconds or at least 20 times. Parameters cycle through more values
than the TinyDB snapshot's match cache holds (64), and no two kinds share a
query, so neither store answers from a cache of repeated queries (except
"articles first 20 (newest)", the one unfiltered query, hot in any real use).

The PostgreSQL server: --database-url, else NEWSGRAPH_TEST_DATABASE_URL, else a
throwaway server started the way the tests start one (tests/pg.py). Runs in a
schema of its own (bench_<size>), dropped at the end. Both stores and the server
share this machine's cores: PostgreSQL pays a socket round trip per call that an
in-process snapshot does not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import generate
from graph import filters
from graph.search import parse_query
from graph.search import words as search_words
from graph.seed import seed
from graph.paging import ArticleQuery, OrderKey, ProviderQuery, Window
from graph.store.base import Reader, Store

ROOT = Path(__file__).resolve().parent.parent
CYCLE = 97  # distinct parameter values per query kind: more than the snapshot's 64-query cache
MIN_CALLS = 20


@dataclass
class Sample:
    """Values drawn from the corpus, so that every query finds something."""

    ids: list[str]
    urls: list[str]
    domains: list[str]
    topics: list[str]
    words: list[str]
    rare_words: list[str]
    deep_cursor: tuple[Any, ...]


Call = Callable[[Reader, int], Awaitable[Any]]


def _pick(values: list[Any], n: int) -> Any:
    return values[(n * 7919) % len(values)]


def _batch(values: list[Any], n: int, size: int = 20) -> list[Any]:
    return [_pick(values, n * size + k) for k in range(size)]


def queries(sample: Sample) -> list[tuple[str, Call]]:
    """The fixed set: (name, call). Each call gets the iteration number to vary its parameters."""
    latest = (OrderKey("publishedDateTime", True), OrderKey("id"))
    by_relevance = (OrderKey("relevance", True), OrderKey("id"))

    def article_query(where: dict[str, Any] | None = None, search: str | None = None, order: Any = latest) -> ArticleQuery:
        terms = parse_query(search) if search is not None else None
        return ArticleQuery(filter=filters.build("article", where), search=terms, order=order if not terms else by_relevance)

    return [
        ("get_articles x20 (DataLoader)", lambda r, n: r.get_articles(_batch(sample.ids, n))),
        ("get_articles_by_url x20", lambda r, n: r.get_articles_by_url(_batch(sample.urls, n))),
        ("get_providers x20", lambda r, n: r.get_providers(_batch(sample.domains, n))),
        ("articles first 20 (newest)", lambda r, n: r.find_articles(article_query(), Window(first=20 + n % CYCLE))),
        (
            "articles page after a deep cursor",
            lambda r, n: r.find_articles(article_query({"quality": {"gte": n % CYCLE - 50}}), Window(first=20, after=sample.deep_cursor)),
        ),
        (
            "articles where provider domain eq",
            lambda r, n: r.find_articles(article_query({"provider": {"domain": {"eq": _pick(sample.domains, n)}}}), Window(first=20)),
        ),
        (
            "articles where title contains",
            lambda r, n: r.find_articles(article_query({"title": {"contains": _pick(sample.words, n)}}), Window(first=20)),
        ),
        (
            "articles where topic has + quality gte",
            lambda r, n: r.find_articles(
                article_query({"topics": {"has": _pick(sample.topics, n)}, "quality": {"gte": 50}}), Window(first=20)
            ),
        ),
        (
            "articles where related some provider name",
            lambda r, n: r.find_articles(
                article_query({"related": {"some": {"provider": {"name": {"startsWith": _pick(sample.words, n)[:3]}}}}}),
                Window(first=20),
            ),
        ),
        ("totalCount where quality gt", lambda r, n: r.count_articles(article_query({"quality": {"gt": n % CYCLE}}))),
        ("facets topics (all matches)", lambda r, n: r.facet_counts(article_query({"heat": {"ne": n % CYCLE}}), "topics", 20)),
        ("facets histogram MONTH", lambda r, n: r.histogram(article_query({"quality": {"ne": n % CYCLE}}), "MONTH")),
        ("search one word", lambda r, n: r.find_articles(article_query(search=_pick(sample.words, n)), Window(first=20))),
        (
            "search one rarer word",
            lambda r, n: r.find_articles(article_query(search=_pick(sample.rare_words, n)), Window(first=20)),
        ),
        ("search prefix*", lambda r, n: r.find_articles(article_query(search=_pick(sample.words, n)[:4] + "*"), Window(first=20))),
        (
            "search two words + filter",
            lambda r, n: r.find_articles(
                article_query({"published": {"eq": True}}, search=f"{_pick(sample.words, n)} {_pick(sample.words, n + 1)}"),
                Window(first=20),
            ),
        ),
        ("search totalCount", lambda r, n: r.count_articles(article_query(search=_pick(sample.words, n)))),
        ("providers first 20", lambda r, n: r.find_providers(ProviderQuery(), Window(first=1 + n % 20))),
        ("topics first 20", lambda r, n: r.list_topics(1 + n % 20)),
    ]


async def draw_sample(reader: Reader) -> Sample:
    page = await reader.find_articles(ArticleQuery(), Window(first=100))
    docs = page.items
    deep = await reader.find_articles(ArticleQuery(), Window(first=100, after=page.keys[-1]))
    words: list[str] = []
    for doc in docs:
        words += [w.lower() for w in doc["title"].split() if w.isalpha() and len(w) > 4]
    # Words in the body of one sampled article only: rarer across the corpus than title words.
    seen = Counter(w for doc in docs for w in set(search_words(doc.get("body") or "")) if len(w) > 4)
    rare = sorted(w for w, count in seen.items() if count == 1) or sorted(seen)
    topics = [t["name"] for t in await reader.list_topics(50)]
    providers = await reader.find_providers(ProviderQuery(), Window(first=60))
    return Sample(
        ids=[d["id"] for d in docs],
        urls=[d["webUrl"] for d in docs if d.get("webUrl")],
        domains=[p["domain"] for p in providers.items],
        topics=topics,
        words=sorted(set(words)),
        rare_words=rare,
        deep_cursor=deep.keys[-1],
    )


async def measure(store: Store, call: Call, seconds: float) -> list[float]:
    """Latencies (ms) of reader() + call, for `seconds` or MIN_CALLS calls, whichever is more."""
    latencies: list[float] = []
    started = time.perf_counter()
    n = 0
    while n < MIN_CALLS or time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        reader = await store.reader()
        await call(reader, n)
        latencies.append((time.perf_counter() - begin) * 1000)
        n += 1
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _database_url(given: str | None) -> tuple[str, Callable[[], None]]:
    if given:
        return given, lambda: None
    if os.environ.get("NEWSGRAPH_TEST_DATABASE_URL"):
        return os.environ["NEWSGRAPH_TEST_DATABASE_URL"], lambda: None
    sys.path.insert(0, str(ROOT / "tests"))
    import pg  # the tests' throwaway-server helper

    return pg.server_url(), pg.stop


async def run_size(count: int, seconds: float, base_url: str, workdir: Path) -> list[tuple[str, list[float], list[float]]]:
    import psycopg

    from graph.store.postgres.store import PostgresStore
    from graph.store.tinydb.store import TinyDBStore

    corpus = workdir / f"corpus-{count}"
    started = time.perf_counter()
    generate(corpus, count, 1)
    print(f"  generated {count} files in {time.perf_counter() - started:.1f} s", flush=True)

    schema = f"bench_{count}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    pg_url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
    stores: dict[str, Store] = {
        "tinydb": TinyDBStore(workdir / f"tinydb-{count}.json"),
        "postgres": PostgresStore(pg_url),
    }
    try:
        for name, store in stores.items():
            await store.open()
            started = time.perf_counter()
            report = await seed(store, [corpus])
            assert not report.errors, report.errors[:3]
            print(f"  seeded {name}: {report.loaded} articles in {time.perf_counter() - started:.1f} s", flush=True)
        if hasattr(stores["postgres"], "_pool"):
            # Fresh statistics, as autovacuum would have gathered them a minute after a seed.
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("ANALYZE")
        sample = await draw_sample(await stores["tinydb"].reader())
        results = []
        for label, call in queries(sample):
            timings = [await measure(stores[name], call, seconds) for name in ("tinydb", "postgres")]
            results.append((label, *timings))
            print(f"    {label}", flush=True)
        return results
    finally:
        for store in stores.values():
            await store.close()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def table(count: int, results: list[tuple[str, list[float], list[float]]]) -> str:
    width = max(len(label) for label, _, _ in results)
    lines = [
        f"{count:,} articles (ms per call, reader() included)",
        f"{'query':<{width}}  {'tinydb p50':>10} {'p99':>8}  {'postgres p50':>12} {'p99':>8}  {'pg/tinydb p50':>13}",
    ]
    for label, tiny, post in results:
        t50, t99, p50, p99 = (percentile(tiny, 50), percentile(tiny, 99), percentile(post, 50), percentile(post, 99))
        lines.append(f"{label:<{width}}  {t50:>10.3f} {t99:>8.3f}  {p50:>12.3f} {p99:>8.3f}  {p50 / t50:>12.1f}x")
    total_tiny = statistics.fmean(percentile(t, 50) for _, t, _ in results)
    total_post = statistics.fmean(percentile(p, 50) for _, _, p in results)
    lines.append(f"{'mean of p50s':<{width}}  {total_tiny:>10.3f} {'':>8}  {total_post:>12.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stores_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes (default: 10000,100000)")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per query kind and store (default: 2)")
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: see the module docstring)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    base_url, stop = _database_url(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="stores-bench-") as folder:
            for count in sizes:
                print(f"== {count:,} articles", flush=True)
                results = asyncio.run(run_size(count, args.seconds, base_url, Path(folder)))
                print(table(count, results), flush=True)
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
