"""`newsgraph seed --watch`: seed once, then seed every batch of changed files.

DESIGN.md "Next" is the spec. A batch is what the file system reported until
200 ms passed without a change (QUIET_MS; LONGEST_BATCH_MS bounds a batch when
changes never pause). What a batch does depends only on what is on disk when
it runs, never on the kinds of events: a changed path that holds a seed file is
loaded, one that holds a folder is searched like a seed path, and stored
articles whose file is no longer there are removed. So an editor's atomic save
(write a temporary file, rename it over the old one) is one update, a rename is
a removal and an addition (or, with the same id, a new path for the article),
and an article that moves from one file to another within a batch is kept.

Each batch is one Store.write (one data version), or none when nothing
changed. Parsing, duplicate ids and bad files follow graph.seed: a bad file is
reported and skipped and its stored article kept; a file that gives an id
another watched file still holds is reported as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from graph.documents import SUFFIXES, display_path
from graph.seed import (
    Progress,
    SeedFile,
    SeedReport,
    SeedUsageError,
    Writing,
    _plan,
    check_paths,
    collect,
    seed,
)
from graph.store.base import SeedMark, Store

QUIET_MS = 200
LONGEST_BATCH_MS = 10_000


@dataclass
class BatchReport(SeedReport):
    """What one batch did; ``new`` are the articles added, ``removed`` those whose file is gone."""

    removed: int = 0

    def summary(self) -> str:
        """``HH:MM:SS batch: A added, U updated, R removed, N unchanged; S skipped in T s``."""
        return (
            f"{time.strftime('%H:%M:%S')} batch: {self.new} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged; {self.failed} skipped in {self.seconds:.2f} s"
        ) + self.unwritten()


@dataclass(frozen=True, slots=True)
class Root:
    """A watched path as given (``shown``), absolute (what events name) and resolved (what marks keep)."""

    shown: str
    absolute: str
    key: str
    folder: bool

    def shown_for(self, path: str) -> str | None:
        """How reports name an event's path, or None when the path is not seeded from this root."""
        if path == self.absolute:
            return self.shown
        if not self.folder or not path.startswith(self.absolute + os.sep):
            return None
        inside = path[len(self.absolute) + 1 :]
        # Folders are not followed through symlinks (graph.seed.collect), so neither are events.
        parts = inside.split(os.sep)
        for depth in range(1, len(parts)):
            if os.path.islink(os.path.join(self.absolute, *parts[:depth])):
                return None
        return os.path.join(self.shown, inside)

    def holds(self, key: str) -> bool:
        return key == self.key or (self.folder and key.startswith(self.key + os.sep))


def roots_of(paths: Sequence[str | os.PathLike[str]]) -> list[Root]:
    check_paths(paths)
    return [
        Root(os.fspath(p), os.path.abspath(p), os.path.realpath(p), os.path.isdir(p)) for p in paths
    ]


def watched_folders(roots: Sequence[Root]) -> list[str]:
    """What to ask the watcher for: each folder, and the folder of each file (an atomic save replaces the file)."""
    folders = [root.absolute if root.folder else os.path.dirname(root.absolute) for root in roots]
    return list(dict.fromkeys(folders))


def _at(changed: Sequence[str]) -> Callable[[str], bool]:
    """Whether a stored path is one of the changed paths or inside one (a folder moved or deleted).

    Called for every stored article: a set lookup, then the prefixes are tried
    once per folder (articles are many, their folders few).
    """
    exact = set(changed)
    prefixes = tuple(c + os.sep for c in exact)
    folders: dict[str, bool] = {}

    def at(key: str) -> bool:
        if key in exact:
            return True
        folder = key.rpartition(os.sep)[0]
        inside = folders.get(folder)
        if inside is None:
            inside = folders[folder] = (folder + os.sep).startswith(prefixes)
        return inside

    return at


