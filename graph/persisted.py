"""Automatic persisted queries (Apollo's APQ protocol), so GET URLs stay short.

A client first sends only ``extensions.persistedQuery.sha256Hash``; an unknown
hash is answered with PERSISTED_QUERY_NOT_FOUND and the client retries with
the query text and the hash, which is checked and remembered. The registry is
per process and bounded; a forgotten hash just costs the client one retry.
"""

from __future__ import annotations

import hashlib
from typing import Any

from graph.lru import LRU

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256 a request names, or None when it does not use APQ; raises on a malformed one."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError("persistedQuery: only version 1 is supported", NOT_SUPPORTED, 400)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError("persistedQuery: sha256Hash must be 64 hex digits", "BAD_USER_INPUT", 400)
    return digest.lower()


# What a remembered query costs besides its text: the hash key and the entry.
ENTRY_OVERHEAD_BYTES = 200


class PersistedQueries:
    """At most ``size`` queries and ``budget`` bytes of them (3,000 registrations of 64 KB queries
    added 289 MB to a worker when only their number was bounded; issue 12)."""

    def __init__(self, size: int = 10_000, budget: int = 8 << 20) -> None:
        self.size = size
        self.budget = budget
        self._queries = LRU(size, budget, name="persisted_queries")

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query text to run: the given one (checked and remembered) or the remembered one."""
        digest = requested_hash(extensions)
        if digest is None:
            return query
        if query is None:
            known = self._queries.lookup(digest)
            if known is None:
                raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
            return known
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query", "BAD_USER_INPUT", 400)
        self._queries.keep(digest, query, weight=len(query) + ENTRY_OVERHEAD_BYTES)
        return query

    @property
    def weight(self) -> int:
        return self._queries.weight

    def __len__(self) -> int:
        return len(self._queries)
