"""Writing to the PostgreSQL store: one transaction per write, catalogs kept in step.

A write replaces/inserts documents and deletes ids, and in the same
transaction brings the derived tables up to date by net deltas (what the new
rows add minus what the old rows they replace took away): ``ng_search_words``
(document frequency per folded word), ``ng_topics``, ``ng_provider_names``
(how often each name is seen per domain) and, from those, ``ng_providers``
(canonical name, articleCount). ``ng_state`` gets a new version, so every
process sees the change at its next request. Writers queue on a row lock of
``ng_state``; readers never wait.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from graph.store.base import Document, WriteResult
from graph.store.pg_rows import COLUMNS, DERIVATION, Row, best_name, derive

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
        _float_array(row.tf),
        row.search_length,
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


async def copy_rows(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """COPY rows into ng_articles and their URLs into ng_article_urls (old rows must be gone)."""
    if not rows:
        return
    await _copy(conn, f"COPY ng_articles ({', '.join(COLUMNS)}) FROM STDIN", (_copy_line(_copy_values(r)) for r in rows))
    await _copy(
        conn,
        "COPY ng_article_urls (url, id) FROM STDIN",
        (_copy_line((url, row.id)) for row in rows for url in row.urls),
    )


async def _apply_delta(conn: AsyncConnection, table: str, key: str, count: str, new: str, old: str, params: dict[str, Any]) -> None:
    """Add (new rows' contributions - old rows' contributions) to a counting table; drop what reaches 0."""
    zero = await (
        await conn.execute(
            f"""
            WITH delta AS (
                SELECT k, sum(c)::integer AS c FROM ({new} UNION ALL {old}) AS x(k, c)
                GROUP BY k HAVING sum(c) <> 0
            ), up AS (
                INSERT INTO {table} AS t ({key}, {count}) SELECT k, c FROM delta
                ON CONFLICT ({key}) DO UPDATE SET {count} = t.{count} + excluded.{count}
                RETURNING t.{key} AS k, t.{count} AS c
            )
            SELECT k FROM up WHERE c <= 0
            """,
            params,
        )
    ).fetchall()
    if zero:
        await conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s) AND {count} <= 0", ([k for (k,) in zero],))


def _counts(values: Iterable[str]) -> tuple[list[str], list[int]]:
    counted = Counter(values)
    return list(counted), list(counted.values())


async def refresh_providers(conn: AsyncConnection, domains: Sequence[str]) -> None:
    """Recompute ng_providers rows (canonical name, articleCount) for these domains from the counts."""
    if not domains:
        return
    names: dict[str, dict[str, int]] = {}
    cursor = await conn.execute(
        "SELECT domain, name, mentions FROM ng_provider_names WHERE domain = ANY(%s)", (list(domains),)
    )
    for domain, name, mentions in await cursor.fetchall():
        names.setdefault(domain, {})[name] = mentions
    cursor = await conn.execute(
        "SELECT provider_domain, count(*) FROM ng_articles WHERE provider_domain = ANY(%s) GROUP BY 1",
        (list(domains),),
    )
    articles = dict(await cursor.fetchall())
    await conn.execute("DELETE FROM ng_providers WHERE domain = ANY(%s)", (list(domains),))
    known = sorted(names)
    chosen = [best_name(domain, names[domain]) for domain in known]
    await conn.execute(
        """
        INSERT INTO ng_providers (domain, domain_cf, name, name_cf, article_count)
        SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::integer[])
        """,
        (
            known,
            [d.casefold() for d in known],
            chosen,
            [n.casefold() for n in chosen],
            [articles.get(d, 0) for d in known],
        ),
    )


async def write(conn: AsyncConnection, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
    """Replace/insert documents by id and delete ids in one transaction (conn in autocommit mode)."""
    derived = [derive(doc) for doc in upserts]
    latest: dict[str, Row] = {}
    for row in derived:
        latest[row.id] = row  # the last of several upserts of one id wins, as in the TinyDB store
    rows = list(latest.values())
    delete_ids = set(deletes)
    ids = sorted(delete_ids | set(latest))
    version = uuid.uuid4().hex

    new_words, new_word_counts = _counts(w for row in rows for w in row.words)
    new_topics, new_topic_counts = _counts(t for row in rows for t in row.topics)
    mention_counts = Counter((m[1], m[2]) for row in rows for m in row.mentions)
    params: dict[str, Any] = {
        "ids": ids,
        "words": new_words,
        "word_counts": new_word_counts,
        "topics": new_topics,
        "topic_counts": new_topic_counts,
        "domains": [d for d, _ in mention_counts],
        "names": [n for _, n in mention_counts],
        "name_counts": list(mention_counts.values()),
    }
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM ng_state FOR UPDATE")  # one writer at a time
        cursor = await conn.execute("SELECT id FROM ng_articles WHERE id = ANY(%s)", (sorted(delete_ids),))
        deleted = len(await cursor.fetchall())
        cursor = await conn.execute(
            """
            SELECT DISTINCT m->>1 FROM ng_articles a, jsonb_array_elements(a.mentions) AS m
            WHERE a.id = ANY(%s)
            """,
            (ids,),
        )
        domains = {d for (d,) in await cursor.fetchall()} | set(params["domains"])
        await _apply_delta(
            conn,
            "ng_search_words",
            "word",
            "df",
            "SELECT * FROM unnest(%(words)s::text[], %(word_counts)s::integer[])",
            "SELECT w, -1 FROM ng_articles a, unnest(a.words) AS w WHERE a.id = ANY(%(ids)s)",
            params,
        )
        await _apply_delta(
            conn,
            "ng_topics",
            "name",
            "article_count",
            "SELECT * FROM unnest(%(topics)s::text[], %(topic_counts)s::integer[])",
            "SELECT t, -1 FROM ng_articles a, unnest(a.topics) AS t WHERE a.id = ANY(%(ids)s)",
            params,
        )
        await _apply_names_delta(conn, params)
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
        await copy_rows(conn, rows)
        await refresh_providers(conn, sorted(domains))
        added_length = sum(row.search_length for row in rows)
        await conn.execute(
            """
            UPDATE ng_state SET version = %s, article_count = article_count + %s,
                total_length = total_length + %s - %s
            """,
            (version, len(rows) - gone[0], added_length, gone[1]),
        )
    return WriteResult(written=len(upserts), deleted=deleted, version=version)


async def _apply_names_delta(conn: AsyncConnection, params: dict[str, Any]) -> None:
    zero = await (
        await conn.execute(
            """
            WITH delta AS (
                SELECT d, n, sum(c)::integer AS c FROM (
                    SELECT * FROM unnest(%(domains)s::text[], %(names)s::text[], %(name_counts)s::integer[])
                    UNION ALL
                    SELECT m->>1, m->>2, -1 FROM ng_articles a, jsonb_array_elements(a.mentions) AS m
                    WHERE a.id = ANY(%(ids)s)
                ) AS x(d, n, c)
                GROUP BY d, n HAVING sum(c) <> 0
            ), up AS (
                INSERT INTO ng_provider_names AS t (domain, name, mentions) SELECT d, n, c FROM delta
                ON CONFLICT (domain, name) DO UPDATE SET mentions = t.mentions + excluded.mentions
                RETURNING t.domain, t.name, t.mentions
            )
            SELECT domain, name FROM up WHERE mentions <= 0
            """,
            params,
        )
    ).fetchall()
    if zero:
        await conn.execute(
            """
            DELETE FROM ng_provider_names t USING unnest(%s::text[], %s::text[]) AS z(d, n)
            WHERE t.domain = z.d AND t.name = z.n AND t.mentions <= 0
            """,
            ([d for d, _ in zero], [n for _, n in zero]),
        )


async def rebuild_rows(conn: AsyncConnection) -> None:
    """Re-derive every row from its stored document and recount the catalogs (inside a transaction).

    Runs when pg_rows.DERIVATION changed since the rows were written, or when asked
    (``newsgraph db migrate --rebuild``).
    """
    await conn.execute("TRUNCATE ng_article_urls, ng_topics, ng_provider_names, ng_providers, ng_search_words")
    ids = [article_id for (article_id,) in await (await conn.execute("SELECT id FROM ng_articles ORDER BY id")).fetchall()]
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start : start + REBUILD_BATCH]
        cursor = await conn.execute("SELECT doc::text FROM ng_articles WHERE id = ANY(%s) ORDER BY id", (batch,))
        rows = [derive(orjson.loads(text)) for (text,) in await cursor.fetchall()]
        await conn.execute("DELETE FROM ng_articles WHERE id = ANY(%s)", (batch,))
        await copy_rows(conn, rows)
    await conn.execute(
        "INSERT INTO ng_search_words (word, df) SELECT w, count(*) FROM ng_articles, unnest(words) AS w GROUP BY w"
    )
    await conn.execute(
        "INSERT INTO ng_topics (name, article_count) SELECT t, count(*) FROM ng_articles, unnest(topics) AS t GROUP BY t"
    )
    await conn.execute(
        """
        INSERT INTO ng_provider_names (domain, name, mentions)
        SELECT m->>1, m->>2, count(*) FROM ng_articles, jsonb_array_elements(mentions) AS m GROUP BY 1, 2
        """
    )
    domains = [d for (d,) in await (await conn.execute("SELECT DISTINCT domain FROM ng_provider_names")).fetchall()]
    await refresh_providers(conn, domains)
    await conn.execute(
        """
        UPDATE ng_state SET version = %s, derivation = %s,
            article_count = (SELECT count(*) FROM ng_articles),
            total_length = (SELECT coalesce(sum(search_length), 0) FROM ng_articles)
        """,
        (uuid.uuid4().hex, DERIVATION),
    )
