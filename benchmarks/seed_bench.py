"""How fast `newsgraph seed` loads a corpus, against the ceiling of parsing its YAML.

    python -m benchmarks.seed_bench [--count 10000] [--seed 1] [--repeat 3]

Generates a synthetic corpus (benchmarks.generate) in a temporary folder and prints files/s for
  (a) the ceiling: reading each file, cutting its frontmatter and parsing it with
      PyYAML's CSafeLoader, one core, in this process;
  (b) `newsgraph seed DIR` end to end (a fresh process, a fresh TinyDB file);
  (c) the same command again over the unchanged files;
and the ratios (b)/(a) (target >= 0.8) and (b time)/(c time) (target >= 5).
Each figure is the best of --repeat runs. CPU seconds (all processes of a run) are
printed beside the wall times: on a shared machine they move less than wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.generate import generate
from graph.documents import YAML_LOADER, split

FIRST_SEED_TARGET = 0.8
RESEED_TARGET = 5.0


def raw_parse_seconds(paths: list[Path]) -> tuple[float, float]:
    """(a): read, decode, cut and YAML-parse every file with CSafeLoader, in this one process (wall, CPU)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    started, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        yaml.load(split(text).frontmatter, Loader=loader)
    return time.perf_counter() - started, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seed_seconds(corpus: Path, db: Path, code: Path | None = None) -> tuple[float, float]:
    """One `newsgraph seed` run as a user would start it (wall, CPU of it and its workers); raises when it fails.

    ``code``: the checkout whose `graph` runs (default: the installed one).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    os.sync()  # start clean: no writeback of earlier files competing with this run's fsync
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "graph", "seed", str(corpus), "--db", str(db), "--quiet"],
        cwd=code,
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"newsgraph seed failed ({result.returncode}):\n{result.stderr}")
    print(f"    {result.stdout.strip()}")
    return elapsed, _children_cpu() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="files in the corpus (default: 10000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus random seed (default: 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts (default: 3)")
    args = parser.parse_args(argv)

    print(f"YAML loader: {YAML_LOADER}; cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="seed-bench-") as work:
        corpus = Path(work) / "corpus"
        paths = generate(corpus, args.count, args.seed)
        size = sum(p.stat().st_size for p in paths)
        print(f"corpus: {len(paths)} files, {size / 1e6:.1f} MB (benchmarks.generate --seed {args.seed})")

        os.sync()
        for path in paths:  # warm the page cache: every measurement reads the files from memory
            path.read_bytes()
        raws, first, again = [], [], []
        for n in range(args.repeat):  # interleaved, so that a busy moment does not hit one figure only
            print(f"  run {n + 1}:")
            raws.append(raw_parse_seconds(paths))
            db = Path(work) / f"db{n}" / "newsgraph.json"
            first.append(seed_seconds(corpus, db))
            again.append(seed_seconds(corpus, db))
        (raw, raw_cpu), (b, b_cpu), (c, c_cpu) = min(raws), min(first), min(again)

    count = len(paths)
    print(f"load average now: {os.getloadavg()[0]:.2f} (above ~0.5 other work shares the cores)")
    print(f"(a) raw CSafeLoader parse, 1 core : {count / raw:8.0f} files/s  ({raw:.2f} s, cpu {raw_cpu:.2f} s)")
    print(f"(b) newsgraph seed, fresh db      : {count / b:8.0f} files/s  ({b:.2f} s, cpu {b_cpu:.2f} s)")
    print(f"(c) newsgraph seed, unchanged     : {count / c:8.0f} files/s  ({c:.2f} s, cpu {c_cpu:.2f} s)")
    first_ratio, reseed_ratio = raw / b, b / c
    print(f"(b)/(a) rate     = {first_ratio:.2f}  (target >= {FIRST_SEED_TARGET}: {'met' if first_ratio >= FIRST_SEED_TARGET else 'MISSED'})")
    print(f"(b)/(c) time     = {reseed_ratio:.1f}  (target >= {RESEED_TARGET}: {'met' if reseed_ratio >= RESEED_TARGET else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
