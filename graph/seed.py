"""Load seed files into a store: validate, skip what did not change, write once.

No CLI code here: graph.cli parses arguments and prints; this module does the
work and returns a SeedReport. DESIGN.md "The seed command" is the spec.

How a re-seed knows a file did not change: each stored article keeps
``_seed = {path, hash}``, the file's resolved path and a blake2b hash of its
bytes plus the loader version and the --raw-text flag. A file whose resolved
path and hash match a stored article is not parsed again.

Many files are parsed in worker processes (one per core); results come back in
file order, so errors are reported in a stable order and "the first file wins"
on duplicate ids means the first in that order: the given paths in turn, each
folder's files sorted by their path inside it.

A worker hands back each article already encoded (its JSON bytes and its
outline's, graph.store.upserts) and the run keeps them in a spool file, so a
seed of a million files holds a few numbers per article until its one write,
which copies the bytes into the new database file as it writes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import itertools
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from graph.documents import (
    DOCUMENT_KEYS,
    SUFFIXES,
    DocumentError,
    display_path,
    file_hash,
    id_from_path,
    line_of_key,
    parse_file,
)
from graph.store.base import Document, SeedMark, Store
from graph.store.upserts import EncodedUpserts, outline

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_FROM = 200
PR_SET_PDEATHSIG = 1  # linux/prctl.h
CHUNK_FILES = 64

T = TypeVar("T")
Progress = Callable[[Iterable[T], int], Iterable[T]]
# writing(n): a context around the one write of n changes (a progress stage on a terminal)
Writing = Callable[[int], AbstractContextManager[Any]]


class SeedUsageError(ValueError):
    """The command was called wrongly (e.g. a path that does not exist)."""


@dataclass
class SeedReport:
    """What a seed run found and did.

    The counts describe the files of this run even when nothing was written
    (``--dry-run``, or ``--strict`` with a bad file): then ``written`` is False
    and the summary line says so.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pruned: int = 0
    errors: list[DocumentError] = field(default_factory=list)
    # Not failures (the exit status is 0 with only these): unknown keys, once per key.
    warnings: list[str] = field(default_factory=list)
    # Given folders without a single seed file (a wrong path, or files with other suffixes).
    empty: list[str] = field(default_factory=list)
    seconds: float = 0.0
    written: bool = False
    dry_run: bool = False
    strict: bool = False

    @property
    def loaded(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def failed(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        """``loaded N: A new, B updated, C unchanged; F failed; P pruned in T s``, plus why nothing was written."""
        return (
            f"loaded {self.loaded}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.failed} failed; {self.pruned} pruned in {self.seconds:.2f} s"
        ) + self.unwritten()

    def unwritten(self) -> str:
        """Why nothing was written, as the summary line ends, or ""."""
        if self.dry_run:
            return " (dry run: nothing written)"
        if self.strict and self.errors:
            return " (--strict: nothing written)"
        return ""


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A file to load: ``shown`` is how reports name it, ``key`` its resolved path (what the store keeps)."""

    shown: str
    key: str


def check_paths(paths: Sequence[str | os.PathLike[str]]) -> None:
    """Raise SeedUsageError for a path that does not exist (before anything is opened)."""
    for given in paths:
        if not os.path.lexists(os.fspath(given)):
            raise SeedUsageError(f"no such file or folder: {os.fspath(given)}")


@dataclass
class Collected:
    """What collect() found: the files, the folders it could not read, the given folders without seed files."""

    files: list[SeedFile] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # resolved paths of the folders in errors
    empty: list[str] = field(default_factory=list)


def collect(paths: Sequence[str | os.PathLike[str]]) -> Collected:
    """Every seed file under paths: the given order, each folder's files sorted, no file twice.

    A path that does not exist is a usage error. Folders are searched
    recursively for .md, .markdown and .txt files (symlinked folders are not
    followed; a broken symlink is kept, to be reported as unreadable). A file
    named explicitly is loaded whatever its suffix. A folder that cannot be
    read is reported like an unreadable file, and the search goes on.
    """
    check_paths(paths)
    found = Collected()
    seen: set[str] = set()
    for given in paths:
        root = os.fspath(given)
        if os.path.isdir(root):
            errors_before = len(found.errors)
            candidates = _walk(root, found)
            if not candidates and len(found.errors) == errors_before:
                found.empty.append(root)
        else:
            candidates = [SeedFile(root, os.path.realpath(root))]
        for candidate in candidates:
            if candidate.key not in seen:
                seen.add(candidate.key)
                found.files.append(candidate)
    return found


def _walk(root: str, found: Collected) -> list[SeedFile]:
    entries: list[tuple[tuple[str, ...], SeedFile]] = []
    pending: list[tuple[str, str, tuple[str, ...]]] = [(root, os.path.realpath(root), ())]
    while pending:
        folder, real_folder, parts = pending.pop()
        try:
            with os.scandir(folder) as listing:
                children = list(listing)
        except OSError as exc:
            found.errors.append(DocumentError(folder, 1, f"cannot read the folder: {exc.strerror or exc}"))
            found.unreadable.append(real_folder)
            continue
        for entry in children:
            is_link = entry.is_symlink()
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, os.path.join(real_folder, entry.name), (*parts, entry.name)))
            elif os.path.splitext(entry.name)[1].lower() in SUFFIXES and not (is_link and os.path.isdir(entry.path)):
                # Folders are not followed through symlinks, so only a symlinked file needs resolving.
                key = os.path.realpath(entry.path) if is_link else os.path.join(real_folder, entry.name)
                entries.append(((*parts, entry.name), SeedFile(entry.path, key)))
    entries.sort(key=lambda entry: entry[0])
    return [file for _, file in entries]


# -- loading files (runs in worker processes for large runs) -----------------------------------

# (shown, key, hash of the stored article from this path or None)
_Task = tuple[str, str, "str | None"]
# A parsed article as a worker hands it back: (id, its keys, its JSON bytes, its outline's JSON
# bytes), small to send and to keep; or the document itself when orjson cannot encode it.
_Parsed = tuple[str, tuple[str, ...], bytes, bytes] | Document
# (hash, parsed article or None, error or None); neither article nor error: unchanged
_Outcome = tuple[str, "_Parsed | None", "DocumentError | None"]


def _load(task: _Task, raw_text: bool) -> _Outcome:
    shown, key, known = task
    if not _is_text(shown) or not _is_text(key):
        # Its path could be neither stored (the seed mark) nor printed as it is; the id may come from it.
        where = "file name" if not _is_text(os.path.basename(shown)) else "path"
        return "", None, DocumentError(shown, 1, f"the {where} is not valid UTF-8: rename it")
    try:
        with open(shown, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return "", None, DocumentError(shown, 1, f"cannot read the file: {exc.strerror or exc}")
    digest = file_hash(data, raw_text)
    if digest == known:
        return digest, None, None
    try:
        doc = parse_file(shown, data, raw_text)
    except DocumentError as exc:
        return digest, None, exc
    doc["_seed"] = {"path": key, "hash": digest}
    try:
        return digest, (doc["id"], tuple(doc), orjson.dumps(doc), orjson.dumps(outline(doc))), None
    except orjson.JSONEncodeError:
        return digest, doc, None  # the write reports it (it cannot store the article)


def _is_text(path: str) -> bool:
    """Whether a path decoded from the file system is UTF-8 (undecodable bytes become surrogates)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _load_chunk(tasks: list[_Task], raw_text: bool) -> list[_Outcome]:
    return [_load(task, raw_text) for task in tasks]


def _noop() -> None:
    return None


def _die_with_parent() -> None:
    """Worker initializer: on Linux, ask the kernel to end this worker when the seed process dies.

    A seed killed with SIGKILL cannot stop its pool; without this its workers
    would wait on their queue forever.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _start_workers(count: int) -> Executor:
    """Worker processes, forked now, before this run starts threads of its own (store reads).

    fork is the cheapest start (no re-import); the threads a caller may already
    have (asyncio's default executor, idle) hold no locks a child could inherit.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_die_with_parent)
    pool.submit(_noop).result()
    return pool


def _outcomes(tasks: list[_Task], raw_text: bool, pool: Executor | None) -> Iterator[_Outcome]:
    if pool is None:
        for task in tasks:
            yield _load(task, raw_text)
        return
    chunks = [tasks[i : i + CHUNK_FILES] for i in range(0, len(tasks), CHUNK_FILES)]
    for chunk in pool.map(_load_chunk, chunks, itertools.repeat(raw_text)):
        yield from chunk


def worker_count(files: int) -> int:
    """How many processes parse: one per core this process may use, none for small runs."""
    if files < PARALLEL_FROM:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


# -- the run -------------------------------------------------------------------------------------


async def seed(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    prune: bool = False,
    dry_run: bool = False,
    raw_text: bool = False,
    progress: Progress[Any] | None = None,
    writing: Writing | None = None,
    workers: int | None = None,
) -> SeedReport:
    """Load every seed file under paths into store; see DESIGN.md "The seed command".

    ``progress(iterable, total)`` may wrap the per-file loop (a progress bar);
    ``writing(changes)`` is entered around the write (a second stage of it);
    ``workers`` overrides how many processes parse (0: this one only).
    """
    started = time.perf_counter()
    found = collect(paths)
    files = found.files
    report = SeedReport(dry_run=dry_run, strict=strict, errors=list(found.errors), empty=found.empty)
    count = worker_count(len(files)) if workers is None else workers
    pool = _start_workers(count) if count > 1 and len(files) > 1 else None
    try:
        marks: dict[str, SeedMark] = await store.seed_marks()
        upserts, deletes = _plan(files, marks, raw_text, pool, progress, report, found.unreadable)
    finally:
        if pool is not None:
            pool.shutdown()
    with upserts:
        if prune:
            report.pruned = len(deletes.pruned)
        changes = deletes.replaced | (deletes.pruned if prune else set())
        if not dry_run and not (strict and report.errors) and (upserts or changes):
            with writing(len(upserts) + len(changes)) if writing is not None else contextlib.nullcontext():
                await store.write(upserts, sorted(changes))
            report.written = True
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Deletes:
    replaced: set[str]  # articles whose file now gives another id
    pruned: set[str]  # articles no file of this run gave (deleted only with --prune)
    kept: set[str] = field(default_factory=set)  # ids a file of this run gave or a bad file may own


def _plan(
    files: list[SeedFile],
    marks: dict[str, SeedMark],
    raw_text: bool,
    pool: Executor | None,
    progress: Progress[Any] | None,
    report: SeedReport,
    unreadable: Sequence[str] = (),
    claimed: Callable[[str, str], str | None] | None = None,
) -> tuple[EncodedUpserts, _Deletes]:
    """Read every file (in order) and decide what to write; fills report's counts, errors and warnings.

    The articles to write come back encoded (graph.store.upserts), so that a
    run keeps a few numbers per article, not the article; the caller closes them.

    ``claimed(article_id, key)``, when given, names another file outside this
    run that still holds the id (so this file's copy is a duplicate), or None.
    """
    ids_by_path: dict[str, list[str]] = {}
    for article_id, mark in marks.items():
        ids_by_path.setdefault(mark.path, []).append(article_id)
    # Articles from files in folders that could not be read: unseen, but never deleted.
    hidden = tuple(folder.rstrip(os.sep) + os.sep for folder in unreadable)
    protected: set[str] = {i for i, mark in marks.items() if hidden and mark.path.startswith(hidden)}
    warned: set[str] = set()

    def known_hash(key: str) -> str | None:
        hashes = [marks[i].hash for i in ids_by_path.get(key, ())]
        return hashes[0] if len(hashes) == 1 else None

    tasks: list[_Task] = [(f.shown, f.key, known_hash(f.key)) for f in files]
    outcomes: Iterable[tuple[SeedFile, _Outcome]] = zip(files, _outcomes(tasks, raw_text, pool))
    if progress is not None:
        outcomes = progress(outcomes, len(files))

    seen: dict[str, str] = {}  # id -> the file it was taken from
    # protected: ids a bad file (or an unreadable folder) may own: never deleted
    replaced: set[str] = set()
    upserts = EncodedUpserts()
    for file, (digest, parsed, error) in outcomes:
        previous = ids_by_path.get(file.key, [])
        if error is not None:
            report.errors.append(error)
            protected.add(id_from_path(file.shown))
            protected.update(previous)
            continue
        doc = parsed if isinstance(parsed, dict) else None  # only when orjson cannot encode it
        if parsed is None:  # unchanged: the stored article of this path
            article_id, keys = previous[0], ()
        elif doc is not None:
            article_id, keys = doc["id"], tuple(doc)
        else:
            article_id, keys = parsed[0], parsed[1]
        first = seen.get(article_id) or (claimed(article_id, file.key) if claimed is not None else None)
        if first is not None:
            report.errors.append(_duplicate(file, article_id, first))
            protected.update(previous)
            continue
        seen[article_id] = file.shown
        replaced.update(i for i in previous if i != article_id)
        if parsed is None:
            report.unchanged += 1
            continue
        for key in keys:
            if key not in DOCUMENT_KEYS and key not in warned and key not in ("body", "_seed"):
                warned.add(key)
                report.warnings.append(_unknown_key(file, key))
        mark = marks.get(article_id)
        if mark is not None and mark.hash == digest:
            report.unchanged += 1  # the same file under another path: record the new path
        elif mark is not None or previous:
            report.updated += 1
        else:
            report.new += 1
        if doc is not None:
            upserts.append_document(doc)
        else:
            upserts.append(article_id, parsed[2], parsed[3])  # type: ignore[index]
    keep = set(seen) | protected
    return upserts, _Deletes(replaced=replaced - keep, pruned=set(marks) - keep - replaced, kept=keep)


def _line_of_key(file: SeedFile, key: str) -> int:
    try:
        with open(file.shown, "rb") as handle:
            return line_of_key(handle.read(), key)
    except OSError:
        return 1


def _duplicate(file: SeedFile, article_id: str, first: str) -> DocumentError:
    line = _line_of_key(file, "id")
    return DocumentError(file.shown, line, f"duplicate id {article_id!r}: already loaded from {display_path(first)}")


def _unknown_key(file: SeedFile, key: str) -> str:
    """The warning for a frontmatter key no article field has, with the known key it may be a typo of."""
    close = difflib.get_close_matches(key, sorted(DOCUMENT_KEYS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"{display_path(file.shown)}:{_line_of_key(file, key)}: warning: unknown key {key!r}{hint}; "
        "kept in the store, not served"
    )
