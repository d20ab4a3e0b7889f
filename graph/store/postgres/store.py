"""The PostgreSQL store: articles as JSONB documents, queries compiled to SQL.

Selected by ``NEWSGRAPH_DATABASE_URL=postgresql://…`` (or ``--database-url``);
everything else (seed, serve, the API) is unchanged. Any number of processes
on any number of machines can serve one database: nothing is cached between
requests except what ``Reader.version`` guards, and that version lives in the
database (``ng_state``), bumped in every write transaction.

- Schema: graph.store.postgres.migrations (versioned migrations, run at open).
- Rows: graph.store.postgres.rows (what is derived from each document in Python).
- Writes: graph.store.postgres.writes (one transaction, catalogs updated by deltas).
- Queries: graph.store.postgres.sql (filter AST, search, order, keyset -> SQL).
- Rollups: graph.store.postgres.rollups (counts and facets by period and combination).
- Reads: graph.store.postgres.reader (one statement per Reader method, on a pooled
  connection: psycopg 3 + psycopg-pool, async).

This module holds the connections: the pool, its recovery when the server goes
down and comes back, the data version shared by the requests waiting for it,
LISTEN for other processes' writes, and the Store methods.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from graph.store.base import Document, SeedMark, StoreError, StoreUnavailable, WriteResult
from graph.store.changes import ChangeSet
from graph.store.postgres import writes as pg_write
from graph.store.postgres.migrations import MigrationReport, migrate
from graph.store.postgres.reader import ACQUIRE_TIMEOUT_SECONDS, PostgresReader
from graph.store.tinydb.snapshot import Snapshot
from graph.store.tinydb.reader import SnapshotReader

log = logging.getLogger("newsgraph.store")
CONNECT_TIMEOUT_SECONDS = 10
# While the database is known to be down, requests fail at once, and one of them every this
# many seconds tries a connection of its own; when it connects, a fresh pool replaces the old
# one (whose reconnection attempts back off exponentially, to minutes after a long outage).
PROBE_INTERVAL_SECONDS = 0.5
# What /healthz may say (no host or URL).
DOWN_REASON = "PostgreSQL does not answer"
POOL_MIN_SIZE = 1
# How often a process whose database refuses LISTEN (a replica) tries again.
REFUSED_LISTEN_RETRY_SECONDS = 60.0
POOL_MAX_SIZE = 10
# The most providers (and unknown domains) kept for one data version; beyond, the next reader starts
# afresh (lookups of made-up domains cannot grow the process without bound).
PROVIDERS_KEPT = 100_000


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
    """Per-connection settings: orjson for JSON, UTC, shortest-exact float text (relevance rounding),
    no JIT, a plan for each statement's own values.

    JIT compilation costs 100+ ms a statement and these statements run in milliseconds; the
    planner's estimates for CTEs and LATERAL joins are loose enough to trigger it anyway.
    psycopg prepares a statement run five times on a connection, and PostgreSQL may then plan it
    once for any values: a date range or a topic would then be planned as if it matched a handful
    of rows whatever it matches. Custom plans keep the statement prepared (parsed once) and plan
    each execution for its values, which takes a fraction of a millisecond here.
    """
    set_json_loads(orjson.loads, conn)
    await conn.execute("SET TimeZone TO 'UTC'")
    await conn.execute("SET extra_float_digits TO 1")
    await conn.execute("SET jit TO off")
    await conn.execute("SET plan_cache_mode TO force_custom_plan")


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


class SharedReads:
    """One read of ng_state for all the requests that wait for it, never one already under way.

    A request that starts while a read is in flight waits for the next read, so the
    database answers it after the request began and it sees every write committed
    before (a seed through one server is visible through another at once); all the
    requests that arrive meanwhile share that next read. Under load this is one round
    trip for many requests instead of one each; alone, a request reads at once.
    """

    def __init__(self, fetch: Callable[[], Awaitable[tuple[Any, ...]]]) -> None:
        self._fetch = fetch
        self._next: asyncio.Future[tuple[Any, ...]] | None = None
        self._reading: asyncio.Task[None] | None = None  # held: the loop keeps tasks weakly

    async def read(self) -> tuple[Any, ...]:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiting = self._next
        if self._reading is None:
            self._reading = asyncio.get_running_loop().create_task(self._read_while_asked())
        # Shielded: a request cancelled while it waits (its client gone, its time up) must not
        # cancel the read the others wait for.
        return await asyncio.shield(waiting)

    async def _read_while_asked(self) -> None:
        try:
            while self._next is not None:
                asked, self._next = self._next, None  # later requests wait for the next read
                try:
                    asked.set_result(await self._fetch())
                except Exception as exc:  # noqa: BLE001 - every waiter gets the failure
                    asked.set_exception(exc)
                except BaseException:
                    asked.cancel()
                    raise
        finally:
            self._reading = None


class PostgresStore:
    """Articles in a PostgreSQL database; see the module docstring."""

    name = "postgres"

    def __init__(self, database_url: str, *, min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE) -> None:
        self.database_url = database_url
        self.where = describe_url(database_url)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._state = SharedReads(self._read_state)
        self._down = False  # a read failed for want of the server, and no probe has connected since
        self._last_probe = 0.0
        self._retired: set[asyncio.Task[None]] = set()  # old pools closing (held: tasks are weak)
        # Providers by domain at one data version, shared by the readers at that version: the
        # catalog changes only in a write, which changes the version, so a provider read once
        # serves every later request at that version (most requests then need no provider
        # statement: an article's related items name other providers, issue 18).
        self._providers: tuple[str, dict[str, dict[str, Any] | None]] = ("", {})

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
        # The server just answered; the pool connects in the background and the first
        # request waits for it (up to ACQUIRE_TIMEOUT_SECONDS) if it must.
        self._pool = await self._new_pool()

    async def _new_pool(self) -> AsyncConnectionPool:
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
        await pool.open(wait=False)
        return pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
        for task in list(self._retired):
            await task

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        """The error for a database that does not answer; the store is down until a probe connects."""
        self._down = True
        return StoreUnavailable(f"{self.where}: cannot read: {_reason(exc)}", DOWN_REASON)

    async def _recover(self) -> AsyncConnectionPool:
        """While down: raise StoreUnavailable at once, except that one request every
        PROBE_INTERVAL_SECONDS tries to connect; when it does, a fresh pool takes over."""
        now = time.monotonic()
        if now - self._last_probe < PROBE_INTERVAL_SECONDS:
            raise StoreUnavailable(f"{self.where}: cannot read: the server did not answer just before", DOWN_REASON)
        self._last_probe = now
        try:
            probe = await psycopg.AsyncConnection.connect(
                self.database_url, autocommit=True, connect_timeout=int(ACQUIRE_TIMEOUT_SECONDS)
            )
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None
        await probe.close()
        if self._down and self._pool is not None:
            old, self._pool = self._pool, await self._new_pool()
            task = asyncio.get_running_loop().create_task(old.close(timeout=1.0))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)
            self._down = False
        assert self._pool is not None
        return self._pool

    async def _opened(self) -> AsyncConnectionPool:
        if self._pool is None:
            await self.open()
        assert self._pool is not None
        return self._pool

    async def reader(self) -> PostgresReader:
        """A reader at the database's current version (one small query, shared by the requests that
        start while it waits: see SharedReads; it also reads the article count, in the same row)."""
        await self._opened()
        version, count = await self._state.read()
        assert self._pool is not None
        return PostgresReader(self._pool, version, int(count), self._unavailable, self._providers_at(version))

    def _providers_at(self, version: str) -> dict[str, dict[str, Any] | None]:
        known, providers = self._providers
        if known != version or len(providers) > PROVIDERS_KEPT:
            providers = {}
            self._providers = (version, providers)
        return providers

    async def _read_state(self) -> tuple[Any, ...]:
        pool = await self._opened()
        if self._down:
            pool = await self._recover()
        try:
            async with pool.connection(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn:
                row = await (await conn.execute("SELECT version, article_count FROM ng_state")).fetchone()
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.OperationalError as exc:  # the server is gone, or no connection came in time
            raise self._unavailable(exc) from None
        assert row is not None
        return row

    async def seed_marks(self) -> dict[str, SeedMark]:
        pool = await self._opened()
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT id, seed_path, seed_hash FROM ng_articles")
            return {i: SeedMark(path or "", digest or "") for i, path, digest in await cursor.fetchall()}

    async def changes(self, poll_seconds: float, ready: asyncio.Event | None = None) -> AsyncIterator[ChangeSet]:
        """Each committed write, whichever process or machine made it (LISTEN newsgraph_changes).

        The write transaction keeps a change record (ng_changes) and notifies at
        commit; the record holds the updated and removed documents as they were,
        which make the before-state (an in-memory snapshot of just those). When
        the listening connection fails it is opened again every ``poll_seconds``;
        writes in between are not delivered (no replay).
        """
        while True:
            try:
                conn = await _connect(self.database_url)
            except StoreError:
                await asyncio.sleep(poll_seconds)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {pg_write.CHANGES_CHANNEL}")
                    if ready is not None:
                        ready.set()
                    async for notice in conn.notifies():
                        seq, _, version = notice.payload.partition(" ")
                        # Read on a pooled connection: the listening one is busy delivering notices.
                        async with (await self._opened()).connection() as reading:
                            cursor = await reading.execute(
                                "SELECT added, updated, removed, before FROM ng_changes WHERE seq = %s AND version = %s",
                                (int(seq), version),
                            )
                            row = await cursor.fetchone()
                        if row is None:
                            continue  # another schema's write (the channel is per database), or pruned
                        added, updated, removed, before = row
                        yield ChangeSet(
                            version,
                            tuple(added),
                            tuple(updated),
                            tuple(removed),
                            SnapshotReader(Snapshot.build(before.values(), f"before {version}")),
                            await self.reader(),  # its statements read the newest committed data
                        )
            except psycopg.OperationalError:
                await asyncio.sleep(poll_seconds)
            except psycopg.Error as exc:  # e.g. a hot-standby replica, where LISTEN is refused
                log.warning("cannot follow writes on %s (%s); subscriptions get no events from it", self.where, _reason(exc))
                await asyncio.sleep(max(poll_seconds, REFUSED_LISTEN_RETRY_SECONDS))

    async def write(self, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
        """All upserts and deletes in one transaction: committed together or not at all."""
        pool = await self._opened()
        try:
            async with pool.connection() as conn:
                return await pg_write.write(conn, upserts, deletes)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"{self.where}: the write failed and nothing was changed: {_reason(exc)}") from None

