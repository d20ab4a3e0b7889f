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
from array import array
from collections.abc import Iterable, Mapping
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def parse_query(text: str) -> tuple[Term, ...]:
    """Terms of a search string; duplicates dropped, order kept."""
    seen: dict[Term, None] = {}
    for raw in TERM.findall(fold(text)):
        term = Term(raw.rstrip("*"), raw.endswith("*"))
        seen.setdefault(term, None)
    return tuple(seen)


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


class SearchIndex:
    """An inverted index over documents numbered 0..n-1.

    Postings are numpy arrays (document numbers ascending, weighted term
    frequencies), built from per-field word counts: compact (8 bytes a posting)
    and quick to build, and scoring runs vectorized. The arithmetic is exactly
    BM25F as written in ``_score`` (term order by ascending document frequency,
    the same float64 operations), which the PostgreSQL store mirrors in SQL.
    """

    def __init__(self, docs: Iterable[Mapping[str, Any]]) -> None:
        # Postings grow in typed arrays (4 bytes a number, no Python object each) that become
        # the numpy arrays without a copy. Boxed ints and floats per posting, packed into small
        # numpy arrays per word and chunk, left ~280 MB of fragmented heap behind at 100k
        # articles (409 MB resident for ~125 MB of postings).
        numbers: dict[str, array] = {}
        frequencies: dict[str, array] = {}
        lengths: list[float] = []
        for number, doc in enumerate(docs):
            length = 0.0
            weighted: dict[str, float] = {}
            for field, field_words in searchable_fields(doc).items():
                weight = WEIGHTS[field]
                length += weight * len(field_words)
                for word, count in Counter(field_words).items():
                    weighted[word] = weighted.get(word, 0.0) + weight * count
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
        self.postings: dict[str, tuple[Any, Any]] = {
            word: (np.frombuffer(found, dtype=np.int32), np.frombuffer(frequencies[word], dtype=np.float32))
            for word, found in numbers.items()
        }
        self.lengths = np.array(lengths, dtype=np.float64)
        self.count = len(lengths)
        self.average_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        self.vocabulary = sorted(self.postings)

    def _term_postings(self, term: Term) -> tuple[Any, Any]:
        if not term.prefix:
            return self.postings.get(term.text, _EMPTY)
        # Every word with the prefix sorts before prefix + the last code point (never in a word).
        start = bisect.bisect_left(self.vocabulary, term.text)
        end = bisect.bisect_left(self.vocabulary, term.text + LAST_CODE_POINT, start)
        parts = [self.postings[word] for word in self.vocabulary[start:end]]
        if not parts:
            return _EMPTY
        if len(parts) == 1:
            return parts[0]
        if sum(len(p[0]) for p in parts) * 16 > self.count:
            # Many postings (a short prefix): add them up in one array over every document,
            # linear, instead of sorting them all together.
            total = np.zeros(self.count, dtype=np.float32)
            for docs, tfs in parts:
                total[docs] += tfs  # a word's documents are distinct: no lost updates
            found = np.flatnonzero(total).astype(np.int32)  # every weighted term frequency is positive
            return found, total[found]
        docs = np.concatenate([p[0] for p in parts])
        tfs = np.concatenate([p[1] for p in parts])
        order = np.argsort(docs, kind="stable")
        docs, tfs = docs[order], tfs[order]
        unique, starts = np.unique(docs, return_index=True)
        return unique, np.add.reduceat(tfs, starts)

    def search(self, terms: Iterable[Term]) -> Scores | None:
        """The documents matching every term with their scores; None when there are no terms."""
        term_postings = [self._term_postings(term) for term in terms]
        if not term_postings:
            return None
        term_postings.sort(key=lambda posting: len(posting[0]))
        candidates = term_postings[0][0]
        for docs, _ in term_postings[1:]:
            if not len(candidates):
                break
            candidates = np.intersect1d(candidates, docs, assume_unique=True)
        if not len(candidates):
            return Scores(np.array([], dtype=np.int64), np.array([], dtype=np.float64))
        return Scores(candidates.astype(np.int64), round6(self._score(term_postings, candidates)))

    def _score(self, term_postings: list[tuple[Any, Any]], candidates: Any) -> Any:
        n = self.count
        avg = self.average_length
        norm = K1 * (1.0 - B + B * self.lengths[candidates] / avg)
        scores = np.zeros(len(candidates), dtype=np.float64)
        for docs, tfs in term_postings:
            df = len(docs)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            tf = tfs[np.searchsorted(docs, candidates)].astype(np.float64)
            scores = scores + idf * tf * (K1 + 1.0) / (tf + norm)
        return scores


_EMPTY: tuple[Any, Any] = (np.array([], dtype=np.int32), np.array([], dtype=np.float32))


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


class Scores:
    """Relevance of the documents a search matched: their numbers ascending and their scores.

    Arrays rather than a dict: a common word matches most of a corpus, and
    ranking 80k matches in numpy takes milliseconds where boxed floats take tens.
    """

    __slots__ = ("numbers", "values")

    def __init__(self, numbers: Any, values: Any) -> None:
        self.numbers = numbers
        self.values = values

    @classmethod
    def uniform(cls, count: int) -> Scores:
        """Every one of count documents, each scored 0 (a search without words)."""
        return cls(np.arange(count, dtype=np.int64), np.zeros(count, dtype=np.float64))

    def get(self, number: int, default: float | None = None) -> float | None:
        i = int(np.searchsorted(self.numbers, number))
        return float(self.values[i]) if i < len(self.numbers) and self.numbers[i] == number else default

    def of(self, numbers: Any) -> Any:
        """The scores of numbers, every one of them matched."""
        return self.values[np.searchsorted(self.numbers, numbers)]
