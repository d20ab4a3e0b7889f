"""Writing to the PostgreSQL store: one transaction per write, catalogs kept in step.

A write replaces/inserts documents and deletes ids, and in the same
transaction keeps the derived tables in step: ``ng_search_words`` (document
frequency per folded word), ``ng_search_groups`` (articles per search group),
``ng_topics``, ``ng_provider_names`` (how often each name is seen per domain)
and, from those, ``ng_providers`` (canonical name, articleCount), and the
rollups of graph.store.postgres.rollups. The rows being replaced take away what they
counted, the new rows are streamed into COPY while they are derived (the
server parses one chunk while Python derives the next) and add what they
count. ``ng_state`` gets a new version, so every process sees the change at
its next request. Writers queue on a row lock of ``ng_state``; readers never
wait.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from psycopg.types.json import Jsonb

from graph.search import phrase_lines, words
from graph.store.postgres import rollups as pg_rollup, stories as pg_stories
from graph.store.base import Document, WriteResult
from graph.store.changes import classify
from graph.store.postgres.rows import COLUMNS, DERIVATION, Row, article_id, best_name, derive

if TYPE_CHECKING:
    from psycopg import AsyncConnection

REBUILD_BATCH = 1000


def _text_array(values: Sequence[str]) -> str:
    """A text[] literal. Formatted here because psycopg's generic list dumper is the slowest part of a bulk load."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _float_array(values: Sequence[float]) -> str:
    return "{" + ",".join(map(repr, values)) + "}"


def _copy_values(row: Row) -> tuple[Any, ...]:
    return (
        row.id,
        row.doc_json.decode(),
        orjson.dumps(row.fdoc).decode(),
        row.body_cf,
        row.title,
        row.title_key,
        row.category,
        row.type,
        row.quality,
        row.heat,
        row.published,
        row.published_at,
        row.published_text,
        row.provider_domain,
        _text_array(row.topics),
        _text_array(row.words),
        _float_array(row.tf_cum),
        row.search_length,
        _text_array(row.word_groups),
        row.phrase_lines,
        orjson.dumps(row.mentions).decode(),
        row.seed_path,
        row.seed_hash,
    )


COPY_CHUNK = 1 << 20


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        # COPY's text format: a backslash and the row and column separators are escaped
        # (chained replace is C-speed; str.translate with a table is several times slower).
        if "\\" in value:
            value = value.replace("\\", "\\\\")
        return value.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return value.isoformat()  # datetime


def _copy_line(values: Sequence[Any]) -> str:
    return "\t".join(map(_copy_field, values)) + "\n"


async def _copy(conn: AsyncConnection, statement: str, lines: Iterable[str]) -> None:
    """COPY ... FROM STDIN with lines formatted here, sent in large chunks (psycopg's per-row adaptation
    was most of a bulk load's time)."""
    async with conn.cursor() as cursor:
        async with cursor.copy(statement) as copy:
            chunk: list[str] = []
            size = 0
            for line in lines:
                chunk.append(line)
                size += len(line)
                if size >= COPY_CHUNK:
                    await copy.write("".join(chunk).encode())
                    chunk, size = [], 0
            if chunk:
                await copy.write("".join(chunk).encode())


@dataclass
class Tally:
    """What streamed rows add to the catalog tables."""

    rows: int = 0
    length: float = 0.0
    words: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    names: Counter[tuple[str, str]] = field(default_factory=Counter)
    url_lines: list[str] = field(default_factory=list)
    topic_lines: list[str] = field(default_factory=list)


def _derived_lines(docs: Iterable[Document], tally: Tally) -> Iterator[str]:
    """COPY lines of ng_articles, deriving each row as it is needed and counting what it adds."""
    for doc in docs:
        row = derive(doc)
        tally.rows += 1
        tally.length += row.search_length
        tally.words.update(row.words)
        tally.groups.update(row.word_groups)
        tally.topics.update(row.topics)
        tally.names.update((m[1], m[2]) for m in row.mentions)
        tally.url_lines.extend(_copy_line((url, row.id)) for url in row.urls)
        tally.topic_lines.extend(_copy_line((topic, row.published_text, row.id, row.quality)) for topic in row.topics)
        yield _copy_line(_copy_values(row))


