"""Which articles a facet counts: the connection's matches, or for a disjunctive facet those
matches without the connection's own top-level ``where`` condition on the facet's field.

An articles connection is kept in parts (``Selection``): the enclosing scope (a
provider's or topic's articles), the ``where`` input as given, search and order.
A disjunctive facet drops one top-level key of ``where`` and rebuilds the filter
with the scope always put back, so dropping a key can never widen the scope.
Conditions inside AND/OR/NOT and the search stay. Every facet then runs through
the store's ordinary facet calls: facets that drop nothing (or drop a key that
is not there) ask for exactly the connection's query, so they share its match
cache, and the date range and histogram share theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from graph import filters
from graph.filters import Filter
from graph.paging import ArticleQuery

# Facet fields as stores know them (FACET_FIELDS, STAT_FIELDS, the date facets), each the
# ArticleFilter key of the same name: a disjunctive facet drops where[field].
DISJUNCTIVE_FIELDS = frozenset(
    {"topics", "provider", "category", "type", "published", "quality", "heat", "publishedDateTime"}
)


def scoped(scope: Filter | None, f: Filter) -> Filter:
    """A connection's filter: its enclosing scope (when it has one) and its where filter."""
    if scope is None:
        return f
    return scope if f == filters.TRUE else filters.And((scope, f))


class Selection:
    """An articles connection's query, with the parts a disjunctive facet takes apart."""

    __slots__ = ("query", "scope", "where", "_without")

    def __init__(self, query: ArticleQuery, scope: Filter | None, where: Mapping[str, Any] | None) -> None:
        self.query = query
        self.scope = scope
        self.where: Mapping[str, Any] = where or {}
        self._without: dict[str, ArticleQuery] = {}

    def without(self, key: str) -> ArticleQuery:
        """The query with the top-level where condition ``key`` removed (the scope stays)."""
        if self.where.get(key) is None:
            return self.query
        found = self._without.get(key)
        if found is None:
            rest = filters.build("article", {k: v for k, v in self.where.items() if k != key})
            found = self._without[key] = replace(self.query, filter=scoped(self.scope, rest))
        return found


class FacetQueries:
    """The query each facet of one ``facets`` or ``disjunctiveFacets`` object counts."""

    __slots__ = ("selection", "disjunctive")

    def __init__(self, selection: Selection, disjunctive: bool) -> None:
        self.selection = selection
        self.disjunctive = disjunctive

    def of(self, field: str) -> ArticleQuery:
        """The query for the facet of ``field`` (a name in DISJUNCTIVE_FIELDS)."""
        if not self.disjunctive:
            return self.selection.query
        if field not in DISJUNCTIVE_FIELDS:
            raise ValueError(f"unknown facet field {field!r}")
        return self.selection.without(field)
