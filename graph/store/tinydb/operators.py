"""Every filter operator, evaluated on columns for many rows at once (the TinyDB store's filter engine).

A filter (graph.filters) is evaluated over a *table* — the articles of a
snapshot, the provider catalog, or the images and related items of some
articles — for an array of row numbers, and answers a boolean mask over them.
Each operator has one implementation here, on its kind of column: ints,
booleans and date-times as numpy comparisons, strings as integer codes (eq, in)
or one C-level pass over their casefolded text (contains, startsWith,
endsWith), topic lists through the topic postings. AND and OR narrow the rows
their later parts are checked on; list quantifiers (some, every, none) check
their filter once over every item of the rows and reduce per row; a provider
filter is checked once on the catalog and looked up per row.

``graph.filters.matches`` stays the reference: property tests hold this engine
to it through the API (tests/test_filters_property.py, tests/test_operators.py).

Article fields that are columns of the snapshot are read from them; the few
that are not (excerpt, body, the URLs, images, related) are read from the
documents of the rows that reach them, decoded once per evaluation. Work checks
the request's deadline as it goes and is priced before it starts (graph.budget).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import numpy as np

from graph.budget import Budget
from graph.filters import (
    DOCUMENT_FIELDS,
    ENTITIES,
    SUB_ENTITY,
    And,
    Compare,
    Each,
    Filter,
    FilterError,
    Not,
    Or,
    ProviderIs,
    instant,
    value_of,
    work,
)

# Article fields the snapshot keeps as columns; the others are read from documents.
ARTICLE_COLUMNS = frozenset(ENTITIES["article"]) - DOCUMENT_FIELDS
# Below this many rows a text operator loops over the rows; above it, one pass over the joined text.
JOINED_MIN = 4096
# Rows decoded between two deadline checks.
DECODE_CHUNK = 512
SEPARATOR = "\x00"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An instant as integer microseconds since 1970 (exact, unlike a float timestamp)."""
    return (moment - EPOCH) // MICROSECOND


# ---- columns: one class per kind of value, each with its operators --------------------------


class Column(Protocol):
    def compare(self, op: str, operand: Any, rows: Any) -> Any: ...


class _Sorted:
    """An ordered index of a numeric column: its present rows by value, for ranges over every row."""

    def __init__(self, values: Any, present: Any) -> None:
        rows = np.flatnonzero(present)
        order = np.argsort(values[rows], kind="stable")
        self.rows = rows[order].astype(np.int64)
        self.values = values[self.rows]

    def find(self, conditions: Sequence[tuple[str, Any]], size: int) -> Any:
        """The rows (ascending) whose value satisfies every ``value op bound``; None when they are too many.

        The conditions narrow one slice of the index; a slice of more than a
        sixteenth of the rows is left to a scan, which is quicker than sorting it.
        """
        values = self.values
        lo, hi = 0, len(values)
        for op, bound in conditions:
            if op in ("eq", "gt", "gte"):
                lo = max(lo, int(np.searchsorted(values, bound, "right" if op == "gt" else "left")))
            if op in ("eq", "lt", "lte"):
                hi = min(hi, int(np.searchsorted(values, bound, "left" if op == "lt" else "right")))
        if (hi - lo) * 16 > size:
            return None
        return np.sort(self.rows[lo:max(lo, hi)])


RANGE_OPS = frozenset({"eq", "gt", "gte", "lt", "lte"})


class IntColumn:
    def __init__(self, values: Sequence[Any]) -> None:
        self.present = np.array([v is not None for v in values], dtype=bool)
        try:
            self.values = np.array([0 if v is None else v for v in values], dtype=np.int64)
        except OverflowError:  # a stored int past 64 bits: exact Python ints, elementwise
            self.values = np.array([0 if v is None else v for v in values], dtype=object)
        self._sorted: _Sorted | None = None

    def find_range(self, conditions: Sequence[tuple[str, Any]]) -> Any:
        """The rows among all rows satisfying every (op, operand), from the ordered index, or None where a scan is the way."""
        if self.values.dtype == object:
            return None
        if self._sorted is None:
            self._sorted = _Sorted(self.values, self.present)
        return self._sorted.find(conditions, len(self.values))

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        present = self.present[rows]
        if op == "isNull":
            return ~present if operand else present
        values = self.values[rows]
        if op == "eq":
            return present & (values == operand)
        if op == "ne":
            return ~present | (values != operand)
        if op == "in":
            return present & np.isin(values, list(operand))
        if op == "notIn":
            return ~present | ~np.isin(values, list(operand))
        if op == "gt":
            return present & (values > operand)
        if op == "gte":
            return present & (values >= operand)
        if op == "lt":
            return present & (values < operand)
        if op == "lte":
            return present & (values <= operand)
        raise FilterError(f"unknown operator {op!r}")


