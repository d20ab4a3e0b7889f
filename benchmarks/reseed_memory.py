"""Resident memory of a running ``newsgraph serve`` (TinyDB) over repeated re-seeds of a changing corpus.

    python -m benchmarks.reseed_memory [--count 10000] [--rounds 50] [--changed 200] [--work DIR]

Generates a corpus (benchmarks.generate), seeds it, starts the real server on it,
then each round rewrites ``--changed`` files (new title and body words), seeds
again and asks the server a few queries (search, facets, a page) so that it loads
the new data version and builds what requests build. Prints the server's resident
memory (VmRSS) after each round: memory that grows round after round is kept
by something that should have been dropped with the old snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.generate import generate

QUERIES = [
    '{ articles(search: "police city", first: 10) { totalCount nodes { id title provider { name } } } }',
    "{ articles(first: 20) { nodes { id title related { title article { id } } } facets { topics { value count } "
    "providers { value count } histogram(interval: MONTH) { value count } } } }",
    '{ articles(where: {title: {contains: "round"}}, first: 5) { totalCount } }',
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask(port: int, query: str) -> dict:
    """The answer to a query; asked again while the new data's search index is still being built."""
    for _ in range(60):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        if "errors" not in answer:
            return answer
        if "execution time limit" not in answer["errors"][0]["message"]:
            break
        time.sleep(1)
    raise RuntimeError(answer["errors"])


def change(files: list[Path], rng: random.Random, round_: int, changed: int) -> None:
    for path in rng.sample(files, changed):
        text = path.read_text(encoding="utf-8")
        head, sep, body = text.partition("\n---\n")
        lines = head.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("title:"):
                lines[i] = f'title: "round {round_} {rng.randrange(10**6)}"'
        path.write_text("\n".join(lines) + sep + body + f"\nround {round_} word{rng.randrange(10**5)}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reseed_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="articles in the corpus (default: 10000)")
    parser.add_argument("--rounds", type=int, default=50, help="re-seeds (default: 50)")
    parser.add_argument("--changed", type=int, default=200, help="files changed before each re-seed (default: 200)")
    parser.add_argument("--work", help="folder for the corpus and database (default: a temporary one)")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="reseed-memory-"))
    corpus, db = work / "corpus", work / "db" / "newsgraph.json"
    if not corpus.exists():
        generate(corpus, args.count, 1)
    files = sorted(corpus.glob("*.txt"))
    cli = [sys.executable, "-m", "graph"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    subprocess.run([*cli, "seed", "--db", str(db), str(corpus)], check=True, env=env, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--db", str(db), "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    rng = random.Random(1)
    try:
        for _ in range(600):
            try:
                ask(port, "{ __typename }")
                break
            except OSError:
                time.sleep(0.1)
        for query in QUERIES:
            ask(port, query)
        print(f"round 0: {rss_kib(server.pid) / 1024:.1f} MiB", flush=True)
        for round_ in range(1, args.rounds + 1):
            change(files, rng, round_, args.changed)
            subprocess.run([*cli, "seed", "--db", str(db), str(corpus)], check=True, env=env, capture_output=True)
            for query in QUERIES:
                ask(port, query)
            print(f"round {round_}: {rss_kib(server.pid) / 1024:.1f} MiB", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
