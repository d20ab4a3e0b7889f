"""The response cache: whole answers keyed by (request, data version).

Every answer depends only on (operation, variables, data version) (DESIGN
"Speed, by design"), so a successful answer is kept under the raw request (the
POST body or the GET query string, plus the negotiated media type) together
with the data version it was computed from. A hit needs the same request and
the same version; a seed changes the version, so nothing stale is ever served.
Each entry carries a strong ETag for conditional GETs (304 Not Modified).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graph.lru import cache_stats

# Answers larger than this are not kept: they would crowd out the many small ones.
MAX_ENTRY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    version: str
    body: bytes
    media: str
    etag: str
    operation: str = ""  # the operation's label in /metrics


def etag_for(version: str, body: bytes) -> str:
    digest = hashlib.blake2b(body, digest_size=16, key=version.encode()[:64])
    return f'"{digest.hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header against one ETag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


class ResponseCache:
    """A bounded LRU of answers; ``size`` 0 turns it off."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, CachedAnswer] = OrderedDict()
        self.stats = cache_stats("response")

    def get(self, key: Any, version: str) -> CachedAnswer | None:
        if not self.size:
            return None
        entry = self._entries.get(key)
        if entry is not None and entry.version != version:
            del self._entries[key]
            entry = None
        if entry is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Any, version: str, body: bytes, media: str, operation: str = "") -> CachedAnswer:
        entry = CachedAnswer(version, body, media, etag_for(version, body), operation)
        if self.size and len(body) <= MAX_ENTRY_BYTES:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
