"""What one committed write changed, and which of those articles a query selects.

A ChangeSet names the ids a write added, updated and removed, the data
version it produced, and two readers: ``after`` (the data as the write left
it) and ``before`` (as it was; only the updated and removed articles need be
in it). Both stores produce them (graph.store.tinydb.store from the snapshots it
swaps, graph.store.postgres.store from the change record each write transaction
keeps) and graph.live turns them into subscription events.

Matching runs through the readers' own query engines (``matching_ids``): the
subscription's ArticleQuery restricted to the changed ids, so a subscription
selects exactly what ``articles(where:, search:)`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from graph import filters
from graph.paging import ArticleQuery, OrderKey, Window
from graph.store.base import Document, Reader
from graph.documents import UNSERVED

BY_ID = (OrderKey("id"),)


@dataclass(frozen=True)
class ChangeSet:
    version: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    before: Reader
    after: Reader

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


async def matching_ids(reader: Reader, query: ArticleQuery, ids: Sequence[str]) -> set[str]:
    """The ids among ``ids`` whose articles in ``reader`` match the query's filter and search."""
    if not ids:
        return set()
    only = filters.Compare("id", "in", tuple(sorted(ids)))
    where = only if query.filter is filters.TRUE else filters.And((only, query.filter))
    page = await reader.find_articles(ArticleQuery(where, query.search, BY_ID), Window(first=len(ids)))
    return {doc["id"] for doc in page.items}


Changed = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def classify(before: Mapping[str, Document | None], now: Callable[[str], Document | None]) -> Changed:
    """(added, updated, removed) of the ids a write touched, from each one's document before it (None:
    not stored) and ``now(id)`` after it; an equal document written again is no change."""
    added, updated, removed = [], [], []
    for article_id in sorted(before):
        old, new = before[article_id], now(article_id)
        if old is None and new is not None:
            added.append(article_id)
        elif old is not None and new is None:
            removed.append(article_id)
        elif old is not None and new is not None and not same_document(old, new):
            updated.append(article_id)
    return tuple(added), tuple(updated), tuple(removed)


def changed_ids(
    before: dict[str, int], after: dict[str, int], old: object, new: object
) -> Changed:
    """(added, updated, removed) between two snapshots' id -> number maps and their EncodedDocuments.

    An article counts as updated when its stored JSON bytes differ; only those
    are decoded and compared as documents (the two sides may be encoded
    differently, e.g. with and without the unserved keys). A pass over every
    id: the fallback when the write's own record (Snapshot.recorded) does not
    follow the snapshot a server holds.
    """
    added = tuple(sorted(after.keys() - before.keys()))
    removed = tuple(sorted(before.keys() - after.keys()))
    old_raw, old_starts, old_ends = old.spans()  # type: ignore[attr-defined]
    new_raw, new_starts, new_ends = new.spans()  # type: ignore[attr-defined]
    updated = []
    for article_id in sorted(before.keys() & after.keys()):
        n, m = before[article_id], after[article_id]
        if old_raw[old_starts[n] : old_ends[n]] != new_raw[new_starts[m] : new_ends[m]] and not same_document(
            old[n], new[m]  # type: ignore[index]
        ):
            updated.append(article_id)
    return added, tuple(updated), removed


def same_document(a: Document, b: Document) -> bool:
    """Whether two stored documents serve the same article (a write of an equal document changes nothing)."""
    return {k: v for k, v in a.items() if k not in UNSERVED} == {k: v for k, v in b.items() if k not in UNSERVED}
