"""HTTP benchmark: newsgraph against a bare Starlette ceiling and the naive Strawberry peer.

    python -m benchmarks.http_bench [--sizes 10000,100000] [--duration 5] [--connections 32]

For each corpus size it generates a corpus (benchmarks.generate), seeds a
TinyDB file with the real CLI, starts real servers on 127.0.0.1 and drives
them with wrk (a C load generator: `apt-get install wrk`), printing
requests/s, p50 and p99 for every query, then the ratios the performance
issue sets as targets. Everything is measured in the same run on the same
machine, so the ratios hold even when the machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# NEWSGRAPH_BENCH_WORK: another folder for corpora, databases and request bodies (runs beside others' on one machine).
WORK = Path(os.environ.get("NEWSGRAPH_BENCH_WORK") or ROOT / "benchmarks" / ".work")

PAGE_QUERY = """query Page($first: Int!) {
  articles(first: $first) {
    totalCount
    edges { cursor node {
      id title excerpt publishedDateTime category quality
      provider { name domain }
      images { url width height }
      related { title webUrl publishedDateTime provider { name domain } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
BY_ID = "query ById($id: ID!) { article(id: $id) { id title publishedDateTime provider { name domain } topics } }"
BY_URL = "query ByUrl($url: String!) { articleByUrl(url: $url) { id title provider { domain } } }"
SELECTIVE = """query Selective($where: ArticleFilter) {
  articles(where: $where, first: 20) { totalCount nodes { id title publishedDateTime provider { domain } } }
}"""
BROAD = """query Broad($from: DateTime!, $to: DateTime!) {
  articles(where: {publishedDateTime: {gte: $from, lt: $to}}, orderBy: [{field: QUALITY, direction: DESC}], first: 20) {
    totalCount
    nodes { id title quality publishedDateTime }
    facets {
      topics { value count } providers { value count } categories { value count } types { value count }
      published { value count } quality { count min max avg } heat { count min max avg }
      publishedDateTime { min max } histogram(interval: MONTH) { value count }
    }
  }
}"""
SEARCH = """query Search($q: String!) {
  articles(search: $q, first: 20) { totalCount nodes { id title } }
}"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[Any], timeout: float = 120.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server not ready after {timeout} s")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post(url: str, query: str, variables: dict[str, Any]) -> bytes:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _lua_string(text: str) -> str:
    """A Lua long-bracket literal (no escapes to get wrong, unlike JSON's \\u)."""
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


# wrk's summary as one JSON line: latency percentiles (us), errors, and requests sent.
WRK_DONE = (
    "done = function(summary, latency, requests)\n"
    '  io.write(string.format("JSON {\\"p50\\": %d, \\"p99\\": %d, \\"errors\\": %d, \\"requests\\": %d}\\n",\n'
    "    latency:percentile(50), latency:percentile(99),\n"
    "    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,\n"
    "    summary.requests))\n"
    "end\n"
)


def wrk(url: str, bodies: list[bytes], duration: float, connections: int) -> Result:
    """Drive url with POSTs cycling through bodies; wrk's own latency distribution."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    with script:
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        script.write("bodies = {\n")
        for body in bodies:
            script.write("  " + _lua_string(body.decode()) + ",\n")
        script.write("}\ni = 0\nrequest = function()\n  i = i % #bodies + 1\n")
        script.write("  return wrk.format(nil, nil, nil, bodies[i])\nend\n")
        script.write(WRK_DONE)
    return run_wrk(url, script.name, duration, connections)


def run_wrk(url: str, script_path: str, duration: float, connections: int) -> Result:
    """Run wrk (one thread) with a Lua script that ends with WRK_DONE; the script file is deleted after."""
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", script_path, url],
            capture_output=True,
            text=True,
        )
        if output.returncode != 0:
            raise RuntimeError(f"wrk failed: {output.stderr.strip() or output.stdout.strip()}")
        output = output.stdout
    finally:
        os.unlink(script_path)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    stats = json.loads(re.search(r"JSON (\{.*\})", output).group(1))
    return Result(rps, stats["p50"] / 1000, stats["p99"] / 1000, stats["errors"], stats["requests"])


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            argv, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.url = f"http://127.0.0.1:{port}/graphql"

    def ready(self, health: str) -> float:
        return wait_ready(f"http://127.0.0.1:{self.port}{health}", self.process)

    def warm(self, timeout: float = 300.0) -> float:
        """Seconds until /healthz says every index is built (measurements start after that)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                if json.loads(response.read()).get("warm", True):
                    return time.perf_counter() - started
            time.sleep(0.1)
        raise RuntimeError("server not warm in time")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def newsgraph_server(db: Path, cache: bool, loop: str = "asyncio", metrics: bool = False,
                     database_url: str | None = None) -> Server:
    port = free_port()
    env = {"NEWSGRAPH_DB": str(db), "NEWSGRAPH_RESPONSE_CACHE": "1024" if cache else "0",
           "NEWSGRAPH_METRICS": "true" if metrics else "false"}
    if database_url:
        env["NEWSGRAPH_DATABASE_URL"] = database_url
    argv = [sys.executable, "-m", "uvicorn", "graph.app:app_from_env", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--loop", loop, "--log-level", "warning", "--no-access-log"]
    return Server(argv, env, port)


def ceiling_server(payload: bytes) -> Server:
    port = free_port()
    path = WORK / "ceiling-payload.json"
    path.write_bytes(payload)
    argv = [sys.executable, "-m", "benchmarks.ceiling", str(path), str(port)]
    return Server(argv, {}, port)


def naive_server(db: Path) -> Server:
    port = free_port()
    return Server([sys.executable, "-m", "benchmarks.naive_peer", str(db), str(port)], {}, port)


def prepare(count: int) -> Path:
    """A seeded TinyDB file of `count` generated articles (kept between runs)."""
    from benchmarks.generate import GENERATOR_VERSION, generate

    # Named by the generator's version: a corpus of an older generator is not reused.
    corpus = WORK / f"corpus-{count}-v{GENERATOR_VERSION}"
    db = WORK / f"db-{count}-v{GENERATOR_VERSION}.json"
    if db.exists() and not (WORK / f".{db.name}.snapshot").exists():
        db.unlink()  # written by an older newsgraph: seed it again so that the server starts as it would now
    if not db.exists():
        if not corpus.exists():
            generate(corpus, count, 1)
        subprocess.run(
            [sys.executable, "-m", "graph", "seed", str(corpus), "--db", str(db), "--quiet"], check=True, cwd=ROOT
        )
    return db


def samples(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Variables for the rotating queries, taken from the stored documents."""
    import orjson

    docs = list(orjson.loads(db.read_bytes())["articles"].values())
    step = max(1, len(docs) // 200)
    picked = docs[::step][:200]
    domains = sorted({d["provider"]["domain"] for d in picked if d.get("provider")})
    topics = sorted({t for d in picked for t in d.get("topics") or []})
    categories = sorted({d["category"] for d in picked if d.get("category")})
    words = [w for d in picked for w in re.findall(r"[A-Za-z]{6,}", d["title"])][:100]
    return {
        "by_id": [{"id": d["id"]} for d in picked],
        "by_url": [{"url": d["webUrl"]} for d in picked if d.get("webUrl")],
        "provider": [{"where": {"provider": {"domain": {"eq": x}}}} for x in domains],
        "topic": [{"where": {"topics": {"has": x}}} for x in topics],
        "published_category": [{"where": {"published": {"eq": True}, "category": {"eq": x}}} for x in categories],
        "search": [{"q": w} for w in words],
    }


def body(query: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def broad_windows() -> list[dict[str, str]]:
    """Two-year windows starting on 1,344 different days: more than the store's caches of matches and
    facets hold (requests rotate through them in order, so each one is computed afresh)."""
    return [
        {"from": f"{2018 + y}-{1 + m:02d}-{1 + d:02d}", "to": f"{2020 + y}-{1 + m:02d}-{1 + d:02d}"}
        for y in range(4)
        for m in range(12)
        for d in range(28)
    ]


def query_set(db: Path) -> dict[str, list[bytes]]:
    """The rows of uncached queries, each with its rotating request bodies (variables from the corpus)."""
    values = samples(db)
    return {
        "page (uncached)": [body(PAGE_QUERY, {"first": 20})],
        "by id": [body(BY_ID, v) for v in values["by_id"]],
        "by url": [body(BY_URL, v) for v in values["by_url"]],
        "provider domain": [body(SELECTIVE, v) for v in values["provider"]],
        "topic": [body(SELECTIVE, v) for v in values["topic"]],
        "published+category": [body(SELECTIVE, v) for v in values["published_category"]],
        "search": [body(SEARCH, v) for v in values["search"]],
        "broad + facets": [body(BROAD, window) for window in broad_windows()],
    }


def run_size(count: int, duration: float, connections: int, loops: list[str]) -> dict[str, Any]:
    db = prepare(count)
    size_mib = db.stat().st_size / 2**20
    out: dict[str, Any] = {"count": count, "file_mib": size_mib, "rows": {}}
    rows = query_set(db)
    page_body = rows["page (uncached)"][0]
    broad_bodies = rows["broad + facets"]

    for loop in loops:
        server = newsgraph_server(db, cache=False, loop=loop)
        out[f"ready_s[{loop}]"] = server.ready("/healthz")
        out[f"warm_s[{loop}]"] = out[f"ready_s[{loop}]"] + server.warm()
        out[f"rss_mib[{loop}]"] = rss_mib(server.process.pid)
        try:
            payload = post(server.url, PAGE_QUERY, {"first": 20})
            for name, bodies in rows.items():
                for b in bodies[:3]:
                    post_raw(server.url, b)  # warm caches of parse/validation and indexes
                out["rows"][f"{name} [{loop}]"] = wrk(server.url, bodies, duration, connections)
            # Latency of one broad query on its own (p50 under 32 connections is mostly queueing);
            # a request first waits out what the last row left in flight.
            post_raw(server.url, broad_bodies[0])
            out["rows"][f"broad + facets, 1 connection [{loop}]"] = wrk(server.url, broad_bodies, duration, 1)
            out[f"rss_after_mib[{loop}]"] = rss_mib(server.process.pid)
        finally:
            server.stop()

    cached = newsgraph_server(db, cache=True, loop=loops[0])
    cached.ready("/healthz")
    cached.warm()
    try:
        post_raw(cached.url, page_body)
        out["rows"]["page (repeated, cached)"] = wrk(cached.url, [page_body], duration, connections)
    finally:
        cached.stop()

    ceiling = ceiling_server(payload)
    ceiling.ready("/")
    try:
        out["rows"]["bare Starlette, same bytes"] = wrk(ceiling.url, [page_body], duration, connections)
    finally:
        ceiling.stop()

    naive = naive_server(db)
    naive.ready("/graphql?query=%7B__typename%7D")
    try:
        post_raw(naive.url, page_body)
        out["rows"]["naive Strawberry peer: page"] = wrk(naive.url, [page_body], duration, connections)
    finally:
        naive.stop()
    return out


def post_raw(url: str, data: bytes) -> bytes:
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def report(results: list[dict[str, Any]], loops: list[str]) -> None:
    for result in results:
        print(f"\n== {result['count']:,} articles (database file {result['file_mib']:.0f} MiB)")
        for loop in loops:
            print(f"server ready in {result[f'ready_s[{loop}]']:.2f} s (search index built at "
                  f"{result[f'warm_s[{loop}]']:.2f} s), RSS {result[f'rss_mib[{loop}]']:.0f} MiB "
                  f"({result[f'rss_mib[{loop}]'] / result['file_mib']:.2f}x the file), after the rows "
                  f"{result[f'rss_after_mib[{loop}]']:.0f} MiB ({result[f'rss_after_mib[{loop}]'] / result['file_mib']:.2f}x) "
                  f"[{loop}]")
        print(f"{'query':<36}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'p99/p50':>9}{'errors':>8}")
        for name, row in result["rows"].items():
            ratio = row.p99_ms / row.p50_ms if row.p50_ms else 0.0
            print(f"{name:<36}{row.rps:>10.0f}{row.p50_ms:>10.2f}{row.p99_ms:>10.2f}{ratio:>9.2f}{row.errors:>8}")
    loop = loops[0]
    print("\n== targets")
    for result in results:
        rows = result["rows"]
        n = result["count"]
        page = rows[f"page (uncached) [{loop}]"].rps
        naive = rows["naive Strawberry peer: page"].rps
        cached = rows["page (repeated, cached)"].rps
        ceiling = rows["bare Starlette, same bytes"].rps
        print(f"[{n:,}] uncached page vs naive peer: {page / naive:.2f}x (target >= 4x)")
        print(f"[{n:,}] repeated page vs bare Starlette: {cached / ceiling:.0%} (target >= 50%)")
        broad = rows[f"broad + facets, 1 connection [{loop}]"].p50_ms
        print(f"[{n:,}] broad query p50, 1 connection: {broad:.1f} ms (target <= 150 ms at 100k)")
        print(f"[{n:,}] ready: {result[f'ready_s[{loop}]']:.2f} s (target <= 4 s at 100k); "
              f"RSS/file: {result[f'rss_mib[{loop}]'] / result['file_mib']:.2f} when warm, "
              f"{result[f'rss_after_mib[{loop}]'] / result['file_mib']:.2f} after the rows (target <= 2)")
    if len(results) >= 2:
        small, large = results[0], results[-1]
        for name in ("by id", "by url", "provider domain", "topic", "published+category"):
            a = small["rows"][f"{name} [{loop}]"].p50_ms
            b = large["rows"][f"{name} [{loop}]"].p50_ms
            print(f"selective '{name}': p50 {large['count']:,} / {small['count']:,} = {b / a:.2f} (target <= 1.5)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes (default: 10000,100000)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per row (default: 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default: 32)")
    parser.add_argument("--loops", default="asyncio,uvloop", help="event loops to compare (default: asyncio,uvloop)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("http_bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    loops = [loop for loop in args.loops.split(",") if loop]
    if "uvloop" in loops:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            print("uvloop is not installed: measuring asyncio only", file=sys.stderr)
            loops = [loop for loop in loops if loop != "uvloop"] or ["asyncio"]
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [run_size(n, args.duration, args.connections, loops) for n in sizes]
    report(results, loops)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
