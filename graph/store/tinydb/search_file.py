"""The search index kept beside the database (``.NAME.search``), so that a server starts warm.

Building the index is Python work for every word of every article (~25 s of a
core at 100k articles, minutes at 1M), and every search waits for it; reading
it back is reading its arrays. Like the other side files it is only a cache,
tied to the exact database file it describes (inode, modification time, size,
data version) and to the index's format: stale, damaged or missing, it is
ignored and the index is built, then saved for the next start. A server reads
it before it serves a version, and saves an index it built (in a thread of its
own, the rename atomic); where it cannot write, each start builds the index.

The file: one line of JSON (what it describes, and each array's name, type
and length), then each array's bytes, every one starting at a multiple of 8
(read by mapping the file: numpy arrays over the mapping, no copy).
"""

from __future__ import annotations

import logging
import mmap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from graph.search import SearchIndex
from graph.store.base import StoreError

log = logging.getLogger("newsgraph.store")

# Bump when what a file holds, or how an index is derived (graph.search), changes.
FORMAT = 1
ALIGN = 8
HEADER_MAX = 1 << 16

Signature = tuple[int, int, int]


class SearchFile:
    """The side file of the search index of one database file, at one signature and data version."""

    def __init__(self, path: Path, database: Path, signature: Signature, version: str) -> None:
        self.path = path
        self.database = database
        self.key = {"format": FORMAT, "database": list(signature), "version": version}

    def load(self, docs: Sequence[Mapping[str, Any]], provider_names: Sequence[str | None]) -> SearchIndex | None:
        """The saved index over ``docs``, or None when there is none for exactly this database."""
        try:
            with open(self.path, "rb") as handle:
                # Mapped, not read: the arrays are paged in as searches touch them (1.5 GB at 1M
                # articles). Safe because this file is only ever replaced by a rename, never
                # rewritten in place (a mapped file cut short under a reader would crash it).
                raw = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # missing, unreadable, or empty
            return None
        try:
            end = raw.find(b"\n", 0, HEADER_MAX)
            if end < 0:
                raise ValueError("no header")
            header = orjson.loads(raw[:end])
            if {k: header.get(k) for k in self.key} != self.key or header.get("count") != len(docs):
                return None
            arrays: dict[str, Any] = {}
            at = _aligned(end + 1)
            for name, dtype, length in header["arrays"]:
                array = np.frombuffer(raw, dtype=np.dtype(dtype), count=length, offset=at)
                arrays[name] = array
                at = _aligned(at + array.nbytes)
            index = SearchIndex.from_arrays(arrays, docs, provider_names)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("%s: the saved search index is not usable (%s); building it", self.path, exc)
            return None
        log.info("%s: search index read (%d words)", self.path, len(index.vocabulary))
        return index

    def save(self, index: SearchIndex) -> None:
        """Write the index for the next start (a failure is logged: the file is only a cache)."""
        from graph.store.tinydb.store import atomic_write  # the store imports this module

        arrays = index.arrays()
        header = {**self.key, "count": index.count, "arrays": [[n, a.dtype.str, len(a)] for n, a in arrays.items()]}
        try:
            atomic_write(self.path, _parts(orjson.dumps(header) + b"\n", arrays.values()), durable=False, like=self.database)
        except StoreError as exc:
            log.warning("%s: the search index was not saved (%s); the next start builds it again", self.path, exc)
        else:
            log.info("%s: search index saved", self.path)


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _parts(header: bytes, arrays: Any) -> Iterator[bytes | memoryview]:
    yield header
    written = len(header)
    for array in arrays:
        padding = _aligned(written) - written
        if padding:
            yield bytes(padding)
        data = memoryview(np.ascontiguousarray(array)).cast("B")
        yield data
        written += padding + len(data)
