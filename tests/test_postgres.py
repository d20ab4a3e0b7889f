"""What only the PostgreSQL store has: a server shared by processes, migrations, transactions, SQL.

Everything both stores do (lookups, filters, search, ordering, paging, facets)
is in the conformance suite, parametrized over both. Here: several `serve`
processes over one database, the CLI against PostgreSQL, schema versions,
all-or-nothing writes, data versions across processes, and a differential
check of the SQL compiler against the in-memory reference on random data.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from conftest import SEEDS, Api, article, corpus_docs, newsgraph

from graph.filters import Compare
from graph.search import parse_query
from graph.paging import ArticleQuery, OrderKey, ProviderQuery, Window
from graph.store.base import StoreError
from graph.store.tinydb.snapshot import Snapshot
from graph.store.tinydb.reader import SnapshotReader
from graph.store.postgres.migrations import DATA_TABLES, LATEST, MIGRATIONS
from graph.store.postgres.store import PostgresStore, describe_url

SHIPPED_ID = "9a7be0820e1ffd4a"
SHIPPED_TITLE = "City releases dozens of pages of emails on police use of facial recognition"


# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def pg_store(pg_schema_url: str, run: Any) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_schema_url)
    run(store.open())
    yield store
    run(store.close())


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def _graphql(base: str, query: str) -> Any:
    request = urllib.request.Request(
        base + "/graphql",
        data=orjson.dumps({"query": query}),
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = orjson.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


@contextmanager
def serving(database_url: str, workdir: Path, via_flag: bool) -> Iterator[str]:
    """A real `newsgraph serve` on 127.0.0.1 over database_url; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    command = [sys.executable, "-m", "graph", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if via_flag:
        command += ["--database-url", database_url]
    else:
        env["NEWSGRAPH_DATABASE_URL"] = database_url
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get_json(base + "/healthz")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"newsgraph serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seed_file(folder: Path, name: str, title: str, *extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("---\n" + f"title: {title}\n" + "".join(line + "\n" for line in extra) + "---\nBody.\n", "utf-8")
    return path


def summary(result: subprocess.CompletedProcess[str]) -> str:
    """The seed summary without its timing."""
    assert result.stdout.count("\n") == 1, result.stdout
    return re.sub(r" in \d+\.\d\d s", "", result.stdout.rstrip("\n"))


# ---- several processes, one database ------------------------------------------------------------


def test_two_servers_over_one_database_both_see_a_cli_seed_at_once(pg_schema_url, tmp_path):
    with serving(pg_schema_url, tmp_path, via_flag=True) as one, serving(pg_schema_url, tmp_path, via_flag=False) as two:
        query = f'{{ article(id: "{SHIPPED_ID}") {{ title provider {{ name articleCount }} }} }}'
        assert _graphql(one, query) == {"article": None}
        assert _graphql(two, query) == {"article": None}
        versions = {_get_json(base + "/healthz")[1]["version"] for base in (one, two)}
        assert len(versions) == 1

        seeded = newsgraph("seed", str(SEEDS), "--quiet", env={"NEWSGRAPH_DATABASE_URL": pg_schema_url})
        assert (seeded.returncode, seeded.stderr) == (0, "")
        assert summary(seeded) == "loaded 1: 1 new, 0 updated, 0 unchanged; 0 failed; 0 pruned"

        expected = {"article": {"title": SHIPPED_TITLE, "provider": {"name": "The Lens", "articleCount": 1}}}
        assert _graphql(one, query) == expected
        assert _graphql(two, query) == expected
        health = [_get_json(base + "/healthz") for base in (one, two)]
        assert [status for status, _ in health] == [200, 200]
        assert [body["articles"] for _, body in health] == [1, 1]
        assert health[0][1]["version"] == health[1][1]["version"] not in versions


def test_a_write_by_another_store_changes_the_version_this_one_reads(pg_schema_url, run):
    mine, theirs = PostgresStore(pg_schema_url), PostgresStore(pg_schema_url)
    run(mine.open())
    run(theirs.open())
    try:
        before = run(mine.reader())
        assert run(before.get_articles(["a1"])) == [None]
        run(theirs.write([article(id="a1", title="From elsewhere")], []))
        after = run(mine.reader())
        assert after.version != before.version
        assert run(after.get_articles(["a1"]))[0]["title"] == "From elsewhere"
        unchanged = run(mine.reader())
        assert unchanged.version == after.version
    finally:
        run(mine.close())
        run(theirs.close())


def test_requests_share_a_version_read_only_if_it_was_sent_after_they_began(pg_schema_url, run):
    """Readers waiting together share one read of the version; none joins a read already under way."""
    mine, theirs = PostgresStore(pg_schema_url), PostgresStore(pg_schema_url)
    run(mine.open())
    run(theirs.open())
    read = mine._state._fetch
    sent: list[asyncio.Event] = []
    release = asyncio.Event()

    async def held_back() -> tuple[Any, ...]:  # the real read, its answer held until released
        sent.append(asyncio.Event())
        row = await read()
        sent[-1].set()
        await release.wait()
        return row

    mine._state._fetch = held_back

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(mine.reader())
        while not sent or not sent[0].is_set():  # the first read has been answered by the database
            await asyncio.sleep(0.001)
        await theirs.write([article(id="a1", title="Written meanwhile")], [])
        later = [asyncio.ensure_future(mine.reader()) for _ in range(5)]
        await asyncio.sleep(0.05)
        release.set()
        return [await first, *[await reader for reader in later]]

    try:
        before, *after = run(scenario())
        assert len(sent) == 2  # one read for the first reader, one shared by the five later ones
        assert {reader.version for reader in after} == {after[0].version} != {before.version}
        assert [run(reader.count()) for reader in after] == [1] * 5 and run(before.count()) == 0
    finally:
        run(mine.close())
        run(theirs.close())


# ---- the CLI against PostgreSQL -----------------------------------------------------------------


def test_seed_is_idempotent_prunes_and_dry_runs_as_with_tinydb(pg_schema_url, tmp_path, run):
    env = {"NEWSGRAPH_DATABASE_URL": pg_schema_url}
    seeds = tmp_path / "seeds"
    seed_file(seeds, "001_a.md", "First", "topics: [AI]", "provider: {domain: a.example, name: A}")
    seed_file(seeds, "002_b.md", "Second", "provider: {domain: a.example}")

    def seeded(*args: str) -> str:
        result = newsgraph("seed", str(seeds), "--quiet", *args, env=env, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        return summary(result)

    assert seeded() == "loaded 2: 2 new, 0 updated, 0 unchanged; 0 failed; 0 pruned"
    assert seeded() == "loaded 2: 0 new, 0 updated, 2 unchanged; 0 failed; 0 pruned"
    seed_file(seeds, "002_b.md", "Second, changed", "topics: [AI, Zürich]")
    (seeds / "001_a.md").unlink()
    assert seeded("--prune", "--dry-run") == (
        "loaded 1: 0 new, 1 updated, 0 unchanged; 0 failed; 1 pruned (dry run: nothing written)"
    )
    store = PostgresStore(pg_schema_url)
    run(store.open())
    try:
        reader = run(store.reader())
        assert sorted(d["title"] for d in run(reader.get_articles(["a", "b"]))) == ["First", "Second"]
        assert seeded("--prune") == "loaded 1: 0 new, 1 updated, 0 unchanged; 0 failed; 1 pruned"
        reader = run(store.reader())
        assert run(reader.get_articles(["a", "b"]))[0] is None
        assert run(reader.get_articles(["b"]))[0]["title"] == "Second, changed"
        # Catalogs follow the documents in the same transaction: a.example lost its only article.
        assert run(reader.list_topics(None)) == [
            {"name": "AI", "articleCount": 1},
            {"name": "Zürich", "articleCount": 1},
        ]
        assert run(reader.get_providers(["a.example"])) == [None]
        assert run(reader.stats())["articles"] == 1
    finally:
        run(store.close())


def test_an_unreachable_server_is_one_line_without_the_password_and_exit_1(tmp_path):
    port = _free_port()
    url = f"postgresql://newsgraph:s3cret@127.0.0.1:{port}/news"
    for command in (("seed", str(SEEDS), "--quiet"), ("stats",), ("db", "migrate")):
        result = newsgraph(*command, env={"NEWSGRAPH_DATABASE_URL": url}, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (1, ""), command
        prefix = f"newsgraph: error: postgresql://127.0.0.1:{port}/news: cannot connect to PostgreSQL: "
        assert result.stderr.startswith(prefix), result.stderr
        assert result.stderr.count("\n") == 1 and "Connection refused" in result.stderr
        assert "s3cret" not in result.stderr


# ---- schema versions -------------------------------------------------------------------------


def test_db_migrate_creates_the_schema_once_then_has_nothing_to_apply(pg_schema_url, tmp_path):
    where = describe_url(pg_schema_url)
    first = newsgraph("db", "migrate", "--database-url", pg_schema_url, cwd=tmp_path)
    every = ", ".join(str(migration.version) for migration in MIGRATIONS)
    applied = f"{where}: schema at version {LATEST} (applied {every})\n"
    assert (first.returncode, first.stdout, first.stderr) == (0, applied, "")
    again = newsgraph("db", "migrate", env={"NEWSGRAPH_DATABASE_URL": pg_schema_url}, cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, f"{where}: schema at version {LATEST} (nothing to apply)\n")
    with psycopg.connect(pg_schema_url) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert tables == {"ng_migrations", "ng_state", *DATA_TABLES}
    assert {"ng_articles", "ng_providers", "ng_search_groups", "ng_periods", "ng_combos"} <= tables


def test_db_migrate_without_a_database_url_is_a_usage_error(tmp_path):
    result = newsgraph("db", "migrate", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "newsgraph db migrate: no PostgreSQL database is configured (set NEWSGRAPH_DATABASE_URL or "
        "--database-url; the TinyDB store has no schema to migrate)\n"
    )


def test_processes_starting_together_apply_each_migration_once(pg_schema_url, run):
    from graph.store.postgres.store import migrate_database

    async def together() -> list[Any]:
        return await asyncio.gather(*(migrate_database(pg_schema_url) for _ in range(4)))

    reports = run(together())
    assert sorted(report.applied for report in reports) == [[], [], [], [m.version for m in MIGRATIONS]]


def test_a_database_newer_than_this_code_is_refused_and_left_alone(pg_schema_url, tmp_path):
    assert newsgraph("db", "migrate", "--database-url", pg_schema_url).returncode == 0
    with psycopg.connect(pg_schema_url, autocommit=True) as conn:
        conn.execute("INSERT INTO ng_migrations (version, description) VALUES (%s, 'from the future')", (LATEST + 1,))
    for command in (("db", "migrate"), ("seed", str(SEEDS), "--quiet")):
        result = newsgraph(*command, env={"NEWSGRAPH_DATABASE_URL": pg_schema_url}, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (1, ""), command
        assert result.stderr == (
            f"newsgraph: error: the database schema is at version {LATEST + 1}, newer than this newsgraph knows "
            f"({LATEST}); upgrade newsgraph\n"
        )
    with psycopg.connect(pg_schema_url) as conn:
        assert conn.execute("SELECT count(*) FROM ng_articles").fetchone() == (0,)


def test_rows_derived_by_an_older_version_are_rebuilt_at_open(pg_schema_url, run, tmp_path):
    docs = corpus_docs()
    store = PostgresStore(pg_schema_url)
    run(store.open())
    query = ArticleQuery(search=parse_query("recog* the"), order=(OrderKey("relevance", True), OrderKey("id")))
    one_word = ArticleQuery(search=parse_query("the"), order=query.order)  # ranked by search groups
    topic = ArticleQuery(filter=Compare("topics", "has", "Food"))  # read from ng_article_topics
    since = ArticleQuery(filter=Compare("publishedDateTime", "gte", datetime(2021, 1, 1, tzinfo=timezone.utc)))

    def answers(reader: Any) -> tuple[Any, ...]:
        pages = [run(reader.find_articles(q, Window(first=50))) for q in (query, one_word, topic)]
        facets = [run(reader.facet_counts(since, "topics", None)), run(reader.histogram(ArticleQuery(), "MONTH"))]
        return (*pages, *facets, run(reader.count_articles(since)), run(reader.list_topics(None)), run(reader.stats()))

    try:
        run(store.write(docs, []))
        reader = run(store.reader())
        old_version = reader.version
        expected = answers(reader)
    finally:
        run(store.close())
    # What a newsgraph with another derivation left behind: stale words, catalogs and rollups out of step.
    with psycopg.connect(pg_schema_url, autocommit=True) as conn:
        conn.execute("UPDATE ng_state SET derivation = 0")
        conn.execute("UPDATE ng_articles SET words = '{}', tf_cum = '{}', word_groups = '{}'")
        conn.execute("TRUNCATE ng_topics, ng_providers, ng_search_groups, ng_article_topics, ng_periods, ng_period_facets")
    store = PostgresStore(pg_schema_url)
    run(store.open())
    try:
        reader = run(store.reader())
        found = answers(reader)
        assert all(page.items for page in found[:3]) and found[3] and found == expected
        assert reader.version != old_version and run(reader.count()) == len(docs)
    finally:
        run(store.close())
    result = newsgraph("db", "migrate", "--rebuild", "--database-url", pg_schema_url, cwd=tmp_path)
    assert result.stdout.endswith(f"schema at version {LATEST} (nothing to apply); derived columns rebuilt\n")


# ---- transactions -----------------------------------------------------------------------------


def test_a_failed_write_changes_nothing_at_all(pg_schema_url, run):
    store = PostgresStore(pg_schema_url)
    run(store.open())
    try:
        run(store.write([article(id="kept", title="Kept", topics=["AI"], provider={"domain": "k.example"})], []))
        before = run(store.reader())
        state = (before.version, run(before.stats()), run(before.list_topics(None)))
        # An id too long for the primary key index fails inside the transaction, after the
        # catalogs were already updated: all of it must roll back.
        rng = random.Random(1)
        too_long = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(9000))
        batch = [
            article(id="new", title="New", topics=["Fresh"], provider={"domain": "n.example"}),
            article(id=too_long, title="Too long an id", topics=["AI"]),
        ]
        with pytest.raises(StoreError) as raised:
            run(store.write(batch, ["kept"]))
        assert str(raised.value).startswith(f"{describe_url(pg_schema_url)}: the write failed and nothing was changed: ")
        after = run(store.reader())
        assert (after.version, run(after.stats()), run(after.list_topics(None))) == state
        assert [d and d["id"] for d in run(after.get_articles(["kept", "new"]))] == ["kept", None]
        assert run(after.get_providers(["k.example", "n.example"]))[1] is None
    finally:
        run(store.close())


def test_text_postgresql_cannot_hold_is_refused_with_the_article_named(pg_store, run):
    store = pg_store
    with pytest.raises(StoreError) as raised:
        run(store.write([article(id="ok", title="Fine"), article(id="nul", title="Nul \x00 inside")], []))
    assert str(raised.value) == "article 'nul': text containing the NUL character (U+0000) cannot be stored in PostgreSQL"
    assert run(run(store.reader()).count()) == 0


# ---- SQL is built from parameters only ----------------------------------------------------------


def test_filter_and_search_values_never_become_sql(pg_store, run):
    run(pg_store.write([article(id="a1", title="O'Brien; DROP TABLE ng_articles; --", excerpt="100% %s %(p0)s")], []))
    api = Api(pg_store, run)
    hostile = "'; DROP TABLE ng_articles; --"
    for where in (
        {"title": {"eq": hostile}},
        {"title": {"contains": "o'brien; drop"}},
        {"excerpt": {"contains": "%(p0)s"}},
        {"excerpt": {"startsWith": "100% %s"}},
        {"topics": {"hasSome": [hostile, "%s"]}},
        {"provider": {"name": {"in": [hostile]}}},
        {"related": {"some": {"title": {"endsWith": hostile}}}},
    ):
        data = api.data("query ($w: ArticleFilter) { articles(where: $w) { totalCount } }", {"w": where})
        expected = 1 if ("contains" in where.get("title", {}) or "excerpt" in where) else 0
        assert data["articles"]["totalCount"] == expected, where
    found = api.data('{ articles(search: "o\'brien drop* %s") { totalCount } }')
    assert found["articles"]["totalCount"] == 1


# ---- the compiler against the reference, on random data --------------------------------------

TITLES = ["Alpha", "alpha", "ALPHA beta", "Ápple", "Straße", "STRASSE", "strasse", "ﬁsh", "FISH", "Σίσυφος", "ΣΊΣΥΦΟΣ",
          "İstanbul", "istanbul", "é", "é", "Zürich tram", "zurich"]
WORDS = ["alpha", "beta", "straße", "zürich", "recognition", "recognize", "re", "the", "über", "uber", "ǅemal", "ﬁsh"]
DATES = ["2021-01-01T00:00:00Z", "2021-06-15T10:00:00Z", "2019-03-01T08:00:00Z", "2020-12-31T23:30:00Z", None]
DOMAINS = ["a.example", "B.example", "b.example", "ß.example"]
NAMES = ["A", "a", "Bee", "bee", "Straße", "STRASSE", None]


def _random_article(rng: random.Random, n: int) -> dict[str, Any]:
    def maybe_provider() -> dict[str, Any]:
        name = rng.choice(NAMES)
        return {"domain": rng.choice(DOMAINS), **({"name": name} if name else {})}

    fields: dict[str, Any] = {"id": rng.choice([f"i{n}", f"I{n}", f"i{n}ß", f"é{n}"]), "title": rng.choice(TITLES)}
    for name, values in (("quality", [-5, 0, 1, 1, 50]), ("heat", [-1, 0, 3]), ("publishedDateTime", DATES[:-1])):
        if rng.random() < 0.7:
            fields[name] = rng.choice(values)
    if rng.random() < 0.8:
        fields["provider"] = maybe_provider()
    fields["body"] = " ".join(rng.choices(WORDS, k=rng.randrange(0, 20)))
    fields["topics"] = rng.sample(["AI", "ai", "Zürich", "x"], rng.randrange(0, 3))
    fields["related"] = [
        {"title": rng.choice(TITLES), **({"provider": maybe_provider()} if rng.random() < 0.7 else {})}
        for _ in range(rng.randrange(0, 3))
    ]
    if rng.random() < 0.5:
        fields["category"] = rng.choice(["news", "News", "sport"])
    if rng.random() < 0.7:
        fields["published"] = rng.random() < 0.5
    return article(**fields)


def _random_window(rng: random.Random, keys: list[tuple[Any, ...]]) -> Window:
    def cursor() -> tuple[Any, ...] | None:
        return rng.choice(keys) if keys and rng.random() < 0.5 else None

    size = rng.choice([0, 1, 2, 3, 100])
    if rng.random() < 0.5:
        return Window(first=size, after=cursor(), before=cursor())
    return Window(last=size, after=cursor(), before=cursor())


def _assert_same_page(run: Any, reference: Any, actual: Any, query: ArticleQuery, window: Window, label: Any) -> None:
    """The PostgreSQL reader's page of a query equals the in-memory reference's: items, keys, both flags."""
    want, got = run(reference.find_articles(query, window)), run(actual.find_articles(query, window))
    assert [d["id"] for d in got.items] == [d["id"] for d in want.items], label
    assert (got.keys, got.has_next, got.has_previous) == (want.keys, want.has_next, want.has_previous), label


def test_sql_answers_equal_the_in_memory_reference_on_random_data(pg_store, run):
    """Orderings (nulls, casefolded text, relevance), keyset windows, facets: SQL == graph.store.tinydb.snapshot."""
    store = pg_store
    stored: list[str] = []
    for example in range(12):
        rng = random.Random(example)
        docs = {d["id"]: d for d in (_random_article(rng, n) for n in range(rng.randrange(1, 20)))}
        run(store.write(list(docs.values()), [i for i in stored if i not in docs]))
        stored = list(docs)
        reference = SnapshotReader(Snapshot.build(list(docs.values()), "reference"))
        actual = run(store.reader())
        for _ in range(12):
            searching = rng.random() < 0.4
            fields = ["publishedDateTime", "quality", "heat", "title", "providerName"] + ["relevance"] * searching
            keys = tuple(OrderKey(f, rng.random() < 0.5) for f in rng.sample(fields, rng.randrange(1, 3)))
            terms = " ".join(rng.choice(WORDS) + rng.choice(["", "", "*"]) for _ in range(rng.randrange(0, 4)))
            query = ArticleQuery(search=parse_query(terms) if searching else None, order=(*keys, OrderKey("id")))
            everything = run(reference.find_articles(query, Window()))
            window = _random_window(rng, everything.keys)
            _assert_same_page(run, reference, actual, query, window, (query, window))
            for method, args in (
                ("count_articles", ()),
                ("facet_counts", ("topics", 3)),
                ("facet_counts", ("provider", None)),
                ("facet_counts", ("published", None)),
                ("int_stats", ("quality",)),
                ("date_range", ()),
                ("histogram", ("WEEK",)),
            ):
                assert run(getattr(actual, method)(query, *args)) == run(getattr(reference, method)(query, *args))
        order = tuple(OrderKey(f, rng.random() < 0.5) for f in rng.sample(["name", "domain", "articleCount"], 2))
        providers = ProviderQuery(order=(*order, OrderKey("domain")))
        everything = run(reference.find_providers(providers, Window()))
        window = _random_window(rng, everything.keys)
        want, got = run(reference.find_providers(providers, window)), run(actual.find_providers(providers, window))
        assert (got.items, got.keys, got.has_next, got.has_previous) == (want.items, want.keys, want.has_next, want.has_previous)
        assert run(actual.stats()) == run(reference.stats())
        assert run(actual.list_topics(None)) == run(reference.list_topics(None))


def test_a_read_only_replica_is_served_when_its_schema_matches_and_refused_when_not(pg_schema_url, run, tmp_path):
    # A hot standby refuses every write; a session with default_transaction_read_only behaves the same way.
    read_only = pg_schema_url + "%20-cdefault_transaction_read_only%3Don"
    store = PostgresStore(read_only)
    with pytest.raises(StoreError) as raised:
        run(store.open())
    assert str(raised.value) == (
        "the database is read-only (a replica?) and has no newsgraph schema: "
        "run `newsgraph db migrate` against the primary"
    )
    seeded = newsgraph("seed", str(SEEDS), "--quiet", env={"NEWSGRAPH_DATABASE_URL": pg_schema_url}, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    run(store.open())
    try:
        reader = run(store.reader())
        assert run(reader.get_articles([SHIPPED_ID]))[0]["title"] == SHIPPED_TITLE
        with pytest.raises(StoreError) as raised:
            run(store.write([article(id="x", title="Nope")], []))
        assert "the write failed and nothing was changed: cannot execute" in str(raised.value)
    finally:
        run(store.close())


def _ranking_article(rng: random.Random, n: int) -> dict[str, Any]:
    """Articles where one word ("alpha") has many frequencies and lengths: a few copies of the same
    text (equal scores, ordered by id), short and long bodies, the word in the title or not. The
    tiny ones fall in one-length groups, whose bounds equal their articles' score."""
    if n % 50 in (1, 2):
        return article(id=f"tiny{n:03d}", title="Alpha" if n % 50 == 1 else "Zeta")
    if n % 7 == 0 and n:
        return article(id=f"copy{n:03d}", title="Alpha beta", body="alpha gamma " * 3)
    title = " ".join(rng.choices(["alpha", "beta", "gamma", "delta"], k=rng.randrange(1, 5)))
    words, weights = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"], [20, 20, 20, 20, 20, 1]
    body = " ".join(rng.choices(words, weights, k=rng.choice([0, 3, 20, 200])))
    topics = rng.sample(["Alpha", "Beta"], 1)
    return article(id=f"r{rng.randrange(10**6):06d}{n}", title=title, body=body, topics=topics)


def test_one_word_searches_ranked_by_search_groups_equal_the_in_memory_reference(pg_store, run):
    """The ranking that reads only the promising search groups gives exactly the full ranking's pages."""
    from graph.store.postgres.reader import _ranks_by_groups

    rng = random.Random(7)
    docs = [_ranking_article(rng, n) for n in range(400)]
    run(pg_store.write(docs, []))
    reference = SnapshotReader(Snapshot.build(docs, "reference"))
    actual = run(pg_store.reader())
    order = (OrderKey("relevance", True), OrderKey("id"))
    for word in ("alpha", "beta", "epsilon", "zeta", "missing"):
        query = ArticleQuery(search=parse_query(word), order=order)
        everything = run(reference.find_articles(query, Window()))
        assert run(actual.count_articles(query)) == len(everything.items)
        # Random cursors; the one just before the first tiny article (its group then decides the
        # bound); and cursors beyond every score in both directions (no group holds the cursor).
        cursors = [None, (1000.0, "a"), (0.0, "a"), *rng.sample(everything.keys, min(6, len(everything.keys)))]
        tiny = [n for n, doc in enumerate(everything.items) if doc["id"].startswith("tiny")]
        if tiny and tiny[0] > 0:
            cursors.append(everything.keys[tiny[0] - 1])
        for first in (0, 1, 2, 7, 30):
            for after in cursors:
                window = Window(first=first, after=after)
                assert _ranks_by_groups(query, window)
                _assert_same_page(run, reference, actual, query, window, (word, window))


MOMENTS = ["2020-01-01T00:00:00Z", "2020-01-31T23:59:59Z", "2020-02-01T00:00:00Z", "2020-02-14T12:00:00Z",
           "2020-03-01T00:00:00Z", "2020-05-20T08:30:00Z", "2020-06-30T23:59:59Z", "2020-12-31T23:59:59Z"]  # fmt: skip


def _rollup_article(rng: random.Random, n: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": f"m{n}", "title": rng.choice(TITLES)}
    fields["topics"] = rng.sample(["AI", "x", "Zürich"], 2)
    if rng.random() < 0.85:
        day = f"2020-{rng.randrange(1, 7):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z"
        fields["publishedDateTime"] = rng.choice([*MOMENTS, day, day])
    choices = (("category", ["news", "News", "sport"]), ("type", ["article", "video"]), ("quality", [0, 7, 90]))
    for name, values in choices:
        if rng.random() < 0.8:
            fields[name] = rng.choice(values)
    if rng.random() < 0.8:
        fields["published"] = rng.random() < 0.6
    if rng.random() < 0.8:
        fields["provider"] = {"domain": rng.choice(DOMAINS), "name": rng.choice(["A", "Bee"])}
    return article(**fields)


CATEGORY_TESTS = [("ne", "news"), ("in", ["news", "sport"]), ("notIn", ["sport"]), ("isNull", True)]


def _rollup_filters(rng: random.Random) -> list[dict[str, Any]]:
    moment = lambda: rng.choice([*MOMENTS, "2020-04-01", "2020-04-15T00:00:00+02:00"])  # noqa: E731
    ranges = [
        {"publishedDateTime": {rng.choice(["gt", "gte"]): moment(), rng.choice(["lt", "lte"]): moment()}},
        {"publishedDateTime": {rng.choice(["gt", "gte", "lt", "lte"]): moment()}},
        {"publishedDateTime": {"gte": "2020-01-01", "lt": "2021-01-01"}},
        {"publishedDateTime": {"gt": "2020-01-31T23:59:59Z", "lte": "2020-07-01T00:00:00Z"}},
        {"publishedDateTime": {"gt": "2020-02-01T00:00:00Z", "lt": "2020-06-01"}},  # articles at both instants
        {"publishedDateTime": {"gte": "2020-01-01T00:00:00Z", "lte": "2020-03-01T00:00:00Z"}},
    ]
    combos = [
        {"published": {"eq": True}, "category": {"eq": rng.choice(["news", "News"])}},
        {"category": dict([rng.choice(CATEGORY_TESTS)])},
        {"type": {"eq": "video"}, "provider": {"domain": {"in": DOMAINS[:2]}}},
        {"OR": [{"published": {"eq": False}}, {"NOT": {"provider": {"name": {"eq": "Bee"}}}}]},
        {"provider": {"domain": {"eq": rng.choice(DOMAINS)}}, "published": {"isNull": False}},
    ]
    return ranges + combos


def test_counts_and_facets_from_rollups_equal_the_in_memory_reference(pg_store, run):
    """Rollups by month and day (date ranges, everything) and per-combination counts follow every write exactly."""
    from graph import filters as ast
    from graph.store.postgres.rollups import combo_count, period_plan
    from graph.store.postgres.sql import Params

    rng = random.Random(3)
    docs: dict[str, dict[str, Any]] = {}
    used = {"periods": 0, "combos": 0}
    for round_ in range(6):
        changed = [_rollup_article(rng, rng.randrange(120)) for _ in range(100 if round_ == 0 else 20)]
        gone = rng.sample(sorted(docs), min(len(docs), 4))
        run(pg_store.write(changed, gone))
        for i in gone:
            docs.pop(i, None)
        docs.update((d["id"], d) for d in changed)
        reference = SnapshotReader(Snapshot.build(list(docs.values()), "reference"))
        actual = run(pg_store.reader())
        for where in [None, *_rollup_filters(rng)]:
            query = ArticleQuery(filter=ast.build("article", where))
            used["periods"] += period_plan(query, Params()) is not None
            used["combos"] += combo_count(query, Params()) is not None
            for method, args in (
                ("count_articles", ()),
                *(("facet_counts", (name, None)) for name in ("topics", "provider", "category", "type", "published")),
                ("int_stats", ("quality",)),
                ("date_range", ()),
                ("histogram", ("DAY",)),
                ("histogram", ("WEEK",)),
            ):
                want = run(getattr(reference, method)(query, *args))
                assert run(getattr(actual, method)(query, *args)) == want, (where, method, args)
    assert used["periods"] >= 20 and used["combos"] >= 25


def test_topic_pages_read_in_topic_order_equal_the_in_memory_reference(pg_store, run):
    """Newest first within a topic (ng_article_topics), with cursors both ways and another condition."""
    from graph import filters as ast
    from graph.store.postgres.reader import _ordered_topic

    rng = random.Random(11)
    docs = {d["id"]: d for d in (_random_article(rng, n) for n in range(80))}
    run(pg_store.write(list(docs.values()), []))
    reference = SnapshotReader(Snapshot.build(list(docs.values()), "reference"))
    actual = run(pg_store.reader())
    wheres = ({"topics": {"has": "AI"}}, {"topics": {"has": "Zürich"}, "published": {"eq": True}}, {"topics": {"has": "-"}})
    for where in wheres:
        query = ArticleQuery(filter=ast.build("article", where))
        assert _ordered_topic(query) is not None
        everything = run(reference.find_articles(query, Window()))
        for _ in range(25):
            window = _random_window(rng, everything.keys)
            _assert_same_page(run, reference, actual, query, window, (where, window))
        assert run(actual.count_articles(query)) == len(everything.items)


def test_pages_bounded_in_their_order_index_equal_the_in_memory_reference(pg_store, run):
    """A date bound read in the newest-first indexes (published_text, from publishedDateTime ranges, at
    instants inside a second too) and a topic's quality range decided in the topic's index (its
    count from that index alone) answer as the reference does, after updates and deletes too."""
    from graph import filters as ast
    from graph.store.postgres.sql import Params
    from graph.store.postgres.reader import _topic_count

    rng = random.Random(18)
    docs = {d["id"]: d for d in (_random_article(rng, n) for n in range(90))}
    run(pg_store.write(list(docs.values()), []))
    # Qualities change and articles go: the topic rows must follow (their quality is a copy).
    changed = [article(**{**d, "quality": rng.choice([None, -5, 1, 50, 7])}) for d in rng.sample(list(docs.values()), 30)]
    changed = [{k: v for k, v in d.items() if v is not None} for d in changed]
    gone = rng.sample(sorted(set(docs) - {d["id"] for d in changed}), 10)
    run(pg_store.write(changed, gone))
    docs.update((d["id"], d) for d in changed)
    for i in gone:
        del docs[i]
    reference = SnapshotReader(Snapshot.build(list(docs.values()), "reference"))
    actual = run(pg_store.reader())
    wheres = [
        {"provider": {"domain": {"eq": "a.example"}}, "publishedDateTime": {"lt": "2021-01-01T00:00:00.5Z"}},
        {"provider": {"domain": {"eq": "b.example"}}, "publishedDateTime": {"lte": "2021-01-01T00:00:00Z"}},
        {"publishedDateTime": {"lt": "2021-01-01T00:00:00Z"}},
        {"publishedDateTime": {"gt": "2020-12-31T23:30:00Z"}, "category": {"eq": "news"}},
        {"publishedDateTime": {"gte": "2021-06-15T12:00:00.25+02:00", "lt": "2021-06-15T10:00:01Z"}},
        {"publishedDateTime": {"gt": "2021-06-15T09:59:59.999Z"}},
        {"NOT": {"publishedDateTime": {"lt": "2021-01-01"}}, "provider": {"domain": {"eq": "a.example"}}},
        {"OR": [{"publishedDateTime": {"lt": "2020-01-01"}}, {"published": {"eq": True}}]},
    ]
    topic_ranges = [
        {"topics": {"has": "AI"}, "quality": {"gte": 0, "lte": 1}},
        {"topics": {"has": "ai"}, "quality": {"eq": 50}},
        {"topics": {"has": "Zürich"}, "quality": {"lt": 1}},
        {"topics": {"has": "x"}, "quality": {"gt": -5}},
    ]
    wheres += [*topic_ranges, {"topics": {"has": "x"}, "quality": {"gt": -5}, "published": {"eq": True}}]
    for where in wheres:
        query = ArticleQuery(filter=ast.build("article", where))
        everything = run(reference.find_articles(query, Window()))
        for _ in range(15):
            window = _random_window(rng, everything.keys)
            _assert_same_page(run, reference, actual, query, window, (where, window))
        assert run(actual.count_articles(query)) == len(everything.items), where
        assert (_topic_count(query, Params()) is not None) == (where in topic_ranges), where


def test_title_contains_read_by_like_equals_the_in_memory_reference(pg_store, run):
    """`title: {contains}` is a LIKE on the casefolded title (a trigram index narrows it): LIKE's own
    characters in the text are plain characters, and folding is the reference's."""
    from graph import filters as ast

    with psycopg.connect(pg_store.database_url, autocommit=True) as conn:
        # Where migration 7 created pg_trgm, it is not in newsgraph's schema (whose DROP would take it away
        # from every other schema of the database), and the titles are indexed with it.
        home, ours, indexed = conn.execute(
            "SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'), current_schema(), to_regclass('ng_articles_title_trgm') IS NOT NULL"
        ).fetchone()
        assert home != ours and indexed == (home is not None)
    titles = ["100% sure", "snake_case title", "back\\slash", "Straße news", "ﬁle under ﬁre", "plain", "a%b_c\\d",
              "Résumé of résumés", "xyz"]
    docs = [article(id=f"t{n}", title=title, publishedDateTime=f"2021-01-{n + 1:02d}T00:00:00Z")
            for n, title in enumerate(titles)]
    run(pg_store.write(docs, []))
    reference = SnapshotReader(Snapshot.build(docs, "reference"))
    actual = run(pg_store.reader())
    for text in ["%", "_", "\\", "0%", "e_c", "%b_c\\", "ss", "STRASSE", "fi", "FILE", "", "résumé", "RÉSUMÉS", "x", "xyz",
                 "news", "nothing here", "__", "%%"]:
        query = ArticleQuery(filter=ast.build("article", {"title": {"contains": text}}))
        want, got = run(reference.find_articles(query, Window())), run(actual.find_articles(query, Window()))
        assert [d["id"] for d in got.items] == [d["id"] for d in want.items], text
        assert run(actual.count_articles(query)) == len(want.items), text
        negated = ArticleQuery(filter=ast.build("article", {"NOT": {"title": {"contains": text}}}))
        assert run(actual.count_articles(negated)) == run(reference.count_articles(negated)), text


def test_a_reader_cancelled_while_waiting_leaves_the_shared_read_to_the_others(pg_store, run):
    async def scenario() -> list[Any]:
        readers = [asyncio.ensure_future(pg_store.reader()) for _ in range(3)]
        await asyncio.sleep(0)
        readers[0].cancel()
        return await asyncio.gather(*readers, return_exceptions=True)

    cancelled, *served = run(scenario())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert [run(reader.count()) for reader in served] == [0, 0]


# ---- PostgreSQL going down under a server (issue 12, item 7) ---------------------------------------


def _post(base: str, query: str) -> tuple[int, Any, float]:
    """POST a query; its status, JSON body and how long it took."""
    request = urllib.request.Request(
        base + "/graphql",
        data=orjson.dumps({"query": query}),
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read()), time.monotonic() - started


def _masked_503(status: int, payload: Any) -> bool:
    [error] = payload["errors"]
    return status == 503 and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and "errorId" in error["extensions"]


TIME_LIMIT_SECONDS = 5.0  # the execution time limit: a database that is down must be said sooner


def test_a_database_that_goes_down_is_a_prompt_503_and_the_server_recovers_by_itself(tmp_path):
    import threading

    import pg

    bin_dir = pg.binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries to run a cluster of this test's own")
    cluster = pg.start_throwaway(bin_dir)  # its own: this test stops and starts it
    try:
        seeded = newsgraph("seed", str(SEEDS), "--database-url", cluster.url, "--quiet")
        assert seeded.returncode == 0, seeded.stderr
        query = "{ articles(first: 3) { totalCount nodes { id title } } }"
        with serving(cluster.url, tmp_path, via_flag=True) as base:
            assert _post(base, query)[0] == 200

            # A request in flight when the server stops: it waits on a lock another session holds.
            # (Each request differs by a comment, so that none is answered from the response cache.)
            locker = psycopg.connect(cluster.url)
            watcher = psycopg.connect(cluster.url, autocommit=True)
            locker.execute("LOCK TABLE ng_articles IN ACCESS EXCLUSIVE MODE")
            in_flight: list[tuple[int, Any, float]] = []
            thread = threading.Thread(target=lambda: in_flight.append(_post(base, query + " # in flight")))
            thread.start()
            deadline = time.monotonic() + 10
            while not watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the request never reached the database"
                time.sleep(0.02)
            stopped = time.monotonic()
            cluster.pause()
            for conn in (locker, watcher):
                conn.close()
            thread.join(30)
            status, payload, _ = in_flight[0]
            assert _masked_503(status, payload), (status, payload)
            assert time.monotonic() - stopped < TIME_LIMIT_SECONDS

            # Requests sent while it is down: a 503 each, at once, never QUERY_TOO_COMPLEX.
            for n in range(5):
                status, payload, took = _post(base, query + f" # down {n}")
                assert _masked_503(status, payload), (status, payload)
                assert took < TIME_LIMIT_SECONDS
            health_status, health = _get_json(base + "/healthz")
            assert (health_status, health) == (503, {"status": "unavailable", "reason": "PostgreSQL does not answer"})

            # Started again, it is used again without a restart of newsgraph.
            cluster.resume()
            deadline = time.monotonic() + 30
            while _post(base, query + f" # back {time.monotonic()}")[0] != 200:
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.1)
            assert _get_json(base + "/healthz")[0] == 200
            log = (tmp_path / next(p.name for p in tmp_path.glob("serve-*.log"))).read_text(errors="replace")
            assert "QUERY_TOO_COMPLEX" not in log and "execution time limit" not in log
            assert f"error id {payload['errors'][0]['extensions']['errorId']}: the store could not be read" in log
    finally:
        cluster.stop()


def test_a_page_and_its_total_count_asked_at_once_are_one_statement_with_the_answers_given_apart(pg_store, run):
    """A connection's totalCount rides in its page's statement (graph.execution.plan asks both at once):
    one pooled statement instead of two, whichever is asked first, on every path a page takes (an
    index order, a topic's order, a one-word search's groups, a filter with its count), with cursors
    both ways; the answers are those of the page and the count asked one after the other."""
    from graph import filters as ast

    rng = random.Random(19)
    docs = {d["id"]: d for d in (_random_article(rng, n) for n in range(70))}
    run(pg_store.write(list(docs.values()), []))
    queries = [
        ArticleQuery(filter=ast.build("article", {"topics": {"has": "AI"}})),
        ArticleQuery(filter=ast.build("article", {"topics": {"has": "AI"}, "quality": {"gte": 1}})),
        ArticleQuery(filter=ast.build("article", {"publishedDateTime": {"lt": "2021-01-01T00:00:00Z"}})),
        ArticleQuery(filter=ast.build("article", {"provider": {"domain": {"eq": "a.example"}}})),
        ArticleQuery(filter=ast.build("article", {"title": {"contains": "a"}}), order=(OrderKey("title"), OrderKey("id"))),
        ArticleQuery(search=parse_query("alpha"), order=(OrderKey("relevance", True), OrderKey("id"))),
        ArticleQuery(search=parse_query("alpha beta")),
    ]
    for query in queries:
        alone = run(pg_store.reader())
        everything = run(alone.find_articles(query, Window()))
        for _ in range(8):
            window = _random_window(rng, everything.keys)
            want_page = run(alone.find_articles(query, window))
            want_count = run(alone.count_articles(query))
            for count_first in (True, False):
                reader = run(pg_store.reader())
                stats = pg_store._pool.get_stats()  # type: ignore[union-attr]

                async def both() -> tuple[Any, int]:
                    if count_first:
                        count, page = await asyncio.gather(reader.count_articles(query), reader.find_articles(query, window))
                    else:
                        page, count = await asyncio.gather(reader.find_articles(query, window), reader.count_articles(query))
                    return page, count

                page, count = run(both())
                asked = pg_store._pool.get_stats()["requests_num"] - stats.get("requests_num", 0)  # type: ignore[union-attr]
                assert count == want_count, (query, window)
                assert [d["id"] for d in page.items] == [d["id"] for d in want_page.items], (query, window)
                assert (page.keys, page.has_next, page.has_previous) == (
                    want_page.keys,
                    want_page.has_next,
                    want_page.has_previous,
                ), (query, window)
                # The page's statement (plus, for a cursor before the first match, the one that looks past it).
                assert asked == 1 or (asked == 2 and window.before is not None), (query, window, asked)
                assert not reader._counts_waiting
