"""Full-text search: folding, tokenizing, query terms and a BM25F-style ranking.

Words are runs of Unicode letters and digits, compared after accent and case
folding (``Zürich`` = ``zurich``). Every query term must equal a word of the
article's searchable text; a term ending in ``*`` matches as a prefix.

The in-memory index is a plain inverted index (word -> {doc: weighted tf}).
Matching is set intersection and prefix expansion is a bisect over the sorted
vocabulary, so no search library is needed for it; the PostgreSQL store keeps
the same folded words in an indexed array column so both stores agree on
membership exactly.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WORD = re.compile(r"[^\W_]+")
TERM = re.compile(r"[^\W_]+\*?")
# Field weights: a word in the title counts three times (BM25F).
WEIGHTS = {"title": 3.0, "excerpt": 1.0, "body": 1.0, "topics": 1.5, "provider": 1.0, "related": 1.0}
K1 = 1.2
B = 0.75


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    prefix: bool


def fold(text: str) -> str:
    """Case- and accent-folded text: NFKD, combining marks dropped, casefolded."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
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
    """An inverted index over documents numbered 0..n-1."""

    def __init__(self, docs: Sequence[Mapping[str, Any]]) -> None:
        postings: dict[str, dict[int, float]] = {}
        lengths: list[float] = []
        for number, doc in enumerate(docs):
            length = 0.0
            for field, field_words in searchable_fields(doc).items():
                weight = WEIGHTS[field]
                length += weight * len(field_words)
                for word in field_words:
                    entry = postings.get(word)
                    if entry is None:
                        postings[word] = {number: weight}
                    else:
                        entry[number] = entry.get(number, 0.0) + weight
            lengths.append(length)
        self.postings = postings
        self.lengths = lengths
        self.count = len(lengths)
        self.average_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        self._vocabulary: list[str] | None = None

    def _term_postings(self, term: Term) -> dict[int, float]:
        if not term.prefix:
            return self.postings.get(term.text, {})
        if self._vocabulary is None:
            self._vocabulary = sorted(self.postings)
        vocabulary = self._vocabulary
        start = bisect.bisect_left(vocabulary, term.text)
        merged: dict[int, float] = {}
        for word in vocabulary[start:]:
            if not word.startswith(term.text):
                break
            for number, tf in self.postings[word].items():
                merged[number] = merged.get(number, 0.0) + tf
        return merged

    def search(self, terms: Iterable[Term]) -> dict[int, float] | None:
        """{doc number: score} for documents matching every term; None when there are no terms."""
        term_postings = [self._term_postings(term) for term in terms]
        if not term_postings:
            return None
        term_postings.sort(key=len)
        candidates = set(term_postings[0])
        for entry in term_postings[1:]:
            if not candidates:
                break
            candidates.intersection_update(entry.keys())
        scores: dict[int, float] = {}
        n = self.count
        avg = self.average_length
        for entry in term_postings:
            df = len(entry)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for number in candidates:
                tf = entry[number]
                norm = K1 * (1.0 - B + B * self.lengths[number] / avg)
                scores[number] = scores.get(number, 0.0) + idf * tf * (K1 + 1.0) / (tf + norm)
        return {number: round(score, 6) for number, score in scores.items()}
