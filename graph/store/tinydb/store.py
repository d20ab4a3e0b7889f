"""The TinyDB store: one JSON file on disk, reads from an in-memory snapshot.

The file is an ordinary TinyDB database (tables ``meta`` and ``articles``), so
``TinyDB("db/newsgraph.json").table("articles")`` opens it. Stock TinyDB
re-reads the file on every search and rewrites it on every insert; here the
file is read once into a Snapshot (graph.store.tinydb.snapshot) and written once per
batch, atomically: a temporary file in the same folder is written, flushed,
fsynced and renamed over the old one (and the folder fsynced), so a crash or a
kill at any moment leaves either the old or the new complete database. Writers
take a lock file beside the database, one at a time; temporary files left by a
killed writer are removed by the next one.

A server starts without decoding the file: every write also saves a side file
(``.newsgraph.json.snapshot``) with the snapshot's columns and indexes and
where each article lies in the database file, so a server reads the file's
bytes, keeps them as they are and decodes an article only when it is asked for
(graph.store.tinydb.document_bytes). The side file is written before the database is renamed
into place and names the file it describes (inode, size, modification time and
version); when it does not match, or is missing or damaged, the server decodes
the whole file instead, as it would one written by stock TinyDB.

A seed's articles arrive encoded (graph.store.upserts): the write derives the
columns, the stories and the marks from their outlines and copies their bytes
into the temporary file as it writes it, so neither the articles as dicts nor
the new file's bytes are ever held whole (a server's write keeps the bytes:
its snapshot serves from them). The side files are written in the same write,
not deferred to a server's start: their content is what the write derives
anyway, and a server that had to derive it would decode every article.

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
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from graph.store.base import Document, SeedMark, StoreError, StoreUnavailable, WriteResult
from graph.store.changes import ChangeSet, changed_ids, classify
from graph.store.tinydb.document_bytes import EncodedDocuments
from graph.store.upserts import EncodedUpserts
from graph.store.tinydb.stories import STORIES, as_table, gc_paused, regroup, saved_table
from graph.store.tinydb.search_file import SearchFile
from graph.store.tinydb.snapshot import SEARCH_PREBUILD_MIN, Snapshot, derive_state
from graph.store.tinydb.reader import SnapshotReader

FORMAT = 1
ARTICLES = "articles"
META = "meta"
# How long a request waits for a changed file to be loaded before it is served
# from the previous snapshot (the new one still arrives, for later requests).
RELOAD_WAIT_SECONDS = 2.0
# The first bytes of a database this module wrote (orjson, meta table first).
_HEADER = re.compile(rb'\{"meta":\{"1":\{"format":(\d+),"version":"([0-9a-f]{32})"\}\}')
MARKS_FORMAT = 1
SNAPSHOT_FORMAT = 2
# Documents decoded to check a side file before it is believed.
SPOT_CHECKS = 16

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
        return parse_database(data, self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, orjson.dumps(data), self.create_dirs)

    def close(self) -> None:
        pass


def parse_database(data: bytes, path: Path) -> dict[str, Any] | None:
    """The raw tables of a database file's bytes (None when it is empty); errors name the file."""
    if not data.strip():
        return None
    try:
        loaded = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise StoreError(f"{path}: not a newsgraph database (invalid JSON: {exc})") from None
    if not isinstance(loaded, dict):
        raise StoreError(f"{path}: not a newsgraph database (the top level is not an object)")
    return loaded


def encode_database(data: dict[str, Any]) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """``orjson.dumps(data)``, byte for byte, and where each article record lies in it.

    The spans let a snapshot keep the file's own bytes and decode one article
    when it is asked for (graph.store.tinydb.document_bytes).
    """
    spans: dict[str, tuple[int, int]] = {}
    return b"".join(database_parts(data, spans)), spans


def database_parts(
    data: dict[str, Any],
    spans: dict[str, tuple[int, int]],
    encode_article: Callable[[Any], bytes] = orjson.dumps,
) -> Iterator[bytes]:
    """The bytes of ``orjson.dumps(data)`` in order, a part at a time, so that a large database is
    written without being held whole; fills ``spans`` with where each article record lies.

    ``encode_article(record)`` gives an article record's bytes (a write may hold
    some of them encoded already, graph.store.upserts).
    """
    offset = 1
    yield b"{"
    for t, (name, table) in enumerate(data.items()):
        head = (b"," if t else b"") + orjson.dumps(name) + b":"
        if name != ARTICLES:
            encoded_table = orjson.dumps(table)
            yield head + encoded_table
            offset += len(head) + len(encoded_table)
            continue
        yield head + b"{"
        offset += len(head) + 1
        for r, (key, record) in enumerate(table.items()):
            label = (b"," if r else b"") + orjson.dumps(key) + b":"
            encoded = encode_article(record)
            spans[key] = (offset + len(label), offset + len(label) + len(encoded))
            offset += len(label) + len(encoded)
            yield label + encoded
        yield b"}"
        offset += 1
    yield b"}"


