"""Shared fixtures: an event loop, real stores in temp dirs, an in-process GraphQL client.

``store_kind`` is parametrized over both backends. The PostgreSQL cases use
the server tests/pg.py finds or starts; without one they skip with the reason,
except under CI=true, where a missing server fails them.
"""

from __future__ import annotations

import asyncio
import ctypes
import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from graph.config import Limits
from graph.documents import normalize
from graph.execution.executor import Executor
from graph.execution.plan import PLAN_FALLBACKS
from graph.schema import schema
from graph.schema.context import Context
from graph.store.base import Store
from graph.store.tinydb.snapshot import Snapshot
from graph.store.tinydb.store import TinyDBStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STORE_KINDS = ["tinydb", "postgres"]
EXECUTIONS = ["compiled", "stock"]


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def run(loop: asyncio.AbstractEventLoop) -> Callable[[Any], Any]:
    """Run a coroutine to completion on the session's event loop."""
    return loop.run_until_complete


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The test PostgreSQL server's base URL (tests/pg.py); skips, or fails under CI=true, without one."""
    import pg

    try:
        url = pg.server_url()
    except pg.Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required when CI=true: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield url
    pg.stop()


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A URL of a fresh, empty schema in the test database (dropped after the test)."""
    import pg

    with pg.fresh_schema(pg_url) as url:
        yield url


@pytest.fixture
def make_store(
    store_kind: str, tmp_path: Path, run: Callable[[Any], Any], request: pytest.FixtureRequest
) -> Iterator[Callable[[], Store]]:
    """A factory of empty, opened stores of the parametrized kind (closed after the test)."""
    opened: list[Store] = []
    cleanup = contextlib.ExitStack()

    def factory() -> Store:
        if store_kind == "tinydb":
            from graph.store.tinydb.store import TinyDBStore

            store: Store = TinyDBStore(tmp_path / f"db{len(opened)}" / "newsgraph.json")
        elif store_kind == "postgres":
            import pg
            from graph.store.postgres.store import PostgresStore

            # Each store gets its own empty schema in the test database.
            url = cleanup.enter_context(pg.recycled_schema(request.getfixturevalue("pg_url")))
            store = PostgresStore(url, max_size=4)
        else:
            raise AssertionError(store_kind)
        run(store.open())
        opened.append(store)
        return store

    with cleanup:
        yield factory
        for store in opened:
            run(store.close())


def article(**fields: Any) -> dict[str, Any]:
    """A stored document from frontmatter-like fields (validated and normalized like a seed file)."""
    fields = dict(fields)
    body = fields.pop("body", "")
    default_id = str(fields.get("id", "x"))
    return normalize(fields, body, default_id)


class Api:
    """Runs GraphQL operations in-process against a store (no HTTP)."""

    def __init__(
        self, store: Store, run: Callable[[Any], Any], limits: Limits | None = None, compiled: bool = True
    ) -> None:
        self.store = store
        self.run = run
        self.limits = limits or Limits()
        self.executor = Executor(schema._schema, self.limits, compiled=compiled)

    def execute(self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            reader = await self.store.reader()
            outcome = await self.executor.run(query, variables, operation_name, Context(reader=reader, limits=self.limits))
            return outcome.payload

        return self.run(go())

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed."""
        payload = self.execute(query, variables)
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        payload = self.execute(query, variables)
        return [e["extensions"]["code"] for e in payload.get("errors", [])]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The stock path runs over TinyDB only: it makes the same store calls as the compiled path
    (graph.schema.resolvers), so over PostgreSQL it would prove nothing more, at twice the time."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        stock_on_postgres = params.get("execution") == "stock" and params.get("store_kind") == "postgres"
        (dropped if stock_on_postgres else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=EXECUTIONS)
def execution(request: pytest.FixtureRequest) -> str:
    """How the in-process client runs queries: the compiled plan, or graphql-core over the resolvers.

    Both compute every value with the same batch functions (graph.schema.fields); running the API
    tests both ways keeps both paths proven.
    """
    return request.param


@pytest.fixture
def api_for(
    run: Callable[[Any], Any], make_store: Callable[[], Store], execution: str
) -> Callable[[Sequence[dict[str, Any]]], Api]:
    """api_for(docs): a fresh store of the parametrized kind holding docs, and a client for it."""

    def build(docs: Sequence[dict[str, Any]], limits: Limits | None = None) -> Api:
        store = make_store()
        if docs:
            run(store.write(list(docs), []))
        return Api(store, run, limits, compiled=execution == "compiled")

    return build


@pytest.fixture(autouse=True)
def no_plan_failures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test in which the compiled plan raised something unexpected (in this process).

    In production such a failure is logged and the query answered the stock way; in the tests it
    is a defect, which that fallback would hide.
    """
    before = _unexpected_plan_failures()
    yield
    if request.node.get_closest_marker("plan_failures_expected") is None:
        after = _unexpected_plan_failures()
        assert after == before, f"the compiled plan failed unexpectedly: {after - before}"


def _unexpected_plan_failures() -> Counter[str]:
    return Counter({k: v for k, v in PLAN_FALLBACKS.items() if k.startswith("unexpected")})


CORPUS = FIXTURES / "corpus"


def corpus_docs() -> list[dict[str, Any]]:
    """The hand-checked fixture corpus (tests/fixtures/corpus/), read by the real seed-file loader."""
    from graph.documents import parse_file

    return [parse_file(path, path.read_bytes()) for path in sorted(CORPUS.glob("*.txt"))]


@pytest.fixture
def corpus(api_for: Callable[..., Api]) -> Api:
    """A client for a fresh store of the parametrized kind holding the fixture corpus."""
    return api_for(corpus_docs())


def newsgraph(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, **kwargs: Any):
    """Run the real CLI as a subprocess (the installed console script's module)."""
    import subprocess

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "graph", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 120),
        **kwargs,
    )


def without_root_powers() -> None:
    """preexec_fn: as root, drop the capabilities that ignore file permissions (so chmod counts)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, from the bounding set
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def opened_snapshot(db: Path) -> Snapshot:
    """The snapshot a freshly opened TinyDB store serves from db (in-memory: usable after the store closes)."""

    async def read() -> Snapshot:
        store = TinyDBStore(db, preload=False)
        await store.open()
        try:
            return (await store.reader()).snapshot
        finally:
            await store.close()

    return asyncio.run(read())
