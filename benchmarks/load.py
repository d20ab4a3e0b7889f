"""Load benchmark: `newsgraph serve --workers N` under a mixed read load, at several concurrencies.

    python -m benchmarks.load [--size 10000] [--duration 10] [--workers 1,2,4] [--connections 8,32,64]
                              [--response-cache 0]

Generates (or reuses) a corpus of `--size` articles (benchmarks.http_bench.prepare), starts the
real CLI, `newsgraph serve --workers N`, on 127.0.0.1 for each N, and drives it with wrk for
`--duration` seconds at each concurrency with a fixed mix of the contract's queries (the texts
of benchmarks.http_bench): a page of articles, lookups by id and by URL, selective filters
(provider, topic, published+category), search, and a broad date window with every facet. Each
query rotates its variables over values taken from the corpus. It prints one row per (workers,
connections): requests/s, p50, p99, p99/p50 and errors (wrk's: connection errors, timeouts and
non-2xx answers), and stops every server it started.

The response cache is off by default (`--response-cache 0`), so every request is computed; the
mix holds a few hundred distinct requests, so with the server's default cache (1024 answers)
nearly all of it would be answered from the cache after the first pass.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.http_bench import (
    BROAD,
    BY_ID,
    BY_URL,
    PAGE_QUERY,
    ROOT,
    SEARCH,
    SELECTIVE,
    WORK,
    Result,
    body,
    free_port,
    post_raw,
    prepare,
    samples,
    wait_ready,
    wrk,
)

# Share of each kind of request in the mix, roughly what a news frontend sends: mostly pages,
# lookups and filtered lists, some searches, a few broad faceted queries.
MIX_WEIGHTS = {"page": 15, "by id": 20, "by url": 10, "selective": 25, "search": 20, "broad + facets": 10}
MIX_LENGTH = 1000
STOP_SECONDS = 15
# Each worker builds some indexes on first use (the search index: ~1.6 s at 10k articles), so
# every server gets this long under the full mix before anything is measured.
WARMUP_SECONDS = 5


@dataclass
class Row:
    workers: int
    connections: int
    result: Result

    @property
    def ratio(self) -> float:
        return self.result.p99_ms / self.result.p50_ms if self.result.p50_ms else 0.0


def request_kinds(db: Path) -> dict[str, list[bytes]]:
    """The distinct request bodies of each kind, with variables from the corpus."""
    values = samples(db)
    broad_windows = [
        {"from": f"2019-{1 + m:02d}-01", "to": f"2021-{1 + (m + d) % 12:02d}-{1 + d:02d}"}
        for m in range(12)
        for d in range(0, 28, 4)
    ]
    return {
        "page": [body(PAGE_QUERY, {"first": first}) for first in (10, 20)],
        "by id": [body(BY_ID, v) for v in values["by_id"]],
        "by url": [body(BY_URL, v) for v in values["by_url"]],
        "selective": [
            body(SELECTIVE, v) for key in ("provider", "topic", "published_category") for v in values[key]
        ],
        "search": [body(SEARCH, v) for v in values["search"]],
        "broad + facets": [body(BROAD, v) for v in broad_windows],
    }


def build_mix(kinds: dict[str, list[bytes]], length: int = MIX_LENGTH, seed: int = 1) -> list[bytes]:
    """`length` bodies in the weights' proportions, each kind cycling through its values, shuffled."""
    total = sum(MIX_WEIGHTS.values())
    mix: list[bytes] = []
    for kind, weight in MIX_WEIGHTS.items():
        bodies = kinds[kind]
        mix += [bodies[n % len(bodies)] for n in range(round(length * weight / total))]
    random.Random(seed).shuffle(mix)
    return mix


