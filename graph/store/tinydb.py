"""The TinyDB store: one JSON file on disk, reads from an in-memory snapshot.

The file is an ordinary TinyDB database (tables ``meta`` and ``articles``), so
``TinyDB("db/newsgraph.json").table("articles")`` opens it. Stock TinyDB
re-reads the file on every search and rewrites it on every insert; here the
file is read once into a Snapshot (graph.store.memory) and written once per
batch, atomically: a temporary file in the same folder is written, flushed,
fsynced and renamed over the old one (and the folder fsynced), so a crash or a
kill at any moment leaves either the old or the new complete database. Writers
take a lock file beside the database, one at a time; temporary files left by a
killed writer are removed by the next one.

A seed run needs only each article's ``_seed`` mark, not the whole database:
after every write the marks are also kept in a small side file
(``.newsgraph.json.marks``), tied to the database file it describes (inode,
size, modification time and the version in the file's first bytes). When the
tie does not hold the marks come from the database itself, so the side file
can be stale or missing without harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import fcntl
import os
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from graph.store.base import Document, SeedMark, StoreError, WriteResult
from graph.store.memory import SEARCH_PREBUILD_MIN, Snapshot, SnapshotReader

FORMAT = 1
ARTICLES = "articles"
META = "meta"
# How long a request waits for a changed file to be loaded before it is served
# from the previous snapshot (the new one still arrives, for later requests).
RELOAD_WAIT_SECONDS = 2.0
# The first bytes of a database this module wrote (orjson, meta table first).
_HEADER = re.compile(rb'\{"meta":\{"1":\{"format":(\d+),"version":"([0-9a-f]{32})"\}\}')
MARKS_FORMAT = 1

Signature = tuple[int, int, int]


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


def atomic_write(path: Path, payload: bytes, create_dirs: bool = True, durable: bool = True) -> None:
    """Replace path with payload so that readers and crashes see old or new, never a mix.

    ``durable`` fsyncs the file before the rename and the folder after it, so
    the new file survives a power loss too (the side file of marks skips it).
    """
    folder = path.parent
    try:
        if create_dirs:
            folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with open(temporary, "wb") as handle:
                handle.write(payload)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        if durable:
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
    meta = data.get(META, {})
    if not isinstance(meta, dict):
        raise StoreError(f"{path}: not a newsgraph database (the meta table is not an object)")
    for record in meta.values():
        version = record.get("format") if isinstance(record, dict) else None
        if version is not None and version != FORMAT:
            raise StoreError(f"{path}: database format {version!r} is not one this newsgraph reads ({FORMAT})")
    table = data.get(ARTICLES, {})
    if not isinstance(table, dict):
        raise StoreError(f"{path}: not a newsgraph database (the articles table is not an object)")
    for key, doc in table.items():
        if not isinstance(doc, dict):
            raise StoreError(f"{path}: not a newsgraph database (article record {key} is not an object)")
    return table


def _version(data: dict[str, Any] | None) -> str:
    meta = (data or {}).get(META) or {}
    record = meta.get("1") if isinstance(meta, dict) else None
    return str(record.get("version")) if isinstance(record, dict) and record.get("version") else "empty"


def _marks(table: dict[str, Document]) -> dict[str, SeedMark]:
    marks = {}
    for doc in table.values():
        article_id = doc.get("id")
        if not isinstance(article_id, str):
            continue  # not an article (a record added by hand): nothing to seed over
        seed = doc.get("_seed")
        seed = seed if isinstance(seed, dict) else {}
        marks[article_id] = SeedMark(str(seed.get("path", "")), str(seed.get("hash", "")))
    return marks


class TinyDBStore:
    """Articles in one TinyDB file; see the module docstring.

    ``preload=False`` skips building the in-memory snapshot at open and after
    writes (a seed run only writes; reader() still builds it on demand).
    """

    name = "tinydb"

    def __init__(self, path: str | os.PathLike[str], *, preload: bool = True) -> None:
        self.path = Path(path)
        self.preload = preload
        self._marks_path = self.path.parent / f".{self.path.name}.marks"
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, create_dirs=True)
        self._snapshot: Snapshot | None = None
        self._signature: Signature | None = None
        self._reload: asyncio.Task[None] | None = None
        # The parsed file and the signature it was read at: a write reuses it
        # when the file has not changed since.
        self._data: dict[str, Any] | None = None
        self._data_signature: Signature | None = None

    async def open(self) -> None:
        """Read and check the database (an error names the file); build the snapshot unless preload=False."""
        if self.preload:
            await asyncio.to_thread(self._load)
        elif await asyncio.to_thread(self._cached_marks) is None:
            await asyncio.to_thread(self._read)

    async def close(self) -> None:
        if self._reload is not None:
            with contextlib.suppress(BaseException):
                await self._reload
        self._db.close()

    def _stat(self) -> Signature | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read the database: {exc.strerror}") from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> dict[str, Any]:
        """The parsed, checked file ({} when there is none), from memory when the file has not changed."""
        signature = self._stat()
        if signature is not None and signature == self._data_signature and self._data is not None:
            return self._data
        data = self._db.storage.read() or {}
        _articles(data, self.path)
        self._data, self._data_signature = data, signature
        return data

    def _load(self) -> None:
        # Loading builds millions of objects at once: the cyclic GC would scan them
        # again and again (it doubles the load time); none of them is garbage.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            signature = self._stat()
            data = self._read()
            # A reader does not need the raw file data once the snapshot holds it.
            self._data = None
            self._install(data, signature, owned=True)
        finally:
            if was_enabled:
                gc.enable()
        # The snapshot lives until the next data version: keep the GC from scanning it
        # on every collection (tail latency under load).
        gc.freeze()

    def _install(self, data: dict[str, Any], signature: Signature | None, owned: bool = False) -> None:
        """Swap in a snapshot of data; ``owned``: nothing else keeps data, its documents may be shrunk."""
        docs = [doc for doc in _articles(data, self.path).values() if "id" in doc]
        snapshot = Snapshot(docs, _version(data), owned)
        self._snapshot, self._signature = snapshot, signature
        if self.preload and len(docs) >= SEARCH_PREBUILD_MIN:
            # Build the search index now, beside the server, so the first search does not wait for it.
            threading.Thread(target=snapshot.search_index, name="newsgraph-search-index", daemon=True).start()

    async def reader(self) -> SnapshotReader:
        if self._snapshot is None:
            await asyncio.to_thread(self._load)
        elif self._stat() != self._signature:
            if self._reload is None or self._reload.done():
                self._reload = asyncio.ensure_future(asyncio.to_thread(self._load))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reload), RELOAD_WAIT_SECONDS)
        assert self._snapshot is not None
        return SnapshotReader(self._snapshot)

    async def seed_marks(self) -> dict[str, SeedMark]:
        await asyncio.to_thread(self._remove_leftovers_if_idle)
        marks = await asyncio.to_thread(self._cached_marks)
        if marks is not None:
            return marks
        data = await asyncio.to_thread(self._read)
        return _marks(_articles(data, self.path))

    def _cached_marks(self) -> dict[str, SeedMark] | None:
        """The marks from the side file, when it describes the database file as it is now."""
        try:
            saved = orjson.loads(self._marks_path.read_bytes())
            signature = self._stat()
            with open(self.path, "rb") as handle:
                header = _HEADER.match(handle.read(128))
            if (
                saved.get("format") != MARKS_FORMAT
                or signature is None
                or list(signature) != saved.get("database")
                or header is None
                or int(header.group(1)) != FORMAT
                or header.group(2).decode() != saved.get("version")
            ):
                return None
            return {article_id: SeedMark(path, digest) for article_id, (path, digest) in saved["marks"].items()}
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            return None  # missing, stale or damaged: read the database instead

    async def write(self, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
        result, data, signature = await asyncio.to_thread(self._write, list(upserts), list(deletes))
        if self.preload or self._snapshot is not None:
            await asyncio.to_thread(self._install, data, signature)
        return result

    def _write(self, upserts: list[Document], deletes: list[str]) -> tuple[WriteResult, dict[str, Any], Signature | None]:
        with self._locked():
            self._remove_leftovers()
            old = self._read()
            table = dict(_articles(old, self.path))
            doc_ids = {doc["id"]: key for key, doc in table.items() if "id" in doc}
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
            # meta first: a reader can then check the version from the file's first bytes.
            data = {META: {"1": {"format": FORMAT, "version": version}}, ARTICLES: table}
            data.update((name, value) for name, value in old.items() if name not in data)
            try:
                payload = orjson.dumps(data)
            except orjson.JSONEncodeError as exc:
                raise StoreError(f"{self.path}: cannot write the database: {exc}; the old database is unchanged") from None
            atomic_write(self.path, payload)
            signature = self._stat()
            self._data, self._data_signature = data, signature
            self._save_marks(table, version, signature)
        return WriteResult(written=len(upserts), deleted=deleted, version=version), data, signature

    def _save_marks(self, table: dict[str, Document], version: str, signature: Signature | None) -> None:
        marks = {m_id: [mark.path, mark.hash] for m_id, mark in _marks(table).items()}
        saved = {"format": MARKS_FORMAT, "database": list(signature or ()), "version": version, "marks": marks}
        with contextlib.suppress(StoreError):  # only a cache: without it a seed reads the database
            atomic_write(self._marks_path, orjson.dumps(saved), durable=False)

    def _remove_leftovers_if_idle(self) -> None:
        """_remove_leftovers when no writer holds the lock (a seed that writes nothing still tidies up)."""
        try:
            handle = open(self.path.parent / f".{self.path.name}.lock", "a")
        except OSError:
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # a writer is at work: its temporary file is not a leftover
            try:
                self._remove_leftovers()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _remove_leftovers(self) -> None:
        """Temporary files of writers that were killed (no live writer has one: we hold the lock)."""
        for leftover in self.path.parent.glob(f".{glob_escape(self.path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        for leftover in self.path.parent.glob(f".{glob_escape(self._marks_path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

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


def glob_escape(name: str) -> str:
    """A file name as a glob pattern matching only itself."""
    return re.sub(r"([*?\[])", r"[\1]", name)
