"""The HTTP query set on both stores, side by side: requests/s, p50 and p99.

    python -m benchmarks.http_stores [--sizes 10000,100000] [--duration 5] [--connections 32] [--database-url URL]

The same generated corpus is seeded with the real CLI into a TinyDB file and
into a fresh schema of a PostgreSQL database; a real `newsgraph` server is
started on each (response cache off, asyncio loop) and driven with wrk over
the query set of benchmarks.http_bench (its rotating variables and bodies).
Without --database-url (or NEWSGRAPH_TEST_DATABASE_URL) a throwaway server is
started as the tests do.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid

from benchmarks import http_bench
from benchmarks.http_bench import ROOT, WORK
from benchmarks.stores_bench import _database_url


def server(env: dict[str, str]) -> http_bench.Server:
    port = http_bench.free_port()
    argv = [sys.executable, "-m", "uvicorn", "graph.app:app_from_env", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "asyncio", "--log-level", "warning", "--no-access-log"]
    return http_bench.Server(argv, {"NEWSGRAPH_RESPONSE_CACHE": "0", **env}, port)


def run_size(count: int, duration: float, connections: int, base_url: str) -> dict[str, dict[str, http_bench.Result]]:
    import psycopg

    db = http_bench.prepare(count)
    corpus = WORK / f"corpus-{count}"
    schema = f"http_{count}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    pg_url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
    try:
        subprocess.run([sys.executable, "-m", "graph", "seed", str(corpus), "--database-url", pg_url, "--quiet"],
                       check=True, cwd=ROOT)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("ANALYZE")  # as autovacuum would a minute after a seed
        rows = http_bench.query_set(db)
        results: dict[str, dict[str, http_bench.Result]] = {}
        for store, env in (("tinydb", {"NEWSGRAPH_DB": str(db)}), ("postgres", {"NEWSGRAPH_DATABASE_URL": pg_url})):
            running = server(env)
            running.ready("/healthz")
            running.warm()
            try:
                for name, bodies in rows.items():
                    for b in bodies[:3]:
                        http_bench.post_raw(running.url, b)
                    results.setdefault(name, {})[store] = http_bench.wrk(running.url, bodies, duration, connections)
            finally:
                running.stop()
        return results
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes (default: 10000,100000)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per row (default: 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default: 32)")
    parser.add_argument("--database-url", help="a PostgreSQL server to use (default: a throwaway one)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    base_url, stop = _database_url(args.database_url or os.environ.get("NEWSGRAPH_TEST_DATABASE_URL"))
    try:
        for count in (int(s) for s in args.sizes.split(",")):
            results = run_size(count, args.duration, args.connections, base_url)
            print(f"\n== {count:,} articles, {args.connections} connections, response cache off")
            print(f"{'query':<22}{'tinydb req/s':>14}{'p50':>9}{'p99':>9}{'postgres req/s':>16}{'p50':>9}{'p99':>9}")
            for name, by_store in results.items():
                t, p = by_store["tinydb"], by_store["postgres"]
                print(f"{name:<22}{t.rps:>14.0f}{t.p50_ms:>9.1f}{t.p99_ms:>9.1f}{p.rps:>16.0f}{p.p50_ms:>9.1f}{p.p99_ms:>9.1f}")
    finally:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
