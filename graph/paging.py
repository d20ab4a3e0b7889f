"""Cursor paging: what a query asks for (ArticleQuery, ProviderQuery, OrderKey) and which page
(Window, Page), argument checks, keyset cursors, and orderings from GraphQL inputs.

A cursor encodes the sort-key values of its item (never an offset), so it stays
valid when other items are added or removed. It also names the ordering it was
made for: a cursor from another ordering is refused, never silently misread.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from graph.text import echo
from graph.errors import UserInputError
from graph.filters import TRUE, Filter
from graph.search import SearchQuery

DEFAULT_PAGE_SIZE = 20
DEFAULT_LIST_SIZE = 10  # nested lists (images, related) without first; the cost limit prices them so
INT_FIELDS = frozenset({"quality", "heat", "articleCount", "coverageCount"})


@dataclass(frozen=True, slots=True)
class OrderKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Which articles, in which order. ``search`` None means no search was asked."""

    filter: Filter = TRUE
    search: SearchQuery | None = None
    order: tuple[OrderKey, ...] = (OrderKey("publishedDateTime", True), OrderKey("id"))


@dataclass(frozen=True, slots=True)
class ProviderQuery:
    filter: Filter = TRUE
    order: tuple[OrderKey, ...] = (OrderKey("articleCount", True), OrderKey("name"), OrderKey("domain"))


@dataclass(frozen=True, slots=True)
class Window:
    """A page request; ``after``/``before`` are decoded cursors (one value per order key)."""

    first: int | None = None
    last: int | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None


@dataclass(slots=True)
class Page:
    """Items of one page, the order-key values of each (for cursors), and whether more exist."""

    items: list[Any]
    keys: list[tuple[Any, ...]]
    has_next: bool
    has_previous: bool



DEFAULT_STORY_ORDER = (OrderKey("lastPublishedDateTime", True), OrderKey("id"))


def window(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: Sequence[OrderKey],
    max_page_size: int,
) -> Window:
    """A checked page window: first/last in 0..max, not both, cursors decoded for this order."""
    if first is not None and last is not None:
        raise UserInputError("first and last cannot be used together; page forwards with first/after or backwards with last/before")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_page_size:
            raise UserInputError(f"{name} must be between 0 and {max_page_size}, got {value}")
    if first is None and last is None:
        # `before` alone pages backwards: the 20 items just before the cursor, not the first 20.
        if before is not None and after is None:
            last = DEFAULT_PAGE_SIZE
        else:
            first = DEFAULT_PAGE_SIZE
    return Window(
        first=first,
        last=last,
        after=decode_cursor(after, order, "after") if after is not None else None,
        before=decode_cursor(before, order, "before") if before is not None else None,
    )


def check_list_size(name: str, first: int | None, maximum: int) -> None:
    if first is not None and not 0 <= first <= maximum:
        raise UserInputError(f"{name}: first must be between 0 and {maximum}, got {first}")


def order_signature(order: Sequence[OrderKey]) -> str:
    return ",".join(f"{key.field}{'-' if key.descending else '+'}" for key in order)


def encode_cursor(order: Sequence[OrderKey], values: Sequence[Any]) -> str:
    return encode_cursors(order, [values])[0]


def encode_cursors(order: Sequence[OrderKey], keys: Sequence[Sequence[Any]]) -> list[str]:
    """The cursors of a page's items, from their order-key values."""
    signature = order_signature(order)
    return [
        base64.urlsafe_b64encode(orjson.dumps([signature, *values])).decode("ascii").rstrip("=") for values in keys
    ]


def decode_cursor(cursor: str, order: Sequence[OrderKey], argument: str) -> tuple[Any, ...]:
    problem = f"{argument}: invalid cursor {echo(cursor)}"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise UserInputError(f"{problem}: not a cursor this API made") from None
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise UserInputError(f"{problem}: not a cursor this API made")
    if data[0] != order_signature(order) or len(data) != len(order) + 1:
        raise UserInputError(f"{problem}: it was made for another ordering; restart paging without it")
    values = tuple(data[1:])
    for key, value in zip(order, values):
        if value is None:
            continue
        if key.field in INT_FIELDS:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif key.field == "relevance":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise UserInputError(f"{problem}: not a cursor this API made")
    if values[-1] is None:
        raise UserInputError(f"{problem}: not a cursor this API made")
    return values


def article_order(order: Sequence[Mapping[str, Any]] | None, searching: bool) -> tuple[OrderKey, ...]:
    """Order keys from [ArticleOrder!] (as graphql-core coerces it); defaults per the contract; id ASC
    always breaks ties."""
    keys: list[OrderKey] = []
    for item in order or ():
        field = item["field"].value
        if field == "relevance" and not searching:
            raise UserInputError("orderBy RELEVANCE needs a search")
        keys.append(_key(item))
    if not keys:
        keys.append(OrderKey("relevance", True) if searching else OrderKey("publishedDateTime", True))
    keys.append(OrderKey("id"))
    return tuple(keys)


def provider_order(order: Sequence[Mapping[str, Any]] | None) -> tuple[OrderKey, ...]:
    """Order keys from [ProviderOrder!]; default ARTICLE_COUNT DESC, NAME ASC; domain ASC breaks ties."""
    keys = [_key(item) for item in order or ()]
    if not keys:
        keys = [OrderKey("articleCount", True), OrderKey("name")]
    keys.append(OrderKey("domain"))
    return tuple(keys)


def story_order(order: Sequence[Mapping[str, Any]] | None) -> tuple[OrderKey, ...]:
    """Order keys from [StoryOrder!]; default LAST_PUBLISHED_DATE_TIME DESC; id ASC breaks every tie."""
    keys = [_key(item) for item in order or ()]
    if not keys:
        keys = [DEFAULT_STORY_ORDER[0]]
    keys.append(OrderKey("id"))
    return tuple(keys)


def _key(item: Mapping[str, Any]) -> OrderKey:
    # The sort-field enums' values are the stores' field names.
    return OrderKey(item["field"].value, item["direction"].value == "DESC")
