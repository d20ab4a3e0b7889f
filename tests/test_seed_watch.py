"""`newsgraph seed --watch` through the real CLI (DESIGN.md "Next"), on both stores.

The watcher runs as a subprocess on real files in a temp folder; after each
change the test waits for the batch's summary line and compares the store with
a reference computed by brute force over the folder (every seed file's id and
title). Waits are bounds, never measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import newsgraph, without_root_powers
from server import running_server

BATCH = re.compile(
    r"^\d\d:\d\d:\d\d batch: (\d+) added, (\d+) updated, (\d+) removed, (\d+) unchanged; (\d+) skipped in \d+\.\d\d s$"
)
INITIAL = re.compile(r"^loaded \d+: .* in \d+\.\d\d s$")
WAIT_SECONDS = 60.0
"""How long a step may wait for the watcher (a bound, not a measurement)."""


def article(title: str, *extra: str) -> str:
    return "---\n" + f"title: {title}\n" + "".join(line + "\n" for line in extra) + "---\nBody.\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def save_atomically(path: Path, text: str) -> None:
    """As editors save: a temporary file beside it, renamed over it."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def seed_of(path: Path) -> tuple[str, str]:
    """(id, title) of a seed file, read the simple way: the frontmatter id, else the name without NNN_."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = dict(line.split(": ", 1) for line in lines[1 : lines.index("---", 1)])
    return fields.get("id") or re.sub(r"^\d{3}_", "", path.stem), fields["title"]


def reference(folder: Path) -> dict[str, str]:
    """{id: title} of every seed file under folder."""
    return dict(seed_of(path) for path in sorted(folder.rglob("*")) if path.suffix in (".md", ".txt"))


class Target:
    """Where a watcher seeds: a TinyDB file or a PostgreSQL schema, and how to read it back."""

    def __init__(self, kind: str, workdir: Path, url: str | None) -> None:
        self.kind = kind
        self.db = workdir / "db" / "newsgraph.json"
        self.db.parent.mkdir(exist_ok=True)  # the server's log goes beside it, whichever the store
        self.url = url

    def args(self) -> list[str]:
        return ["--database-url", self.url] if self.url else ["--db", str(self.db)]

    def store(self) -> Any:
        if self.url:
            from graph.store.postgres.store import PostgresStore

            return PostgresStore(self.url, max_size=2)
        from graph.store.tinydb.store import TinyDBStore

        return TinyDBStore(self.db, preload=False)

    def titles(self) -> dict[str, str]:
        """{id: title} of every stored article."""

        async def read() -> dict[str, str]:
            store = self.store()
            await store.open()
            try:
                ids = sorted(await store.seed_marks())
                reader = await store.reader()
                return {doc["id"]: doc["title"] for doc in await reader.get_articles(ids) if doc is not None}
            finally:
                await store.close()

        return asyncio.run(read())


@pytest.fixture
def target(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Target]:
    if store_kind == "tinydb":
        yield Target(store_kind, tmp_path, None)
        return
    import pg

    with pg.fresh_schema(request.getfixturevalue("pg_url")) as url:
        yield Target(store_kind, tmp_path, url)


class Watcher:
    """`newsgraph seed --watch ARGS` in a subprocess; its stdout and stderr lines as they come."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graph", "seed", "--watch", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=without_root_powers,  # a chmod counts, even as root
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        self.ready = threading.Event()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self._error), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, put: Any) -> None:
        for line in stream:
            put(line.rstrip("\n"))

    def _error(self, line: str) -> None:
        self.errors.append(line)
        if line.startswith("watching "):
            self.ready.set()

    def line(self) -> str:
        """The next stdout line (fails after WAIT_SECONDS, or when the watcher exited)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                return self.lines.get(timeout=0.1)
            if self.process.poll() is not None and self.lines.empty():
                self._readers[0].join(timeout=5)
                if not self.lines.empty():
                    continue
                pytest.fail(f"the watcher exited ({self.process.returncode}): {self.errors}", pytrace=False)
        pytest.fail(f"no output from the watcher within {WAIT_SECONDS:g} s; stderr: {self.errors}", pytrace=False)

    def start(self) -> str:
        """Wait for the first seed's summary and for the watch to begin; returns the summary."""
        summary = self.line()
        assert INITIAL.match(summary), summary
        assert self.ready.wait(WAIT_SECONDS), self.errors
        return summary

    def batch(self) -> tuple[int, ...]:
        """The next batch line's (added, updated, removed, unchanged, skipped)."""
        line = self.line()
        match = BATCH.match(line)
        assert match is not None, line
        return tuple(int(g) for g in match.groups())

    def batches_until(self, done: Any) -> int:
        """Read batch lines until done() holds; returns how many there were."""
        count = 0
        while not done():
            self.batch()
            count += 1
        return count

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=WAIT_SECONDS)
        finally:
            self.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def watching(cwd: Path, *args: str) -> Iterator[Watcher]:
    watcher = Watcher(cwd, *args)
    try:
        yield watcher
    finally:
        watcher.close()


