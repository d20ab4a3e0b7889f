"""Automatic persisted queries (Apollo's APQ protocol), so GET URLs stay short.

(With NEWSGRAPH_TRUSTED_DOCUMENTS, graph.trusted answers the same requests from
its manifest instead; both read a request's hash with requested_hash.)

A client first sends only ``extensions.persistedQuery.sha256Hash``; an unknown
hash is answered with PERSISTED_QUERY_NOT_FOUND and the client retries with
the query text and the hash, which is checked and remembered. The registry is
per process and bounded; a forgotten hash just costs the client one retry.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from graph.errors import BAD_USER_INPUT
from graph.lru import LRU

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
SHA256_PREFIX = "sha256:"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def requested_hash(extensions: dict[str, Any] | None, document_id: str | None = None) -> str | None:
    """The sha256 a request names, or None when it names none; raises on a malformed one.

    The one home of both forms a request names a stored document by: Apollo's
    ``extensions.persistedQuery.sha256Hash`` (APQ, and Apollo's persisted query
    lists) and ``documentId`` (the GraphQL-over-HTTP persisted documents appendix,
    as graphql-codegen's client preset sends it): ``sha256:<64 hex digits>`` or
    the 64 hex digits alone.
    """
    if document_id is not None:
        digest = document_id[len(SHA256_PREFIX):] if document_id.startswith(SHA256_PREFIX) else document_id
        if not _SHA256_HEX.fullmatch(digest):
            raise PersistedQueryError(
                "documentId must be a sha256 document id: sha256:<64 hex digits> (or the 64 hex digits alone)",
                BAD_USER_INPUT, 400,
            )
        return digest.lower()
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError("persistedQuery: only version 1 is supported", NOT_SUPPORTED, 400)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise PersistedQueryError("persistedQuery: sha256Hash must be 64 hex digits", BAD_USER_INPUT, 400)
    return digest.lower()


def sha256_hex(text: str) -> str:
    """The id of a document: the sha256 of its exact text (UTF-8), in lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


# What a remembered query costs besides its text: the hash key and the entry.
ENTRY_OVERHEAD_BYTES = 200


class PersistedQueries:
    """At most ``size`` queries and ``budget`` bytes of them (3,000 registrations of 64 KB queries
    added 289 MB to a worker when only their number was bounded; issue 12)."""

    def __init__(self, size: int = 10_000, budget: int = 8 << 20) -> None:
        self.size = size
        self.budget = budget
        self._queries = LRU(size, budget, name="persisted_queries")

    def resolve(self, query: str | None, extensions: dict[str, Any] | None, document_id: str | None = None) -> str | None:
        """The query text to run: the given one (checked and remembered) or the remembered one."""
        digest = requested_hash(extensions, document_id)
        if digest is None:
            return query
        if query is None:
            known = self._queries.lookup(digest)
            if known is None:
                raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
            return known
        if sha256_hex(query) != digest:
            raise PersistedQueryError("provided sha does not match query", BAD_USER_INPUT, 400)
        self._queries.keep(digest, query, weight=len(query) + ENTRY_OVERHEAD_BYTES)
        return query

    @property
    def weight(self) -> int:
        return self._queries.weight

    def __len__(self) -> int:
        return len(self._queries)