def atomic_write(
    path: Path,
    payload: bytes | Iterable[bytes],
    create_dirs: bool = True,
    durable: bool = True,
    before_replace: Callable[[os.stat_result], None] | None = None,
    like: Path | None = None,
) -> None:
    """Replace path with payload (bytes, or parts written in turn) so that readers and crashes see
    old or new, never a mix.

    ``durable`` fsyncs the file before the rename and the folder after it, so
    the new file survives a power loss too (the side files skip it).
    ``before_replace`` is called with the new file's status just before the
    rename (which keeps its inode, size and modification time).
    The new file keeps the old one's permissions (and owner and group, where
    this process may set them), so a database an operator made private stays
    private; without an old file it takes those of ``like`` when given (a side
    file follows its database), else the umask's.
    """
    folder = path.parent
    try:
        if create_dirs:
            folder.mkdir(parents=True, exist_ok=True)
        model = _existing_status(path) or (_existing_status(like) if like is not None else None)
        temporary = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            # Private from the start when the model is: the bytes are never readable by others, even briefly.
            mode = 0o600 if model is not None and not model.st_mode & 0o077 else 0o666
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
            with open(fd, "wb") as handle:
                if model is not None:
                    _take_status(handle.fileno(), model)
                if isinstance(payload, bytes):
                    handle.write(payload)
                else:
                    handle.writelines(payload)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
                status = os.fstat(handle.fileno())
            if before_replace is not None:
                before_replace(status)
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


