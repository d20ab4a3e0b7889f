"""What a seed of a few changed files costs on a large TinyDB database, for two versions of the code.

    python -m benchmarks.reseed_bench --corpus DIR [--changed 100] [--repeat 3] [--code A --code B]

Seeds the corpus (e.g. one benchmarks.generate made) into a fresh database per
``--code`` checkout, then, --repeat times, edits --changed files (their titles,
and every fifth one's related items, pointing them at other articles so that
stories merge) and times `newsgraph seed` of the whole corpus with each checkout
in turn, interleaved so a busy moment does not hit one of them only. Prints the
best wall and CPU time of each and the ratio to the first (the stories target:
at most 1.10 at 100k articles). The corpus files are edited in place.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
from pathlib import Path

from benchmarks.seed_bench import seed_seconds

TITLE = re.compile(r"^title: .*$", re.M)
WEB_URL = re.compile(r"^webUrl: (.*)$", re.M)


def edit(paths: list[Path], count: int, rng: random.Random) -> None:
    chosen = rng.sample(paths, count)
    for n, path in enumerate(chosen):
        text = path.read_text(encoding="utf-8")
        text = TITLE.sub(f'title: "Edited {rng.getrandbits(32):08x}"', text, count=1)
        if n % 5 == 0:
            other = WEB_URL.search(rng.choice(paths).read_text(encoding="utf-8"))
            if other and "\nrelated:\n" in text:
                item = f"  - title: Linked coverage\n    webUrl: {other.group(1)}\n"
                text = text.replace("\nrelated:\n", "\nrelated:\n" + item, 1)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reseed_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of seed files (edited in place)")
    parser.add_argument("--changed", type=int, default=100, help="files changed before each timed seed (default: 100)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best counts (default: 3)")
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (default: this one); repeatable")
    args = parser.parse_args(argv)
    codes = args.code or [Path(__file__).resolve().parent.parent]
    paths = sorted(p for p in args.corpus.rglob("*") if p.suffix in (".txt", ".md", ".markdown"))
    rng = random.Random()  # fresh edits every run: the same edits again would change nothing
    with tempfile.TemporaryDirectory(prefix="reseed-bench-") as work:
        dbs = [Path(work) / f"db{n}" / "newsgraph.json" for n in range(len(codes))]
        for code, db in zip(codes, dbs):
            wall, cpu = seed_seconds(args.corpus, db, code)
            print(f"first seed with {code}: {wall:.1f} s (cpu {cpu:.1f} s)")
        best: list[tuple[float, float]] = [(float("inf"), 0.0)] * len(codes)
        for round_ in range(args.repeat):
            edit(paths, args.changed, rng)
            for n, (code, db) in enumerate(zip(codes, dbs)):
                wall, cpu = seed_seconds(args.corpus, db, code)
                print(f"  round {round_ + 1}, {code}: {wall:.2f} s (cpu {cpu:.2f} s)")
                best[n] = min(best[n], (wall, cpu))
    print(f"{len(paths)} files, {args.changed} changed per seed; load average now {os.getloadavg()[0]:.2f}")
    for code, (wall, cpu) in zip(codes, best):
        print(f"{code}: best {wall:.2f} s (cpu {cpu:.2f} s), ratio to the first {wall / best[0][0]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
