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
from dataclasses import dataclass
from typing import Any

from graph.lru import LRU

# Answers larger than this are not kept: they would crowd out the many small ones.
MAX_ENTRY_BYTES = 1 << 20
# What an entry costs besides its answer and its request: the key tuple, the entry, the ETag.
ENTRY_OVERHEAD_BYTES = 300


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
    """A bounded LRU of answers: at most ``size`` entries and ``budget`` bytes; either 0 turns it off.

    The bytes count each answer and the request it is kept under (a POST body
    is up to the body limit), so that many large answers cannot pin memory: 1,100
    requests differing by a trailing comment, each answering ~757 KB, grew a
    worker by 690 MB when only the number of entries was bounded (issue 12).
    """

    def __init__(self, size: int, budget: int) -> None:
        self.size = size
        self.budget = budget
        self._entries = LRU(size, budget, name="response")

    def get(self, key: Any, version: str) -> CachedAnswer | None:
        if not self.size or not self.budget:
            return None
        entry = self._entries.lookup(key)
        if entry is None:
            return None
        if entry.version != version:
            self._entries.drop(key)
            return None
        return entry

    def put(self, key: Any, version: str, body: bytes, media: str, operation: str = "") -> CachedAnswer:
        entry = CachedAnswer(version, body, media, etag_for(version, body), operation)
        if self.size and self.budget and len(body) <= MAX_ENTRY_BYTES:
            self._entries.keep(key, entry, weight=len(body) + _key_bytes(key) + ENTRY_OVERHEAD_BYTES)
        return entry

    @property
    def weight(self) -> int:
        """The bytes the kept entries count for."""
        return self._entries.weight

    def __len__(self) -> int:
        return len(self._entries)


def _key_bytes(key: Any) -> int:
    """The bytes of the text parts of a key (the raw request among them)."""
    parts = key if isinstance(key, tuple) else (key,)
    return sum(len(part) for part in parts if isinstance(part, (str, bytes)))