def _existing_status(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _take_status(fd: int, model: os.stat_result) -> None:
    """Give an open file model's owner, group and permission bits, as far as this process may."""
    status = os.fstat(fd)
    if (status.st_uid, status.st_gid) != (model.st_uid, model.st_gid):
        for uid, gid in ((model.st_uid, model.st_gid), (-1, model.st_gid)):
            try:
                os.fchown(fd, uid, gid)  # root may give the file back to its owner; others may keep the group
                break
            except OSError:
                continue
    os.fchmod(fd, model.st_mode & 0o7777)  # after chown, which may clear set-id bits


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

    ``require_file=True`` (a server) makes a missing database file an error
    (StoreUnavailable) at open and on every read, never an empty store: a wrong
    path or a file deleted under a running server used to be served as zero
    articles with 200s. A seed (the default) creates the file instead.
    """

    name = "tinydb"

    def __init__(self, path: str | os.PathLike[str], *, preload: bool = True, require_file: bool = False) -> None:
        self.path = Path(path)
        self.preload = preload
        self.require_file = require_file
        self._marks_path = self.path.parent / f".{self.path.name}.marks"
        self._snapshot_path = self.path.parent / f".{self.path.name}.snapshot"
        self._search_path = self.path.parent / f".{self.path.name}.search"
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, create_dirs=True)
        self._snapshot: Snapshot | None = None
        self._signature: Signature | None = None
        self._reload: asyncio.Task[None] | None = None
        # The parsed file and the signature it was read at: a write reuses it
        # when the file has not changed since.
        self._data: dict[str, Any] | None = None
        self._data_signature: Signature | None = None
        # Called with (previous, new) snapshot whenever a new data version is installed (changes()).
        self._installed: list[Callable[[Snapshot, Snapshot], None]] = []

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
            signature, raw = self._read_bytes()
            if signature is None and self.require_file:
                raise self._missing()
            snapshot = self._saved_snapshot(raw, signature)
            if snapshot is None:  # no side file for this file (or a stale one): decode it all
                data = parse_database(raw, self.path) or {}
                docs = [doc for doc in _articles(data, self.path).values() if "id" in doc]
                stories = saved_table(data, [doc["id"] for doc in docs])
                snapshot = Snapshot.build(docs, _version(data), stories)
            if signature is not None and self.preload and len(snapshot.docs) >= SEARCH_PREBUILD_MIN:
                # A server keeps its search index beside the file (smaller stores build theirs in an
                # instant), and reads it before serving: then no search waits for a build.
                snapshot.search_file = SearchFile(self._search_path, self.path, signature, snapshot.version)
                snapshot.read_saved_search()
            self._follow(snapshot)
            if self._snapshot is not None and self.preload and len(snapshot.docs) >= SEARCH_PREBUILD_MIN:
                # Another process wrote: the search index is made before the new version is served
                # (derived from the served one's, Snapshot.previous, when it can be). Served first,
                # every search of it would wait for the index; meanwhile reads get the previous
                # version. The titles' trigrams follow in the background, as at start: until
                # then title filters scan, they do not wait.
                snapshot.search_index()
            self._install(snapshot, signature)
        finally:
            if was_enabled:
                gc.enable()
        # The snapshot lives until the next data version: keep the GC from scanning it
        # on every collection (tail latency under load). What the previous freeze kept
        # (the snapshot just replaced, cyclic garbage of its requests) is collected first,
        # else every seed under a running server left it for good.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _read_bytes(self) -> tuple[Signature | None, bytes]:
        """The database file's bytes and the signature they were read at (None, b"" when there is none)."""
        try:
            with open(self.path, "rb") as handle:
                st = os.fstat(handle.fileno())
                return (st.st_ino, st.st_mtime_ns, st.st_size), handle.read()
        except FileNotFoundError:
            return None, b""
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read the database: {exc.strerror}") from None

    def _saved_snapshot(self, raw: bytes, signature: Signature | None) -> Snapshot | None:
        """The snapshot the side file describes over raw, when it was saved for exactly this file."""
        header = _HEADER.match(raw[:128])
        if signature is None or header is None or int(header.group(1)) != FORMAT:
            return None
        try:
            saved = orjson.loads(self._snapshot_path.read_bytes())
            if (
                saved.get("format") != SNAPSHOT_FORMAT
                or saved.get("database") != list(signature)
                or saved.get("version") != header.group(2).decode()
            ):
                return None
            docs = EncodedDocuments(raw, saved["starts"], saved["ends"])
            ids = saved["state"]["columns"]["id"]
            if not docs.spans_are_objects() or len(ids) != len(docs):
                return None
            # A few documents decoded as a spot check that the spans and the columns agree.
            for n in range(0, len(docs), max(1, len(docs) // SPOT_CHECKS)):
                if docs.decode(n).get("id") != ids[n]:
                    return None
            snapshot = Snapshot(docs, saved["version"], saved["state"])
            changes = saved.get("changes")
            if isinstance(changes, list) and len(changes) == 4:
                snapshot.recorded = (str(changes[0]), *(tuple(map(str, ids)) for ids in changes[1:]))  # type: ignore[assignment]
            return snapshot
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            return None  # missing, stale or damaged: decode the database instead

    def _follow(self, snapshot: Snapshot) -> None:
        """Let a new version derive its search index from the served one's (Snapshot.previous):
        seconds instead of a whole build, when the write recorded what it changed."""
        current = self._snapshot
        if current is not None and current.search_ready and snapshot.recorded is not None and not snapshot.search_ready:
            snapshot.previous = current

    def _install(self, snapshot: Snapshot, signature: Signature | None) -> None:
        previous = self._snapshot
        self._snapshot, self._signature = snapshot, signature
        if previous is not None and previous.version != snapshot.version:
            for installed in list(self._installed):
                installed(previous, snapshot)
        if self.preload and len(snapshot.docs) >= SEARCH_PREBUILD_MIN:
            # Build the text indexes now, beside the server, so the first search does not wait for them.
            # Before the thread starts: at start /healthz is not warm until it ends; a later version's
            # trigrams are not waited for (its search index is what searches need, see _load).
            snapshot.text_indexes_building = previous is None
            threading.Thread(target=snapshot.build_text_indexes, name="newsgraph-text-indexes", daemon=True).start()

    def _missing(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"{self.path}: the database file is missing (deleted or moved?); `newsgraph seed` creates it",
            f"the database file {self.path.name} is missing",
        )

    async def reader(self) -> SnapshotReader:
        if self._snapshot is None:
            await asyncio.to_thread(self._load)
            assert self._snapshot is not None
            return SnapshotReader(self._snapshot)
        signature = self._stat()
        if signature is None and self.require_file:
            raise self._missing()
        if signature != self._signature:
            if self._reload is None or self._reload.done():
                self._reload = asyncio.ensure_future(asyncio.to_thread(self._load))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reload), RELOAD_WAIT_SECONDS)
        assert self._snapshot is not None
        return SnapshotReader(self._snapshot)

    async def changes(self, poll_seconds: float, ready: asyncio.Event | None = None) -> AsyncIterator[ChangeSet]:
        """Each new data version as it is installed, with what changed (see graph.store.changes).

        A write by this process installs its snapshot at once; one by another
        process is noticed by looking at the file every ``poll_seconds`` (a stat).
        The previous snapshot is still in memory: it is the before-state. The
        changed ids are those the write recorded (in the snapshot side file, or on
        the snapshot it installed here) when it followed the version this server
        held; otherwise (versions skipped between two looks, a file written by
        stock TinyDB) they come from comparing the two snapshots' stored bytes per
        id, so a write is never missed.
        """
        loop = asyncio.get_running_loop()
        pairs: asyncio.Queue[tuple[Snapshot, Snapshot]] = asyncio.Queue()

        def installed(previous: Snapshot, snapshot: Snapshot) -> None:
            loop.call_soon_threadsafe(pairs.put_nowait, (previous, snapshot))

        self._installed.append(installed)
        if ready is not None:
            ready.set()
        try:
            while True:
                try:
                    previous, snapshot = await asyncio.wait_for(pairs.get(), poll_seconds)
                except TimeoutError:
                    with contextlib.suppress(StoreError):
                        await self.reader()  # loads a file another process wrote (installed() is called)
                    continue
                recorded = snapshot.recorded
                if recorded is not None and recorded[0] == previous.version:
                    added, updated, removed = recorded[1:]  # what the write itself recorded
                else:  # versions skipped, or a file written by other means: compare the snapshots
                    added, updated, removed = await asyncio.to_thread(
                        changed_ids, previous.by_id, snapshot.by_id, previous.docs, snapshot.docs
                    )
                changes = ChangeSet(
                    snapshot.version, added, updated, removed, SnapshotReader(previous), SnapshotReader(snapshot)
                )
                if changes:
                    yield changes
        finally:
            self._installed.remove(installed)

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
        serving = self.preload or self._snapshot is not None
        # Encoded upserts (a seed's) are read as they are written, never all decoded at once.
        batch = upserts if isinstance(upserts, EncodedUpserts) else list(upserts)
        result, snapshot, signature = await asyncio.to_thread(self._write, batch, list(deletes), serving)
        if snapshot is not None:
            self._install(snapshot, signature)
        return result

    def _write(
        self, upserts: Sequence[Document], deletes: list[str], serving: bool
    ) -> tuple[WriteResult, Snapshot | None, Signature | None]:
        """Write the new database (and its side files); with ``serving``, also its snapshot to swap in.

        Upserts given as EncodedUpserts (a seed) stay encoded: the table holds
        their numbers, the indexes and stories are derived from their outlines,
        and their bytes are copied into the file as it is written, a part at a
        time. Only a server (``serving``) holds the new file's bytes whole.
        """
        spooled = upserts if isinstance(upserts, EncodedUpserts) else None
        upsert_ids = spooled.ids if spooled is not None else [doc["id"] for doc in upserts]
        with self._locked():
            self._remove_leftovers()
            old = self._read()
            # An int: the number of an upsert still encoded in ``spooled``.
            table: dict[str, Document | int] = dict(_articles(old, self.path))
            doc_ids = {doc["id"]: key for key, doc in table.items() if "id" in doc}  # type: ignore[operator]
            next_id = max((int(k) for k in table if k.isdigit()), default=0) + 1
            deleted = 0
            with gc_paused():
                old_stories = saved_table(old, doc_ids.keys())
            touched: dict[str, Document | None] = {}  # each touched id's document before this write
            for article_id in deletes:
                key = doc_ids.pop(article_id, None)
                if key is not None:
                    touched.setdefault(article_id, table.pop(key))  # type: ignore[arg-type]
                    deleted += 1
            for n, article_id in enumerate(upsert_ids):
                key = doc_ids.get(article_id)
                if key is None:
                    touched.setdefault(article_id, None)
                    key = str(next_id)
                    next_id += 1
                    doc_ids[article_id] = key
                else:
                    touched.setdefault(article_id, table[key])  # type: ignore[arg-type]
                table[key] = n if spooled is not None else upserts[n]
            with gc_paused():  # millions of small objects, none of them garbage
                # What the indexes, the stories and the marks are derived from: the documents,
                # or for those still encoded, their outlines.
                outlines: dict[str, Document] = {
                    key: record if isinstance(record, dict) else spooled.outline(record)  # type: ignore[union-attr]
                    for key, record in table.items()
                }
                keys = sorted(doc_ids.values(), key=lambda key: outlines[key]["id"])
                ordered = [outlines[k] for k in keys]
                by_id = {doc["id"]: doc for doc in ordered}
                changed = [*deletes, *upsert_ids]
                previous = {i: doc for i, doc in touched.items() if doc is not None}
                stories = regroup(by_id, old_stories, changed, previous)

                def stored_now(article_id: str) -> Document | None:
                    # classify compares whole documents only for ids stored before this write.
                    key = doc_ids.get(article_id)
                    if key is None:
                        return None
                    record = table[key]
                    if isinstance(record, dict) or touched.get(article_id) is None:
                        return outlines[key]
                    return spooled[record]  # type: ignore[index]

                recorded = (_version(old), *classify(touched, stored_now))
                state = derive_state(ordered, stories)
            version = uuid.uuid4().hex
            # meta first: a reader can then check the version from the file's first bytes.
            data = {META: {"1": {"format": FORMAT, "version": version}}, ARTICLES: table, STORIES: as_table(stories)}
            data.update((name, value) for name, value in old.items() if name not in data)
            spans: dict[str, tuple[int, int]] = {}
            encode = spooled.encoded if spooled is not None else orjson.dumps
            parts = database_parts(data, spans, lambda record: orjson.dumps(record) if isinstance(record, dict) else encode(record))
            starts_ends: list[list[int]] = [[], []]

            def save_snapshot(status: os.stat_result) -> None:
                starts_ends[:] = [[spans[k][0] for k in keys], [spans[k][1] for k in keys]]
                self._save_snapshot(*starts_ends, version, state, status, recorded)

            try:
                # A server keeps the bytes it serves from; a seed writes them as they come.
                payload = b"".join(parts) if serving else None
                atomic_write(self.path, payload if payload is not None else parts, before_replace=save_snapshot)
            except orjson.JSONEncodeError as exc:
                raise StoreError(f"{self.path}: cannot write the database: {exc}; the old database is unchanged") from None
            snapshot = None
            if payload is not None:
                snapshot = Snapshot(EncodedDocuments(payload, *starts_ends), version, state)
                snapshot.recorded = recorded
                self._follow(snapshot)
            signature = self._stat()
            # The parsed file, kept for the next write, unless part of it is still encoded.
            self._data, self._data_signature = (data, signature) if spooled is None else (None, None)
            self._save_marks(outlines, version, signature)
        return WriteResult(written=len(upsert_ids), deleted=deleted, version=version), snapshot, signature

    def _save_snapshot(
        self,
        starts: list[int],
        ends: list[int],
        version: str,
        state: dict[str, Any],
        status: os.stat_result,
        recorded: Any = None,
    ) -> None:
        """The side file that lets a server start without decoding the database (see the module docstring);
        it also names what the write changed (``recorded``), so a server that held the previous version
        learns the changed ids without comparing the snapshots."""
        saved = {
            "changes": recorded,
            "format": SNAPSHOT_FORMAT,
            "database": [status.st_ino, status.st_mtime_ns, status.st_size],
            "version": version,
            "starts": starts,
            "ends": ends,
            "state": state,
        }
        with contextlib.suppress(StoreError):  # only a cache: without it a server decodes the database
            atomic_write(
                self._snapshot_path,
                orjson.dumps(saved, option=orjson.OPT_SERIALIZE_NUMPY),
                durable=False,
                like=self.path,
            )

    def _save_marks(self, table: dict[str, Document], version: str, signature: Signature | None) -> None:
        marks = {m_id: [mark.path, mark.hash] for m_id, mark in _marks(table).items()}
        saved = {"format": MARKS_FORMAT, "database": list(signature or ()), "version": version, "marks": marks}
        with contextlib.suppress(StoreError):  # only a cache: without it a seed reads the database
            atomic_write(self._marks_path, orjson.dumps(saved), durable=False, like=self.path)

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
        for side in (self._marks_path, self._snapshot_path, self._search_path):
            for leftover in self.path.parent.glob(f".{glob_escape(side.name)}.*.tmp"):
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
