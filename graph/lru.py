"""A small bounded least-recently-used cache, for derived results that never go stale under their key."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class LRU(OrderedDict[Any, Any]):
    """At most ``size`` entries and, when ``budget`` is given, at most that total weight.

    Weights are what the caller says an entry costs (e.g. the length of a list
    of matches), so that a few huge entries cannot pin unbounded memory.
    """

    def __init__(self, size: int, budget: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.budget = budget
        self.weight = 0
        self._weights: dict[Any, int] = {}

    def lookup(self, key: Any) -> Any:
        """The value under key (now the most recently used), or None."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def drop(self, key: Any) -> None:
        """Forget the entry under key, if any (its weight with it)."""
        if self.pop(key, None) is not None:
            self.weight -= self._weights.pop(key, 0)

    def keep(self, key: Any, value: Any, weight: int = 1) -> Any:
        """Store value under key, dropping the least recently used past the bounds; returns value."""
        if self.size <= 0 or (self.budget is not None and weight > self.budget):
            self.drop(key)  # an older value under the key must not outlive this one
            return value  # would push out everything else and still not fit
        self.weight += weight - self._weights.get(key, 0)
        self._weights[key] = weight
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size or (self.budget is not None and self.weight > self.budget):
            oldest, _ = self.popitem(last=False)
            self.weight -= self._weights.pop(oldest)
        return value
