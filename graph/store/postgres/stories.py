"""Stories in the PostgreSQL store: tables kept in the write transaction, and the story reads.

``ng_story_links`` holds every URL an article mentions (its own four, and its
related items' three, flagged ``related``), indexed by URL and by article, so
a write finds what its articles link to without reading other documents.
``ng_story_articles`` maps each article to its story and ``ng_stories`` holds
each story's summary (graph.stories.summarize), indexed for every story order.
A write regroups only the stories it touches (graph.stories.recompute, over
these tables) before it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from graph import stories
from graph.documents import RELATED_URL_FIELDS, URL_FIELDS
from graph.store.base import Document
from graph.store.postgres.sql import Ordering, _ordering

if TYPE_CHECKING:
    from psycopg import AsyncConnection

MIGRATION_SQL = """
CREATE TABLE ng_story_links (
    url text COLLATE "C" NOT NULL,
    article_id text COLLATE "C" NOT NULL,
    related boolean NOT NULL
);
CREATE INDEX ng_story_links_url ON ng_story_links (url);
CREATE INDEX ng_story_links_article ON ng_story_links (article_id);
CREATE TABLE ng_story_articles (
    article_id text COLLATE "C" PRIMARY KEY,
    story_id text COLLATE "C" NOT NULL
);
CREATE INDEX ng_story_articles_story ON ng_story_articles (story_id, article_id);
CREATE TABLE ng_stories (
    id text COLLATE "C" PRIMARY KEY,
    headline text,  -- null only when the headline article is a damaged document (no title)
    article_count bigint NOT NULL,
    coverage_count bigint NOT NULL,
    first_published text COLLATE "C",
    last_published text COLLATE "C",
    providers jsonb NOT NULL,
    topics jsonb NOT NULL,
    headline_of jsonb NOT NULL
);
CREATE INDEX ng_stories_last ON ng_stories (last_published DESC NULLS LAST, id);
CREATE INDEX ng_stories_first ON ng_stories (first_published DESC NULLS LAST, id);
CREATE INDEX ng_stories_first_asc ON ng_stories (first_published ASC NULLS LAST, id);
CREATE INDEX ng_stories_last_asc ON ng_stories (last_published ASC NULLS LAST, id);
CREATE INDEX ng_stories_article_count ON ng_stories (article_count DESC, id);
CREATE INDEX ng_stories_coverage_count ON ng_stories (coverage_count DESC, id);
"""
TABLES = ("ng_story_links", "ng_story_articles", "ng_stories")
STORY_SORT = {
    "lastPublishedDateTime": ("s.last_published", "text"),
    "firstPublishedDateTime": ("s.first_published", "text"),
    "articleCount": ("s.article_count", "numeric"),
    "coverageCount": ("s.coverage_count", "numeric"),
    "id": ("s.id", "text"),
}
COLUMNS = (
    "s.id, s.headline, s.article_count, s.coverage_count, s.first_published, s.last_published, s.providers, s.topics, "
    "s.headline_of"
)
COLUMN_COUNT = COLUMNS.count(",") + 1


def story_ordering(order: Sequence[Any]) -> Ordering:
    return _ordering(order, {}, STORY_SORT, "story")


def story_of_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "headline": row[1],
        "articleCount": int(row[2]),
        "coverageCount": int(row[3]),
        "firstPublishedDateTime": row[4],
        "lastPublishedDateTime": row[5],
        "providers": row[6],
        "topics": row[7],
        "headlineOf": row[8],
    }


def matching_stories(conditions: Sequence[str]) -> str:
    """SQL: the stories with an article meeting the conditions (over ``ng_articles a``)."""
    if conditions == ["TRUE"]:
        return "TRUE"
    return (
        "s.id IN (SELECT sa.story_id FROM ng_story_articles sa JOIN ng_articles a ON a.id = sa.article_id WHERE "
        + " AND ".join(conditions)
        + ")"
    )


class TableLinks:
    """graph.stories.LinkSource over ng_story_links and ng_story_articles, inside the write transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.old: dict[str, str] = {}

    async def stories_of(self, ids: Sequence[str]) -> dict[str, str]:
        cursor = await self.conn.execute(
            "SELECT article_id, story_id FROM ng_story_articles WHERE article_id = ANY(%s)", (list(ids),)
        )
        found = {a: s for a, s in await cursor.fetchall()}
        self.old.update(found)
        return found

    async def members(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        cursor = await self.conn.execute(
            "SELECT story_id, article_id FROM ng_story_articles WHERE story_id = ANY(%s)", (list(story_ids),)
        )
        found: dict[str, list[str]] = {story: [] for story in story_ids}
        for story, article in await cursor.fetchall():
            found[story].append(article)
        return found

    async def links_of(self, ids: Sequence[str]) -> dict[str, tuple[set[str], set[str]]]:
        cursor = await self.conn.execute(
            """
            SELECT a.id, l.url, l.related FROM ng_articles a LEFT JOIN ng_story_links l ON l.article_id = a.id
            WHERE a.id = ANY(%s)
            """,
            (list(ids),),
        )
        found: dict[str, tuple[set[str], set[str]]] = {}
        for article, url, related in await cursor.fetchall():
            own, rel = found.setdefault(article, (set(), set()))
            if url is not None:
                (rel if related else own).add(url)
        return found

    async def mentioning(self, urls: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        cursor = await self.conn.execute(
            "SELECT url, article_id, related FROM ng_story_links WHERE url = ANY(%s)", (list(urls),)
        )
        found: dict[str, list[tuple[str, bool]]] = {}
        for url, article, related in await cursor.fetchall():
            found.setdefault(url, []).append((article, related))
        return found


def _link_rows(docs: Sequence[Document]) -> list[tuple[str, str, bool]]:
    rows = []
    for doc in docs:
        own, related = stories.links(doc)
        rows += [(url, doc["id"], False) for url in own]
        rows += [(url, doc["id"], True) for url in related]
    return rows


async def _insert_links(conn: AsyncConnection, docs: Sequence[Document]) -> None:
    async with conn.cursor().copy("COPY ng_story_links (url, article_id, related) FROM STDIN") as copy:
        for row in _link_rows(docs):
            await copy.write_row(row)


# What graph.stories.summarize reads of a document, and no more (related items without their
# excerpts and images): a large story is summarized from a fraction of its documents' bytes.
SUMMARY_FIELDS = ("title", "quality", "publishedDateTime", "provider", "topics", *URL_FIELDS)
SUMMARY_DOC = (
    "jsonb_build_object("
    + ", ".join(f"'{name}', a.doc->'{name}'" for name in SUMMARY_FIELDS)
    + ", 'related', (SELECT jsonb_agg(jsonb_build_object("
    + ", ".join(f"'{name}', r->'{name}'" for name in (*RELATED_URL_FIELDS, "provider"))
    + ")) FROM jsonb_array_elements(CASE jsonb_typeof(a.doc->'related') WHEN 'array' "
    "THEN a.doc->'related' ELSE '[]'::jsonb END) AS r))::text"
)


def _present(doc: dict[str, Any]) -> Document:
    """A document as summarize reads it: JSON nulls (absent keys in SQL) dropped."""
    doc = {k: v for k, v in doc.items() if v is not None}
    if "related" in doc:
        doc["related"] = [{k: v for k, v in item.items() if v is not None} for item in doc["related"]]
    return doc


async def _facts(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, Document]:
    """What summarize reads of these articles (SUMMARY_DOC), by id."""
    docs: dict[str, Document] = {}
    for start in range(0, len(ids), 1000):
        cursor = await conn.execute(
            f"SELECT a.id, {SUMMARY_DOC} FROM ng_articles a WHERE a.id = ANY(%s)", (list(ids[start : start + 1000]),)
        )
        docs.update((i, {**_present(orjson.loads(text)), "id": i}) for i, text in await cursor.fetchall())
    return docs


async def before_write(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, Document]:
    """The changed articles as stored before a write (call it before their rows are replaced)."""
    return await _facts(conn, ids)


async def _store(
    conn: AsyncConnection,
    groups: list[list[str]],
    moved: Sequence[str] | None = None,
    known: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Insert these stories (summarized unless ``known`` has them by id) and the story of each member
    (of ``moved`` only, when given)."""
    known = known or {}
    docs = await _facts(conn, [i for group in groups if group[0] not in known for i in group])
    rows = [(member, group[0]) for group in groups for member in group]
    if moved is not None:
        wanted = set(moved)
        rows = [row for row in rows if row[0] in wanted]
    async with conn.cursor().copy("COPY ng_story_articles (article_id, story_id) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)
    async with conn.cursor().copy(
        "COPY ng_stories (id, headline, article_count, coverage_count, first_published, last_published, providers, "
        "topics, headline_of) FROM STDIN"
    ) as copy:
        for group in groups:
            s = known.get(group[0]) or stories.summarize([docs[i] for i in group])
            await copy.write_row(
                (
                    s["id"],
                    s["headline"],
                    s["articleCount"],
                    s["coverageCount"],
                    s["firstPublishedDateTime"],
                    s["lastPublishedDateTime"],
                    orjson.dumps(s["providers"]).decode(),
                    orjson.dumps(s["topics"]).decode(),
                    orjson.dumps(s["headlineOf"]).decode(),
                )
            )


async def after_write(
    conn: AsyncConnection, changed: Sequence[str], docs: Sequence[Document], previous: dict[str, Document]
) -> None:
    """Regroup the stories a write touched (inside its transaction, after ng_articles holds the new rows).

    ``previous``: before_write's answer for the changed ids, read before their rows were replaced.
    """
    await conn.execute("DELETE FROM ng_story_links WHERE article_id = ANY(%s)", (list(changed),))
    await _insert_links(conn, docs)
    source = TableLinks(conn)
    before = {i: stories.links(doc) for i, doc in previous.items()}
    groups = await stories.recompute(source, changed, before)
    touched = sorted({i for group in groups for i in group} | set(changed))
    old = await source.stories_of(touched)
    now = {member: group[0] for group in groups for member in group}
    moved = [i for i in touched if old.get(i) != now.get(i)]  # only these rows change (a large story keeps its own)
    cursor = await conn.execute(
        f"DELETE FROM ng_stories s WHERE s.id = ANY(%s) RETURNING {COLUMNS}", (sorted(set(old.values())),)
    )
    replaced = {row[0]: story_of_row(row) for row in await cursor.fetchall()}
    latest = {doc["id"]: doc for doc in docs}
    moved_set = set(moved)
    known = {}
    for group in groups:
        record = replaced.get(group[0])
        # The same articles as before (none moved in or out): revise by difference.
        if record is not None and record["articleCount"] == len(group) and moved_set.isdisjoint(group):
            edited = [i for i in group if i in previous]
            revised = stories.revise(record, [previous[i] for i in edited], [latest[i] for i in edited])
            if revised is not None:
                known[group[0]] = revised
    await conn.execute("DELETE FROM ng_story_articles WHERE article_id = ANY(%s)", (moved,))
    await _store(conn, groups, moved, known)


async def rebuild(conn: AsyncConnection) -> None:
    """Every story from the stored articles (after the migration that adds the tables, or a rebuild)."""
    await conn.execute("TRUNCATE ng_story_links, ng_story_articles, ng_stories")
    graph: dict[str, tuple[set[str], set[str]]] = {}
    cursor = await conn.execute("SELECT id, doc::text FROM ng_articles ORDER BY id")
    batch: list[Document] = []
    for article, text in await cursor.fetchall():
        doc = {**orjson.loads(text), "id": article}
        graph[article] = stories.links(doc)
        batch.append(doc)
        if len(batch) >= 1000:
            await _insert_links(conn, batch)
            batch = []
    await _insert_links(conn, batch)
    await _store(conn, stories.components(graph))