class BoolColumn:
    def __init__(self, values: Sequence[Any]) -> None:
        self.present = np.array([v is not None for v in values], dtype=bool)
        self.values = np.array([v is True for v in values], dtype=bool)

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        present = self.present[rows]
        if op == "isNull":
            return ~present if operand else present
        if op == "eq":
            return present & (self.values[rows] == bool(operand))
        raise FilterError(f"unknown operator {op!r}")


class DateColumn(IntColumn):
    """Date-times as integer microseconds, so comparisons are on instants whatever the operand's offset."""

    def __init__(self, values: Sequence[Any]) -> None:
        try:
            # Stored date-times are normalized (YYYY-MM-DDTHH:MM:SSZ): numpy parses 100k in ~20 ms.
            if any(v is not None and (len(v) != 20 or v[-1] != "Z") for v in values):
                raise ValueError("not normalized")
            seconds = np.array([v[:-1] if v is not None else "NaT" for v in values], dtype="datetime64[s]")
            self.present = ~np.isnat(seconds)
            self.values = np.where(self.present, seconds.astype(np.int64), 0) * 1_000_000
            self._sorted = None
        except (ValueError, TypeError):  # written by another program: parse each as the reference does
            super().__init__([None if v is None else micros(instant(v)) for v in values])

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        return super().compare(op, operand if op == "isNull" else micros(operand), rows)

    def find_range(self, conditions: Sequence[tuple[str, Any]]) -> Any:
        """A date window is one slice of the ordered index."""
        return super().find_range([(op, micros(moment)) for op, moment in conditions])


