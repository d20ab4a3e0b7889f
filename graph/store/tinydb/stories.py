"""Stories of the TinyDB store: kept in the database file, served from the snapshot.

The database file holds a ``stories`` table (one record per story: its
summary and its member ids), written in the same atomic replace as the
articles, so a write finds the stories as they were before it without
re-deriving them: it regroups only the stories it touches
(graph.stories.recompute) and summarizes only those. A file without the
table (written before stories existed, or by hand) is grouped from scratch.
The snapshot keeps each article's story id as a column (so a story's articles
are an ordinary indexed filter) and the summaries in id order.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from graph import stories
from graph.documents import RELATED_URL_FIELDS, URL_FIELDS
from graph.paging import OrderKey, Page, Window
from graph.store.base import Document

STORIES = "stories"
SORTED_ORDERS = 16  # story orders kept sorted per snapshot
ENCODE_CHUNK = 1024  # summaries encoded at a time into the index's buffer


class TableLinks:
    """graph.stories.LinkSource over the articles of a write (all of them, as dicts) and the old stories table."""

    def __init__(self, docs: Mapping[str, Document], old: Sequence[Mapping[str, Any]]) -> None:
        self.docs = docs
        self.old_members = {record["id"]: record["members"] for record in old}
        self.old_story = {member: record["id"] for record in old for member in record["members"]}

    async def stories_of(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self.old_story[i] for i in ids if i in self.old_story}

    async def members(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        return {story: self.old_members.get(story, []) for story in story_ids}

    async def links_of(self, ids: Sequence[str]) -> dict[str, tuple[set[str], set[str]]]:
        return {i: stories.links(self.docs[i]) for i in ids if i in self.docs}

    async def mentioning(self, urls: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        wanted = set(urls)
        found: dict[str, list[tuple[str, bool]]] = {}
        if not wanted:
            return found
        own_fields, related_fields = URL_FIELDS, RELATED_URL_FIELDS
        # One pass over every article, testing only its URLs against the few wanted (no index to keep).
        for article, doc in self.docs.items():
            for field in own_fields:
                url = doc.get(field)
                if url in wanted:
                    found.setdefault(url, []).append((article, False))
            for item in stories.related_items(doc) if doc.get("related") else ():
                for field in related_fields:
                    url = item.get(field)
                    if url in wanted:
                        found.setdefault(url, []).append((article, True))
        return found


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic GC off while stories are derived beside a whole parsed database.

    Their hundred thousand small sets and dicts would otherwise start full
    collections that scan every object of the database (seconds at 100k).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def regroup(
    docs: Mapping[str, Document],
    old: list[dict[str, Any]] | None,
    changed: Sequence[str],
    previous: Mapping[str, Document] | None = None,
) -> list[dict[str, Any]]:
    """The stories table after a write: ``old`` with the stories the changed articles touch regrouped.

    ``previous``: the changed articles as they were before the write (those that were stored).
    Records are summaries (graph.stories.summarize) with their ``members``, in story id order.
    """
    previous = previous or {}
    replaced: dict[str, dict[str, Any]] = {}  # old story id -> its record
    if old is None:
        groups = stories.components({i: stories.links(doc) for i, doc in docs.items()})
        kept: list[dict[str, Any]] = []
    else:
        source = TableLinks(docs, old)
        before = {i: stories.links(doc) for i, doc in previous.items()}
        groups = stories.run_sync(stories.recompute(source, changed, before))
        touched = {i for group in groups for i in group} | set(changed)
        dropped = {source.old_story[i] for i in touched if i in source.old_story}
        kept = [record for record in old if record["id"] not in dropped]
        replaced = {record["id"]: record for record in old if record["id"] in dropped}
    for group in groups:
        summary = None
        record = replaced.get(group[0])
        if record is not None and record["members"] == group:  # the same articles: revise by difference
            edited = [i for i in group if i in previous]
            summary = stories.revise(record, [previous[i] for i in edited], [docs[i] for i in edited])
        if summary is None:
            summary = stories.summarize([docs[i] for i in group])
        kept.append({**summary, "members": group})
    kept.sort(key=lambda record: record["id"])
    return kept


def saved_table(data: Mapping[str, Any], ids: Iterable[str]) -> list[dict[str, Any]] | None:
    """The stories table of a raw database, or None when it has none that groups exactly these article ids."""
    table = data.get(STORIES)
    if not isinstance(table, dict):
        return None
    records = list(table.values())
    if not all(isinstance(r, dict) and isinstance(r.get("members"), list) and isinstance(r.get("id"), str) for r in records):
        return None
    members = [member for record in records for member in record["members"]]
    wanted = set(ids)
    return records if len(members) == len(wanted) and set(members) == wanted else None


def as_table(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records keyed "1", "2", ... as TinyDB keys its documents."""
    return {str(n): record for n, record in enumerate(records, 1)}


