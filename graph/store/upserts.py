"""Upserts held as the JSON bytes a store keeps, in a spool file, not as dicts.

A seed of 1M articles cannot hold them all parsed: a 4.5 KB article is ~19 KB
as a Python dict. Its worker processes encode each article once (orjson, the
bytes the TinyDB file stores) together with its outline, the few fields a
write derives its indexes and stories from, and the seed appends both to a
temporary file; the seed itself keeps an id and a few offsets per article. A
store that can copy the bytes (TinyDB) reads them back in order; any other
store sees an ordinary sequence of documents, each decoded when it is read.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, overload

import orjson

from graph.documents import RELATED_URL_FIELDS, URL_FIELDS
from graph.store.base import Document, StoreError

# What a write reads of a document besides its bytes: the snapshot's columns, URL index and
# provider catalog (graph.store.tinydb.snapshot.derive_state), the stories (graph.stories),
# and the seed marks (``_seed``). Of related items, their provider and URLs.
OUTLINE_KEYS = (
    "id",
    "title",
    "publishedDateTime",
    "quality",
    "heat",
    "category",
    "type",
    "published",
    "provider",
    "topics",
    *URL_FIELDS,
    "_seed",
)
OUTLINE_RELATED_KEYS = ("provider", *RELATED_URL_FIELDS)


def outline(doc: Document) -> Document:
    """The document with only what a write derives from it (OUTLINE_KEYS, related items' provider and URLs)."""
    kept = {key: doc[key] for key in OUTLINE_KEYS if key in doc}
    related = doc.get("related")
    if related is not None:
        kept["related"] = (
            [
                {key: item[key] for key in OUTLINE_RELATED_KEYS if key in item} if isinstance(item, dict) else item
                for item in related
            ]
            if isinstance(related, list)
            else related
        )
    return kept


# Up to this many bytes the spool stays in memory (a watch batch, a small seed); beyond, a file.
SPOOL_MEMORY_BYTES = 64 * 2**20


class EncodedUpserts(Sequence[Document]):
    """Documents to upsert, in order, each kept as its JSON bytes and its outline's in a spool file.

    ``upserts[n]`` decodes document n (a new dict each time); ``encoded(n)``
    is its bytes as written by ``orjson.dumps``; ``outline(n)`` its outline.
    A document orjson cannot encode (an integer beyond 64 bits in an unknown
    key) is kept as it is, and ``encoded(n)`` raises orjson's error for it, as
    encoding it at write time would.
    """

    def __init__(self, memory_bytes: int = SPOOL_MEMORY_BYTES) -> None:
        self.ids: list[str] = []
        self._memory_bytes = memory_bytes
        self._held = bytearray()  # the spool while it is small
        self._spool: Any = None  # then a temporary file (TMPDIR)
        self._end = 0
        # Per document: where its bytes start, where its outline starts, where that ends.
        self._starts = array("q")
        self._outlines = array("q")
        self._ends = array("q")
        self._unencoded: dict[int, Document] = {}
        self._providers: dict[tuple[Any, ...], Document] = {}

    def append(self, article_id: str, encoded: bytes, encoded_outline: bytes) -> None:
        if self._spool is None and self._end + len(encoded) + len(encoded_outline) <= self._memory_bytes:
            self._held += encoded
            self._held += encoded_outline
        else:
            self._write(encoded, encoded_outline)
        self.ids.append(article_id)
        self._starts.append(self._end)
        self._outlines.append(self._end + len(encoded))
        self._end += len(encoded) + len(encoded_outline)
        self._ends.append(self._end)

    def append_document(self, doc: Document) -> None:
        """A document as it is (encoded here; kept as a dict when orjson cannot encode it)."""
        try:
            self.append(doc["id"], orjson.dumps(doc), orjson.dumps(outline(doc)))
        except orjson.JSONEncodeError:
            self._unencoded[len(self.ids)] = doc
            self.append(doc["id"], b"", b"")

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Document: ...
    @overload
    def __getitem__(self, index: slice) -> list[Document]: ...
    def __getitem__(self, index: int | slice) -> Document | list[Document]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self)))]
        n = range(len(self))[index]
        if n in self._unencoded:
            return self._unencoded[n]
        return orjson.loads(self.encoded(n))

    def __iter__(self) -> Iterator[Document]:
        return (self[n] for n in range(len(self)))

    def encoded(self, n: int) -> bytes:
        """Document n as ``orjson.dumps`` gives it (raises orjson.JSONEncodeError when it cannot)."""
        if n in self._unencoded:
            return orjson.dumps(self._unencoded[n])
        return self._read(self._starts[n], self._outlines[n])

    def outline(self, n: int) -> Document:
        """Document n's outline; equal provider objects are one shared dict (read only: never mutate it),
        as a write holds every outline at once (a 1M seed: ~0.9 GB less)."""
        if n in self._unencoded:
            return outline(self._unencoded[n])
        kept: Document = orjson.loads(self._read(self._outlines[n], self._ends[n]))
        if "provider" in kept:
            kept["provider"] = self._shared(kept["provider"])
        related = kept.get("related")
        if isinstance(related, list):
            for item in related:
                if isinstance(item, dict) and "provider" in item:
                    item["provider"] = self._shared(item["provider"])
        return kept

    def _shared(self, provider: Any) -> Any:
        if not isinstance(provider, dict):
            return provider
        try:
            return self._providers.setdefault(tuple(provider.items()), provider)
        except TypeError:  # a value that is not hashable (a damaged document): kept as it is
            return provider

    def _write(self, *parts: bytes) -> None:
        try:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile(prefix="newsgraph-upserts-")
                self._spool.write(self._held)
                self._held = bytearray()
            self._spool.writelines(parts)
        except OSError as exc:
            raise StoreError(
                f"{tempfile.gettempdir()}: cannot keep the parsed articles in a temporary file: "
                f"{exc.strerror or exc} (TMPDIR names another folder); nothing was written"
            ) from None

    def _read(self, start: int, end: int) -> bytes:
        if self._spool is None:
            return bytes(self._held[start:end])
        self._spool.flush()
        return os.pread(self._spool.fileno(), end - start, start)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._held = bytearray()

    def __enter__(self) -> EncodedUpserts:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
