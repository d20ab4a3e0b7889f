"""Full-text search: folding, tokenizing, query terms and a BM25F-style ranking.

Words are runs of Unicode letters and digits, compared after accent and case
folding (``Zürich`` = ``zurich``). Every query term must equal a word of the
article's searchable text; a term ending in ``*`` matches as a prefix.

The in-memory index is an inverted index (word -> documents and weighted term
frequencies, as numpy arrays). Matching is a sorted-array intersection and
prefix expansion a bisect over the sorted vocabulary, so no search library is
needed for it (one with its own tokenizer would disagree with the exact-word
semantics above); the PostgreSQL store keeps
the same folded words in an indexed array column so both stores agree on
membership exactly.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.budget import current as current_budget

WORD = re.compile(r"[^\W_]+")
TERM = re.compile(r"[^\W_]+\*?")
# Field weights: a word in the title counts three times (BM25F).
WEIGHTS = {"title": 3.0, "excerpt": 1.0, "body": 1.0, "topics": 1.5, "provider": 1.0, "related": 1.0}
K1 = 1.2
B = 0.75
LAST_CODE_POINT = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class Match:
    """One operand of a search: all its terms match the article (one term: a word; several: an
    unquoted hyphenated chunk), and with ``phrase`` consecutively within one field."""

    terms: tuple[Term, ...]
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class Literal:
    match: Match
    negated: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: every clause must hold, a clause holds when one of its literals does.

    Empty (no clauses) matches every article. ``terms`` are what ranking counts:
    the distinct terms of the literals that are not excluded, in query order.
    """

    clauses: tuple[tuple[Literal, ...], ...] = ()
    # The hash, computed once: a request looks its query up in the match and facet caches a dozen
    # times, and hashing the nested clauses each time was ~7% of a search + facets request at 100k.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self.clauses))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return SearchQuery, (self.clauses,)  # hashed again where unpickled (str hashes differ by process)

    def __bool__(self) -> bool:
        return bool(self.clauses)

    @property
    def terms(self) -> tuple[Term, ...]:
        seen: dict[Term, None] = {}
        for clause in self.clauses:
            for literal in clause:
                if not literal.negated:
                    for term in literal.match.terms:
                        seen.setdefault(term, None)
        return tuple(seen)

    @property
    def single_word(self) -> Term | None:
        """The term when the search is one whole word and nothing else (the stores' fast paths)."""
        if len(self.clauses) == 1 and len(self.clauses[0]) == 1:
            literal = self.clauses[0][0]
            if not literal.negated and len(literal.match.terms) == 1 and not literal.match.terms[0].prefix:
                return literal.match.terms[0]
        return None


class _WithoutMarks(dict[int, "int | None"]):
    """A str.translate table that drops combining marks, filled as characters are met."""

    def __missing__(self, codepoint: int) -> int | None:
        value = None if unicodedata.combining(chr(codepoint)) else codepoint
        self[codepoint] = value
        return value


_WITHOUT_MARKS = _WithoutMarks()


def fold(text: str) -> str:
    """Case- and accent-folded text: NFKD, combining marks dropped, casefolded."""
    if text.isascii():
        return text.lower()
    stripped = unicodedata.normalize("NFKD", text).translate(_WITHOUT_MARKS)
    return unicodedata.normalize("NFKC", stripped.casefold())


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def _match(text: str, phrase: bool) -> Match | None:
    terms = tuple(Term(raw.rstrip("*"), raw.endswith("*")) for raw in TERM.findall(fold(text)))
    if not terms:
        return None
    if phrase and len(terms) > 1:
        return Match(terms, phrase=True)  # a phrase keeps repeated words: "new new york"
    return Match(tuple(dict.fromkeys(terms)))


def parse_query(text: str) -> SearchQuery:
    """A search string in the web search syntax (like PostgreSQL's websearch_to_tsquery), read leniently.

    Chunks separated by spaces must all match; ``a OR b`` matches either (OR
    binds tighter than the implicit AND, in capitals only); ``-chunk`` and
    ``-"a phrase"`` exclude; ``"a phrase"`` matches its words consecutively in
    one field; a word ending in ``*`` is a prefix. Never an error: an
    unbalanced quote closes at the end, a lone ``-``, a chunk without words and
    a leading or trailing OR are ignored.
    """
    clauses: list[list[Literal]] = []
    joined = False  # an OR stands between the last clause and the next literal
    at, end = 0, len(text)
    while at < end:
        char = text[at]
        if char.isspace():
            at += 1
            continue
        negated = char == "-" and at + 1 < end and not text[at + 1].isspace()
        if negated:
            at += 1
        if text[at] == '"':
            close = text.find('"', at + 1)
            close = end if close < 0 else close
            match, at = _match(text[at + 1 : close], phrase=True), close + 1
        else:
            stop = at
            while stop < end and not text[stop].isspace() and text[stop] != '"':
                stop += 1
            chunk, at = text[at:stop], stop
            if chunk == "OR" and not negated:
                joined = bool(clauses)
                continue
            match = _match(chunk, phrase=False)
        if match is None:
            continue
        literal = Literal(match, negated)
        if joined:
            if literal not in clauses[-1]:
                clauses[-1].append(literal)
        else:
            clauses.append([literal])
        joined = False
    return SearchQuery(tuple(dict.fromkeys(tuple(clause) for clause in clauses)))


