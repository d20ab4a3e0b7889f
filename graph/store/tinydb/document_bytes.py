"""Documents held as their JSON bytes and decoded when one is asked for.

100k articles as Python dicts take about three times the room of their JSON
(every related item, image and URL is its own object), and parsing them all
takes seconds. A snapshot keeps one immutable buffer of JSON instead — the
database file's own bytes when they were just written or read, so nothing is
encoded twice — plus each document's span in it. Serving a page decodes only
its articles (orjson, microseconds each), and a small cache keeps the
documents of popular pages decoded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson

from graph.documents import UNSERVED
from graph.lru import LRU
from graph.store.base import Document

# Decoded documents kept per snapshot (~10 KB each as dicts for a typical article, ~40 MB in
# all): the pages asked for most are served without decoding.
DECODED_CACHE_SIZE = 4096


class EncodedDocuments(Sequence[Document]):
    """Documents numbered 0..n-1, each the JSON object at ``buffer[starts[n]:ends[n]]``.

    ``documents[n]`` is a decoded dict shared by every caller (never mutate
    it); iterating decodes each document afresh without touching the cache,
    so a thread building an index over all of them does not flush it.
    """

    def __init__(self, buffer: bytes, starts: Any, ends: Any, cache_size: int = DECODED_CACHE_SIZE) -> None:
        self._buffer = memoryview(buffer)
        self._starts = np.asarray(starts, dtype=np.int64)
        self._ends = np.asarray(ends, dtype=np.int64)
        if self._starts.shape != self._ends.shape:
            raise ValueError("starts and ends differ in length")
        self._cache = LRU(cache_size, name="decoded_documents")
        self._lock = threading.Lock()

    @classmethod
    def encode(cls, docs: Iterable[Document]) -> EncodedDocuments:
        """Documents encoded into one new buffer (unserved keys left out)."""
        parts: list[bytes] = []
        starts: list[int] = []
        ends: list[int] = []
        offset = 0
        for doc in docs:
            encoded = orjson.dumps({k: v for k, v in doc.items() if k not in UNSERVED})
            parts.append(encoded)
            starts.append(offset)
            offset += len(encoded)
            ends.append(offset)
        return cls(b"".join(parts), starts, ends)

    def spans_are_objects(self) -> bool:
        """Whether every span lies inside the buffer and looks like a JSON object (a cheap check of a saved index)."""
        if not len(self._starts):
            return True
        if self._starts.min() < 0 or self._ends.max() > len(self._buffer) or (self._ends <= self._starts).any():
            return False
        raw = np.frombuffer(self._buffer, dtype=np.uint8)
        return bool((raw[self._starts] == ord("{")).all() and (raw[self._ends - 1] == ord("}")).all())

    def __len__(self) -> int:
        return len(self._starts)

    def spans(self) -> tuple[bytes, list[int], list[int]]:
        """The buffer and where each document's JSON lies in it (to compare documents without decoding)."""
        return self._buffer.obj, self._starts.tolist(), self._ends.tolist()  # type: ignore[return-value]

    def __getitem__(self, n: int) -> Document:  # type: ignore[override]
        with self._lock:
            doc = self._cache.lookup(n)
        if doc is None:
            doc = self.decode(n)
            with self._lock:
                self._cache.keep(n, doc)
        return doc

    def decode(self, n: int) -> Document:
        """Document n, freshly decoded."""
        if not 0 <= n < len(self._starts):
            raise IndexError(n)
        doc: Document = orjson.loads(self._buffer[self._starts[n] : self._ends[n]])
        for key in UNSERVED:
            doc.pop(key, None)
        return doc

    def __iter__(self) -> Iterator[Document]:
        for n in range(len(self._starts)):
            yield self.decode(n)

    @property
    def starts(self) -> Any:
        return self._starts

    @property
    def ends(self) -> Any:
        return self._ends

    @property
    def size(self) -> int:
        """Bytes of JSON held (the whole buffer, spans or not)."""
        return len(self._buffer)

