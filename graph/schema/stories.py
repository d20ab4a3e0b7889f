"""Story, its connection and ordering (graph.stories says what a story is)."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, Optional

import strawberry
from strawberry import UNSET

from graph import search, stories
from graph import paging
from graph.schema.inputs import ArticleFilter, ArticleOrder, SortDirection
from graph.schema.scalars import DateTime
from graph.schema.types import (
    ArticleConnection,
    FacetCount,
    Info,
    PageInfo,
    Provider,
    _filter,
    _given,
    _PageMemo,
    article_connection,
)
from graph.store.base import OrderKey, Page, Reader, Window

STORY_DESCRIPTION = """Articles grouped by shared coverage. Two stored articles are in the same story
when a related item of one has a webUrl, ampWebUrl or cdnAmpWebUrl equal to one
of the other's four URLs, or when related items of both share such a URL; a
story is a connected group of articles (an article with no such link is a
story of one)."""


@strawberry.enum(description="Nulls sort last in both directions.")
class StorySortField(Enum):
    LAST_PUBLISHED_DATE_TIME = "lastPublishedDateTime"
    FIRST_PUBLISHED_DATE_TIME = "firstPublishedDateTime"
    ARTICLE_COUNT = "articleCount"
    COVERAGE_COUNT = "coverageCount"
    ID = "id"


@strawberry.input
class StoryOrder:
    field: StorySortField
    direction: SortDirection = SortDirection.ASC


@strawberry.type(description=STORY_DESCRIPTION)
class Story:
    id: strawberry.ID = strawberry.field(description="The smallest id among its articles (code point order).")
    headline: str = strawberry.field(
        description=(
            "The title of its highest-quality article (null quality ranks last; ties: earliest publishedDateTime, "
            "null last, then smallest id)."
        )
    )
    article_count: int
    coverage_count: int = strawberry.field(
        description=(
            "Its articles plus the distinct related items of its articles that are not stored articles, a related "
            "item counted once per identifying URL (webUrl, else ampWebUrl, else cdnAmpWebUrl; items with none are "
            "not counted)."
        )
    )
    first_published_date_time: Optional[DateTime]
    last_published_date_time: Optional[DateTime]
    _summary: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> Story:
        return cls(
            id=strawberry.ID(summary["id"]),
            headline=summary["headline"],
            article_count=summary["articleCount"],
            coverage_count=summary["coverageCount"],
            first_published_date_time=summary["firstPublishedDateTime"],
            last_published_date_time=summary["lastPublishedDateTime"],
            _summary=summary,
        )

    @strawberry.field
    def articles(
        self,
        info: Info,
        where: Optional[ArticleFilter] = UNSET,
        search: Optional[str] = UNSET,
        order_by: Optional[list[ArticleOrder]] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> ArticleConnection:
        scope = stories.in_story(self._summary["id"])
        return article_connection(info, where, search, order_by, first, after, last, before, scope)

    @strawberry.field(
        description="Distinct providers (by domain) of its articles and of their related items; most occurrences first, ties by domain."
    )
    async def providers(self, info: Info) -> list[Provider]:
        found = await info.context.providers.load_many(stories.provider_domains(self._summary))
        return [Provider.from_info(p) for p in found if p is not None]

    @strawberry.field(description="Topics of its articles, most frequent first, ties by value. Default first: 20.")
    def topics(self, info: Info, first: Optional[int] = UNSET) -> list[FacetCount]:
        first = _given(first)
        paging.check_list_size("topics", first, info.context.limits.max_list_size)
        return [FacetCount(value=value, count=count) for value, count in stories.top_topics(self._summary, first)]


@strawberry.type
class StoryEdge:
    cursor: str
    node: Story


@strawberry.type
class StoryConnection:
    _reader: strawberry.Private[Reader]
    _query: strawberry.Private[stories.StoryQuery]
    _window: strawberry.Private[Window]
    _memo: strawberry.Private[_PageMemo]

    async def _page(self) -> Page:
        if self._memo.task is None:
            self._memo.task = asyncio.ensure_future(self._reader.find_stories(self._query, self._window))
        return await self._memo.task

    @strawberry.field
    async def edges(self) -> list[StoryEdge]:
        page = await self._page()
        cursors = paging.encode_cursors(self._query.order, page.keys)
        return [StoryEdge(cursor=cursor, node=Story.from_summary(item)) for item, cursor in zip(page.items, cursors)]

    @strawberry.field
    async def nodes(self) -> list[Story]:
        return [Story.from_summary(item) for item in (await self._page()).items]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        page = await self._page()
        return PageInfo.from_page(page, paging.encode_cursors(self._query.order, page.keys))

    @strawberry.field
    async def total_count(self) -> int:
        return await self._reader.count_stories(self._query)


def story_order(order: Any) -> tuple[OrderKey, ...]:
    """Order keys from [StoryOrder!]; default LAST_PUBLISHED_DATE_TIME DESC; id ASC breaks every tie."""
    keys = [OrderKey(item.field.value, item.direction.value == "DESC") for item in order or ()]
    if not keys:
        keys = [stories.DEFAULT_STORY_ORDER[0]]
    keys.append(OrderKey("id"))
    return tuple(keys)


def story_connection(
    info: Info, where: Any, search_text: Any, order_by: Any, first: Any, after: Any, last: Any, before: Any
) -> StoryConnection:
    f = _filter("article", where)
    search_text = _given(search_text)
    terms = search.parse_query(search_text) if search_text is not None else None
    order = story_order(_given(order_by))
    page_window = paging.window(
        _given(first), _given(after), _given(last), _given(before), order, info.context.limits.max_page_size
    )
    return StoryConnection(
        _reader=info.context.reader,
        _query=stories.StoryQuery(filter=f, search=terms, order=order),
        _window=page_window,
        _memo=_PageMemo(),
    )


async def story_of(info: Info, article_id: str) -> Optional[Story]:
    """The story with this id, or of the article with this id (a story's id is one of its articles' ids)."""
    found = await info.context.stories.load(article_id)
    return Story.from_summary(found) if found else None


__all__ = ["Story", "StoryConnection", "StoryOrder", "StorySortField", "story_connection", "story_of"]