def state_of(records: Sequence[dict[str, Any]], ids: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The snapshot's story column (each article's story id, ``ids`` in id order) and summaries without members."""
    story_of = {member: record["id"] for record in records for member in record["members"]}
    column = [story_of.get(i, i) for i in ids]
    return column, [{k: v for k, v in record.items() if k != "members"} for record in records]


class StoryIndex:
    """The stories of one snapshot: each article's story, sort columns, and summaries kept encoded.

    A summary is decoded when served (a page at a time): 70k stories held as dicts
    cost ~100 MB, as orjson bytes in one buffer and five columns about a quarter of that.
    """

    def __init__(self, summaries: list[dict[str, Any]], column: Sequence[str]) -> None:
        self.ids: list[str] = [summary["id"] for summary in summaries]
        self.by_id = {story: n for n, story in enumerate(self.ids)}
        self.codes = np.array([self.by_id[story] for story in column], dtype=np.int32)
        last = [summary["lastPublishedDateTime"] for summary in summaries]
        first = [summary["firstPublishedDateTime"] for summary in summaries]
        self.values: dict[str, list[Any]] = {
            "id": self.ids,
            "lastPublishedDateTime": last,
            "firstPublishedDateTime": [b if a == b else a for a, b in zip(first, last)],  # one object when equal
            "articleCount": [summary["articleCount"] for summary in summaries],
            "coverageCount": [summary["coverageCount"] for summary in summaries],
        }
        # One buffer, not a bytes object per summary: orjson gives each result a 4 KB
        # allocation whatever its length (~500 bytes here), 1.6 GB for 400k stories.
        chunks: list[bytes] = []
        ends: list[int] = []
        offset = 0
        for start in range(0, len(summaries), ENCODE_CHUNK):
            encoded = [orjson.dumps(summary) for summary in summaries[start : start + ENCODE_CHUNK]]
            for part in encoded:
                offset += len(part)
                ends.append(offset)
            chunks.append(b"".join(encoded))
        self._encoded = memoryview(b"".join(chunks))
        self._ends = np.array(ends, dtype=np.int64)
        self._sorted: dict[tuple[OrderKey, ...], Any] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def summary(self, n: int) -> dict[str, Any]:
        start = int(self._ends[n - 1]) if n else 0
        return orjson.loads(self._encoded[start : int(self._ends[n])])

    def of_article(self, number: int) -> dict[str, Any]:
        return self.summary(int(self.codes[number]))

    def page(self, order: tuple[OrderKey, ...], articles: Any | None, window: Window) -> tuple[Page, int]:
        """A page of the stories with an article among ``articles`` (numbers; None: all), and how many there are."""
        from graph.store.tinydb.ordering import sort_in_order, window_slice

        values = self.values
        ranked = self._sorted.get(order)
        if ranked is None:
            if len(self._sorted) >= SORTED_ORDERS:
                self._sorted.clear()
            everything = sort_in_order(list(range(len(self.ids))), order, lambda n, field: values[field][n])
            ranked = self._sorted[order] = np.array(everything, dtype=np.int32)
        if articles is not None:
            present = np.zeros(len(self.ids), dtype=bool)
            present[self.codes[articles]] = True
            ranked = ranked[present[ranked]]
        fields = [key.field for key in order]
        page = window_slice(ranked, lambda n: tuple(values[f][n] for f in fields), order, window)
        page.items = [self.summary(n) for n in page.items.tolist()]
        return page, len(ranked)
