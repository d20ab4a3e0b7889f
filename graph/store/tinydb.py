"""The TinyDB store: one JSON file on disk, reads from an in-memory snapshot.

The file is an ordinary TinyDB database (tables ``articles`` and ``meta``), so
``TinyDB("db/newsgraph.json").table("articles")`` opens it. Stock TinyDB
re-reads the file on every search and rewrites it on every insert; here the
file is read once into a Snapshot (graph.store.memory) and written once per
batch, atomically: a temporary file in the same folder is written, flushed,
fsynced and renamed over the old one, so a crash at any moment leaves either
the old or the new complete database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from graph.store.base import Document, SeedMark, StoreError, WriteResult
from graph.store.memory import Snapshot, SnapshotReader

FORMAT = 1
ARTICLES = "articles"
META = "meta"
# How long a request waits for a changed file to be loaded before it is served
# from the previous snapshot (the new one still arrives, for later requests).
RELOAD_WAIT_SECONDS = 2.0


class AtomicJSONStorage(Storage):
    """TinyDB storage with orjson and atomic, durable replacement of the whole file."""

    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = True, **_: Any) -> None:
        self.path = Path(path)
        self.create_dirs = create_dirs

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read the database: {exc.strerror}") from None
        if not data.strip():
            return None
        try:
            loaded = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise StoreError(f"{self.path}: not a newsgraph database (invalid JSON: {exc})") from None
        if not isinstance(loaded, dict):
            raise StoreError(f"{self.path}: not a newsgraph database (the top level is not an object)")
        return loaded

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, orjson.dumps(data), self.create_dirs)

    def close(self) -> None:
        pass


def atomic_write(path: Path, payload: bytes, create_dirs: bool = True) -> None:
    """Replace path with payload so that readers and crashes see old or new, never a mix."""
    folder = path.parent
    try:
        if create_dirs:
            folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with open(temporary, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"{path}: cannot write the database: {reason}; the old database is unchanged") from None


def _articles(data: dict[str, Any] | None, path: Path) -> dict[str, Document]:
    """The articles table of a raw TinyDB file, checked for a format this code reads."""
    if not data:
        return {}
    meta = data.get(META) or {}
    for record in meta.values() if isinstance(meta, dict) else ():
        version = record.get("format") if isinstance(record, dict) else None
        if version is not None and version != FORMAT:
            raise StoreError(f"{path}: database format {version!r} is not one this newsgraph reads ({FORMAT})")
    table = data.get(ARTICLES, {})
    if not isinstance(table, dict):
        raise StoreError(f"{path}: not a newsgraph database (the articles table is not an object)")
    return table


def _version(data: dict[str, Any] | None) -> str:
    meta = (data or {}).get(META) or {}
    record = meta.get("1") if isinstance(meta, dict) else None
    return str(record.get("version")) if isinstance(record, dict) and record.get("version") else "empty"


class TinyDBStore:
    """Articles in one TinyDB file; see the module docstring."""

    name = "tinydb"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, create_dirs=True)
        self._snapshot: Snapshot | None = None
        self._signature: tuple[int, int, int] | None = None
        self._reload: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self._load)

    async def close(self) -> None:
        if self._reload is not None:
            with contextlib.suppress(BaseException):
                await self._reload
        self._db.close()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        signature = self._stat()
        data = self._db.storage.read()
        docs = [doc for doc in _articles(data, self.path).values() if isinstance(doc, dict) and "id" in doc]
        snapshot = Snapshot(docs, _version(data))
        self._snapshot, self._signature = snapshot, signature

    async def reader(self) -> SnapshotReader:
        if self._snapshot is None:
            await self.open()
        elif self._stat() != self._signature:
            if self._reload is None or self._reload.done():
                self._reload = asyncio.ensure_future(asyncio.to_thread(self._load))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reload), RELOAD_WAIT_SECONDS)
        assert self._snapshot is not None
        return SnapshotReader(self._snapshot)

    async def seed_marks(self) -> dict[str, SeedMark]:
        data = await asyncio.to_thread(self._db.storage.read)
        marks = {}
        for doc in _articles(data, self.path).values():
            seed = doc.get("_seed") or {}
            marks[doc["id"]] = SeedMark(seed.get("path", ""), seed.get("hash", ""))
        return marks

    async def write(self, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
        result = await asyncio.to_thread(self._write, list(upserts), list(deletes))
        await asyncio.to_thread(self._load)
        return result

    def _write(self, upserts: list[Document], deletes: list[str]) -> WriteResult:
        with self._locked():
            data = self._db.storage.read() or {}
            table = dict(_articles(data, self.path))
            doc_ids = {doc["id"]: key for key, doc in table.items() if isinstance(doc, dict) and "id" in doc}
            next_id = max((int(k) for k in table if k.isdigit()), default=0) + 1
            deleted = 0
            for article_id in deletes:
                key = doc_ids.pop(article_id, None)
                if key is not None:
                    del table[key]
                    deleted += 1
            for doc in upserts:
                key = doc_ids.get(doc["id"])
                if key is None:
                    key = str(next_id)
                    next_id += 1
                    doc_ids[doc["id"]] = key
                table[key] = doc
            version = uuid.uuid4().hex
            data[ARTICLES] = table
            data[META] = {"1": {"format": FORMAT, "version": version}}
            self._db.storage.write(data)
        return WriteResult(written=len(upserts), deleted=deleted, version=version)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (readers never need the lock)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path.parent / f".{self.path.name}.lock", "a")
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot write the database: {exc.strerror}; nothing was changed") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
