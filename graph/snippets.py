"""Article.snippets: passages of an article's title, excerpt and body where search terms occur.

Words and term matching are graph.search's (folding, ``*`` prefixes, the web
search syntax): a highlight is one word of the stored text, as it stands there
(original case and accents), whose folded form a term of the search matches.
Offsets are in code points. A passage is a run of whole words of one field, at
most ``length`` long, that holds as many highlights as fit; passages of one
field never overlap and together hold every highlight of the field, so when
fewer than ``first`` come back, every occurrence is in one of them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
from dataclasses import dataclass
from typing import Any, NamedTuple

from graph.budget import current as current_budget
from graph.errors import UserInputError
from graph.search import WORD, SearchQuery, Term, parse_query, phrase_starts

FIELDS = (("TITLE", "title"), ("EXCERPT", "excerpt"), ("BODY", "body"))
DEFAULT_FIRST, MAX_FIRST = 3, 10
DEFAULT_LENGTH, MIN_LENGTH, MAX_LENGTH = 200, 20, 1000
_FIELD_RANK = {name: rank for rank, (name, _) in enumerate(FIELDS)}


@dataclass(frozen=True, slots=True)
class Snippet:
    field: str
    text: str
    highlights: tuple[tuple[int, int], ...]
    terms: int  # distinct query terms its highlights match (ordering only)
    start: int  # where text starts in the field (ordering only)


class _Word(NamedTuple):
    """A word of a text: [start, end) in code points and its folded form. A tuple: a body has
    hundreds of words and a frozen dataclass's __init__ cost several times a tuple's."""

    start: int
    end: int
    folded: str


def arguments(first: int | None, length: int | None) -> tuple[int, int]:
    """first and length with their defaults; out of bounds is a BAD_USER_INPUT error naming the argument."""
    first = DEFAULT_FIRST if first is None else first
    length = DEFAULT_LENGTH if length is None else length
    if not 0 <= first <= MAX_FIRST:
        raise UserInputError(f"snippets: first must be between 0 and {MAX_FIRST}, got {first}")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise UserInputError(f"snippets: length must be between {MIN_LENGTH} and {MAX_LENGTH}, got {length}")
    return first, length


def _fold_char(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).casefold()


class _FoldedChars(dict[str, str]):
    """char -> _fold_char(char), filled as characters are met (a few thousand distinct ones)."""

    def __missing__(self, char: str) -> str:
        piece = self[char] = _fold_char(char)
        return piece


_FOLDED_CHARS = _FoldedChars()


def text_words(text: str) -> list[_Word]:
    """The words of a text (graph.search.words) with their [start, end) in the text, in code points."""
    if text.isascii():
        return [_Word(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text)]
    # Fold character by character, remembering where each folded character came from, so a
    # word found in the folded text maps back to the original characters (marks included).
    # Each character's fold is looked up (a Python call per character of a body cost ~0.8 ms
    # of the ~1 ms a snippet field took), and where every character folds to exactly one, a
    # folded character's origin is its own place.
    folded = list(map(_FOLDED_CHARS.__getitem__, text))
    joined = "".join(folded)
    size = len(text)
    widths = list(map(len, folded))
    origin: list[int] | None = None
    if widths.count(1) != size:
        origin = np.repeat(np.arange(size), widths).tolist()
    out = []
    normalize = unicodedata.normalize
    for m in WORD.finditer(joined):
        if origin is None:
            start, end = m.start(), m.end()
        else:
            start, end = origin[m.start()], origin[m.end() - 1] + 1
        while end < size and not folded[end]:  # trailing combining marks belong to the word
            end += 1
        out.append(_Word(start, end, normalize("NFKC", m.group())))
    return out


def _marks(query: SearchQuery, found: Sequence[_Word]) -> dict[int, frozenset[Term]]:
    """The words to highlight (word number -> the query terms it stands for); excluded words never are."""
    marks: dict[int, set[Term]] = {}
    excluded: set[int] = set()
    budget = current_budget()
    folded = [word.folded for word in found]
    for clause in query.clauses:
        for literal in clause:
            budget.check()  # a long search over a long body stops at the request's deadline
            match = literal.match
            if match.phrase:
                for i in phrase_starts(match.terms, folded):
                    for k, term in enumerate(match.terms):
                        if literal.negated:
                            excluded.add(i + k)
                        else:
                            marks.setdefault(i + k, set()).add(term)
                continue
            for term in match.terms:
                # one comprehension a term over the words (a Python call per word and term cost more)
                text = term.text
                if term.prefix:
                    found_at = [i for i, word in enumerate(folded) if word.startswith(text)]
                else:
                    found_at = [i for i, word in enumerate(folded) if word == text]
                if literal.negated:
                    excluded.update(found_at)
                else:
                    for i in found_at:
                        marks.setdefault(i, set()).add(term)
    return {i: frozenset(terms) for i, terms in marks.items() if i not in excluded}


def _expand(found: Sequence[_Word], first: int, last: int, low: int, high: int, length: int, size: int) -> tuple[int, int]:
    """Words first..last grown with context to at most ``length`` characters inside [low, high) (the
    neighbouring passages): half the room before, the rest after, then what is left before again.
    The ends are word ends, or the field's own ends."""
    core_start, core_end = found[first].start, found[last].end

    def left(budget: int) -> int:
        limit = core_start - budget
        if low == 0 and limit <= 0:
            return 0
        i = first
        while i > 0 and found[i - 1].start >= max(limit, low):
            i -= 1
        return found[i].start

    def right(start: int) -> int:
        limit = start + length
        if high == size and limit >= size:
            return size
        i = last
        while i + 1 < len(found) and found[i + 1].end <= min(limit, high):
            i += 1
        return found[i].end

    start = left((length - (core_end - core_start)) // 2)
    end = right(start)
    return left(length - (end - core_start)), end


def field_snippets(name: str, text: str, query: SearchQuery, length: int) -> list[Snippet]:
    """Every passage of one field: highlights grouped left to right, each group as many as fit in length."""
    found = text_words(text)
    marks = _marks(query, found) if found else {}
    hits = sorted(i for i in marks if found[i].end - found[i].start <= length)
    groups: list[tuple[int, int]] = []
    for i in hits:
        if groups and found[i].end - found[groups[-1][0]].start <= length:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    out = []
    low = 0
    for n, (first, last) in enumerate(groups):
        high = found[groups[n + 1][0]].start if n + 1 < len(groups) else len(text)
        start, end = _expand(found, first, last, low, high, length, len(text))
        inside = []
        for i in hits:
            if start <= found[i].start and found[i].end <= end:
                if inside and found[i].start < found[inside[-1]].end:
                    continue  # a second word folded out of the same characters (¼ -> 1⁄4)
                inside.append(i)
        terms = frozenset().union(*(marks[i] for i in inside))
        out.append(
            Snippet(
                field=name,
                text=text[start:end],
                highlights=tuple((found[i].start - start, found[i].end - start) for i in inside),
                terms=len(terms),
                start=start,
            )
        )
        low = end
    return out


def snippets(doc: Mapping[str, Any], search: str, first: int, length: int) -> list[Snippet]:
    """An article's snippets for a search, in the contract's order: most distinct terms, most
    occurrences, TITLE, EXCERPT, BODY, earliest. first and length as arguments() returns them."""
    query = parse_query(search)
    if not query.terms or first == 0:
        return []
    found: list[Snippet] = []
    for name, key in FIELDS:
        text = doc.get(key)
        if isinstance(text, str) and text:
            found.extend(field_snippets(name, text, query, length))
    found.sort(key=lambda s: (-s.terms, -len(s.highlights), _FIELD_RANK[s.field], s.start))
    return found[:first]


def batch(docs: Sequence[Mapping[str, Any]], search: str, first: int | None, length: int | None) -> list[list[Snippet]]:
    """Article.snippets for a level of articles (the resolver passes a list of one)."""
    first, length = arguments(first, length)
    return [snippets(doc, search, first, length) for doc in docs]

