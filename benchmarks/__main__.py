"""All benchmarks in one run: `python -m benchmarks` (or `make bench`).

1. seeding (benchmarks.seed_bench): files/s against raw YAML parsing, first seed and re-seed;
2. HTTP (benchmarks.http_bench): every query at 10k and 100k articles against the bare
   Starlette ceiling and the naive Strawberry peer, with the ratios the performance issue sets.

Pass --quick for a short run (10k articles only, 2 s per row).
"""

from __future__ import annotations

import sys

from benchmarks import http_bench, seed_bench


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print("== seeding", flush=True)
    status = seed_bench.main(["--count", "10000", "--repeat", "1" if quick else "3"])
    print("\n== HTTP", flush=True)
    http_args = ["--sizes", "10000", "--duration", "2"] if quick else []
    return status or http_bench.main(http_args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
