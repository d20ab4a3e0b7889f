"""The PostgreSQL store's tables, created and upgraded by numbered migrations.

``migrate`` runs at every store open (seed, serve) and by ``newsgraph db
migrate``. It takes a database-wide advisory lock, so several processes
starting at once apply each migration exactly once, and applies the missing
ones in order, each in the same transaction as its ``ng_migrations`` record.
A database whose schema is newer than this code is refused, never modified.

All tables are prefixed ``ng_`` and live in the first schema of the
connection's search_path (choose one with ``?options=-csearch_path%3Dname``).
Text that is compared or ordered by code point is ``COLLATE "C"``, which
compares UTF-8 bytes, i.e. code points, exactly as Python compares str.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graph.store.postgres import stories as pg_stories
from graph.store.base import StoreError
from graph.store.postgres.rows import DERIVATION

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# pg_advisory_xact_lock key: "newsgraph" folded into a bigint.
MIGRATION_LOCK = 0x6E657773_67726170


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "articles as JSONB documents, catalog tables, search words, indexes",
        """
        CREATE TABLE ng_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version text NOT NULL,
            article_count bigint NOT NULL DEFAULT 0,
            total_length double precision NOT NULL DEFAULT 0,
            derivation integer NOT NULL
        );
        CREATE TABLE ng_articles (
            id text COLLATE "C" PRIMARY KEY,
            doc jsonb NOT NULL,
            fdoc jsonb NOT NULL,
            body_cf text NOT NULL,
            title text COLLATE "C",
            title_key text COLLATE "C",
            category text COLLATE "C",
            type text COLLATE "C",
            quality numeric,
            heat numeric,
            published boolean NOT NULL,
            published_at timestamptz,
            published_text text COLLATE "C",
            provider_domain text COLLATE "C",
            topics text[] COLLATE "C" NOT NULL,
            words text[] COLLATE "C" NOT NULL,
            tf_cum double precision[] NOT NULL,
            search_length double precision NOT NULL,
            mentions jsonb NOT NULL,
            seed_path text,
            seed_hash text
        );
        CREATE INDEX ng_articles_doc ON ng_articles USING gin (doc jsonb_path_ops);
        CREATE INDEX ng_articles_topics ON ng_articles USING gin (topics);
        CREATE INDEX ng_articles_words ON ng_articles USING gin (words);
        CREATE INDEX ng_articles_published ON ng_articles (published_text DESC NULLS LAST, id);
        CREATE INDEX ng_articles_published_at ON ng_articles (published_at);
        CREATE INDEX ng_articles_quality ON ng_articles (quality);
        CREATE INDEX ng_articles_heat ON ng_articles (heat);
        CREATE INDEX ng_articles_provider ON ng_articles (provider_domain);
        CREATE TABLE ng_article_urls (
            url text COLLATE "C" NOT NULL,
            id text COLLATE "C" NOT NULL,
            PRIMARY KEY (url, id)
        );
        CREATE INDEX ng_article_urls_id ON ng_article_urls (id);
        CREATE TABLE ng_topics (
            name text COLLATE "C" PRIMARY KEY,
            article_count integer NOT NULL
        );
        CREATE TABLE ng_provider_names (
            domain text COLLATE "C" NOT NULL,
            name text COLLATE "C" NOT NULL,
            mentions integer NOT NULL,
            PRIMARY KEY (domain, name)
        );
        CREATE TABLE ng_providers (
            domain text COLLATE "C" PRIMARY KEY,
            domain_cf text COLLATE "C" NOT NULL,
            name text COLLATE "C" NOT NULL,
            name_cf text COLLATE "C" NOT NULL,
            article_count integer NOT NULL
        );
        CREATE TABLE ng_search_words (
            word text COLLATE "C" PRIMARY KEY,
            df integer NOT NULL
        );
        -- lz4 compresses the large values ~3x faster than the default pglz (bulk loads
        -- ~30% faster, reads decompress faster); servers built without it keep pglz.
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
                ALTER TABLE ng_articles ALTER COLUMN doc SET COMPRESSION lz4, ALTER COLUMN fdoc SET COMPRESSION lz4,
                    ALTER COLUMN body_cf SET COMPRESSION lz4,
                    ALTER COLUMN words SET COMPRESSION lz4, ALTER COLUMN tf_cum SET COMPRESSION lz4;
            END IF;
        END
        $$;
        """,
    ),
    Migration(
        2,
        "slim article rows, search groups, topic order, rollups, indexes for the orders and filters served",
        """
        -- Everything large goes out of line (TOAST), so the heap keeps ~0.5 kB a row and
        -- scans for counts, facets and filters read a fraction of the pages; the small
        -- columns that filters, sorts and seed_marks read stay inline (MAIN). Existing
        -- rows take this layout when derivation 2 rewrites them.
        ALTER TABLE ng_articles SET (toast_tuple_target = 128);
        ALTER TABLE ng_articles
            ALTER COLUMN id SET STORAGE MAIN, ALTER COLUMN title SET STORAGE MAIN,
            ALTER COLUMN title_key SET STORAGE MAIN, ALTER COLUMN category SET STORAGE MAIN,
            ALTER COLUMN type SET STORAGE MAIN, ALTER COLUMN published_text SET STORAGE MAIN,
            ALTER COLUMN provider_domain SET STORAGE MAIN, ALTER COLUMN topics SET STORAGE MAIN,
            ALTER COLUMN seed_path SET STORAGE MAIN, ALTER COLUMN seed_hash SET STORAGE MAIN;
        -- Search groups ("word tf low high", pg_rows.search_group): a one-word search ranks
        -- by reading the few groups that can hold the best scores (pg_sql.group_ranking).
        ALTER TABLE ng_articles ADD COLUMN word_groups text[] COLLATE "C" NOT NULL DEFAULT '{}';
        CREATE INDEX ng_articles_word_groups ON ng_articles USING gin (word_groups);
        CREATE TABLE ng_search_groups (
            key text COLLATE "C" PRIMARY KEY,
            word text COLLATE "C" GENERATED ALWAYS AS (split_part(key, ' ', 1)) STORED,
            tf double precision GENERATED ALWAYS AS (split_part(key, ' ', 2)::double precision) STORED,
            length_low double precision GENERATED ALWAYS AS (split_part(key, ' ', 3)::double precision / 2) STORED,
            length_high double precision GENERATED ALWAYS AS (split_part(key, ' ', 4)::double precision / 2) STORED,
            n integer NOT NULL
        );
        CREATE INDEX ng_search_groups_word ON ng_search_groups (word);
        -- Each article under each of its topics, in the API's default order: a topic's page
        -- is read in order (a GIN index of topics cannot order).
        CREATE TABLE ng_article_topics (
            topic text COLLATE "C" NOT NULL,
            published_text text COLLATE "C",
            id text COLLATE "C" NOT NULL
        );
        CREATE INDEX ng_article_topics_order ON ng_article_topics (topic, published_text DESC NULLS LAST, id);
        CREATE INDEX ng_article_topics_id ON ng_article_topics (id);
        -- Rollups (pg_rollup): per month and per day of publishedDateTime (grain 'm' or 'd';
        -- undated articles in month 'infinity') the count, stats and facet counts; per
        -- (provider, category, type, published) the count. Recounted in the write
        -- transaction that changes them.
        CREATE TABLE ng_periods (
            grain "char" NOT NULL,
            period date NOT NULL,
            n bigint NOT NULL,
            quality_count bigint NOT NULL, quality_min numeric, quality_max numeric, quality_sum numeric,
            heat_count bigint NOT NULL, heat_min numeric, heat_max numeric, heat_sum numeric,
            first_text text COLLATE "C", last_text text COLLATE "C",
            PRIMARY KEY (grain, period)
        );
        CREATE TABLE ng_period_facets (
            grain "char" NOT NULL,
            period date NOT NULL,
            kind smallint NOT NULL,
            value text COLLATE "C" NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (grain, period, kind, value)
        );
        CREATE TABLE ng_combos (
            key text COLLATE "C" PRIMARY KEY,
            provider_domain text COLLATE "C",
            category text COLLATE "C",
            type text COLLATE "C",
            published boolean NOT NULL,
            n bigint NOT NULL
        );
        -- eq on title/category/type reads the columns; eq on the URLs goes through
        -- ng_article_urls: nothing uses the (large, write-heavy) index of whole documents.
        DROP INDEX ng_articles_doc;
        -- Orders as the API sorts (DESC NULLS LAST, then id), alone and after the
        -- equality filters most used, so a page is read in order and stops at first + 1.
        DROP INDEX ng_articles_quality;
        DROP INDEX ng_articles_heat;
        DROP INDEX ng_articles_provider;
        CREATE INDEX ng_articles_quality ON ng_articles (quality DESC NULLS LAST, id);
        CREATE INDEX ng_articles_heat ON ng_articles (heat DESC NULLS LAST, id);
        CREATE INDEX ng_articles_title ON ng_articles (title_key, title, id);
        CREATE INDEX ng_articles_provider ON ng_articles (provider_domain, published_text DESC NULLS LAST, id);
        CREATE INDEX ng_articles_category ON ng_articles (category, published_text DESC NULLS LAST, id);
        """,
    ),
    Migration(
        3,
        "word sequences for phrase search",
        """
        -- Each phrase field's folded words (graph.search.phrase_lines), and the canonical provider
        -- name's: a phrase is a regular expression on them, checked after the word index narrowed
        -- the rows. Existing rows get theirs when derivation 3 rewrites them.
        ALTER TABLE ng_articles ADD COLUMN phrase_lines text NOT NULL DEFAULT '';
        ALTER TABLE ng_articles ALTER COLUMN phrase_lines SET STORAGE EXTENDED;
        ALTER TABLE ng_providers ADD COLUMN name_words text NOT NULL DEFAULT '';
        """,
    ),
    Migration(4, "stories: links by URL, story members, story summaries", pg_stories.MIGRATION_SQL),
    Migration(
        5,
        "change records of writes, for live subscriptions (graph.live)",
        """
        -- One row per write: the ids it added, updated and removed, and the documents of the
        -- updated and removed ones as they were before it (subscriptions match those). The write
        -- NOTIFYs newsgraph_changes with 'seq version'; every serve process reads the row.
        CREATE TABLE ng_changes (
            seq bigserial PRIMARY KEY,
            version text NOT NULL,
            added text[] NOT NULL,
            updated text[] NOT NULL,
            removed text[] NOT NULL,
            before jsonb NOT NULL,
            made_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ng_changes_made_at ON ng_changes (made_at);
        """,
    ),
    Migration(
        6,
        "quality beside each article's topics, in the topic order's index",
        """
        -- A topic's page with a quality range (and its count) is decided from the topic's index
        -- alone: the rows outside the range are skipped in the index instead of being fetched from
        -- ng_articles one by one, and the count is an index-only scan (issue 18).
        ALTER TABLE ng_article_topics ADD COLUMN quality numeric;
        UPDATE ng_article_topics tp SET quality = a.quality FROM ng_articles a WHERE a.id = tp.id;
        DROP INDEX ng_article_topics_order;
        CREATE INDEX ng_article_topics_order ON ng_article_topics (topic, published_text DESC NULLS LAST, id)
            INCLUDE (quality);
        """,
    ),
    Migration(
        7,
        "a trigram index of casefolded titles, where pg_trgm is available",
        """
        -- `title: {contains: ...}` (and every count of it) read every title: 16 requests/s at
        -- 100k against PostGraphile's 209 with a trigram index (issue 18). The filter is a LIKE
        -- on title_key, which a pg_trgm GIN index narrows (then rechecks exactly). pg_trgm is a
        -- trusted extension, but a role without CREATE on the database, or a server without
        -- contrib, cannot have it: such a database keeps working, scanning the titles as before.
        -- A pg_trgm of our making lives in a schema of its own (ng_extensions), never in the
        -- schema of newsgraph's tables: dropping one newsgraph schema (CASCADE) must not drop the
        -- extension, and with it the indexes, and locks on the tables, of every other schema.
        DO $$
        DECLARE
            home name;
        BEGIN
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    CREATE SCHEMA IF NOT EXISTS ng_extensions;
                    CREATE EXTENSION pg_trgm SCHEMA ng_extensions;
                END IF;
            EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
                RAISE NOTICE 'pg_trgm is not available (%): title contains reads every title', SQLERRM;
            END;
            SELECT n.nspname INTO home FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'pg_trgm';
            IF home IS NOT NULL THEN
                EXECUTE format('CREATE INDEX ng_articles_title_trgm ON ng_articles USING gin (title_key %I.gin_trgm_ops)',
                    home);
            END IF;
        END
        $$;
        """,
    ),
)
LATEST = MIGRATIONS[-1].version
# The tables that hold data (ng_articles, what is derived from it, and the change records of its
# writes; emptied together when a database is emptied).
DATA_TABLES = (
    "ng_articles",
    "ng_article_urls",
    "ng_article_topics",
    "ng_topics",
    "ng_provider_names",
    "ng_providers",
    "ng_search_words",
    "ng_search_groups",
    "ng_periods",
    "ng_period_facets",
    "ng_combos",
    *pg_stories.TABLES,
    "ng_changes",
)


@dataclass
class MigrationReport:
    """What migrate did: the versions it applied, the version the database is at, whether rows were rebuilt."""

    applied: list[int] = field(default_factory=list)
    version: int = 0
    rebuilt: bool = False

    def summary(self) -> str:
        if self.applied:
            done = "applied " + ", ".join(str(v) for v in self.applied)
        else:
            done = "nothing to apply"
        line = f"schema at version {self.version} ({done})"
        if self.rebuilt:
            line += "; derived columns rebuilt"
        return line


async def migrate(conn: AsyncConnection, rebuild: bool = False) -> MigrationReport:
    """Bring the schema up to date (and derived data, see pg_rows.DERIVATION); conn must be in autocommit mode."""
    from graph.store.postgres.writes import rebuild_rows

    report = MigrationReport()
    read_only = await (await conn.execute("SELECT current_setting('transaction_read_only') = 'on'")).fetchone()
    if read_only and read_only[0]:
        return await _check_read_only(conn)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        encoding = await (await conn.execute("SHOW server_encoding")).fetchone()
        if encoding is None or encoding[0] != "UTF8":
            raise StoreError(f"the database encoding is {encoding[0] if encoding else '?'}; newsgraph needs UTF8")
        schema = await (await conn.execute("SELECT current_schema()")).fetchone()
        if schema is None or schema[0] is None:
            raise StoreError("no schema to create tables in: the search_path names no existing schema")
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS ng_migrations (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await (await conn.execute("SELECT version FROM ng_migrations")).fetchall()
        applied = {row[0] for row in rows}
        newest = max(applied, default=0)
        if newest > LATEST:
            raise StoreError(
                f"the database schema is at version {newest}, newer than this newsgraph knows ({LATEST}); "
                "upgrade newsgraph"
            )
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO ng_migrations (version, description) VALUES (%s, %s)",
                (migration.version, migration.description),
            )
            report.applied.append(migration.version)
        await conn.execute(
            "INSERT INTO ng_state (version, derivation) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (uuid.uuid4().hex, DERIVATION),
        )
        state = await (await conn.execute("SELECT derivation FROM ng_state")).fetchone()
        assert state is not None
        if rebuild or state[0] != DERIVATION:
            await rebuild_rows(conn)
            report.rebuilt = True
        elif 4 in report.applied:
            await pg_stories.rebuild(conn)  # the stories of articles stored before stories existed
        report.version = LATEST
    return report


async def _check_read_only(conn: AsyncConnection) -> MigrationReport:
    """On a read-only connection (a hot-standby replica): check the schema, change nothing.

    A replica gets its schema from the primary; serving from one whose schema
    this code does not match would give wrong answers, so that is refused.
    """
    where = "the database is read-only (a replica?)"
    exists = await (await conn.execute("SELECT to_regclass('ng_migrations') IS NOT NULL")).fetchone()
    if not exists or not exists[0]:
        raise StoreError(f"{where} and has no newsgraph schema: run `newsgraph db migrate` against the primary")
    version = await (await conn.execute("SELECT coalesce(max(version), 0) FROM ng_migrations")).fetchone()
    state = await (await conn.execute("SELECT derivation FROM ng_state")).fetchone()
    at = version[0] if version else 0
    if at > LATEST:
        raise StoreError(
            f"the database schema is at version {at}, newer than this newsgraph knows ({LATEST}); upgrade newsgraph"
        )
    if at != LATEST or state is None or state[0] != DERIVATION:
        raise StoreError(
            f"{where} and its schema is at version {at}, this newsgraph needs {LATEST}"
            + ("" if state is None or state[0] == DERIVATION else f" with derivation {DERIVATION}")
            + ": run `newsgraph db migrate` against the primary"
        )
    return MigrationReport(applied=[], version=at)