async def seed_batch(
    store: Store, roots: Sequence[Root], changed: Iterable[str], *, strict: bool = False, raw_text: bool = False
) -> BatchReport | None:
    """Seed what changed at the given absolute paths; None when none of them is seeded from a root."""
    started = time.perf_counter()
    report = BatchReport(strict=strict)
    files: dict[str, SeedFile] = {}
    changed_keys: list[str] = []
    unreadable: list[str] = []  # folders that could not be searched: their articles are kept
    for path in sorted(set(changed)):
        root = next((r for r in roots if r.shown_for(path) is not None), None)
        if root is None:
            continue
        shown = root.shown_for(path)
        assert shown is not None
        if os.path.isdir(path) and not os.path.islink(path):
            try:
                found = collect([shown])
            except SeedUsageError:  # gone again since the event
                found = None
            if found is not None:
                report.errors.extend(found.errors)
                unreadable.extend(found.unreadable)
                files.update((f.key, f) for f in found.files)
        elif os.path.lexists(path):
            if path != root.absolute and os.path.splitext(path)[1].lower() not in SUFFIXES:
                continue  # not a seed file (an editor's temporary file, say)
            key = os.path.realpath(path)
            files[key] = SeedFile(shown, key)
        changed_keys.append(os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path)))
    if not changed_keys:
        return None
    marks: dict[str, SeedMark] = await store.seed_marks()
    # Stored articles whose file was at a changed path and is there no more.
    at = _at(changed_keys)
    gone = {i for i, m in marks.items() if at(m.path) and not os.path.lexists(m.path)}
    if not (files or gone or report.errors):
        return None  # only paths that held nothing seeded (a temporary file come and gone)

    def claimed(article_id: str, key: str) -> str | None:
        mark = marks.get(article_id)
        if mark is None or mark.path == key or mark.path in files or article_id in gone:
            return None
        held = any(root.holds(mark.path) for root in roots) and os.path.isfile(mark.path)
        return mark.path if held else None

    # Parsed here, not in worker processes: a batch is usually a few files.
    upserts, deletes = _plan(list(files.values()), marks, raw_text, None, None, report, unreadable, claimed)
    with upserts:  # encoded, maybe in a temporary file (graph.store.upserts)
        removed = (deletes.replaced | gone) - deletes.kept
        report.removed = len(removed)
        if not (strict and report.errors) and (upserts or removed):
            await store.write(upserts, sorted(removed))
            report.written = True
    report.seconds = time.perf_counter() - started
    return report


async def watch(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    stop: asyncio.Event,
    show: Callable[[SeedReport], None],
    *,
    strict: bool = False,
    prune: bool = False,
    raw_text: bool = False,
    progress: Progress[object] | None = None,
    writing: Writing | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Seed paths, then seed each batch of changes until stop is set; ``show`` gets every report.

    The watcher starts before the first seed, so a change made while it runs
    is not missed (it comes as the first batch). Setting stop ends the watch
    between batches: a batch in progress completes.
    """
    from watchfiles import awatch

    roots = roots_of(paths)
    batches = awatch(
        *watched_folders(roots),
        watch_filter=None,
        debounce=LONGEST_BATCH_MS,
        step=QUIET_MS,
        stop_event=stop,
    )
    waiting: asyncio.Task[set[tuple[object, str]]] = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)  # the watcher is set up in the task's first step
    try:
        show(
            await seed(
                store, paths, strict=strict, prune=prune, raw_text=raw_text, progress=progress, writing=writing
            )
        )
        if ready is not None:
            ready()
        refused: set[str] = set()
        while not stop.is_set():
            try:
                changes = await waiting
            except StopAsyncIteration:
                break
            changed = refused | {path for _, path in changes}
            report = await seed_batch(store, roots, changed, strict=strict, raw_text=raw_text)
            if report is not None:
                show(report)
            # --strict refused the batch: its files come again with the next one, fixed or not.
            refused = changed if strict and report is not None and report.errors else set()
            waiting = asyncio.ensure_future(anext(batches))
    finally:
        stop.set()
        with contextlib.suppress(StopAsyncIteration, asyncio.CancelledError):
            await waiting
        await batches.aclose()


def describe(paths: Sequence[str | os.PathLike[str]]) -> str:
    return ", ".join(display_path(os.fspath(p)) for p in paths)
