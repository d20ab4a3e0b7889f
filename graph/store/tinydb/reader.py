"""The Reader over a Snapshot: each read answered in the event loop when it is cheap, in a worker
thread when its work grows with the data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from graph.stories import StoryQuery
from graph.paging import ArticleQuery, Page, ProviderQuery, Window
from graph.store.base import Document, IntStats, NotReady
from graph.store.tinydb.snapshot import SEARCH_PREBUILD_MIN, Snapshot


# Queries whose filter work (graph.filters.work x articles) is past this run in a thread (~5 ms of work);
# so do searches of stores this large.
THREAD_WORK = 1_000_000
# Searches whose numpy work (SearchIndex.cost: postings read, phrase bytes scanned) is past this run
# in a thread (~2-3 ms of work at 100k articles). Below it the hand-off costs more than it saves: the
# worker and the event loop take turns on the GIL at every numpy call (searches at 100k in threads
# spent more CPU a request on the hand-off than on the search), and a search this small holds the
# loop no longer than a request's own Python does.
THREAD_SEARCH_WORK = 400_000
# Retry-After of a search refused while the search index is built.
SEARCH_RETRY_SECONDS = 5


def search_not_ready(snapshot: Snapshot) -> NotReady:
    started = snapshot.text_indexes_started
    since = f", started {time.monotonic() - started:.0f} s ago" if started is not None else ""
    reason = (
        f"the search index of {len(snapshot.docs):,} articles is being built{since}; searches are answered "
        'once it is ready (GET /healthz says "warm": true), other queries already are'
    )
    return NotReady(reason, reason, SEARCH_RETRY_SECONDS)


class SnapshotReader:
    """The async Reader interface over one Snapshot (answers at once, never awaits I/O)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.version = snapshot.version
        # Set when a read of this request could not be answered yet (the app answers 503).
        self.failure: NotReady | None = None

    async def count(self) -> int:
        return len(self.snapshot.docs)

    async def get_articles(self, ids: Sequence[str]) -> list[Document | None]:
        return [self.snapshot.get(i) for i in ids]

    async def get_articles_by_url(self, urls: Sequence[str]) -> list[Document | None]:
        return [self.snapshot.get_by_url(u) for u in urls]

    @property
    def warm(self) -> bool:
        """Whether every index is built: a search waits for nothing (small stores build their index in
        an instant) and no index is being built beside the server. The trigram index of titles is built
        after the search index (~4 s of a core at 100k): a benchmark that started when search was
        ready measured its first row against that build."""
        snapshot = self.snapshot
        return (snapshot.search_ready or len(snapshot.docs) < SEARCH_PREBUILD_MIN) and not snapshot.text_indexes_building

    async def _answer(self, query: ArticleQuery, compute: Callable[[], Any]) -> Any:
        """``compute()`` for a query: at once when it is cheap, else in a thread.

        Work that grows with the data (a filter over many articles, a search of a
        large store, building the search index) runs in a thread so the event loop
        goes on serving other requests; it checks the request's deadline itself
        (graph.budget), and the thread sees the request's budget (to_thread copies
        the context).
        """
        snapshot = self.snapshot
        if query.search is not None and not snapshot.search_ready:
            if len(snapshot.docs) < SEARCH_PREBUILD_MIN:
                snapshot.search_index()  # small stores build it in an instant
            elif snapshot.text_indexes_building:
                # A server's first start over a large database: the index takes minutes to build (at
                # 1M articles) and a search waiting for it would end at the time limit, blamed on the query.
                self.failure = search_not_ready(snapshot)
                raise self.failure
        cheap = snapshot.is_cached(query) or (
            snapshot.work(query) < THREAD_WORK
            and (query.search is None or (snapshot.search_ready and snapshot.search_index().cost(query.search) < THREAD_SEARCH_WORK))
        )
        if cheap and (query.search is None or snapshot.search_ready):
            return compute()
        return await asyncio.to_thread(compute)

    async def find_articles(self, query: ArticleQuery, window: Window) -> Page:
        return await self._answer(query, lambda: self.snapshot.find(query, window))

    async def count_articles(self, query: ArticleQuery) -> int:
        return await self._answer(query, lambda: self.snapshot.count_matches(query))

    async def facet_counts(self, query: ArticleQuery, field: str, first: int | None) -> list[tuple[str, int]]:
        return await self._answer(query, lambda: self.snapshot.facet_counts(query, field, first))

    async def int_stats(self, query: ArticleQuery, field: str) -> IntStats:
        return await self._answer(query, lambda: self.snapshot.int_stats(query, field))

    async def date_range(self, query: ArticleQuery) -> tuple[str | None, str | None]:
        return await self._answer(query, lambda: self.snapshot.date_range(query))

    async def histogram(self, query: ArticleQuery, interval: str) -> list[tuple[str, int]]:
        return await self._answer(query, lambda: self.snapshot.histogram(query, interval))

    async def get_providers(self, domains: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.snapshot.provider(d) for d in domains]

    async def get_stories(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.snapshot.story_of(i) for i in ids]

    async def find_stories(self, query: StoryQuery, window: Window) -> Page:
        articles = ArticleQuery(filter=query.filter, search=query.search)
        return (await self._answer(articles, lambda: self.snapshot.find_stories(query, window)))[0]

    async def count_stories(self, query: StoryQuery) -> int:
        articles = ArticleQuery(filter=query.filter, search=query.search)
        return (await self._answer(articles, lambda: self.snapshot.find_stories(query, Window(first=0))))[1]

    async def find_providers(self, query: ProviderQuery, window: Window) -> Page:
        return self.snapshot.find_providers(query, window)

    async def count_providers(self, query: ProviderQuery) -> int:
        return len(self.snapshot.provider_matches(query))

    async def get_topics(self, names: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.snapshot.topic(n) for n in names]

    async def list_topics(self, first: int | None) -> list[dict[str, Any]]:
        return self.snapshot.topics(first)

    async def stats(self) -> dict[str, Any]:
        return self.snapshot.stats()
