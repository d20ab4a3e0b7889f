"""Where a request's time goes on the PostgreSQL store, per kind of the frontend mix (in-process).

    python -m benchmarks.pg_profile DATABASE_URL [--count 100000] [--n 200] [--kinds abcdf] [--explain]

Runs each kind's GraphQL operation through the Executor over a PostgresStore
(values drawn as benchmarks.mix draws them, never repeated), one request at a
time, and reports per request: wall ms, statements, ms inside statements
(round trip included), and the rest (Python: executor, decoding, shaping).
With --explain, prints EXPLAIN (ANALYZE, BUFFERS) of each statement of the
first request of each kind.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from benchmarks.http_bench import prepare
from benchmarks.mix import KINDS, Corpus, Target, cpu_seconds, variables


class _Fake:
    url = ""


async def explain(store: Any, sql: str, params: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, indented."""
    async with store._pool.connection() as conn:
        rows = await (await conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)).fetchall()
    return "\n".join("    " + r[0] for r in rows)


async def main_async(args: argparse.Namespace) -> None:
    import json

    import graph.store.postgres.store as pg
    from graph.execution.executor import Executor
    from graph.config import Limits
    from graph.schema import schema
    from graph.schema.context import Context

    statements: list[tuple[str, Any, float]] = []
    original_all = pg.PostgresReader._all
    original_state = pg.PostgresStore._read_state

    async def counted_all(self, sql, params=None):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return await original_all(self, sql, params)
        finally:
            statements.append((sql, params, time.perf_counter() - started))

    async def counted_state(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return await original_state(self)
        finally:
            statements.append(("<version>", None, time.perf_counter() - started))

    pg.PostgresReader._all = counted_all  # type: ignore[method-assign]
    pg.PostgresStore._read_state = counted_state  # type: ignore[method-assign]

    store = pg.PostgresStore(args.url)
    await store.open()
    async with store._pool.connection() as conn:  # type: ignore[union-attr]
        backend = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]  # type: ignore[index]
    postmaster = int(open(f"/proc/{backend}/stat").read().rsplit(")", 1)[1].split()[1])
    limits = Limits()
    executor = Executor(schema._schema, limits)
    corpus = Corpus.load(prepare(args.count))
    rng = random.Random("pg-profile")
    target = Target.__new__(Target)
    for kind in KINDS:
        if kind.key not in args.kinds:
            continue
        values = variables(kind.key, corpus, args.n + 20, rng)
        rng.shuffle(values) if kind.key not in ("a", "b") else None
        walls, sql_ms, counts = [], [], []
        slow: list[tuple[float, Any, list[tuple[str, Any, float]]]] = []
        errors = 0
        cpu_started = pg_started = 0.0
        for n, v in enumerate(values):
            if n == 20:  # after the warm-up
                cpu_started, pg_started = time.process_time(), cpu_seconds([postmaster])
            body = json.loads(target.body(kind, v))
            statements.clear()
            started = time.perf_counter()
            reader = await store.reader()
            outcome = await executor.run(body["query"], body["variables"], None, Context(reader=reader, limits=limits))
            wall = time.perf_counter() - started
            if "errors" in outcome.payload:
                errors += 1
                continue
            if args.explain and n == 19:  # the last warm-up request's statements (outside the CPU counted)
                for sql, params, _ in statements:
                    if sql == "<version>":
                        continue
                    print(f"--- {kind.name}: {sql.strip()[:2000]}\n    params {params}")
                    print(await explain(store, sql, params))
            if n < 20:  # warm-up
                continue
            walls.append(wall * 1000)
            if args.slowest:
                slow = sorted([*slow, (wall, body["variables"], list(statements))], key=lambda x: -x[0])[: args.slowest]
            sql_ms.append(sum(s[2] for s in statements) * 1000)
            counts.append(len(statements))
        for wall, variables_, done in slow:
            print(f"--- {kind.name}: {wall * 1000:.1f} ms for {variables_}")
            for sql, params, took in done:
                if sql == "<version>":
                    continue
                print(f"  {took * 1000:.1f} ms: {sql.strip()[:300]}")
                print(await explain(store, sql, params))
        python_cpu = (time.process_time() - cpu_started) * 1000 / len(walls)
        postgres_cpu = (cpu_seconds([postmaster]) - pg_started) * 1000 / len(walls)
        walls.sort()
        print(f"{kind.name:<25} wall p50 {walls[len(walls) // 2]:6.2f} ms mean {sum(walls) / len(walls):6.2f}"
              f"  sql {sum(sql_ms) / len(sql_ms):6.2f} ms  python {(sum(walls) - sum(sql_ms)) / len(walls):6.2f} ms"
              f"  statements {sum(counts) / len(counts):.1f}  errors {errors}"
              f"  cpu ms/req: python {python_cpu:.2f} postgres {postgres_cpu:.2f}", flush=True)
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--kinds", default="abcdf")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--slowest", type=int, default=0, help="EXPLAIN the statements of the N slowest requests of each kind")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