async def copy_documents(conn: AsyncConnection, docs: Iterable[Document]) -> Tally:
    """Derive and COPY documents into ng_articles, their URLs into ng_article_urls and their topics into
    ng_article_topics (old rows must be gone)."""
    tally = Tally()
    await _copy(conn, f"COPY ng_articles ({', '.join(COLUMNS)}) FROM STDIN", _derived_lines(docs, tally))
    if tally.url_lines:
        await _copy(conn, "COPY ng_article_urls (url, id) FROM STDIN", tally.url_lines)
    if tally.topic_lines:
        await _copy(conn, "COPY ng_article_topics (topic, published_text, id, quality) FROM STDIN", tally.topic_lines)
    return tally


# Counting tables: (table, key column, count column, the old rows' counts by key).
COUNTERS = {
    "words": (
        "ng_search_words",
        "word",
        "df",
        "SELECT w, count(*)::integer FROM ng_articles a, unnest(a.words) AS w WHERE a.id = ANY(%(ids)s) GROUP BY w",
    ),
    "groups": (
        "ng_search_groups",
        "key",
        "n",
        "SELECT g, count(*)::integer FROM ng_articles a, unnest(a.word_groups) AS g WHERE a.id = ANY(%(ids)s) "
        "GROUP BY g",
    ),
    "topics": (
        "ng_topics",
        "name",
        "article_count",
        "SELECT t, count(*)::integer FROM ng_articles a, unnest(a.topics) AS t WHERE a.id = ANY(%(ids)s) GROUP BY t",
    ),
}
OLD_NAMES = """
    SELECT m->>1, m->>2, count(*)::integer FROM ng_articles a, jsonb_array_elements(a.mentions) AS m
    WHERE a.id = ANY(%(ids)s) GROUP BY 1, 2
"""


async def _subtract_old(conn: AsyncConnection, ids: list[str]) -> dict[str, list[Any]]:
    """Take away what the rows about to be replaced or deleted counted; returns the keys that reached 0."""
    emptied: dict[str, list[Any]] = {}
    for name, (table, key, count, old) in COUNTERS.items():
        cursor = await conn.execute(
            f"WITH old(k, c) AS ({old}) UPDATE {table} AS t SET {count} = t.{count} - old.c FROM old "
            f"WHERE t.{key} = old.k RETURNING t.{key}, t.{count}",
            {"ids": ids},
        )
        emptied[name] = [k for k, c in await cursor.fetchall() if c <= 0]
    cursor = await conn.execute(
        f"WITH old(d, n, c) AS ({OLD_NAMES}) UPDATE ng_provider_names AS t SET mentions = t.mentions - old.c "
        "FROM old WHERE t.domain = old.d AND t.name = old.n RETURNING t.domain, t.name, t.mentions",
        {"ids": ids},
    )
    emptied["names"] = [(d, n) for d, n, c in await cursor.fetchall() if c <= 0]
    return emptied


async def _add_new(conn: AsyncConnection, tally: Tally) -> None:
    """Add what the new rows count."""
    for name, (table, key, count, _old) in COUNTERS.items():
        counted: Counter[str] = getattr(tally, name)
        if counted:
            # In key order (Python's str order is the keys' COLLATE "C" order): the primary key's
            # B-tree is then filled page after page instead of at random places (10k articles,
            # its search groups: 5.1-6.2 s -> 1.6-2.0 s on a loaded machine).
            keys = sorted(counted)
            await conn.execute(
                f"INSERT INTO {table} AS t ({key}, {count}) SELECT * FROM unnest(%s::text[], %s::integer[]) "
                f"ON CONFLICT ({key}) DO UPDATE SET {count} = t.{count} + excluded.{count}",
                (keys, [counted[k] for k in keys]),
            )
    if tally.names:
        await conn.execute(
            """
            INSERT INTO ng_provider_names AS t (domain, name, mentions)
            SELECT * FROM unnest(%s::text[], %s::text[], %s::integer[])
            ON CONFLICT (domain, name) DO UPDATE SET mentions = t.mentions + excluded.mentions
            """,
            ([d for d, _ in tally.names], [n for _, n in tally.names], list(tally.names.values())),
        )


