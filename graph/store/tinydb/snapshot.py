"""An immutable in-memory snapshot of the articles, with the indexes reads need.

The TinyDB store loads its file into a Snapshot once and swaps in a new one
when the file changes; every read is answered from here without I/O. A
Snapshot is never mutated after it is built, so a request that started on one
sees a consistent view even while a newer one is swapped in.
"""

from __future__ import annotations

import bisect
import ctypes
import gc
import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from graph import filters
from graph.documents import URL_FIELDS
from graph.lru import LRU
from graph.budget import current as current_budget
from graph.filters import Filter
from graph.store.tinydb import operators
from graph.store.tinydb.operators import ArticleColumns, ProviderCatalog
from graph.search import Scores, SearchIndex, SearchQuery
from graph.store.tinydb import stories as memory_stories
from graph.store.tinydb.search_file import SearchFile
from graph.store.tinydb.document_bytes import EncodedDocuments
from graph.store.tinydb.facet_tables import FacetTables
from graph.store.tinydb.ordering import sort_in_order, window_slice
from graph.stories import StoryQuery
from graph.paging import ArticleQuery, OrderKey, Page, ProviderQuery, Window
from graph.store.base import TEXT_SORT_FIELDS, Document, IntStats

MATCH_CACHE_SIZE = 1024
# Bytes of match lists (and relevance scores) each snapshot's caches may hold.
MATCH_CACHE_BYTES = 64 * 2**20
# Stores this large build their search index at load, in a thread; smaller ones on the first search.
SEARCH_PREBUILD_MIN = 1000
# Below this many matches a plain Python sort is quicker than numpy's set-up.
NUMPY_SORT_MIN = 256
BY_RELEVANCE = OrderKey("relevance", True)
_NOTHING = object()
FACET_CACHE_SIZE = 256


