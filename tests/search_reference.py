"""A brute-force reading of DESIGN's search syntax, to hold both stores to: every document is
scanned word by word (no index), phrases by sliding over each field's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graph import search


def _hits(term: search.Term, word: str) -> bool:
    return word.startswith(term.text) if term.prefix else word == term.text


def holds(match: search.Match, doc: Mapping[str, Any], provider_name: str | None) -> bool:
    """Every term is a word of the article; a phrase's terms also stand consecutively in one field."""
    words = search.document_words(doc)
    if not all(any(_hits(term, word) for word in words) for term in match.terms):
        return False
    if not match.phrase:
        return True
    size = len(match.terms)
    return any(
        all(_hits(term, field[start + k]) for k, term in enumerate(match.terms))
        for field in search.phrase_fields(doc, provider_name)
        for start in range(len(field) - size + 1)
    )


def matches(query: search.SearchQuery, doc: Mapping[str, Any], provider_name: str | None) -> bool:
    return all(
        any(holds(literal.match, doc, provider_name) != literal.negated for literal in clause) for clause in query.clauses
    )


def reference(docs: Sequence[Mapping[str, Any]], text: str, provider_names: Mapping[str, str] | None = None) -> list[str]:
    """The ids (sorted) of the documents a search matches; provider_names: canonical name by domain."""
    query = search.parse_query(text)
    names = provider_names or {}
    out = []
    for doc in docs:
        domain = (doc.get("provider") or {}).get("domain")
        if matches(query, doc, names.get(domain) if domain else None):
            out.append(doc["id"])
    return sorted(out)