def iter_phrase_fields(doc: Mapping[str, Any], provider_name: str | None) -> Iterator[list[str]]:
    """The word sequences a phrase can match in, one at a time: title, excerpt, body, each topic,
    the provider's canonical name, each related title."""
    for key in ("title", "excerpt", "body"):
        yield words(doc.get(key) or "")
    for topic in doc.get("topics") or []:
        yield words(topic)
    yield words(provider_name or "")
    for item in doc.get("related") or []:
        yield words(item.get("title") or "")


def phrase_fields(doc: Mapping[str, Any], provider_name: str | None) -> list[list[str]]:
    """iter_phrase_fields as a list."""
    return list(iter_phrase_fields(doc, provider_name))


class _Codes(dict[str, int]):
    """word -> word_code(word), filled as words are met."""

    def __missing__(self, word: str) -> int:
        code = self[word] = word_code(word)
        return code


def word_code(word: str) -> int:
    """A word's byte in SearchIndex.sequence: 1..255 (0 parts fields). CRC-32, not Python's str
    hash: the hash differs between processes, and an index saved by one is read by another."""
    return zlib.crc32(word.encode()) % 255 + 1


def phrase_starts(terms: Sequence[Term], field_words: Sequence[str]) -> list[int]:
    """Where the terms stand consecutively in a field's words (a prefix term starts its word)."""
    size = len(terms)
    last = len(field_words) - size  # the last place a phrase can start
    head, rest = terms[0], list(enumerate(terms[1:], start=1))
    if head.prefix:
        starts = [i for i in range(last + 1) if field_words[i].startswith(head.text)]
    else:
        starts = [i for i, word in enumerate(field_words) if i <= last and word == head.text]
    return [
        i
        for i in starts
        if all(
            field_words[i + k].startswith(term.text) if term.prefix else field_words[i + k] == term.text
            for k, term in rest
        )
    ]


def phrase_lines(sequences: Iterable[list[str]]) -> str:
    """Word sequences as text a phrase pattern is looked for in (the PostgreSQL store's column):
    each one a line of its words with a space before and after each."""
    return "\n".join(" " + " ".join(sequence) + " " for sequence in sequences if sequence)


def phrase_pattern(terms: Sequence[Term]) -> str:
    """The regular expression (POSIX and Python alike) of a phrase's terms, consecutive, in phrase_lines."""
    return " " + " ".join(t.text + "[^ \n]*" if t.prefix else t.text for t in terms) + " "


