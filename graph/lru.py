"""A small bounded least-recently-used cache, for derived results that never go stale under their key.

Every cache of the server counts its hits and misses under a name in
``CACHE_STATS`` (one counter pair per name and process, shared by the caches
of successive snapshots), so /metrics can say how well each one works.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class CacheStats:
    """Hits and misses of every cache that goes by one name, in this process."""

    __slots__ = ("hits", "misses")

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0


CACHE_STATS: dict[str, CacheStats] = {}


def cache_stats(name: str) -> CacheStats:
    """The counters of the caches called ``name`` (created on first use)."""
    stats = CACHE_STATS.get(name)
    if stats is None:
        stats = CACHE_STATS[name] = CacheStats()
    return stats


class LRU(OrderedDict[Any, Any]):
    """At most ``size`` entries and, when ``budget`` is given, at most that total weight.

    Weights are what the caller says an entry costs (e.g. the length of a list
    of matches), so that a few huge entries cannot pin unbounded memory.
    Safe to share between threads: the TinyDB store answers heavy work (facets of
    one request among them, at once) in worker threads, and a lookup racing an
    eviction would otherwise raise KeyError or miscount the weight.
    """

    def __init__(self, size: int, budget: int | None = None, name: str | None = None) -> None:
        super().__init__()
        self.stats = cache_stats(name) if name else None
        self.size = size
        self.budget = budget
        self.weight = 0
        self._weights: dict[Any, int] = {}
        self._lock = threading.Lock()

    def lookup(self, key: Any) -> Any:
        """The value under key (now the most recently used), or None."""
        with self._lock:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
        if self.stats is not None:
            if value is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
        return value

    def drop(self, key: Any) -> None:
        """Forget the entry under key, if any (its weight with it)."""
        with self._lock:
            if self.pop(key, None) is not None:
                self.weight -= self._weights.pop(key, 0)

    def keep(self, key: Any, value: Any, weight: int = 1) -> Any:
        """Store value under key, dropping the least recently used past the bounds; returns value."""
        if self.size <= 0 or (self.budget is not None and weight > self.budget):
            self.drop(key)  # an older value under the key must not outlive this one
            return value  # would push out everything else and still not fit
        with self._lock:
            self.weight += weight - self._weights.get(key, 0)
            self._weights[key] = weight
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.size or (self.budget is not None and self.weight > self.budget):
                oldest, _ = self.popitem(last=False)
                self.weight -= self._weights.pop(oldest)
        return value
