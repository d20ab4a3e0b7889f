"""Orderings of items by order keys (nulls last, text casefolded, id breaking ties), and the page
window of an ordered list: the reference every store's paging matches."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from functools import cmp_to_key
from typing import Any

from graph.paging import OrderKey, Page, Window
from graph.store.base import TEXT_SORT_FIELDS


def _sortable(field: str, value: Any) -> Any:
    if field in TEXT_SORT_FIELDS or field == "id":
        return (value.casefold(), value) if field != "id" else value
    return value


def compare_keys(a: Sequence[Any], b: Sequence[Any], order: Sequence[OrderKey]) -> int:
    """Total order of two key tuples: nulls last in both directions, per-key direction."""
    for key, va, vb in zip(order, a, b):
        if va is None and vb is None:
            continue
        if va is None:
            return 1
        if vb is None:
            return -1
        sa, sb = _sortable(key.field, va), _sortable(key.field, vb)
        if sa == sb:
            continue
        less = sa < sb
        if key.descending:
            less = not less
        return -1 if less else 1
    return 0


def sort_in_order(items: list[Any], order: Sequence[OrderKey], value: Callable[[Any, str], Any]) -> list[Any]:
    """Stable multi-pass sort honouring per-key direction with nulls last."""
    for key in reversed(order):
        present = []
        missing = []
        for item in items:
            (missing if value(item, key.field) is None else present).append(item)
        field = key.field
        present.sort(key=lambda item: _sortable(field, value(item, field)), reverse=key.descending)
        items = present + missing
    return items


def window_slice(
    items: list[Any], keys: Callable[[Any], tuple[Any, ...]], order: Sequence[OrderKey], window: Window
) -> Page:
    """Apply Relay's after/before/first/last to a fully ordered list."""
    wrap = cmp_to_key(lambda a, b: compare_keys(a, b, order))
    start, end = 0, len(items)
    if window.after is not None:
        start = bisect.bisect_right(items, wrap(window.after), key=lambda item: wrap(keys(item)))
    if window.before is not None:
        end = bisect.bisect_left(items, wrap(window.before), key=lambda item: wrap(keys(item)))
        end = max(end, start)
    lo, hi = start, end
    if window.first is not None:
        hi = min(hi, lo + window.first)
    if window.last is not None:
        lo = max(lo, hi - window.last)
    chosen = items[lo:hi]
    return Page(
        items=chosen,
        keys=[keys(item) for item in chosen],
        has_next=hi < len(items),
        has_previous=lo > 0,
    )