async def _drop_emptied(conn: AsyncConnection, emptied: dict[str, list[Any]]) -> None:
    """Remove the counters the old rows emptied and the new rows did not fill again."""
    for name, (table, key, count, _old) in COUNTERS.items():
        if emptied[name]:
            await conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s) AND {count} <= 0", (emptied[name],))
    if emptied["names"]:
        await conn.execute(
            """
            DELETE FROM ng_provider_names t USING unnest(%s::text[], %s::text[]) AS z(d, n)
            WHERE t.domain = z.d AND t.name = z.n AND t.mentions <= 0
            """,
            ([d for d, _ in emptied["names"]], [n for _, n in emptied["names"]]),
        )


async def refresh_providers(conn: AsyncConnection, domains: Sequence[str]) -> None:
    """Recompute ng_providers rows (canonical name, articleCount) for these domains from the counts."""
    if not domains:
        return
    cursor = await conn.execute(
        """
        SELECT n.domain, n.name, n.mentions, coalesce(c.articles, 0)
        FROM ng_provider_names n LEFT JOIN (
            SELECT provider_domain AS domain, count(*) AS articles FROM ng_articles
            WHERE provider_domain = ANY(%(domains)s) GROUP BY 1
        ) AS c USING (domain)
        WHERE n.domain = ANY(%(domains)s) AND n.mentions > 0
        """,
        {"domains": list(domains)},
    )
    names: dict[str, dict[str, int]] = {}
    articles: dict[str, int] = {}
    for domain, name, mentions, count in await cursor.fetchall():
        names.setdefault(domain, {})[name] = mentions
        articles[domain] = int(count)
    known = sorted(names)
    chosen = [best_name(domain, names[domain]) for domain in known]
    # Domains no longer mentioned anywhere go; the others are inserted or updated.
    await conn.execute(
        """
        WITH gone AS (DELETE FROM ng_providers WHERE domain = ANY(%(domains)s) AND domain <> ALL(%(known)s))
        INSERT INTO ng_providers AS p (domain, domain_cf, name, name_cf, article_count, name_words)
        SELECT * FROM unnest(%(known)s::text[], %(domain_cf)s::text[], %(names)s::text[], %(name_cf)s::text[],
            %(counts)s::integer[], %(name_words)s::text[])
        ON CONFLICT (domain) DO UPDATE SET name = excluded.name, name_cf = excluded.name_cf,
            article_count = excluded.article_count, name_words = excluded.name_words
        """,
        {
            "domains": list(domains),
            "known": known,
            "domain_cf": [d.casefold() for d in known],
            "names": chosen,
            "name_cf": [n.casefold() for n in chosen],
            "counts": [articles[d] for d in known],
            "name_words": [phrase_lines([words(n)]) for n in chosen],
        },
    )


CHANGES_CHANNEL = "newsgraph_changes"
# Change records are read by listeners the moment the write commits; older ones are dropped.
CHANGES_KEPT = "1 hour"


