"""All benchmarks in one run: `python -m benchmarks` (or `make bench`).

1. the frontend mix (benchmarks.mix), the primary table: eight kinds of request a news site's
   pages make, variables never repeated, at 10k and 100k articles, with every server cache's
   hit rate and the CPU seconds of every server process beside each row, and peers if asked;
2. seeding (benchmarks.seed_bench): files/s against raw YAML parsing, first seed and re-seed;
3. HTTP (benchmarks.http_bench): every query at 10k and 100k articles against the bare
   Starlette ceiling and the naive Strawberry peer, with the ratios the performance issue sets.

Pass --quick for a short run (10k articles only, 2 s per row). Other options (--sizes,
--connections, --peers, --kinds, --duration) go to the mix.
"""

from __future__ import annotations

import sys

from benchmarks import http_bench, mix, seed_bench


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    mix_args = [a for a in argv if a != "--quick"]
    if quick:
        mix_args = ["--sizes", "10000", "--duration", "2", *mix_args]
    print("== frontend mix", flush=True)
    status = mix.main(mix_args)
    print("\n== seeding", flush=True)
    status = status or seed_bench.main(["--count", "10000", "--repeat", "1" if quick else "3"])
    print("\n== HTTP", flush=True)
    http_args = ["--sizes", "10000", "--duration", "2"] if quick else []
    return status or http_bench.main(http_args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