class ServeProcess:
    """`newsgraph serve --workers N` in its own process group, so that stopping it stops its workers."""

    def __init__(self, db: Path, workers: int, response_cache: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        argv = [
            sys.executable, "-m", "graph", "serve", "--db", str(db), "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(workers), "--response-cache", str(response_cache),
        ]
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def ready(self) -> None:
        wait_ready(f"http://127.0.0.1:{self.port}/healthz", self.process)

    def stop(self) -> None:
        """SIGINT (uvicorn stops its workers and waits for them), then SIGKILL to the group if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            # The group is the server and the workers it started; nothing else is in it.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def internal_errors(self) -> int:
        return self.log.read_text(errors="replace").count("error id ")


def check_mix(url: str, kinds: dict[str, list[bytes]]) -> dict[str, int]:
    """Each distinct body once: the mix must be answered without GraphQL errors (wrk sees only statuses)."""
    failed: dict[str, int] = {}
    for kind, bodies in kinds.items():
        for data in bodies:
            answer = json.loads(post_raw(url, data))
            if answer.get("errors"):
                failed[kind] = failed.get(kind, 0) + 1
    return failed


def run(size: int, duration: float, workers: list[int], connections: list[int], response_cache: int) -> list[Row]:
    db = prepare(size)
    kinds = request_kinds(db)
    mix = build_mix(kinds)
    print(f"{size:,} articles; mix of {len(mix)} requests ({len(set(mix))} distinct): "
          + ", ".join(f"{kind} {weight}%" for kind, weight in MIX_WEIGHTS.items()))
    print(f"response cache: {'off' if response_cache == 0 else f'{response_cache} answers'}; "
          f"{duration:g} s per row; wrk -t1; {os.cpu_count()} CPUs", flush=True)
    print_header()
    rows: list[Row] = []
    for count in workers:
        server = ServeProcess(db, count, response_cache, WORK / f"load-serve-{count}.log")
        try:
            server.ready()
            failed = check_mix(server.url, kinds)
            if failed:
                raise RuntimeError(f"requests of the mix answered with GraphQL errors: {failed}")
            wrk(server.url, mix, WARMUP_SECONDS, max(connections))  # every worker: parse caches, plans, indexes
            for concurrency in connections:
                rows.append(Row(count, concurrency, wrk(server.url, mix, duration, concurrency)))
                print_row(rows[-1])
            internal = server.internal_errors()
            if internal:
                print(f"  !! the server logged {internal} internal errors; see {server.log}")
        finally:
            server.stop()
    return rows


def print_header() -> None:
    print(f"{'workers':>8}{'conns':>7}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'p99/p50':>9}{'errors':>8}")


def print_row(row: Row) -> None:
    r = row.result
    print(f"{row.workers:>8}{row.connections:>7}{r.rps:>10.0f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
          f"{row.ratio:>9.2f}{r.errors:>8}", flush=True)


def verdict(rows: list[Row]) -> bool:
    """The target: no errors anywhere, and p99 under 10x p50 where throughput peaks."""
    peak = max(rows, key=lambda row: row.result.rps)
    errors = sum(row.result.errors for row in rows)
    met = errors == 0 and peak.ratio < 10
    print(f"\npeak: {peak.result.rps:.0f} req/s with {peak.workers} workers at {peak.connections} connections; "
          f"p99/p50 there {peak.ratio:.2f} (target < 10); errors in all rows: {errors} (target 0): "
          f"{'met' if met else 'NOT met'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10000, help="articles in the corpus (default: 10000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per row (default: 10)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare (default: 1,2,4)")
    parser.add_argument("--connections", default="8,32,64", help="concurrencies (default: 8,32,64)")
    parser.add_argument(
        "--response-cache", type=int, default=0, help="the server's response cache size (default: 0, off)"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("benchmarks.load needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    workers = [int(n) for n in args.workers.split(",") if n]
    connections = [int(n) for n in args.connections.split(",") if n]
    started = time.perf_counter()
    rows = run(args.size, args.duration, workers, connections, args.response_cache)
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    print_header()
    for row in rows:
        print_row(row)
    return 0 if verdict(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