async def _record_changes(
    conn: AsyncConnection, version: str, latest: dict[str, Document], delete_ids: set[str], ids: list[str]
) -> int:
    """Record what this write changes (before it changes it) in ng_changes; returns the record's seq."""
    cursor = await conn.execute("SELECT id, doc FROM ng_articles WHERE id = ANY(%s)", (ids,))
    before = {article_id: doc for article_id, doc in await cursor.fetchall()}
    added, updated, removed = classify({i: before.get(i) for i in ids}, latest.get)
    await conn.execute("DELETE FROM ng_changes WHERE made_at < now() - %s::interval", (CHANGES_KEPT,))
    cursor = await conn.execute(
        "INSERT INTO ng_changes (version, added, updated, removed, before) VALUES (%s, %s, %s, %s, %s) RETURNING seq",
        (version, list(added), list(updated), list(removed), Jsonb({i: before[i] for i in updated + removed})),
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def write(conn: AsyncConnection, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
    """Replace/insert documents by id and delete ids in one transaction (conn in autocommit mode)."""
    latest: dict[str, Document] = {}
    for doc in upserts:
        latest[article_id(doc)] = doc  # the last of several upserts of one id wins, as in the TinyDB store
    delete_ids = set(deletes)
    ids = sorted(delete_ids | set(latest))
    version = uuid.uuid4().hex
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM ng_state FOR UPDATE")  # one writer at a time
        cursor = await conn.execute(
            """
            SELECT (SELECT count(*) FROM ng_articles WHERE id = ANY(%s)),
                ARRAY(SELECT DISTINCT m->>1 FROM ng_articles a, jsonb_array_elements(a.mentions) AS m
                      WHERE a.id = ANY(%s))
            """,
            (sorted(delete_ids), ids),
        )
        existing = await cursor.fetchone()
        assert existing is not None
        deleted = int(existing[0])  # as the TinyDB store counts: deletes of ids that were stored
        record = await _record_changes(conn, version, latest, delete_ids, ids)
        emptied = await _subtract_old(conn, ids)
        old_periods = await pg_rollup.before_write(conn, ids)
        old_stories = await pg_stories.before_write(conn, ids)
        cursor = await conn.execute(
            """
            WITH gone AS (DELETE FROM ng_articles WHERE id = ANY(%s) RETURNING search_length)
            SELECT count(*), coalesce(sum(search_length), 0) FROM gone
            """,
            (ids,),
        )
        gone = await cursor.fetchone()
        assert gone is not None
        await conn.execute("DELETE FROM ng_article_urls WHERE id = ANY(%s)", (ids,))
        await conn.execute("DELETE FROM ng_article_topics WHERE id = ANY(%s)", (ids,))
        tally = await copy_documents(conn, latest.values())
        await _add_new(conn, tally)
        await _drop_emptied(conn, emptied)
        await refresh_providers(conn, sorted(set(existing[1]) | {d for d, _ in tally.names}))
        await pg_rollup.after_write(conn, ids, old_periods)
        await pg_stories.after_write(conn, ids, list(latest.values()), old_stories)
        await conn.execute(
            """
            UPDATE ng_state SET version = %s, article_count = article_count + %s,
                total_length = total_length + %s - %s
            """,
            (version, tally.rows - gone[0], tally.length, gone[1]),
        )
        # Delivered at commit, so a listener reads the write's data (graph.store.postgres.store.changes).
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, f"{record} {version}"))
    return WriteResult(written=len(upserts), deleted=deleted, version=version)


async def rebuild_rows(conn: AsyncConnection) -> None:
    """Re-derive every row from its stored document and recount the catalogs (inside a transaction).

    Runs when pg_rows.DERIVATION changed since the rows were written, or when asked
    (``newsgraph db migrate --rebuild``).
    """
    await conn.execute(
        "TRUNCATE ng_article_urls, ng_article_topics, ng_topics, ng_provider_names, ng_providers, ng_search_words, "
        "ng_search_groups"
    )
    ids = [i for (i,) in await (await conn.execute("SELECT id FROM ng_articles ORDER BY id")).fetchall()]
    total = Tally()
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start : start + REBUILD_BATCH]
        cursor = await conn.execute("SELECT doc::text FROM ng_articles WHERE id = ANY(%s) ORDER BY id", (batch,))
        docs = [orjson.loads(text) for (text,) in await cursor.fetchall()]
        await conn.execute("DELETE FROM ng_articles WHERE id = ANY(%s)", (batch,))
        tally = await copy_documents(conn, docs)
        total.rows += tally.rows
        total.length += tally.length
        total.words.update(tally.words)
        total.groups.update(tally.groups)
        total.topics.update(tally.topics)
        total.names.update(tally.names)
    await _add_new(conn, total)
    await refresh_providers(conn, sorted({d for d, _ in total.names}))
    await pg_rollup.rebuild(conn)
    await pg_stories.rebuild(conn)
    await conn.execute(
        "UPDATE ng_state SET version = %s, derivation = %s, article_count = %s, total_length = %s",
        (uuid.uuid4().hex, DERIVATION, total.rows, total.length),
    )