class StrColumn:
    """Strings: eq/in compare integer codes; contains/startsWith/endsWith look at casefolded text."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values
        self.size = len(values)
        self._codes: Any = None
        self._code_of: dict[str, int] = {}
        self._folded: list[str | None] | None = None
        self._joined: tuple[str, list[int]] | None = None
        self._postings: tuple[Any, Any] | None = None
        self._trigrams: tuple[Any, Any, Any] | None = None  # (trigrams, where each one's rows start, rows)

    @property
    def codes(self) -> Any:
        """Each row's value as a code (0 for null), equal strings sharing one."""
        if self._codes is None:
            code_of = self._code_of
            self._codes = np.array(
                [0 if v is None else code_of.setdefault(v, len(code_of) + 1) for v in self.values], dtype=np.int32
            )
        return self._codes

    @property
    def folded(self) -> list[str | None]:
        if self._folded is None:
            self._folded = [None if v is None else v.casefold() for v in self.values]
        return self._folded

    def find(self, op: str, operand: Any) -> Any:
        """The rows with a value equal to the operand (eq) or one of them (in), from postings by code."""
        if op not in ("eq", "in"):
            return None
        if self._postings is None:
            codes = self.codes
            order = np.argsort(codes, kind="stable")
            self._postings = (order, np.searchsorted(codes[order], np.arange(len(self._code_of) + 2)))
        order, bounds = self._postings
        wanted = sorted({self._code_of[v] for v in ((operand,) if op == "eq" else operand) if v in self._code_of})
        parts = [order[bounds[code] : bounds[code + 1]] for code in wanted]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        codes = self.codes[rows]
        if op == "isNull":
            return (codes == 0) if operand else (codes != 0)
        if op in ("eq", "ne"):
            hit = codes == self._code_of.get(operand, -1)
            return hit if op == "eq" else ~hit
        if op in ("in", "notIn"):
            wanted = [self._code_of[v] for v in operand if v in self._code_of]
            hit = np.isin(codes, wanted)
            return hit if op == "in" else ~hit
        if op in ("contains", "startsWith", "endsWith"):
            return self._text(op, operand, rows)
        raise FilterError(f"unknown operator {op!r}")

    def _text(self, op: str, operand: str, rows: Any) -> Any:
        """A casefolded text test; ``operand`` is casefolded already (graph.filters.build)."""
        if len(rows) * 8 >= self.size >= JOINED_MIN:
            # Many rows: the trigram index narrows them to a few candidates, else one scan of all.
            candidates = self._trigram_candidates(operand)
            if candidates is not None:
                found = np.zeros(self.size, dtype=bool)
                found[candidates[self._test(op, operand, candidates)]] = True
                return found[rows]
            every = self._scan(op, operand)
            if every is not None:
                return every[rows]
        return self._test(op, operand, rows)

    def _test(self, op: str, operand: str, rows: Any) -> Any:
        """The text test row by row."""
        folded = self.folded
        picked = [folded[n] for n in rows.tolist()]
        if op == "contains":
            found = [v is not None and operand in v for v in picked]
        elif op == "startsWith":
            found = [v is not None and v.startswith(operand) for v in picked]
        else:
            found = [v is not None and v.endswith(operand) for v in picked]
        return np.array(found, dtype=bool)

    def _scan(self, op: str, operand: str) -> Any:
        """The test for every row, from one pass of str.find over all values joined; None when it cannot apply.

        Values are joined as SEP v0 SEP v1 ... SEP, so ``SEP+x`` finds x at the start
        of a value and ``x+SEP`` at its end (a null is an empty value, which no
        non-empty x is found in). After a hit the search jumps to the next value,
        so the loop turns once per matching row; past an eighth of the rows the
        per-row loop is quicker, and the scan gives up.
        """
        joined_starts = self._joined_text()
        if joined_starts is None:
            return None
        joined, starts = joined_starts
        if operand == "":
            return self.codes != 0
        found = np.zeros(self.size, dtype=bool)
        if SEPARATOR in operand:
            return found
        needle = SEPARATOR + operand if op == "startsWith" else operand + SEPARATOR if op == "endsWith" else operand
        skip = 0 if op == "startsWith" else 1
        most = self.size // 8
        hits: list[int] = []
        at = joined.find(needle)
        while at != -1:
            row = bisect.bisect_right(starts, at) - 1  # the value holding the hit (startsWith: its separator)
            hits.append(row)
            if len(hits) > most:
                return None
            at = joined.find(needle, starts[row + 1] + skip)
        found[hits] = True
        return found

    def _trigram_candidates(self, operand: str) -> Any:
        """Rows holding every trigram (3 consecutive characters) of the operand; None when it has none.

        The index holds the rows of each trigram of the casefolded values, ascending,
        one slice per trigram. Candidates still get the exact test.
        """
        if len(operand) < 3 or SEPARATOR in operand or self._trigrams is None or self._trigrams[2] is None:
            return None  # not built (yet): building takes seconds, so it is done beside the server
        grams, bounds, rows = self._trigrams
        points = [ord(ch) for ch in operand]
        wanted = {(points[i] << 42) | (points[i + 1] << 21) | points[i + 2] for i in range(len(points) - 2)}
        parts = []
        for gram in wanted:
            at = int(np.searchsorted(grams, np.uint64(gram)))
            found = at < len(grams) and grams[at] == gram
            parts.append(rows[bounds[at] : bounds[at + 1]] if found else rows[:0])
        parts.sort(key=len)
        candidates = parts[0]
        for part in parts[1:]:
            if len(candidates) <= 32:
                break  # few enough: the exact test is quicker than more intersections
            candidates = np.intersect1d(candidates, part, assume_unique=True)
        return candidates

    def build_trigrams(self) -> None:
        """Build the trigram index (~4 s for 100k titles; the TinyDB store does it in a thread at load)."""
        if self._trigrams is None:
            joined_starts = self._joined_text()
            if joined_starts is None:
                self._trigrams = (None, None, None)
                return
            joined, starts = joined_starts
            try:
                points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            except UnicodeError:
                self._trigrams = (None, None, None)
                return
            # Code points fit 21 bits: a trigram is one 63-bit key. Those spanning a separator (0) are not kept.
            # Built in place, a part at a time: the temporaries of whole-array expressions were ~70 bytes
            # a character at their peak (400 MB at 100k titles).
            present = points != 0
            at = np.flatnonzero(present[:-2] & present[1:-1] & present[2:])
            del present
            keys = points[at].astype(np.uint64)
            keys <<= np.uint64(42)
            middle = points[1:][at].astype(np.uint64)
            middle <<= np.uint64(21)
            keys |= middle
            del middle
            keys |= points[2:][at]
            del points
            # Positions in the joined text count its leading separator: value n starts at starts[n] + 1.
            rows = np.searchsorted(np.asarray(starts, dtype=np.int64), at, "right").astype(np.int32)
            rows -= 1
            del at
            # Rows ascend with positions: a stable sort by key orders by (key, row).
            order = np.argsort(keys, kind="stable")
            keys, rows = keys[order], rows[order]
            del order
            distinct = np.ones(len(keys), dtype=bool)
            distinct[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
            keys, rows = keys[distinct], rows[distinct]
            # Each trigram once, with where its rows start: ~4 bytes a (trigram, row) pair instead of 12.
            grams, first = np.unique(keys, return_index=True)
            self._trigrams = (grams, np.append(first, len(keys)), rows)

    def _joined_text(self) -> tuple[str, list[int]] | None:
        if self._joined is None:
            folded = ["" if v is None else v for v in self.folded]
            if any(SEPARATOR in v for v in folded):
                self._joined = ("", [])
            else:
                starts = [0] * (len(folded) + 1)
                offset = 0
                for n, value in enumerate(folded):
                    starts[n] = offset
                    offset += len(value) + 1
                starts[len(folded)] = offset
                self._joined = (SEPARATOR + SEPARATOR.join(folded) + SEPARATOR, starts)
        return None if not self._joined[1] else self._joined


class TopicsColumn:
    """Lists of strings (topics), through postings: topic -> the rows that have it, ascending."""

    def __init__(self, values: Sequence[Sequence[str]], postings: Mapping[str, Any] | None = None) -> None:
        self.lengths = np.array([len(v) for v in values], dtype=np.int32)
        if postings is None:
            found: dict[str, list[int]] = {}
            for n, topics in enumerate(values):
                for topic in dict.fromkeys(topics):
                    found.setdefault(topic, []).append(n)
            postings = {topic: np.array(rows, dtype=np.int32) for topic, rows in found.items()}
        self.postings = postings

    def find(self, op: str, operand: Any) -> Any:
        """The rows that have a topic (has), any (hasSome) or all (hasEvery) of some, from the postings."""
        empty = np.zeros(0, dtype=np.int32)
        if op == "has":
            return self.postings.get(operand, empty)
        if op == "hasSome":
            return np.unique(np.concatenate([empty, *(self.postings.get(t, empty) for t in operand)]))
        if op == "hasEvery" and operand:
            found = self.postings.get(operand[0], empty)
            for topic in operand[1:]:
                found = np.intersect1d(found, self.postings.get(topic, empty), assume_unique=True)
            return found
        return None

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        if op == "isEmpty":
            return (self.lengths[rows] == 0) == operand
        if op == "has":
            return self._has(operand, rows)
        if op == "hasSome":
            found = np.zeros(len(rows), dtype=bool)
            for topic in operand:
                found |= self._has(topic, rows)
            return found
        if op == "hasEvery":
            found = np.ones(len(rows), dtype=bool)
            for topic in operand:
                found &= self._has(topic, rows)
            return found
        raise FilterError(f"unknown operator {op!r}")

    def _has(self, topic: str, rows: Any) -> Any:
        posting = self.postings.get(topic)
        if posting is None or not len(posting) or not len(rows):
            return np.zeros(len(rows), dtype=bool)
        at = np.searchsorted(posting, rows)
        return posting[np.minimum(at, len(posting) - 1)] == rows


class ItemsColumn:
    """Lists of items (images, related) as a column: only their emptiness is compared; quantifiers use Table.items."""

    def __init__(self, values: Sequence[Sequence[Any]]) -> None:
        self.lengths = np.array([len(v) for v in values], dtype=np.int32)

    def compare(self, op: str, operand: Any, rows: Any) -> Any:
        if op == "isEmpty":
            return (self.lengths[rows] == 0) == operand
        raise FilterError(f"unknown operator {op!r}")


COLUMN_KINDS: dict[str, type] = {
    "int": IntColumn,
    "bool": BoolColumn,
    "datetime": DateColumn,
    "str": StrColumn,
    "strlist": TopicsColumn,
    "images": ItemsColumn,
    "related": ItemsColumn,
}


def column_of(kind: str, values: Sequence[Any]) -> Column:
    """A column of the given kind over values as the API serves them (graph.filters.value_of)."""
    return COLUMN_KINDS[kind](values)


# ---- tables: where a field's column and a list field's items come from ----------------------


class Table(Protocol):
    entity: str
    size: int

    def indexed(self, field: str) -> Any:
        """The field's column over every row when it has one with an index (``find``), else None."""
        ...

    def providers_find(self, chosen: Any) -> Any:
        """The rows whose provider is one of the ``chosen`` catalog rows (a mask), when postings make that cheap; else None."""
        ...

    def column(self, field: str, rows: Any) -> tuple[Column, Any]:
        """The field's column and the positions of ``rows`` in it."""
        ...

    def items(self, field: str, rows: Any) -> tuple[Table, Any]:
        """A table of the rows' list items (images, related) and, for each item, its row's position in ``rows``."""
        ...

    def provider_rows(self, rows: Any) -> Any:
        """Each row's provider as a row of the provider catalog (0: no provider)."""
        ...


def _items(entity: str, field: str, records: Sequence[Mapping[str, Any]], catalog: ProviderCatalog) -> tuple[Table, Any]:
    sub = SUB_ENTITY[field]
    items: list[Mapping[str, Any]] = []
    parents: list[int] = []
    for position, record in enumerate(records):
        found = value_of(entity, record, field)
        items.extend(found)
        parents.extend([position] * len(found))
    return Records(sub, items, catalog), np.array(parents, dtype=np.int64)


class Records:
    """A table over plain mappings (the provider catalog, list items), columns built on first use."""

    def __init__(self, entity: str, records: Sequence[Mapping[str, Any]], catalog: ProviderCatalog | None) -> None:
        self.entity = entity
        self.size = len(records)
        self.records = records
        self.catalog = catalog
        self._columns: dict[str, Column] = {}

    def column(self, field: str, rows: Any) -> tuple[Column, Any]:
        column = self._columns.get(field)
        if column is None:
            kind = ENTITIES[self.entity][field]
            column = self._columns[field] = column_of(kind, [value_of(self.entity, r, field) for r in self.records])
        return column, rows

    def items(self, field: str, rows: Any) -> tuple[Table, Any]:
        assert self.catalog is not None
        return _items(self.entity, field, [self.records[n] for n in rows.tolist()], self.catalog)

    def indexed(self, field: str) -> Any:
        return None  # small tables: a scan is as quick

    def providers_find(self, chosen: Any) -> Any:
        return None

    def provider_rows(self, rows: Any) -> Any:
        assert self.catalog is not None
        return np.array([self.catalog.row_of(self.records[n].get("provider")) for n in rows.tolist()], dtype=np.int64)


class ProviderCatalog:
    """Providers as a table: row 0 is the missing provider (every field null), then the catalog by domain."""

    def __init__(self, catalog: Mapping[str, Mapping[str, Any]]) -> None:
        domains = sorted(catalog)
        self.rows: dict[str, int] = {domain: n + 1 for n, domain in enumerate(domains)}
        self.table = Records("provider", [{}, *(catalog[d] for d in domains)], self)

    def row_of(self, provider: Any) -> int:
        """The row of a provider as stored (a mapping with a domain), 0 when there is none."""
        domain = provider.get("domain") if isinstance(provider, Mapping) else None
        return 0 if domain is None else self.rows.get(domain, 0)


class ArticleColumns:
    """A snapshot's article columns as operator columns, each built on its first use."""

    def __init__(self, columns: Mapping[str, Sequence[Any]], topic_postings: Mapping[str, Any], catalog: ProviderCatalog) -> None:
        self._source = columns
        self._topic_postings = topic_postings
        self.catalog = catalog
        self._columns: dict[str, Column] = {}
        self._provider_rows: Any = None
        self._provider_postings: tuple[Any, Any] | None = None

    def get(self, field: str) -> Column | None:
        """The field's column, or None for fields read from documents."""
        if field not in ARTICLE_COLUMNS or field == "provider":
            return None
        column = self._columns.get(field)
        if column is None:
            values = self._source[field]
            if field == "topics":
                column = TopicsColumn(values, self._topic_postings)
            else:
                column = column_of(ENTITIES["article"][field], values)
            self._columns[field] = column
        return column

    def providers_find(self, chosen: Any) -> Any:
        """The articles of the chosen catalog rows (a mask) when they are few, from postings by provider."""
        if self._provider_postings is None:
            order = np.argsort(self.provider_rows, kind="stable")
            bounds = np.searchsorted(self.provider_rows[order], np.arange(len(chosen) + 1))
            self._provider_postings = (order, bounds)
        order, bounds = self._provider_postings
        picked = np.flatnonzero(chosen)
        if int((bounds[picked + 1] - bounds[picked]).sum()) * 4 > len(order):
            return None  # most articles: a gather over every row is quicker
        parts = [order[bounds[row] : bounds[row + 1]] for row in picked.tolist()]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

    @property
    def provider_rows(self) -> Any:
        if self._provider_rows is None:
            rows = self.catalog.rows
            self._provider_rows = np.array(
                [0 if d is None else rows.get(d, 0) for d in self._source["provider"]], dtype=np.int64
            )
        return self._provider_rows


class Articles:
    """The articles of a snapshot as a table, for one evaluation (it keeps what it decodes)."""

    entity = "article"

    def __init__(self, columns: ArticleColumns, docs: Sequence[Mapping[str, Any]], budget: Budget) -> None:
        self.columns = columns
        self.size = len(docs)
        self.docs = docs
        self.budget = budget
        self._decoded: dict[int, Mapping[str, Any]] = {}
        self._from_documents: dict[str, tuple[Any, Column]] = {}

    def column(self, field: str, rows: Any) -> tuple[Column, Any]:
        column = self.columns.get(field)
        if column is not None:
            return column, rows
        # Read from documents: built for the rows asked and kept, so that the next condition
        # on the field (rows are always a subset, or the union is built) costs no decoding.
        known = self._from_documents.get(field)
        if known is not None:
            base, column = known
            at = np.searchsorted(base, rows)
            if len(base) and (at < len(base)).all() and (base[np.minimum(at, len(base) - 1)] == rows).all():
                return column, at
            rows_all = np.union1d(base, rows)
        else:
            rows_all = rows
        kind = ENTITIES["article"][field]
        column = column_of(kind, [value_of("article", doc, field) for doc in self._documents(rows_all)])
        self._from_documents[field] = (rows_all, column)
        return column, np.searchsorted(rows_all, rows)

    def items(self, field: str, rows: Any) -> tuple[Table, Any]:
        return _items("article", field, self._documents(rows), self.columns.catalog)

    def indexed(self, field: str) -> Any:
        return self.columns.get(field)

    def providers_find(self, chosen: Any) -> Any:
        return self.columns.providers_find(chosen)

    def provider_rows(self, rows: Any) -> Any:
        return self.columns.provider_rows[rows]

    def _documents(self, rows: Any) -> list[Mapping[str, Any]]:
        decoded = self._decoded
        decode = getattr(self.docs, "decode", self.docs.__getitem__)
        out = []
        for count, n in enumerate(rows.tolist()):
            doc = decoded.get(n)
            if doc is None:
                if count % DECODE_CHUNK == 0:
                    self.budget.check()
                doc = decoded[n] = decode(n)
            out.append(doc)
        return out


# ---- evaluation -----------------------------------------------------------------------------

# Columns whose comparisons are whole-array numpy operations over their values (no per-row Python).
WHOLE_ARRAY_COLUMNS = (IntColumn, BoolColumn)



class Evaluation:
    """One filter evaluation: masks over rows, AND/OR narrowing, deadline checks at every node."""

    def __init__(self, catalog: ProviderCatalog, budget: Budget) -> None:
        self.catalog = catalog
        self.budget = budget
        self._provider_masks: dict[Filter, Any] = {}

    def matching(self, f: Filter, table: Table, rows: Any) -> Any:
        """The rows (a subset of ``rows``, ascending) that match ``f``.

        Over every row of a table, the parts of a top-level AND that an index
        answers (a topic, a value, a range, a provider) give the candidates
        directly, smallest first; the other parts are then checked on those.
        """
        parts = f.parts if isinstance(f, And) else (f,)
        rest = list(parts)
        if len(rows) == table.size:
            found = []
            ranges: dict[str, list[Compare]] = {}
            for part in parts:
                self.budget.check()
                if isinstance(part, Compare) and part.op in RANGE_OPS and hasattr(table.indexed(part.field), "find_range"):
                    ranges.setdefault(part.field, []).append(part)
                    continue
                hit = self._find(part, table)
                if hit is not None:
                    found.append(hit)
                    rest.remove(part)
            for field, bounds in ranges.items():  # bounds on one field narrow one slice of its index
                hit = table.indexed(field).find_range([(part.op, part.value) for part in bounds])
                if hit is not None:
                    found.append(hit)
                    rest = [part for part in rest if part not in bounds]
            if found:
                found.sort(key=len)
                rows = found[0]
                for other in found[1:]:
                    rows = np.intersect1d(rows, other, assume_unique=True)
        if not rest:
            return rows
        return rows[self.select(And(tuple(rest)) if len(rest) > 1 else rest[0], table, rows)]

    def _find(self, f: Filter, table: Table) -> Any:
        """The rows matching ``f`` among all of the table's rows, from an index; None when none applies."""
        if isinstance(f, Compare):
            column = table.indexed(f.field)
            find = getattr(column, "find", None)
            return None if find is None else find(f.op, f.value)
        if isinstance(f, ProviderIs):
            return table.providers_find(self._providers(f.filter))
        return None

    def select(self, f: Filter, table: Table, rows: Any) -> Any:
        """A boolean mask over ``rows`` (ascending row numbers of ``table``): which rows match ``f``."""
        self.budget.check()
        every_row = len(rows) == table.size  # then rows is 0..size-1
        if isinstance(f, Compare):
            column, positions = table.column(f.field, rows)
            if every_row and positions is rows and isinstance(column, WHOLE_ARRAY_COLUMNS):
                positions = slice(None)  # the column's own arrays: no gather of every row
            return column.compare(f.op, f.value, positions)
        if isinstance(f, And):
            parts = sorted(f.parts, key=work)
            whole = [p for p in parts if every_row and isinstance(p, Compare) and isinstance(table.indexed(p.field), WHOLE_ARRAY_COLUMNS)]
            if len(whole) > 1:
                # Over every row, conditions on numeric columns are whole-array masks AND-ed: narrowing
                # row lists between them gathered and compacted ~1M-row arrays for each (1M articles,
                # three broad conditions: ~25 ms against a few).
                mask = self.select(whole[0], table, rows)
                for part in whole[1:]:
                    mask &= self.select(part, table, rows)
                left = np.flatnonzero(mask)
                parts = [p for p in parts if p not in whole]
            else:
                left = np.arange(len(rows))
            # Column conditions first: what is read from documents is then read for fewer rows.
            for part in parts:
                if not len(left):
                    break
                left = left[self.select(part, table, rows[left])]
            found = np.zeros(len(rows), dtype=bool)
            found[left] = True
            return found
        if isinstance(f, Or):
            found = np.zeros(len(rows), dtype=bool)
            left = np.arange(len(rows))
            for part in sorted(f.parts, key=work):
                if not len(left):
                    break
                hit = self.select(part, table, rows[left])
                found[left[hit]] = True
                left = left[~hit]
            return found
        if isinstance(f, Not):
            return ~self.select(f.part, table, rows)
        if isinstance(f, ProviderIs):
            return self._providers(f.filter)[table.provider_rows(rows)]
        if isinstance(f, Each):
            items, parents = table.items(f.field, rows)
            hit = self.select(f.filter, items, np.arange(len(parents)))
            if f.quantifier == "every":
                failed = np.zeros(len(rows), dtype=bool)
                failed[parents[~hit]] = True
                return ~failed
            some = np.zeros(len(rows), dtype=bool)
            some[parents[hit]] = True
            return some if f.quantifier == "some" else ~some
        raise FilterError(f"unknown filter node {f!r}")

    def _providers(self, f: Filter) -> Any:
        """Which catalog rows match a provider filter (row 0, the missing provider, included)."""
        mask = self._provider_masks.get(f)
        if mask is None:
            table = self.catalog.table
            mask = self._provider_masks[f] = self.select(f, table, np.arange(len(table.records)))
        return mask