def searchable_fields(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """The words of each searchable part of a stored document."""
    provider = doc.get("provider") or {}
    related = doc.get("related") or []
    return {
        "title": words(doc.get("title") or ""),
        "excerpt": words(doc.get("excerpt") or ""),
        "body": words(doc.get("body") or ""),
        "topics": [w for topic in doc.get("topics") or [] for w in words(topic)],
        "provider": words(provider.get("name") or ""),
        "related": [w for item in related for w in words(item.get("title") or "")],
    }


def document_words(doc: Mapping[str, Any]) -> set[str]:
    """Every distinct folded word an article can be found by."""
    out: set[str] = set()
    for field_words in searchable_fields(doc).values():
        out.update(field_words)
    return out


def _derive(
    doc: Mapping[str, Any], canonical: str | None, canonical_known: bool, code_of: Callable[[str], int], sequence: bytearray
) -> tuple[dict[str, float], float]:
    """One document's weighted term frequencies and length (BM25F), its phrase fields' word codes
    appended to ``sequence`` (each field ended by a 0)."""
    provider = (doc.get("provider") or {}).get("name") or ""
    own = words(provider)
    if not canonical_known:
        canonical = provider
    topics = [words(topic) for topic in doc.get("topics") or []]
    related = [words(item.get("title") or "") for item in doc.get("related") or []]
    title, excerpt, body = (words(doc.get(key) or "") for key in ("title", "excerpt", "body"))
    sequences = [title, excerpt, body, *topics, own if canonical == provider else words(canonical or ""), *related]
    for field_words in sequences:
        sequence.extend(map(code_of, field_words))
        sequence.append(0)
    fields = {
        "title": title,
        "excerpt": excerpt,
        "body": body,
        "topics": [w for topic in topics for w in topic],
        "provider": own,
        "related": [w for item in related for w in item],
    }
    length = 0.0
    weighted: dict[str, float] = {}
    for name, field_words in fields.items():
        weight = WEIGHTS[name]
        length += weight * len(field_words)
        for word, count in Counter(field_words).items():
            weighted[word] = weighted.get(word, 0.0) + weight * count
    return weighted, length


class SearchIndex:
    """An inverted index over documents numbered 0..n-1.

    Postings are numpy arrays (document numbers ascending, weighted term
    frequencies), built from per-field word counts: compact (8 bytes a posting)
    and quick to build, and scoring runs vectorized. The arithmetic is exactly
    BM25F as written in ``Ranking`` (term order by ascending document frequency,
    the same float64 operations), which the PostgreSQL store mirrors in SQL.
    """

    def __init__(self, docs: Iterable[Mapping[str, Any]], provider_names: Sequence[str | None] | None = None) -> None:
        """``provider_names``: each document's provider's canonical name (phrases match it), by number;
        without them a document's own provider name stands in."""
        # Postings grow in typed arrays (4 bytes a number, no Python object each) that become
        # the numpy arrays without a copy. Boxed ints and floats per posting, packed into small
        # numpy arrays per word and chunk, left ~280 MB of fragmented heap behind at 100k
        # articles (409 MB resident for ~125 MB of postings).
        numbers: dict[str, array] = {}
        frequencies: dict[str, array] = {}
        lengths: list[float] = []
        # Every phrase field's words as one byte each (a hash, 1..255), fields apart by a 0 (so no
        # phrase spans two), documents starting at doc_starts: phrases are found by scanning it and
        # verified on the documents' text (graph.search.phrase_starts). Exact positions (4 bytes a
        # word) took resident memory at 100k articles past twice the database file.
        codes = _Codes()
        code_of = codes.__getitem__
        sequence = bytearray()
        doc_starts = array("q")
        docs = docs if isinstance(docs, Sequence) else list(docs)
        for number, doc in enumerate(docs):
            doc_starts.append(len(sequence))
            canonical = provider_names[number] if provider_names is not None else None
            weighted, length = _derive(doc, canonical, provider_names is not None, code_of, sequence)
            for word, tf in weighted.items():
                found = numbers.get(word)
                if found is None:
                    numbers[word] = array("i", (number,))
                    # float32 holds weighted term frequencies (small multiples of 0.5) exactly, in half the room.
                    frequencies[word] = array("f", (tf,))
                else:
                    found.append(number)
                    frequencies[word].append(tf)
            lengths.append(length)
        # Every word's postings in one pair of arrays, words in vocabulary order, a word's at
        # offsets[i]:offsets[i + 1]: a prefix term's words are then one contiguous slice, merged by
        # a few numpy calls however many words it expands to (a Python loop over the ~500 words of
        # a three-letter prefix cost ~1 ms a search at 100k articles), and the index holds no
        # numpy object per word (two per word took ~50 MB at 100k).
        self.vocabulary = sorted(numbers)
        self._word_index: dict[str, int] = {word: i for i, word in enumerate(self.vocabulary)}
        self._offsets = np.zeros(len(self.vocabulary) + 1, dtype=np.int64)
        np.cumsum([len(numbers[word]) for word in self.vocabulary], out=self._offsets[1:])
        self._posting_docs = np.empty(int(self._offsets[-1]), dtype=np.int32)
        self._posting_tfs = np.empty(int(self._offsets[-1]), dtype=np.float32)
        offsets = self._offsets.tolist()
        for i, word in enumerate(self.vocabulary):
            # popped as copied, so the typed arrays are freed as the big ones fill
            self._posting_docs[offsets[i] : offsets[i + 1]] = np.frombuffer(numbers.pop(word), dtype=np.int32)
            self._posting_tfs[offsets[i] : offsets[i + 1]] = np.frombuffer(frequencies.pop(word), dtype=np.float32)
        self.postings: Mapping[str, tuple[Any, Any]] = _PostingsView(self)
        self.lengths = np.array(lengths, dtype=np.float64)
        self.count = len(lengths)
        self.average_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        self._norms: Any = None  # made by norms() when a search first ranks
        self._docs = docs
        self._provider_names = provider_names
        self.sequence = np.frombuffer(sequence, dtype=np.uint8)
        self.doc_starts = np.frombuffer(doc_starts, dtype=np.int64)
        # Words only a canonical provider name holds (prefix terms in phrases expand over them too).
        self.name_words = sorted(set(codes).difference(self._word_index))

    def arrays(self) -> dict[str, Any]:
        """The index as numpy arrays, from which ``from_arrays`` makes it again (a side file keeps them)."""
        return {
            "vocabulary": _joined(self.vocabulary),
            "name_words": _joined(self.name_words),
            "offsets": self._offsets,
            "posting_docs": self._posting_docs,
            "posting_tfs": self._posting_tfs,
            "lengths": self.lengths,
            "average_length": np.array([self.average_length], dtype=np.float64),
            "sequence": self.sequence,
            "doc_starts": self.doc_starts,
        }

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, Any], docs: Sequence[Mapping[str, Any]], provider_names: Sequence[str | None], spot_checks: int = 16
    ) -> SearchIndex:
        """The index ``arrays()`` gave, over ``docs``: what ``SearchIndex(docs, provider_names)`` builds,
        without the work per word. ValueError when the arrays do not fit together, or when the
        documents spot-checked (re-derived) do not have the postings, length and phrase codes the
        arrays give them: arrays of other documents, or of an older derivation, are refused."""
        index = cls.__new__(cls)
        index.vocabulary = _split(arrays["vocabulary"])
        index.name_words = _split(arrays["name_words"])
        index._word_index = {word: i for i, word in enumerate(index.vocabulary)}
        index._offsets = arrays["offsets"]
        index._posting_docs, index._posting_tfs = arrays["posting_docs"], arrays["posting_tfs"]
        index.lengths, index.sequence, index.doc_starts = arrays["lengths"], arrays["sequence"], arrays["doc_starts"]
        index.count = len(docs)
        index.average_length = float(arrays["average_length"][0])
        index._norms = None
        index._docs, index._provider_names = docs, provider_names
        index.postings = _PostingsView(index)
        postings = len(index._posting_docs)
        if (
            len(index._offsets) != len(index.vocabulary) + 1
            or int(index._offsets[-1]) != postings
            or len(index._posting_tfs) != postings
            or len(index.lengths) != index.count
            or len(index.doc_starts) != index.count
            or len(index._word_index) != len(index.vocabulary)
        ):
            raise ValueError("the arrays of the search index do not fit together")
        for number in range(0, index.count, max(1, index.count // spot_checks)):
            index._check(number)
        return index

    def _check(self, number: int) -> None:
        """ValueError unless document ``number`` has in this index what a build derives for it."""
        sequence = bytearray()
        weighted, length = _derive(self._docs[number], self._provider_names[number], True, word_code, sequence)
        end = int(self.doc_starts[number + 1]) if number + 1 < self.count else len(self.sequence)
        if length != self.lengths[number] or self.sequence[int(self.doc_starts[number]) : end].tobytes() != sequence:
            raise ValueError(f"the search index does not describe document {number}")
        for word, tf in weighted.items():
            i = self._word_index.get(word)
            docs, tfs = self._slice(i, i + 1) if i is not None else _EMPTY
            at = int(np.searchsorted(docs, number))
            if at == len(docs) or docs[at] != number or tfs[at] != np.float32(tf):
                raise ValueError(f"the search index does not describe document {number}")

    def updated(
        self, docs: Sequence[Mapping[str, Any]], provider_names: Sequence[str | None], old_to_new: Any, changed: Sequence[int]
    ) -> SearchIndex:
        """The index of a new version of the documents, from this one's: what ``SearchIndex(docs,
        provider_names)`` builds, for the work of the changed documents only.

        ``old_to_new`` gives each of this index's documents its number in ``docs`` (both in id
        order, so the numbering keeps its order), or -1 when it was removed or changed;
        ``changed`` are the numbers in ``docs`` to derive anew (added and updated documents,
        and any whose provider's canonical name changed: phrases read it). The postings of the
        rest are renumbered and the new ones merged in, in a few passes of numpy over the arrays
        (a full build is Python work per word of every document: tens of seconds at 100k).
        Words left without documents stay in the vocabulary with no postings.
        """
        count = len(docs)
        old_to_new = np.asarray(old_to_new, dtype=np.int64)
        changed = sorted(changed)
        codes = _Codes()
        code_of = codes.__getitem__
        lengths = np.zeros(count, dtype=np.float64)
        kept = old_to_new >= 0
        lengths[old_to_new[kept]] = self.lengths[kept]
        segments: dict[int, bytes] = {}
        entries: list[tuple[str, int, float]] = []
        for number in changed:
            sequence = bytearray()
            weighted, length = _derive(docs[number], provider_names[number], True, code_of, sequence)
            segments[number] = bytes(sequence)
            lengths[number] = length
            entries.extend((word, number, tf) for word, tf in weighted.items())

        added = sorted({word for word, _, _ in entries}.difference(self._word_index))
        vocabulary = sorted(self.vocabulary + added) if added else self.vocabulary
        word_index = {word: i for i, word in enumerate(vocabulary)} if added else self._word_index
        # The kept postings, renumbered: words and documents keep their order, so every word's
        # documents stay ascending. Only the dropped postings (the rewritten documents') are
        # located by word; the arrays are touched by a few whole-array passes.
        documents = old_to_new.astype(np.int32)[self._posting_docs]
        present = documents >= 0
        dropped = np.flatnonzero(~present)
        old_offsets = self._offsets
        kept_counts = np.diff(old_offsets) - np.bincount(
            np.searchsorted(old_offsets, dropped, "right") - 1, minlength=len(self.vocabulary)
        )
        kept_docs = documents[present]
        kept_frequencies = self._posting_tfs[present]
        # Each old word's place in the new vocabulary, and where its kept postings start.
        if added:
            positions = np.array([word_index[word] for word in self.vocabulary], dtype=np.int64)
        else:
            positions = np.arange(len(self.vocabulary), dtype=np.int64)
        counts = np.zeros(len(vocabulary), dtype=np.int64)
        counts[positions] = kept_counts
        kept_starts = np.zeros(len(self.vocabulary) + 1, dtype=np.int64)
        np.cumsum(kept_counts, out=kept_starts[1:])
        if entries:
            entries.sort(key=lambda entry: (word_index[entry[0]], entry[1]))
            at = np.empty(len(entries), dtype=np.int64)
            new_docs = np.array([number for _, number, _ in entries], dtype=np.int32)
            new_frequencies = np.array([tf for _, _, tf in entries], dtype=np.float32)
            start = 0
            while start < len(entries):
                word = entries[start][0]
                end = start + 1
                while end < len(entries) and entries[end][0] == word:
                    end += 1
                old = self._word_index.get(word)
                if old is None:  # a new word: its postings go where its neighbours' end
                    following = bisect.bisect_left(self.vocabulary, word)
                    at[start:end] = kept_starts[following]
                else:
                    lo, hi = int(kept_starts[old]), int(kept_starts[old + 1])
                    at[start:end] = lo + np.searchsorted(kept_docs[lo:hi], new_docs[start:end])
                counts[word_index[word]] += end - start
                start = end
            kept_docs = np.insert(kept_docs, at, new_docs)
            kept_frequencies = np.insert(kept_frequencies, at, new_frequencies)
        index = SearchIndex.__new__(SearchIndex)
        index.vocabulary = vocabulary
        index._word_index = word_index
        index._offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(counts, out=index._offsets[1:])
        index._posting_docs = kept_docs
        index._posting_tfs = kept_frequencies
        index.postings = _PostingsView(index)
        index.lengths = lengths
        index.count = count
        index.average_length = (sum(lengths.tolist()) / count) if count else 1.0  # summed in order, as a build does
        index._norms = None
        index._docs = docs
        index._provider_names = provider_names
        # Each document's stretch of the phrase sequence: kept ones copied from this index's.
        old_ends = np.append(self.doc_starts[1:], len(self.sequence)).tolist()
        old_starts = self.doc_starts.tolist()
        new_to_old = np.full(count, -1, dtype=np.int64)
        new_to_old[old_to_new[kept]] = np.flatnonzero(kept)
        sequence = self.sequence
        parts = [
            segments[number] if (old := int(source)) < 0 else sequence[old_starts[old] : old_ends[old]]
            for number, source in enumerate(new_to_old.tolist())
        ]
        sizes = np.array([len(part) for part in parts], dtype=np.int64)
        index.doc_starts = np.zeros(count, dtype=np.int64)
        if count:
            np.cumsum(sizes[:-1], out=index.doc_starts[1:])
        index.sequence = (
            np.concatenate([np.frombuffer(part, dtype=np.uint8) if isinstance(part, bytes) else part for part in parts])
            if parts
            else np.empty(0, dtype=np.uint8)
        )
        # A superset is harmless: prefix terms in phrases only look for candidates with these words' codes.
        index.name_words = sorted(set(self.name_words).union(codes).difference(word_index))
        return index

    def _slice(self, start: int, end: int) -> tuple[Any, Any]:
        """The postings of words start..end-1 of the vocabulary, concatenated (views, no copy)."""
        lo, hi = int(self._offsets[start]), int(self._offsets[end])
        return self._posting_docs[lo:hi], self._posting_tfs[lo:hi]

    def _word_range(self, term: Term) -> tuple[int, int]:
        """The vocabulary indexes start..end-1 of the words a term stands for."""
        if not term.prefix:
            i = self._word_index.get(term.text)
            return (0, 0) if i is None else (i, i + 1)
        # Every word with the prefix sorts before prefix + the last code point (never in a word).
        start = bisect.bisect_left(self.vocabulary, term.text)
        return start, bisect.bisect_left(self.vocabulary, term.text + LAST_CODE_POINT, start)

    def cost(self, query: SearchQuery) -> int:
        """A bound on the elements a search's numpy work touches (postings read, bytes of the phrase
        sequence scanned), in O(terms) without touching them: callers decide from it whether a
        search is worth a worker thread."""
        total = 0
        for clause in query.clauses:
            for literal in clause:
                for term in literal.match.terms:
                    start, end = self._word_range(term)
                    total += int(self._offsets[end] - self._offsets[start])
                if literal.match.phrase:
                    total += len(self.sequence) * len(literal.match.terms)
                if literal.negated:
                    total += self.count
        return total

    def _postings(self, term: Term, memo: dict[Term, TermPostings] | None = None) -> TermPostings:
        """A term's postings for one search; ``memo`` keeps them for the rest of it (matching and
        ranking both need them, and a prefix term's are a merge of many words)."""
        found = memo.get(term) if memo is not None else None
        if found is None:
            found = TermPostings(self, *self._word_range(term))
            if memo is not None:
                memo[term] = found
        return found

    def _term_postings(self, term: Term) -> tuple[Any, Any]:
        """A term's documents ascending and weighted term frequencies (a prefix term's words summed)."""
        postings = self._postings(term)
        docs = postings.docs
        return docs, postings.frequencies(docs).astype(np.float32)

    def _term_codes(self, term: Term) -> Any:
        """Which word codes a term stands for, as a lookup table over the 256 byte values."""
        table = np.zeros(256, dtype=bool)
        if not term.prefix:
            table[word_code(term.text)] = True
            return table
        for vocabulary in (self.vocabulary, self.name_words):
            start = bisect.bisect_left(vocabulary, term.text)
            end = bisect.bisect_left(vocabulary, term.text + LAST_CODE_POINT, start)
            table[[word_code(word) for word in vocabulary[start:end]]] = True
            if table[1:].all():
                break
        return table

    def _phrase_candidates(self, terms: Sequence[Term]) -> Any:
        """Documents (ascending) where the phrase's word codes stand consecutively in one field: every
        document holding the phrase, and the few where other words share the codes."""
        size = len(terms)
        sequence = self.sequence
        if len(sequence) < size:
            return np.array([], dtype=np.int32)
        budget = current_budget()
        span = len(sequence) - size + 1
        found = self._term_codes(terms[0])[sequence[:span]]
        for k, term in enumerate(terms[1:], start=1):
            budget.check()
            found &= self._term_codes(term)[sequence[k : k + span]]
        positions = np.flatnonzero(found)
        return np.unique(np.searchsorted(self.doc_starts, positions, "right") - 1).astype(np.int32)

    def _has_phrase(self, number: int, terms: Sequence[Term]) -> bool:
        doc = self._docs[number]
        names = self._provider_names
        canonical = names[number] if names is not None else (doc.get("provider") or {}).get("name")
        return any(phrase_starts(terms, field) for field in iter_phrase_fields(doc, canonical))

    def _match_docs(self, match: Match, memo: dict[Term, TermPostings] | None = None) -> Any:
        """The documents (ascending) holding every term of match; for a phrase, consecutively in one field."""
        terms = sorted((self._postings(term, memo) for term in match.terms), key=len)
        docs = terms[0].docs
        for other in terms[1:]:
            if not len(docs):
                break
            docs = other.holding(docs)
        if match.phrase and len(docs):
            docs = np.intersect1d(docs, self._phrase_candidates(match.terms), assume_unique=True)
            budget = current_budget()
            kept = []
            for at, number in enumerate(docs.tolist()):
                if at % 256 == 0:
                    budget.check()
                if self._has_phrase(number, match.terms):
                    kept.append(number)
            docs = np.array(kept, dtype=np.int32)
        return docs

    def _literal_docs(self, literal: Literal, memo: dict[Term, TermPostings] | None = None) -> Any:
        docs = self._match_docs(literal.match, memo)
        if literal.negated:
            return np.setdiff1d(np.arange(self.count, dtype=np.int32), docs, assume_unique=True)
        return docs

    def matching(self, query: SearchQuery, memo: dict[Term, TermPostings] | None = None) -> Any:
        """The documents (ascending) a search matches."""
        budget = current_budget()
        excluded: list[Match] = []
        sets = []
        for clause in query.clauses:
            budget.check()
            if len(clause) == 1 and clause[0].negated:
                excluded.append(clause[0].match)  # taken away at the end, never complemented
                continue
            parts = [self._literal_docs(literal, memo) for literal in clause]
            docs = parts[0]
            for part in parts[1:]:
                docs = np.union1d(docs, part)
            sets.append(docs)
        sets.sort(key=len)
        candidates = sets[0] if sets else np.arange(self.count, dtype=np.int32)
        for docs in sets[1:]:
            if not len(candidates):
                break
            candidates = intersect(candidates, docs)
        for match in excluded:
            if not len(candidates):
                break
            candidates = np.setdiff1d(candidates, self._match_docs(match, memo), assume_unique=True)
        return candidates

    def search(self, query: SearchQuery) -> Scores | None:
        """The documents matching a search, with a Ranking that scores any of them; None when the
        search is empty. Nothing is scored here: a count or facets need no score, and a first page
        by relevance scores only the matches that can reach it (Ranking.contenders)."""
        if not query:
            return None
        memo: dict[Term, TermPostings] = {}  # each term's postings, found once for matching and ranking
        candidates = self.matching(query, memo).astype(np.int64)
        if not len(candidates):
            return Scores(np.array([], dtype=np.int64), np.array([], dtype=np.float64))
        term_postings = [self._postings(term, memo) for term in query.terms]
        term_postings.sort(key=len)
        return Scores(candidates, ranking=Ranking(self, term_postings))

    def norms(self) -> Any:
        """Each document's BM25 length norm, ``K1 * (1 - B + B * length / average)`` (float64)."""
        norms = self._norms
        if norms is None:
            norms = self._norms = K1 * (1.0 - B + B * self.lengths / self.average_length)
        return norms


class TermPostings:
    """One term's postings, as one search uses them: how many documents hold it, which of some
    candidates do, and their weighted term frequencies.

    An exact word's postings, and a prefix's when its words have few postings, are merged into
    documents ascending at once. A prefix with many (``wor*`` expands to hundreds of words,
    ~45,000 postings at 100k articles) is kept as its words' postings plus a mask over every
    document: its document frequency is a count of the mask, which candidates hold it a lookup,
    and frequencies are summed for the candidates only. Summing every document's frequencies
    (np.bincount over all postings, then every nonzero one) cost ~1.1 ms a term against ~0.15.
    """

    __slots__ = ("_index", "_docs", "_tfs", "_raw", "_mask", "_count")

    def __init__(self, index: SearchIndex, start: int, end: int) -> None:
        self._index = index
        self._mask: Any = None
        self._count = -1
        docs, tfs = index._slice(start, end) if end > start else _EMPTY
        if end - start <= 1:
            self._docs, self._tfs = docs, tfs
        elif len(docs) * 16 > index.count:
            self._raw = (docs, tfs)
            self._docs = self._tfs = None
            self._mask = np.zeros(index.count, dtype=bool)
            self._mask[docs] = True
        else:
            # Few postings: merged by one sort (a word's documents are distinct and ascending).
            order = np.argsort(docs, kind="stable")
            docs, tfs = docs[order], tfs[order]
            unique, starts = np.unique(docs, return_index=True)
            self._docs, self._tfs = unique, np.add.reduceat(tfs, starts)

    def __len__(self) -> int:
        """The term's document frequency."""
        if self._count < 0:
            self._count = len(self._docs) if self._mask is None else int(np.count_nonzero(self._mask))
        return self._count

    @property
    def docs(self) -> Any:
        """The documents holding the term, ascending (int32)."""
        if self._docs is None:
            self._docs = np.flatnonzero(self._mask).astype(np.int32)
        return self._docs

    def holding(self, candidates: Any) -> Any:
        """The candidates (ascending) that hold the term."""
        if self._mask is not None:
            return candidates[self._mask[candidates]]
        return intersect(candidates, self._docs)

    def frequencies(self, candidates: Any) -> Any:
        """The weighted term frequency of each candidate (ascending), 0 where it lacks the term, as float64."""
        if not len(candidates):
            return np.zeros(0, dtype=np.float64)
        if self._mask is None:
            docs, tfs = self._docs, self._tfs
            if not len(docs):
                return np.zeros(len(candidates), dtype=np.float64)
            at = np.minimum(np.searchsorted(docs, candidates), len(docs) - 1)
            return np.where(docs[at] == candidates, tfs[at], 0.0).astype(np.float64)
        docs, tfs = self._raw
        # Weighted frequencies are small multiples of 0.5: these float64 sums are exact, so they
        # equal a float32 sum in any order.
        count = self._index.count
        if len(candidates) * 16 > count:
            # Many candidates: sum over every document and pick theirs (linear; finding each
            # posting among ~45,000 candidates by binary search cost several times more).
            return np.bincount(docs, weights=tfs, minlength=count)[candidates]
        chosen = np.zeros(count, dtype=bool)
        chosen[candidates] = True
        hit = chosen[docs]
        return np.bincount(np.searchsorted(candidates, docs[hit]), weights=tfs[hit], minlength=len(candidates))


_EMPTY: tuple[Any, Any] = (np.array([], dtype=np.int32), np.array([], dtype=np.float32))
# Past this ratio of sizes, finding the small array's items in the large one by binary search
# (O(small log large)) beats np.intersect1d's sort of both together (O((small + large) log)).
SEARCHSORTED_RATIO = 8


def intersect(a: Any, b: Any) -> Any:
    """The common items of two ascending arrays of distinct numbers, ascending."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    if len(b) >= SEARCHSORTED_RATIO * len(a):
        at = np.searchsorted(b, a)
        at[at == len(b)] = 0  # past the end: compared with b[0], which is smaller, so never equal
        return a[b[at] == a]
    return np.intersect1d(a, b, assume_unique=True)


def _joined(words: Sequence[str]) -> Any:
    """Words as one array of UTF-8 bytes, a newline after each (words never hold one)."""
    return np.frombuffer("".join(word + "\n" for word in words).encode(), dtype=np.uint8)


def _split(joined: Any) -> list[str]:
    return joined.tobytes().decode().split("\n")[:-1]


class _PostingsView(Mapping[str, tuple[Any, Any]]):
    """word -> (documents ascending, weighted term frequencies), read from the index's arrays."""

    def __init__(self, index: SearchIndex) -> None:
        self._index = index

    def __getitem__(self, word: str) -> tuple[Any, Any]:
        i = self._index._word_index[word]
        return self._index._slice(i, i + 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.vocabulary)

    def __len__(self) -> int:
        return len(self._index.vocabulary)


def round6(values: Any) -> Any:
    """``round(x, 6)`` of every value, exactly as Python rounds (the PostgreSQL store rounds the same way).

    ``rint(x * 1e6) / 1e6`` is the double nearest to k / 10**6, as Python's
    round is; only the integer k can differ, and only when x * 1e6 lies within
    its rounding error of a half: those few values are rounded by Python.
    """
    scaled = values * 1e6
    rounded = np.rint(scaled) / 1e6
    doubtful = (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6) | ~(np.abs(values) < 1e6)
    for i in np.flatnonzero(doubtful):
        rounded[i] = round(float(values[i]), 6)
    return rounded


class Ranking:
    """BM25F of one search's terms, for any of its matches.

    A term's contribution is ``idf * tf * (K1 + 1) / (tf + norm)``, summed over the terms in
    ascending order of document frequency; every float operation is fixed (the PostgreSQL
    store repeats them in SQL), so a document's score is the same whichever of the
    matches are scored with it.
    """

    __slots__ = ("_index", "_terms", "_idfs")

    def __init__(self, index: SearchIndex, term_postings: list[TermPostings]) -> None:
        self._index = index
        self._terms = term_postings  # ascending document frequency: the order scores are summed in
        n = index.count
        self._idfs = [math.log(1.0 + (n - len(p) + 0.5) / (len(p) + 0.5)) for p in term_postings]

    def _contribution(self, term: int, numbers: Any, norm: Any) -> Any:
        """The term's part of the score of each of numbers (0 where a number lacks it: the other side of an OR)."""
        tf = self._terms[term].frequencies(numbers)
        return self._idfs[term] * tf * (K1 + 1.0) / (tf + norm)

    def scores(self, numbers: Any) -> Any:
        """The scores of numbers (ascending), rounded to 6 decimals as every store serves them."""
        norm = self._index.norms()[numbers]
        total = np.zeros(len(numbers), dtype=np.float64)
        for term in range(len(self._terms)):
            total = total + self._contribution(term, numbers, norm)
        return round6(total)

    def contenders(self, numbers: Any, count: int) -> tuple[Any, Any]:
        """The numbers (ascending) that can be among the first ``count`` by score descending, ties
        in number order, and their scores: a superset of those first, without scoring every match.

        MaxScore, one term at a time over numpy arrays, rarest term first (the largest idf: partial
        scores rise fastest). A term adds less than ``idf * (K1 + 1)`` to any score (tf / (tf +
        norm) < 1). After each term, a number whose partial score plus what the terms still to come
        can add stays below the count-th best partial score cannot reach the page: later terms
        are not looked up for it, and only the survivors of the last are rounded. (Tighter bounds,
        each word's maximum of tf / (tf + norm) over its postings, pruned no more in the mix's
        searches at 100k and cost a pass over the postings of every word not seen before.)
        """
        terms = len(self._terms)
        if count <= 0:  # first: 0 (a count or facets only)
            return numbers[:0], np.zeros(0, dtype=np.float64)
        if len(numbers) <= count or not terms:
            return numbers, self.scores(numbers)
        # What the terms after each one can add at most (the last adds nothing after it).
        to_come = [0.0] * terms
        for term in range(terms - 2, -1, -1):
            to_come[term] = to_come[term + 1] + self._idfs[term + 1] * (K1 + 1.0) * (1.0 + 1e-12)
        norm = self._index.norms()[numbers]
        partial = np.zeros(len(numbers), dtype=np.float64)
        for term in range(terms):  # the fixed order: the partial sum of the last term is each score
            partial = partial + self._contribution(term, numbers, norm)
            if len(numbers) <= count:
                continue
            # Every score is at least its partial sum, so count numbers score >= threshold. One that
            # ends below threshold - 1e-6 rounds below all of them (ties are decided on rounded
            # scores); 1e-9 of the threshold covers the bounds' rounding errors.
            threshold = np.partition(partial, len(partial) - count)[len(partial) - count]
            keep = partial + to_come[term] >= threshold - 1e-6 - 1e-9 * abs(threshold)
            if not keep.all():
                numbers, norm, partial = numbers[keep], norm[keep], partial[keep]
        return numbers, round6(partial)


# Contenders up to this many are also kept as a dict: a page's items look their scores up one by one.
KNOWN_LOOKUP_MAX = 1024


class Scores:
    """Relevance of the documents a search matched: their numbers ascending, and their scores as
    far as they are known.

    Arrays rather than a dict: a common word matches most of a corpus, and
    ranking 80k matches in numpy takes milliseconds where boxed floats take tens.
    A search's Scores hold a Ranking and score on demand: every match only when all are
    asked for (``values``: a full sort, a page deep by cursor), otherwise the contenders
    for a first page; what was scored is kept for ``get``/``of``.
    """

    __slots__ = ("numbers", "_values", "_ranking", "_known")

    def __init__(self, numbers: Any, values: Any = None, ranking: Ranking | None = None) -> None:
        self.numbers = numbers
        self._values = values
        self._ranking = ranking
        # (numbers ascending, their scores, the same as a dict when few) scored so far, when not all
        self._known: tuple[Any, Any, dict[int, float]] | None = None

    @classmethod
    def uniform(cls, count: int) -> Scores:
        """Every one of count documents, each scored 0 (a search without words)."""
        return cls(np.arange(count, dtype=np.int64), np.zeros(count, dtype=np.float64))

    @property
    def nbytes(self) -> int:
        """What the scores take once every one is known (a cache's weight)."""
        return 2 * self.numbers.nbytes

    @property
    def values(self) -> Any:
        """The score of every match, in the order of ``numbers``."""
        if self._values is None:
            assert self._ranking is not None
            self._values = self._ranking.scores(self.numbers)
        return self._values

    def _found(self, numbers: Any) -> Any:
        """The scores of numbers (matched, ascending) if already known, else None."""
        if self._values is not None:
            return self._values[np.searchsorted(self.numbers, numbers)]
        known = self._known
        if known is not None and len(known[0]):
            at = np.minimum(np.searchsorted(known[0], numbers), len(known[0]) - 1)
            if (known[0][at] == numbers).all():
                return known[1][at]
        return None

    def get(self, number: int, default: float | None = None) -> float | None:
        known = self._known
        if known is not None and (found := known[2].get(number)) is not None:
            return found  # a page's item: its score was found with the contenders
        i = int(np.searchsorted(self.numbers, number))
        if i == len(self.numbers) or self.numbers[i] != number:
            return default
        return float(self.of(np.array([number], dtype=np.int64))[0])

    def of(self, numbers: Any) -> Any:
        """The scores of numbers (ascending), every one of them matched."""
        found = self._found(numbers)
        if found is None:
            assert self._ranking is not None
            found = self._ranking.scores(numbers)
        return found

    def contenders(self, numbers: Any, count: int) -> Any:
        """Of numbers (matched, ascending), those that can be among the first ``count`` by score
        descending (ties in number order): all of them when every score is known."""
        if self._values is not None or self._ranking is None:
            return numbers
        numbers, scores = self._ranking.contenders(np.asarray(numbers, dtype=np.int64), count)
        by_number = dict(zip(numbers.tolist(), scores.tolist())) if len(numbers) <= KNOWN_LOOKUP_MAX else {}
        self._known = (numbers, scores, by_number)
        return numbers