def derive_state(docs: Sequence[Document], story_records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What a Snapshot keeps besides its documents, from the documents in id order.

    Plain JSON data (the TinyDB store saves it beside the database file, so a
    server starts without decoding a single document): the columns, the URL
    index and the provider catalog. Everything else a Snapshot holds is cheap
    to derive from these. ``story_records`` (graph.store.tinydb.stories) are
    the stories of these documents; without them they are grouped here.
    """
    # Column by column: list comprehensions are several times quicker than one loop doing everything.
    columns: dict[str, list[Any]] = {
        field: [doc.get(field) for doc in docs]
        for field in ("id", "publishedDateTime", "quality", "heat", "title", "category", "type")
    }
    columns["published"] = [doc.get("published") is True for doc in docs]
    providers = [doc.get("provider") for doc in docs]
    columns["provider"] = [p.get("domain") if p else None for p in providers]
    columns["topics"] = [list(dict.fromkeys(t)) if (t := doc.get("topics")) else [] for doc in docs]
    # The URL index: (hash of a URL, number of an article with it in a URL field), ascending.
    pairs = sorted(
        {(url_hash(url), n) for field in URL_FIELDS for n, url in enumerate([doc.get(field) for doc in docs]) if url}
    )
    article_counts = Counter(domain for domain in columns["provider"] if domain is not None)
    names: dict[str, Counter[str]] = {}
    for provider in providers:
        if provider and provider.get("domain") is not None:
            names.setdefault(provider["domain"], Counter())[provider.get("name") or ""] += 1
    for doc in docs:
        for item in doc.get("related") or ():
            related_provider = item.get("provider")
            if related_provider:
                names.setdefault(related_provider["domain"], Counter())[related_provider.get("name") or ""] += 1
    catalog: dict[str, dict[str, Any]] = {}
    for domain, counter in names.items():
        named = [(count, name) for name, count in counter.items() if name]
        best = min(named, key=lambda cn: (-cn[0], cn[1].casefold(), cn[1]))[1] if named else domain
        catalog[domain] = {"name": best, "domain": domain, "articleCount": article_counts[domain]}
    if story_records is None:
        story_records = memory_stories.regroup({doc["id"]: doc for doc in docs}, None, ())
    columns["story"], story_summaries = memory_stories.state_of(story_records, columns["id"])
    return {
        "columns": columns,
        "stories": story_summaries,
        "url_hashes": [h for h, _ in pairs],
        "url_numbers": [n for _, n in pairs],
        "providers": catalog,
    }


def url_hash(url: str) -> int:
    """A stable 64-bit hash of a URL (Python's own str hash changes from one process to the next)."""
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True)


def _shared(column: list[Any]) -> list[Any]:
    """The column with equal values as one object (categorical strings repeat thousands of times)."""
    seen: dict[Any, Any] = {}
    return [seen.setdefault(v, v) for v in column]


def _shared_topics(column: list[list[str]]) -> list[tuple[str, ...]]:
    """The topics column as tuples, each topic name one object."""
    seen: dict[str, str] = {}
    return [tuple([seen.setdefault(t, t) for t in topics]) for topics in column]


def _return_free_memory() -> None:
    """Give the allocator's free heap back to the system (glibc's malloc_trim; elsewhere nothing).

    Building the text indexes allocates and frees a few hundred MB of temporary
    arrays; glibc raises its mmap threshold as large blocks are freed, so those
    land on the heap and stay resident (~250 MB at 100k articles) unless trimmed.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Snapshot:
    """Articles held in memory, with id, URL, value, range and search indexes.

    The documents (numbered 0..n-1 in id order) stay JSON until one is served
    (graph.store.tinydb.document_bytes); besides them it keeps columns: one list per
    filtered, sorted or faceted field, holding each document's value.
    Sorting and facets then run over C-level ``list.__getitem__`` lookups
    instead of dict lookups per document, and exact-value and range indexes
    turn the selective parts of a filter into candidate sets without a scan.
    """

    def __init__(self, docs: Sequence[Document], version: str, state: dict[str, Any]) -> None:
        """``docs`` in id order (usually EncodedDocuments) and their ``derive_state``."""
        self.version = version
        self.docs = docs
        # (previous version, added, updated, removed) when the write that made it recorded them (TinyDB).
        self.recorded: tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = None
        columns: dict[str, list[Any]] = dict(state["columns"])
        if any(len(column) != len(docs) for column in columns.values()):
            raise ValueError("the saved columns do not match the documents")
        for field in ("category", "type", "provider"):
            columns[field] = _shared(columns[field])
        columns["topics"] = _shared_topics(columns["topics"])
        self.by_id: dict[str, int] = {article_id: n for n, article_id in enumerate(columns["id"])}
        # URLs as 64-bit hashes in a sorted array: 16 bytes per URL instead of ~250 as dict keys.
        self.url_hashes = np.array(state["url_hashes"], dtype=np.int64)
        self.url_numbers = np.array(state["url_numbers"], dtype=np.int32)
        if len(self.url_hashes) != len(self.url_numbers):
            raise ValueError("the saved URL index is damaged")
        self.providers: dict[str, dict[str, Any]] = state["providers"]
        topic_index: dict[str, list[int]] = {}
        for n, topics in enumerate(columns["topics"]):
            for topic in topics:
                topic_index.setdefault(topic, []).append(n)
        topic_postings = {topic: np.array(numbers, dtype=np.int32) for topic, numbers in topic_index.items()}
        topic_counts: Counter[str] = Counter({topic: len(numbers) for topic, numbers in topic_index.items()})
        columns["providerName"] = [
            None if domain is None else self.providers[domain]["name"] for domain in columns["provider"]
        ]
        self.stories = memory_stories.StoryIndex(state["stories"], columns["story"])
        columns["story"] = [self.stories.ids[code] for code in self.stories.codes.tolist()]
        self.columns = columns
        self.catalog = ProviderCatalog(self.providers)
        # Filters are evaluated on these (graph.store.tinydb.operators), each column built on first use.
        self.operator_columns = ArticleColumns(columns, topic_postings, self.catalog)
        dates = [v for v in columns["publishedDateTime"] if v is not None]
        # Normalized UTC strings sort as instants.
        self.date_span = (min(dates), max(dates)) if dates else (None, None)
        self.topic_counts = topic_counts
        self._search: SearchIndex | None = None
        # Where the search index is saved and read back (the store sets it for a version read from its file).
        self.search_file: SearchFile | None = None
        # The version this one follows, while its search index can be derived from that one's
        # (the store sets it when the write that made this version recorded what it changed).
        self.previous: Snapshot | None = None
        # True while build_text_indexes runs in its thread (the store sets it before starting it), and
        # when that thread started (time.monotonic()).
        self.text_indexes_building = False
        self.text_indexes_started: float | None = None
        self._search_lock = threading.Lock()
        self._sort_keys: dict[str, list[Any]] = {}
        self._rank_arrays: dict[str, Any] = {}
        self._rank_values: dict[str, list[Any]] = {}
        self._tables: FacetTables | None = None
        self._matches = LRU(MATCH_CACHE_SIZE, MATCH_CACHE_BYTES, name="match")
        self._facets = LRU(FACET_CACHE_SIZE, name="facet")
        self._providers = LRU(MATCH_CACHE_SIZE, name="provider_match")

    @classmethod
    def build(cls, docs: Iterable[Document], version: str, story_records: list[dict[str, Any]] | None = None) -> Snapshot:
        """A snapshot of documents given as dicts (encoded into a buffer of their own), and their stories if known."""
        ordered = sorted(docs, key=lambda d: d["id"])
        return cls(EncodedDocuments.encode(ordered), version, derive_state(ordered, story_records))

    # ---- lookups ---------------------------------------------------------------

    def get(self, article_id: str) -> Document | None:
        n = self.by_id.get(article_id)
        return None if n is None else self.docs[n]

    def get_by_url(self, url: str) -> Document | None:
        """The lowest-numbered (lowest id) article with url in any URL field."""
        key = url_hash(url)
        i = int(np.searchsorted(self.url_hashes, key))
        # Numbers ascend within one hash; a document is checked, so a hash collision cannot mislead.
        while i < len(self.url_hashes) and self.url_hashes[i] == key:
            doc = self.docs[int(self.url_numbers[i])]
            if any(doc.get(field) == url for field in URL_FIELDS):
                return doc
            i += 1
        return None

    def provider(self, domain: str | None) -> dict[str, Any] | None:
        return None if domain is None else self.providers.get(domain)

    # ---- article queries -------------------------------------------------------

    def search_index(self) -> SearchIndex:
        """The search index, built once (the TinyDB store starts building it in a thread at load)."""
        if self._search is None:
            with self._search_lock:
                if self._search is None:
                    previous, self.previous = self.previous, None
                    names = self.columns["providerName"]
                    index = (self._search_after(previous) if previous is not None else None) or SearchIndex(self.docs, names)
                    if self.search_file is not None:
                        # Not a daemon: a server stopping right after a build still leaves the file whole.
                        threading.Thread(target=self.search_file.save, args=(index,), name="newsgraph-search-file").start()
                    self._search = index
                    gc.freeze()  # long-lived postings: keep the cyclic GC off them
        return self._search

    def read_saved_search(self) -> bool:
        """Take the search index from its side file when one was saved for exactly this version
        (seconds at 1M articles, against minutes to build it); whether the index is ready."""
        if self._search is None and self.search_file is not None:
            with self._search_lock:
                if self._search is None:
                    self._search = self.search_file.load(self.docs, self.columns["providerName"])
        return self._search is not None

    def _search_after(self, previous: Snapshot) -> SearchIndex | None:
        """This version's search index from the previous version's, when the write between them
        recorded what it changed (graph.search.SearchIndex.updated); None when it cannot be."""
        recorded, index = self.recorded, previous._search
        if recorded is None or index is None or recorded[0] != previous.version:
            return None
        added, updated, removed = recorded[1:]
        rewritten = set(updated).union(removed)
        by_id = self.by_id
        old_to_new = [-1 if i in rewritten else by_id.get(i, -1) for i in previous.columns["id"]]
        changed = {by_id[i] for i in (*added, *updated) if i in by_id}
        # Phrases read a provider's canonical name: documents whose provider's changed are rewritten too.
        old_names, new_names = previous.columns["providerName"], self.columns["providerName"]
        for old, new in enumerate(old_to_new):
            if new >= 0 and old_names[old] != new_names[new]:
                changed.add(new)
                old_to_new[old] = -1
        covered = np.zeros(len(self.docs), dtype=bool)
        targets = [new for new in old_to_new if new >= 0]
        covered[targets] = True
        if covered.sum() != len(targets) or covered[sorted(changed)].any() or len(targets) + len(changed) != len(self.docs):
            return None  # the record does not account for every document once: build it whole
        return index.updated(self.docs, self.columns["providerName"], old_to_new, changed)

    def build_text_indexes(self) -> None:
        """Build the search index, then the trigram index of titles (until then title filters scan)."""
        self.text_indexes_started = time.monotonic()
        try:
            self.search_index()
            title = self.operator_columns.get("title")
            assert isinstance(title, operators.StrColumn)
            title.build_trigrams()
            _return_free_memory()
        finally:
            self.text_indexes_building = False


    @property
    def tables(self) -> FacetTables:
        """The numpy facet tables, built on the first facet asked of this data version."""
        if self._tables is None:
            self._tables = FacetTables(self.columns, len(self.docs))
        return self._tables

    @property
    def search_ready(self) -> bool:
        return self._search is not None

    def matches(self, query: ArticleQuery) -> tuple[Any, Scores | None]:
        """Matching document numbers in query order (a numpy array), and relevance scores when searching.

        Kept per query (bounded in bytes): a popular filter is ranked once per data
        version, whatever the size of its match set, and paging through it reuses it.
        """
        cached = self._matches.lookup(query)
        if cached is not None:
            return cached
        candidates, scores = self.matched(query)
        numbers = np.asarray(self._sorted(candidates, query.order, scores), dtype=np.int32)
        return self._matches.keep(query, (numbers, scores), numbers.nbytes)

    def matched(self, query: ArticleQuery) -> tuple[Any, Scores | None]:
        """Matching document numbers ascending (not yet in query order), and relevance scores when searching.

        Counts and facets need no order, and a first page needs only its top
        items (``find``): neither pays for sorting every match.
        """
        key = ("matched", query)
        cached = self._matches.lookup(key)
        if cached is not None:
            return cached
        scores: Scores | None = None
        if query.search is not None:
            scores = self._searched(query.search)
            candidates = scores.numbers
        else:
            candidates = np.arange(len(self.docs))
        if query.filter != filters.TRUE:
            candidates = self.filtered(query.filter, candidates)
        candidates = np.asarray(candidates, dtype=np.int32)
        weight = candidates.nbytes + (scores.nbytes if scores is not None else 0)
        return self._matches.keep(key, (candidates, scores), weight)

    def _searched(self, search: SearchQuery) -> Scores:
        """Every document a search matches, with its score, kept by the search alone: the queries
        of one request that differ only in their filter (a disjunctive facet drops one) search once.
        (k) at 100k ran each request's search twice: ~1 ms of its 4.4."""
        key = ("search", search)
        cached = self._matches.lookup(key)
        if cached is None:
            found = self.search_index().search(search)
            scores = found if found is not None else Scores.uniform(len(self.docs))
            cached = self._matches.keep(key, scores, scores.nbytes)
        return cached

    def filtered(self, f: Filter, rows: Any) -> Any:
        """The rows (ascending document numbers) that match a filter, evaluated on columns.

        The filter's work is priced before it runs (conditions x rows, graph.budget), and
        the evaluation checks the request's deadline as it goes.
        """
        budget = current_budget()
        budget.price_filter(filters.work(f) * len(rows))
        table = operators.Articles(self.operator_columns, self.docs, budget)
        return operators.Evaluation(self.catalog, budget).matching(f, table, rows)

    def is_cached(self, query: ArticleQuery) -> bool:
        """Whether the query's matches are known (answering it is then a lookup)."""
        return query in self._matches or ("matched", query) in self._matches

    def work(self, query: ArticleQuery) -> int:
        """A bound on the filter work of a query (graph.store.tinydb.operators.work units)."""
        return filters.work(query.filter) * len(self.docs) if query.filter != filters.TRUE else 0

    def _sort_key(self, field: str) -> list[Any]:
        """A column whose values sort as the field's order says (text: casefolded, then code point)."""
        key = self._sort_keys.get(field)
        if key is None:
            column = self.columns[field]
            if field in TEXT_SORT_FIELDS:
                key = [None if v is None else (v.casefold(), v) for v in column]
            else:
                key = column
            self._sort_keys[field] = key
        return key

    def _sorted(self, numbers: Any, order: Sequence[OrderKey], scores: Scores | None) -> Any:
        """``numbers`` (in id order) in query order: nulls last both ways, ties in id order."""
        if len(numbers) >= NUMPY_SORT_MIN:
            return self._sorted_by_ranks(numbers, order, scores)
        numbers = numbers.tolist() if isinstance(numbers, np.ndarray) else numbers
        # Ids are unique: keys after an id key never decide, so the id ASC skipped below is the last one.
        ends = next((n + 1 for n, key in enumerate(order) if key.field == "id"), len(order))
        for key in reversed(order[:ends]):
            if key.field == "id" and not key.descending:
                continue  # numbers are in id order already, and every pass is stable
            if key.field == "relevance":
                assert scores is not None
                ascending = np.sort(np.asarray(numbers, dtype=np.int64))  # scored together, not one by one
                relevance = dict(zip(ascending.tolist(), scores.of(ascending).tolist()))
                numbers = sorted(numbers, key=relevance.__getitem__, reverse=key.descending)
                continue
            column = self._sort_key(key.field)
            present = [n for n in numbers if column[n] is not None]
            if len(present) == len(numbers):
                numbers = sorted(numbers, key=column.__getitem__, reverse=key.descending)
            else:
                missing = [n for n in numbers if column[n] is None]
                numbers = sorted(present, key=column.__getitem__, reverse=key.descending) + missing
        return numbers

    def _sorted_by_ranks(self, numbers: Any, order: Sequence[OrderKey], scores: Scores | None = None) -> Any:
        """The same order as the multi-pass sort, by one stable numpy lexsort over precomputed ranks."""
        chosen = np.asarray(numbers, dtype=np.int64)
        keys = self._order_keys(chosen, order, scores)
        if not keys:
            return chosen
        return chosen[np.lexsort(keys[::-1])]

    def _top(self, numbers: Any, order: Sequence[OrderKey], scores: Scores | None, count: int) -> Any:
        """The first ``count`` of ``numbers`` in query order, without sorting them all.

        Every number whose first key is at most the count-th smallest first key
        (np.partition, linear) is sorted by all keys; the rest cannot come first.
        """
        chosen = np.asarray(numbers, dtype=np.int64)
        if scores is not None and order and order[0] == BY_RELEVANCE:
            chosen = scores.contenders(chosen, count)  # not every match scored: those that can come first
        keys = self._order_keys(chosen, order, scores)
        if not keys:
            return chosen[:count]
        if count < len(chosen):
            threshold = np.partition(keys[0], count - 1)[count - 1]
            within = np.flatnonzero(keys[0] <= threshold)
            chosen, keys = chosen[within], [key[within] for key in keys]
        return chosen[np.lexsort(keys[::-1])][:count]

    def _order_keys(self, chosen: Any, order: Sequence[OrderKey], scores: Scores | None) -> list[Any]:
        """One ascending numpy key per order key (ranks; nulls last both ways) for lexsort, ties left in id order."""
        last = len(self.docs) + 1  # past every rank: nulls sort last in both directions
        keys = []
        for key in order:
            if key.field == "id" and not key.descending:
                break  # the input is in id order and lexsort is stable: id ASC decides every later tie
            if key.field == "relevance":
                assert scores is not None  # every match has a score: no nulls
                relevance = scores.values if len(chosen) == len(scores.numbers) else scores.of(chosen)
                keys.append(-relevance if key.descending else relevance)
                continue
            rank = self._ranks(key.field)[chosen]
            keys.append(np.where(rank < 0, last, (last - 1 - rank) if key.descending else rank))
        return keys

    def _ranks(self, field: str) -> Any:
        """Each document's dense rank in the field's ascending order (equal values share one); -1 for null."""
        ranks = self._rank_arrays.get(field)
        if ranks is None:
            column = self._sort_key(field)
            present = sorted((n for n, v in enumerate(column) if v is not None), key=column.__getitem__)
            values = np.full(len(column), -1, dtype=np.int64)
            rank, previous = -1, _NOTHING
            distinct = []
            for n in present:
                value = column[n]
                if value != previous:
                    rank, previous = rank + 1, value
                    distinct.append(value)
                values[n] = rank
            self._rank_values[field] = distinct
            ranks = self._rank_arrays[field] = values
        return ranks

    def _cursor_keys(self, after: Sequence[Any], order: Sequence[OrderKey]) -> tuple[list[float], float]:
        """A cursor in the space of ``_order_keys``: one number per key, and its place in id order.

        A value that no article has (any more) lies half-way between the ranks around it,
        so that "after the cursor" means what it means for the sorted list.
        """
        last = len(self.docs) + 1
        keys: list[float] = []
        for key, value in zip(order, after):
            if key.field == "id" and not key.descending:
                return keys, self._place(self.columns["id"], value)
            if key.field == "relevance":
                keys.append(-float(value) if key.descending else float(value))
                continue
            if value is None:
                keys.append(last)
                continue
            self._ranks(key.field)
            sortable = (value.casefold(), value) if key.field in TEXT_SORT_FIELDS else value
            rank = self._place(self._rank_values[key.field], sortable)
            keys.append((last - 1 - rank) if key.descending else rank)
        return keys, math.inf  # every key before id ASC was compared (ids are unique)

    @staticmethod
    def _place(values: Sequence[Any], value: Any) -> float:
        """The index of value in the ascending values, or half-way between its neighbours when absent."""
        at = bisect.bisect_left(values, value)
        return float(at) if at < len(values) and values[at] == value else at - 0.5

    def _after(self, numbers: Any, order: Sequence[OrderKey], scores: Scores | None, after: Sequence[Any]) -> Any:
        """The numbers that come after the cursor in query order (a vectorized keyset comparison)."""
        chosen = np.asarray(numbers, dtype=np.int64)
        cursor, place = self._cursor_keys(after, order)
        keys = self._order_keys(chosen, order, scores)
        greater = np.zeros(len(chosen), dtype=bool)
        equal = np.ones(len(chosen), dtype=bool)
        for key, bound in zip(keys, cursor):
            greater |= equal & (key > bound)
            equal &= key == bound
        greater |= equal & (chosen > place)  # ties in id order: rows are numbered in id order
        return chosen[greater]

    def _value_function(self, scores: Scores | None) -> Callable[[int, str], Any]:
        columns = self.columns

        def value(n: int, field: str) -> Any:
            if field == "relevance":
                return scores.get(n, 0.0) if scores is not None else None
            return columns[field][n]

        return value

    def find(self, query: ArticleQuery, window: Window) -> Page:
        fields = [key.field for key in query.order]
        forward = window.first is not None and window.before is None and window.last is None
        if forward and query not in self._matches:
            # A page forward (what most requests ask: the first, or the next by cursor) needs the
            # top items of what comes after the cursor, not every match in order.
            assert window.first is not None
            numbers, scores = self.matched(query)
            later: Any = numbers
            if window.after is not None:
                try:
                    later = self._after(numbers, query.order, scores, window.after)
                except TypeError:
                    later = None  # a cursor value of another type than the field's: the general path decides
            if later is not None:
                top = self._top(later, query.order, scores, window.first).tolist()
                value = self._value_function(scores)
                return Page(
                    items=[self.docs[n] for n in top],
                    keys=[tuple(value(n, field) for field in fields) for n in top],
                    has_next=len(later) > window.first,
                    has_previous=len(later) < len(numbers),
                )
        numbers, scores = self.matches(query)
        value = self._value_function(scores)

        def keys(n: int) -> tuple[Any, ...]:
            return tuple(value(n, field) for field in fields)

        page = window_slice(numbers, keys, query.order, window)
        page.items = [self.docs[n] for n in page.items.tolist()]
        return page

    def count_matches(self, query: ArticleQuery) -> int:
        return len(self.matched(query)[0])

    def _facet(self, query: ArticleQuery, kind: str, argument: Any, compute: Callable[[Any], Any]) -> Any:
        key = (query, kind, argument)
        cached = self._facets.lookup(key)
        if cached is None:
            cached = self._facets.keep(key, compute(self._selection(query)))
        return cached

    def _selection(self, query: ArticleQuery) -> Any:
        """The matches of a query as a numpy index array (shared by all facets of the query)."""
        return self.matched(query)[0]

    def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        ranked = self._facet(query, "counts", field, lambda selection: self.tables.counts(field, selection))
        return ranked if first is None else ranked[:first]

    def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        return self._facet(query, "stats", field, lambda selection: self.tables.int_stats(field, selection))

    def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        return self._facet(query, "dates", None, self.tables.date_range)

    def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        return self._facet(query, "histogram", interval, lambda selection: self.tables.histogram(interval, selection))

    # ---- stories ------------------------------------------------------------------

    def story_of(self, article_id: str) -> dict[str, Any] | None:
        """The story of an article (a story's id is its smallest article id, so this finds stories by id too)."""
        n = self.by_id.get(article_id)
        return None if n is None else self.stories.of_article(n)

    def find_stories(self, query: StoryQuery, window: Window) -> tuple[Page, int]:
        articles = None
        if query.filter != filters.TRUE or query.search is not None:
            articles = self.matched(ArticleQuery(filter=query.filter, search=query.search))[0]
        return self.stories.page(query.order, articles, window)

    # ---- providers and topics --------------------------------------------------

    def provider_matches(self, query: ProviderQuery) -> list[dict[str, Any]]:
        cached = self._providers.lookup(query)
        if cached is not None:
            return cached
        catalog = self.catalog.table
        rows = np.arange(1, len(catalog.records))  # the catalog by domain (row 0 is the missing provider)
        if query.filter != filters.TRUE:
            rows = rows[operators.Evaluation(self.catalog, current_budget()).select(query.filter, catalog, rows)]
        infos = [catalog.records[n] for n in rows.tolist()]
        return self._providers.keep(query, sort_in_order(infos, query.order, lambda p, field: p[field]))

    def find_providers(self, query: ProviderQuery, window: Window) -> Page:
        infos = self.provider_matches(query)
        fields = [key.field for key in query.order]
        return window_slice(infos, lambda p: tuple(p[f] for f in fields), query.order, window)

    def topic(self, name: str) -> dict[str, Any] | None:
        count = self.topic_counts.get(name)
        return None if not count else {"name": name, "articleCount": count}

    def topics(self, first: int | None) -> list[dict[str, Any]]:
        ranked = sorted(self.topic_counts.items(), key=lambda tc: (-tc[1], tc[0]))
        if first is not None:
            ranked = ranked[:first]
        return [{"name": name, "articleCount": count} for name, count in ranked]

    def stats(self) -> dict[str, Any]:
        return {
            "articles": len(self.docs),
            "providers": len(self.providers),
            "topics": len(self.topic_counts),
            "oldest": self.date_span[0],
            "newest": self.date_span[1],
        }
