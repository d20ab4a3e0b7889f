"""The object types of the contract: Article, Provider, Image, Related, Topic, their
connections and facets.

These classes declare the contract: names, types, arguments and descriptions.
What each field answers is defined once, by its batch function in
graph.schema.fields, which graph.schema installs as the field's resolver (and
the compiled plan calls directly); so the methods below that declare a field's
arguments have no body of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import strawberry
from strawberry import UNSET

from graph.schema.inputs import ArticleFilter, ArticleOrder, DateInterval, ImageFilter, RelatedFilter
from graph.schema.scalars import DateTime
from graph.schema.snippet import Snippet

if TYPE_CHECKING:
    from graph.schema.stories import Story

SNIPPETS_DESCRIPTION = (
    "Passages of the title, excerpt and body where terms of `search` occur (the same term rules as "
    "articles(search:)). Order: most distinct terms first, then most occurrences, then TITLE, EXCERPT, "
    "BODY, then earliest. Empty when no term occurs. first: default 3, 0..10; length: default 200, 20..1000."
)


def scoped_articles(
    where: Optional[ArticleFilter] = UNSET,
    search: Optional[str] = UNSET,
    order_by: Optional[list[ArticleOrder]] = UNSET,
    first: Optional[int] = UNSET,
    after: Optional[str] = UNSET,
    last: Optional[int] = UNSET,
    before: Optional[str] = UNSET,
) -> ArticleConnection:
    """The arguments of a provider's, topic's or story's articles: declared once here; the field's
    value is its batch function (graph.schema.fields), installed in place of this one."""


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Optional[str]
    end_cursor: Optional[str]


@strawberry.type
class Image:
    url: str
    width: Optional[int]
    height: Optional[int]
    is_cached: bool
    aspect_ratio: Optional[float] = strawberry.field(description="width / height, when both are known and height > 0.")


@strawberry.type
class Provider:
    name: str = strawberry.field(
        description="The most frequent name seen for this domain in articles and related items (ties: the alphabetically first)."
    )
    domain: str
    article_count: int = strawberry.field(
        description="How many stored articles this provider published (related items do not count)."
    )

    articles: ArticleConnection = strawberry.field(resolver=scoped_articles)


@strawberry.type
class Related:
    title: str
    excerpt: Optional[str]
    published_date_time: Optional[DateTime]
    web_url: Optional[str]
    amp_web_url: Optional[str]
    cdn_amp_web_url: Optional[str]
    type: Optional[str]
    quality: Optional[int]
    provider: Optional[Provider]

    @strawberry.field
    def images(self, where: Optional[ImageFilter] = UNSET, first: Optional[int] = UNSET) -> list[Image]: ...

    @strawberry.field(description="The stored article at one of this item's URLs, when the store holds it.")
    def article(self) -> Optional[Article]: ...


@strawberry.type
class Article:
    id: strawberry.ID = strawberry.field(
        description=(
            "The document's key: the seed file's name without extension and without a leading 'NNN_' ordinal "
            "(000_9a7be0820e1ffd4a.txt -> 9a7be0820e1ffd4a), unless the frontmatter sets id."
        )
    )
    title: str
    excerpt: Optional[str]
    body: str = strawberry.field(description="The document's content under the frontmatter (may be empty).")
    category: Optional[str]
    type: Optional[str]
    quality: Optional[int]
    heat: Optional[int]
    published: bool
    published_date_time: Optional[DateTime]
    original_url: Optional[str]
    web_url: Optional[str]
    amp_web_url: Optional[str]
    cdn_amp_web_url: Optional[str]
    topics: list[str]
    provider: Optional[Provider]

    @strawberry.field
    def images(self, where: Optional[ImageFilter] = UNSET, first: Optional[int] = UNSET) -> list[Image]: ...

    @strawberry.field
    def related(self, where: Optional[RelatedFilter] = UNSET, first: Optional[int] = UNSET) -> list[Related]: ...

    @strawberry.field(description=SNIPPETS_DESCRIPTION)
    def snippets(self, search: str, first: Optional[int] = UNSET, length: Optional[int] = UNSET) -> list[Snippet]: ...

    @strawberry.field(description="The story this article belongs to (a story of one when it shares no coverage).")
    def story(self) -> Annotated[Story, strawberry.lazy("graph.schema.stories")]: ...


@strawberry.type
class ArticleEdge:
    cursor: str
    node: Article


@strawberry.type
class FacetCount:
    value: str
    count: int
    provider: Optional[Provider] = strawberry.field(
        description="In the providers facet, the provider whose domain is value (for its name); null in every other facet."
    )


@strawberry.type
class IntStats:
    count: int = strawberry.field(description="How many matching articles have a value.")
    min: Optional[int]
    max: Optional[int]
    avg: Optional[float]


@strawberry.type
class DateTimeRange:
    min: Optional[DateTime]
    max: Optional[DateTime]


@strawberry.type
class ArticleFacets:
    @strawberry.field(description="Most frequent first, ties by value ASC. Default first: 20.")
    def topics(self, first: Optional[int] = UNSET) -> list[FacetCount]: ...

    @strawberry.field(description="value = provider domain.")
    def providers(self, first: Optional[int] = UNSET) -> list[FacetCount]: ...

    @strawberry.field
    def categories(self, first: Optional[int] = UNSET) -> list[FacetCount]: ...

    @strawberry.field
    def types(self, first: Optional[int] = UNSET) -> list[FacetCount]: ...

    @strawberry.field(description='value = "true" or "false".')
    def published(self) -> list[FacetCount]: ...

    @strawberry.field
    def quality(self) -> IntStats: ...

    @strawberry.field
    def heat(self) -> IntStats: ...

    @strawberry.field
    def published_date_time(self) -> DateTimeRange: ...

    @strawberry.field(
        description=(
            "Articles per calendar bucket in UTC, oldest first; value = the bucket's first day as YYYY-MM-DD "
            "(WEEK starts Monday). Empty buckets omitted."
        )
    )
    def histogram(self, interval: DateInterval) -> list[FacetCount]: ...


@strawberry.type
class ArticleConnection:
    edges: list[ArticleEdge]
    nodes: list[Article] = strawberry.field(description="The same articles as edges, without cursors.")
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many articles match, ignoring paging.")
    facets: ArticleFacets = strawberry.field(description="Counts and statistics over ALL matching articles, ignoring paging.")
    disjunctive_facets: ArticleFacets = strawberry.field(
        description=(
            "Like facets, except that each facet ignores this connection's own top-level where condition on its "
            "field: topics <- where.topics, providers <- where.provider, categories <- where.category, types <- "
            "where.type, published <- where.published, quality <- where.quality, heat <- where.heat, "
            "publishedDateTime and histogram <- where.publishedDateTime. Conditions inside AND/OR/NOT, search and "
            "the enclosing scope (a provider's, topic's or story's articles) still apply."
        )
    )


@strawberry.type
class Topic:
    name: str
    article_count: int

    articles: ArticleConnection = strawberry.field(resolver=scoped_articles)


@strawberry.type
class ProviderEdge:
    cursor: str
    node: Provider


@strawberry.type
class ProviderConnection:
    edges: list[ProviderEdge]
    nodes: list[Provider]
    page_info: PageInfo
    total_count: int
