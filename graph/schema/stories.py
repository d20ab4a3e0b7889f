"""Story, its connection and ordering (graph.stories says what a story is; graph.schema.fields answers the fields)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry import UNSET

from graph.schema.inputs import SortDirection
from graph.schema.scalars import DateTime
from graph.schema.types import ArticleConnection, FacetCount, PageInfo, Provider, scoped_articles

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
    articles: ArticleConnection = strawberry.field(resolver=scoped_articles)

    @strawberry.field(
        description="Distinct providers (by domain) of its articles and of their related items; most occurrences first, ties by domain."
    )
    def providers(self) -> list[Provider]: ...

    @strawberry.field(description="Topics of its articles, most frequent first, ties by value. Default first: 20.")
    def topics(self, first: Optional[int] = UNSET) -> list[FacetCount]: ...


@strawberry.type
class StoryEdge:
    cursor: str
    node: Story


@strawberry.type
class StoryConnection:
    edges: list[StoryEdge]
    nodes: list[Story]
    page_info: PageInfo
    total_count: int


__all__ = ["Story", "StoryConnection", "StoryOrder", "StorySortField"]
