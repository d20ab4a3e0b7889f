"""Load seed files into a store: validate, skip what did not change, write once.

No CLI code here: graph.cli parses arguments and prints; this module does the
work and returns a SeedReport.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.documents import DocumentError, file_hash, find_files, id_from_path, parse_file
from graph.store.base import Document, SeedMark, Store


class SeedUsageError(ValueError):
    """The command was called wrongly (e.g. a path that does not exist)."""


@dataclass
class SeedReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pruned: int = 0
    errors: list[DocumentError] = field(default_factory=list)
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
        line = (
            f"loaded {self.loaded}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.failed} failed; {self.pruned} pruned in {self.seconds:.2f} s"
        )
        if self.dry_run:
            line += " (dry run: nothing written)"
        elif self.strict and self.errors:
            line += " (--strict: nothing written)"
        return line


@dataclass
class _Loaded:
    path: Path
    key: str
    hash: str
    doc: Document | None = None
    error: DocumentError | None = None


def _display(path: Path) -> str:
    """The path as the user should see it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read(path: Path, marks_by_path: dict[str, tuple[str, str]], raw_text: bool) -> _Loaded:
    shown = _display(path)
    key = str(path.resolve())
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _Loaded(path, key, "", error=DocumentError(shown, 1, f"cannot read the file: {exc.strerror}"))
    digest = file_hash(data, raw_text)
    known = marks_by_path.get(key)
    if known is not None and known[1] == digest:
        return _Loaded(path, key, digest)  # unchanged: the stored document is this file's
    try:
        doc = parse_file(path, data, raw_text, display=shown)
    except DocumentError as exc:
        return _Loaded(path, key, digest, error=exc)
    doc["_seed"] = {"path": key, "hash": digest}
    return _Loaded(path, key, digest, doc=doc)


def collect(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Every seed file under the given paths; a path that does not exist is a usage error."""
    resolved = [Path(p) for p in paths]
    for path in resolved:
        if not path.exists():
            raise SeedUsageError(f"no such file or folder: {path}")
    return list(find_files(resolved))


async def seed(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    prune: bool = False,
    dry_run: bool = False,
    raw_text: bool = False,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
) -> SeedReport:
    """Load every seed file under paths into store; see DESIGN.md "The seed command"."""
    started = time.perf_counter()
    files = collect(paths)
    report = SeedReport(dry_run=dry_run, strict=strict)
    marks: dict[str, SeedMark] = await store.seed_marks()
    marks_by_path = {mark.path: (article_id, mark.hash) for article_id, mark in marks.items()}

    seen: dict[str, str] = {}  # id -> the file it was taken from
    protected: set[str] = set()  # ids a failed file may own: never pruned
    upserts: list[Document] = []
    iterable: Iterable[Path] = progress(files) if progress else files
    for path in iterable:
        loaded = _read(path, marks_by_path, raw_text)
        if loaded.error is not None:
            report.errors.append(loaded.error)
            protected.add(id_from_path(path))
            if loaded.key in marks_by_path:
                protected.add(marks_by_path[loaded.key][0])
            continue
        if loaded.doc is None:
            article_id = marks_by_path[loaded.key][0]
        else:
            article_id = loaded.doc["id"]
        if article_id in seen:
            report.errors.append(
                DocumentError(_display(path), 1, f"duplicate id {article_id!r}: already loaded from {seen[article_id]}")
            )
            continue
        seen[article_id] = _display(path)
        if loaded.doc is None:
            report.unchanged += 1
            continue
        mark = marks.get(article_id)
        if mark is None:
            report.new += 1
        elif mark.hash == loaded.hash:
            report.unchanged += 1  # the same content under another path: record the new path
        else:
            report.updated += 1
        upserts.append(loaded.doc)

    deletes: list[str] = []
    if prune:
        deletes = sorted(set(marks) - set(seen) - protected)
        report.pruned = len(deletes)

    if not dry_run and not (strict and report.errors) and (upserts or deletes):
        await store.write(upserts, deletes)
        report.written = True
    if strict and report.errors:
        report.new = report.updated = report.pruned = 0
        report.unchanged = 0
    report.seconds = time.perf_counter() - started
    return report


def format_error(error: DocumentError) -> str:
    return str(error)


def describe(report: SeedReport) -> dict[str, Any]:
    """The report as data (for --json output and tests)."""
    return {
        "loaded": report.loaded,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "pruned": report.pruned,
        "written": report.written,
        "seconds": round(report.seconds, 3),
        "errors": [str(e) for e in report.errors],
    }
