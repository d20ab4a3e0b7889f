"""The Store interface every backend implements, and the plain data it speaks.

The GraphQL layer talks only to this interface. It is async so that a network
store (PostgreSQL) fits without blocking the server; the in-memory TinyDB
store simply answers at once. Queries reach a store as data (graph.paging): a
filter AST (graph.filters), a parsed search (graph.search), order keys and a
page window.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from graph.paging import ArticleQuery, Page, ProviderQuery, Window

if TYPE_CHECKING:
    from graph.store.changes import ChangeSet
    from graph.stories import StoryQuery

Document = dict[str, Any]

# Sort fields, as stores know them. Text fields compare casefolded, then by code point.
ARTICLE_SORT_FIELDS = ("publishedDateTime", "quality", "heat", "title", "providerName", "id", "relevance")
PROVIDER_SORT_FIELDS = ("name", "domain", "articleCount")
TEXT_SORT_FIELDS = frozenset({"title", "providerName", "name", "domain"})
FACET_FIELDS = ("topics", "provider", "category", "type", "published")
STAT_FIELDS = ("quality", "heat")
INTERVALS = ("DAY", "WEEK", "MONTH", "YEAR")


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the file or server."""


class StoreUnavailable(StoreError):
    """The store cannot be read now (its file is gone, its server does not answer).

    The message (for the log) names the file or server; ``reason`` says the same
    without a path, host or URL, so that /healthz can show it to anyone.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotReady(StoreUnavailable):
    """The store answers this read only once an index it is building is ready (a server's first
    start over a large database builds its search index for minutes): the client should retry
    after ``retry_after`` seconds rather than wait."""

    def __init__(self, message: str, reason: str, retry_after: int) -> None:
        super().__init__(message, reason)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class IntStats:
    count: int
    min: int | None
    max: int | None
    avg: float | None


@dataclass(frozen=True, slots=True)
class SeedMark:
    """What the store remembers of the file an article came from."""

    path: str
    hash: str


@dataclass(slots=True)
class WriteResult:
    written: int = 0
    deleted: int = 0
    version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Reader(Protocol):
    """A consistent read view of the store; a request reads through one reader."""

    version: str

    async def count(self) -> int: ...

    async def get_articles(self, ids: Sequence[str]) -> list[Document | None]: ...

    async def get_articles_by_url(self, urls: Sequence[str]) -> list[Document | None]:
        """For each URL, the article with it as originalUrl/webUrl/ampWebUrl/cdnAmpWebUrl (lowest id wins)."""
        ...

    async def find_articles(self, query: ArticleQuery, window: Window) -> Page: ...

    async def count_articles(self, query: ArticleQuery) -> int: ...

    async def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        """(value, count) over all matches, most frequent first, ties by value; field in FACET_FIELDS."""
        ...

    async def int_stats(self, query: ArticleQuery, field: str) -> IntStats: ...

    async def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]: ...

    async def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]: ...

    async def get_providers(self, domains: Sequence[str]) -> list[dict[str, Any] | None]:
        """{name, domain, articleCount} for each domain, None when unknown."""
        ...

    async def find_providers(self, query: ProviderQuery, window: Window) -> Page: ...

    async def get_stories(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """The story (graph.stories.summarize) of each article id, None when no such article; a story id is one."""
        ...

    async def find_stories(self, query: StoryQuery, window: Window) -> Page: ...

    async def count_stories(self, query: StoryQuery) -> int: ...

    async def count_providers(self, query: ProviderQuery) -> int: ...

    async def get_topics(self, names: Sequence[str]) -> list[dict[str, Any] | None]:
        """{name, articleCount} for each topic name, None when no article has it."""
        ...

    async def list_topics(self, first: int | None) -> list[dict[str, Any]]:
        """Most used first, ties by name."""
        ...

    async def stats(self) -> dict[str, Any]: ...


class Store(Protocol):
    """A document store of articles. Providers and topics are derived from articles."""

    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def reader(self) -> Reader:
        """A read view of the newest data (a store notices writes by other processes here)."""
        ...

    async def seed_marks(self) -> dict[str, SeedMark]:
        """{article id: where it was seeded from} for every stored article."""
        ...

    async def write(self, upserts: Sequence[Document], deletes: Sequence[str]) -> WriteResult:
        """Replace/insert documents by id and delete ids, all at once or not at all."""
        ...

    def changes(self, poll_seconds: float, ready: asyncio.Event | None = None) -> AsyncIterator[ChangeSet]:
        """Every committed write from now on, by any process, as a ChangeSet (graph.store.changes);
        ``ready`` is set once every later write will be seen."""
        ...


def bucket_start(day: date, interval: str) -> date:
    """The first day of the calendar bucket a day falls in (weeks start on Monday)."""
    if interval == "DAY":
        return day
    if interval == "WEEK":
        return day - timedelta(days=day.weekday())
    if interval == "MONTH":
        return day.replace(day=1)
    return day.replace(month=1, day=1)