def test_adds_changes_deletes_renames_and_moves_follow_the_files(tmp_path: Path, target: Target) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "001_a.md", article("A"))
    write(seeds / "b.md", article("B"))
    write(seeds / "deep" / "c.txt", article("C"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        assert target.titles() == reference(seeds) == {"a": "A", "b": "B", "c": "C"}

        write(seeds / "d.md", article("D"))
        assert watcher.batch() == (1, 0, 0, 0, 0)
        write(seeds / "b.md", article("B, changed"))
        assert watcher.batch() == (0, 1, 0, 0, 0)
        save_atomically(seeds / "b.md", article("B, saved by an editor"))
        assert watcher.batch() == (0, 1, 0, 0, 0)
        assert target.titles() == reference(seeds)

        (seeds / "d.md").unlink()
        assert watcher.batch() == (0, 0, 1, 0, 0)
        (seeds / "001_a.md").rename(seeds / "002_e.md")  # the id comes from the name: a goes, e comes
        assert watcher.batch() == (1, 0, 1, 0, 0)
        assert target.titles() == reference(seeds) == {"b": "B, saved by an editor", "c": "C", "e": "A"}

        # An article moved from one file to another in one batch is kept.
        write(seeds / "f.md", article("F", "id: moving"))
        watcher.batch()
        (seeds / "f.md").unlink()
        write(seeds / "g.md", article("F, moved", "id: moving"))
        assert watcher.batch() == (0, 1, 0, 0, 0)
        assert target.titles()["moving"] == "F, moved"
        # The same file renamed (a frontmatter id): the article stays, unchanged, under its new path.
        (seeds / "g.md").rename(seeds / "deep" / "h.md")
        assert watcher.batch() == (0, 0, 0, 1, 0)
        assert target.titles() == reference(seeds)

        # A folder moved out of the watched one takes its articles along; moved back, brings them back.
        (seeds / "deep").rename(tmp_path / "elsewhere")
        assert watcher.batch() == (0, 0, 2, 0, 0)
        assert target.titles() == reference(seeds) == {"b": "B, saved by an editor", "e": "A"}
        (tmp_path / "elsewhere").rename(seeds / "back")
        assert watcher.batch() == (2, 0, 0, 0, 0)
        assert target.titles() == reference(seeds)
        # Files of other kinds come and go unseen: no batch for them (the next line is the next batch).
        write(seeds / "notes.yaml", "not: a seed")
        (seeds / "notes.yaml").unlink()
        write(seeds / "i.md", article("I"))
        assert watcher.batch() == (1, 0, 0, 0, 0)
        assert watcher.stop() == 0
    assert watcher.errors == ["watching seeds (Ctrl-C to stop)", "stopped watching"]
    assert target.titles() == reference(seeds)


def test_random_changes_keep_the_store_equal_to_the_files(tmp_path: Path, target: Target) -> None:
    rng = random.Random(16)
    seeds = tmp_path / "seeds"
    for n in range(8):
        write(seeds / f"s{n}.md", article(f"Title {n}"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        for step in range(12):
            for _ in range(rng.randint(1, 4)):
                files = sorted(seeds.rglob("*.md"))
                action = rng.choice(["add", "change", "delete", "rename", "move"] if files else ["add"])
                unique = f"{step}_{rng.randint(0, 10**6)}"
                if action == "add":
                    write(seeds / rng.choice(["", "sub"]) / f"n{unique}.md", article(f"New {unique}"))
                elif action == "change":
                    save_atomically(rng.choice(files), article(f"Changed {unique}"))
                elif action == "delete":
                    rng.choice(files).unlink()
                elif action == "rename":
                    source = rng.choice(files)
                    source.rename(source.with_name(f"r{unique}.md"))
                else:  # the article moves to another file, under its id
                    source = rng.choice(files)
                    article_id, title = seed_of(source)
                    source.unlink()
                    write(seeds / rng.choice(["", "sub"]) / f"m{unique}.md", article(title, f"id: {article_id}"))
            expected = reference(seeds)
            watcher.batches_until(lambda: target.titles() == expected)
        assert watcher.stop() == 0


def test_a_burst_of_200_files_is_seeded_in_few_batches(tmp_path: Path, target: Target) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        for n in range(200):
            write(seeds / f"{n:03d}_burst{n}.md", article(f"Burst {n}"))
        batches = watcher.batches_until(lambda: len(target.titles()) == 200)
        # The files were written without pausing 200 ms: one batch, a few if this machine stalled.
        assert 1 <= batches <= 4
        assert target.titles() == reference(seeds)
        assert watcher.stop(signal.SIGTERM) == 0


def test_a_bad_file_is_reported_and_skipped_and_its_article_kept(tmp_path: Path, target: Target) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "good.md", article("Good"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        write(seeds / "good.md", "no frontmatter here\n")
        write(seeds / "bad.md", article(""))
        write(seeds / "new.md", article("New"))
        assert watcher.batch() == (1, 0, 0, 0, 2)
        assert target.titles() == {"good": "Good", "new": "New"}
        write(seeds / "dup.md", article("Duplicate", "id: new"))
        assert watcher.batch() == (0, 0, 0, 0, 1)
        assert target.titles() == {"good": "Good", "new": "New"}
        # Without --strict a bad file is not tried again until it changes.
        write(seeds / "other.md", article("Other"))
        assert watcher.batch() == (1, 0, 0, 0, 0)
        assert watcher.stop() == 0
    assert "seeds/good.md:1: no frontmatter: the file must start with a '---' line" in watcher.errors
    assert any(line.startswith("seeds/bad.md:2: ") for line in watcher.errors), watcher.errors
    assert "seeds/dup.md:3: duplicate id 'new': already loaded from " + str((seeds / "new.md").resolve()) in watcher.errors


def test_a_folder_that_cannot_be_read_is_reported_and_its_articles_kept(tmp_path: Path) -> None:
    target = Target("tinydb", tmp_path, None)
    private = tmp_path / "seeds" / "private"
    write(private / "a.md", article("A"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        try:
            private.chmod(0)
            assert watcher.batch() == (0, 0, 0, 0, 1)
            assert target.titles() == {"a": "A"}
        finally:
            private.chmod(0o755)
        write(private / "a.md", article("A, readable again"))
        assert watcher.batch()[1] == 1
        assert target.titles() == {"a": "A, readable again"}
        assert watcher.stop() == 0
    assert "seeds/private:1: cannot read the folder: Permission denied" in watcher.errors


def test_strict_writes_nothing_of_a_batch_with_a_bad_file_until_it_is_fixed(tmp_path: Path) -> None:
    target = Target("tinydb", tmp_path, None)
    write(tmp_path / "seeds" / "a.md", article("A"))
    with watching(tmp_path, "seeds", "--strict", *target.args()) as watcher:
        watcher.start()
        write(tmp_path / "seeds" / "b.md", article("B"))
        write(tmp_path / "seeds" / "c.md", "no frontmatter\n")
        line = watcher.line()
        refused = r"^\d\d:\d\d:\d\d batch: 1 added, 0 updated, 0 removed, 0 unchanged; 1 skipped in \d+\.\d\d s \(--strict: nothing written\)$"
        assert re.match(refused, line), line
        assert target.titles() == {"a": "A"}
        write(tmp_path / "seeds" / "c.md", article("C"))  # b.md comes again with it
        assert watcher.batch() == (2, 0, 0, 0, 0)
        assert target.titles() == {"a": "A", "b": "B", "c": "C"}
        assert watcher.stop() == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_between_batches_stops_it_cleanly(tmp_path: Path, signum: int) -> None:
    target = Target("tinydb", tmp_path, None)
    write(tmp_path / "seeds" / "a.md", article("A"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        write(tmp_path / "seeds" / "b.md", article("B"))
        assert watcher.batch() == (1, 0, 0, 0, 0)
        assert watcher.stop(signum) == 0
    assert watcher.errors[-1] == "stopped watching"
    assert watcher.lines.empty()
    assert target.titles() == {"a": "A", "b": "B"}


@contextlib.contextmanager
def writes_held(target: Target) -> Iterator[Any]:
    """Hold the store's writer lock (a writer elsewhere); yields a function telling whether one waits for it."""
    if target.url is None:
        import fcntl

        target.db.parent.mkdir(parents=True, exist_ok=True)
        lock = target.db.parent / f".{target.db.name}.lock"
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            inode = os.fstat(handle.fileno()).st_ino

            def waiting() -> bool:
                # /proc/locks lists a blocked request as "N: -> FLOCK ADVISORY WRITE PID MAJ:MIN:INODE ...".
                entries = Path("/proc/locks").read_text().splitlines()
                return any(" -> FLOCK " in e and e.split()[6].endswith(f":{inode}") for e in entries)

            try:
                yield waiting
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    import psycopg

    with psycopg.connect(target.url) as conn, psycopg.connect(target.url, autocommit=True) as observer:
        conn.execute("LOCK TABLE ng_articles IN EXCLUSIVE MODE")  # reads pass, writes wait

        def waiting() -> bool:
            row = observer.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            return bool(row and row[0])

        try:
            yield waiting
        finally:
            conn.rollback()


def test_a_signal_during_a_batch_lets_it_complete(tmp_path: Path, target: Target) -> None:
    write(tmp_path / "seeds" / "a.md", article("A"))
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        with writes_held(target) as waiting:
            write(tmp_path / "seeds" / "b.md", article("B"))
            deadline = time.monotonic() + WAIT_SECONDS
            while not waiting():
                assert time.monotonic() < deadline, f"the batch never reached its write: {watcher.errors}"
                time.sleep(0.05)
            watcher.process.send_signal(signal.SIGINT)  # the batch is in its write
        assert watcher.batch() == (1, 0, 0, 0, 0)
        assert watcher.stop() == 0
    assert target.titles() == {"a": "A", "b": "B"}


def test_a_running_server_answers_with_each_batch(tmp_path: Path, target: Target) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "a.md", article("First"))
    query = "{ articles(first: 100) { nodes { id title } } }"
    with watching(tmp_path, "seeds", *target.args()) as watcher:
        watcher.start()
        with running_server(target.db, *target.args()) as server:

            def served() -> dict[str, str]:
                return {n["id"]: n["title"] for n in server.data(query)["articles"]["nodes"]}

            assert served() == {"a": "First"}
            for step, change in enumerate(["add", "change", "delete"]):
                if change == "add":
                    write(seeds / "b.md", article("Second"))
                elif change == "change":
                    save_atomically(seeds / "a.md", article("First, edited"))
                else:
                    (seeds / "b.md").unlink()
                watcher.batch()
                expected = reference(seeds)
                # A server notices a new version when a request comes (bounded wait, not a measurement).
                deadline = time.monotonic() + WAIT_SECONDS
                while served() != expected:
                    assert time.monotonic() < deadline, (step, served(), expected)
                    time.sleep(0.05)
        assert watcher.stop() == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = newsgraph("seed", "--watch", "--dry-run", "seeds", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "newsgraph seed: --watch and --dry-run cannot be used together\n")
    result = newsgraph("seed", "--watch", "missing", "--db", "db.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "newsgraph seed: no such file or folder: missing\n")
