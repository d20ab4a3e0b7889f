"""The object types of the contract: Article, Provider, Image, Related, Topic,
their connections and facets.

Each type is built from store data with ``from_document``/``from_info`` and
keeps what it needs. Relations (provider, related article) go through the
request's DataLoaders, so a page costs one store call per relation, not one
per item.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Optional

import strawberry
from strawberry import UNSET

from graph import filters, search, snippets
from graph.errors import UserInputError
from graph.facets import FacetQueries, Selection, scoped
from graph.filters import Compare, FilterError, ProviderIs
from graph import paging
from graph.schema.context import Context
from graph.schema.inputs import (
    ArticleFilter,
    ArticleOrder,
    DateInterval,
    ImageFilter,
    ProviderFilter,
    ProviderOrder,
    RelatedFilter,
    as_mapping,
    to_filter,
)
from graph.schema.scalars import DateTime
from graph.schema.snippet import Snippet
from graph.store.base import ArticleQuery, Document, Page, ProviderQuery, Reader, Window

if TYPE_CHECKING:
    from graph.schema.stories import Story

Info = strawberry.Info[Context, None]
DEFAULT_FACET_SIZE = 20


def _given(value: Any) -> Any:
    return None if value is UNSET else value


def _filter(entity: str, value: Any) -> filters.Filter:
    try:
        return to_filter(entity, _given(value))
    except FilterError as exc:
        raise UserInputError(f"where: {exc}") from None


def _nested_first(info: Info, name: str, first: Any) -> int:
    first = _given(first)
    maximum = info.context.limits.max_list_size
    paging.check_list_size(name, first, maximum)
    return paging.DEFAULT_LIST_SIZE if first is None else first


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Optional[str]
    end_cursor: Optional[str]

    @classmethod
    def from_page(cls, page: Page, cursors: list[str]) -> PageInfo:
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type
class Image:
    url: str
    width: Optional[int]
    height: Optional[int]
    is_cached: bool

    @strawberry.field(description="width / height, when both are known and height > 0.")
    def aspect_ratio(self) -> Optional[float]:
        if self.width is None or not self.height or self.height <= 0:
            return None
        return self.width / self.height

    @classmethod
    def from_document(cls, image: dict[str, Any]) -> Image:
        return cls(
            url=image["url"],
            width=image.get("width"),
            height=image.get("height"),
            is_cached=image.get("isCached") is True,
        )


def _images(info: Info, items: list[dict[str, Any]] | None, where: Any, first: Any) -> list[Image]:
    limit = _nested_first(info, "images", first)
    f = _filter("image", where)
    chosen = []
    for item in items or ():
        if len(chosen) >= limit:
            break
        if f is filters.TRUE or filters.matches(f, item, "image", _no_providers):
            chosen.append(Image.from_document(item))
    return chosen


def _no_providers(domain: str) -> None:
    return None


@strawberry.type
class Provider:
    name: str = strawberry.field(
        description="The most frequent name seen for this domain in articles and related items (ties: the alphabetically first)."
    )
    domain: str
    article_count: int = strawberry.field(
        description="How many stored articles this provider published (related items do not count)."
    )

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Provider:
        return cls(name=info["name"], domain=info["domain"], article_count=info["articleCount"])

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
        scope = ProviderIs(Compare("domain", "eq", self.domain))
        return article_connection(info, where, search, order_by, first, after, last, before, scope)


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
    _item: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_document(cls, item: dict[str, Any]) -> Related:
        return cls(
            title=item["title"],
            excerpt=item.get("excerpt"),
            published_date_time=item.get("publishedDateTime"),
            web_url=item.get("webUrl"),
            amp_web_url=item.get("ampWebUrl"),
            cdn_amp_web_url=item.get("cdnAmpWebUrl"),
            type=item.get("type"),
            quality=item.get("quality"),
            _item=item,
        )

    @strawberry.field
    async def provider(self, info: Info) -> Optional[Provider]:
        provider = self._item.get("provider")
        if not provider:
            return None
        found = await info.context.providers.load(provider["domain"])
        return Provider.from_info(found) if found else None

    @strawberry.field
    def images(self, info: Info, where: Optional[ImageFilter] = UNSET, first: Optional[int] = UNSET) -> list[Image]:
        return _images(info, self._item.get("images"), where, first)

    @strawberry.field(description="The stored article at one of this item's URLs, when the store holds it.")
    async def article(self, info: Info) -> Optional[Article]:
        urls = [self._item[k] for k in ("webUrl", "ampWebUrl", "cdnAmpWebUrl") if self._item.get(k)]
        if not urls:
            return None
        for doc in await info.context.by_url.load_many(urls):
            if doc is not None:
                return Article.from_document(doc)
        return None


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
    _doc: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Article:
        return cls(
            id=strawberry.ID(doc["id"]),
            title=doc["title"],
            excerpt=doc.get("excerpt"),
            body=doc.get("body") or "",
            category=doc.get("category"),
            type=doc.get("type"),
            quality=doc.get("quality"),
            heat=doc.get("heat"),
            published=doc.get("published") is True,
            published_date_time=doc.get("publishedDateTime"),
            original_url=doc.get("originalUrl"),
            web_url=doc.get("webUrl"),
            amp_web_url=doc.get("ampWebUrl"),
            cdn_amp_web_url=doc.get("cdnAmpWebUrl"),
            topics=list(doc.get("topics") or ()),
            _doc=doc,
        )

    @strawberry.field
    async def provider(self, info: Info) -> Optional[Provider]:
        provider = self._doc.get("provider")
        if not provider:
            return None
        found = await info.context.providers.load(provider["domain"])
        return Provider.from_info(found) if found else None

    @strawberry.field
    def images(self, info: Info, where: Optional[ImageFilter] = UNSET, first: Optional[int] = UNSET) -> list[Image]:
        return _images(info, self._doc.get("images"), where, first)

    @strawberry.field
    async def related(
        self, info: Info, where: Optional[RelatedFilter] = UNSET, first: Optional[int] = UNSET
    ) -> list[Related]:
        limit = _nested_first(info, "related", first)
        items = self._doc.get("related") or []
        f = _filter("related", where)
        if f is not filters.TRUE:
            domains = sorted({i["provider"]["domain"] for i in items if i.get("provider")})
            known = dict(zip(domains, await info.context.providers.load_many(domains)))
            items = [i for i in items if filters.matches(f, i, "related", known.get)]
        return [Related.from_document(item) for item in items[:limit]]

    @strawberry.field(
        description=(
            "Passages of the title, excerpt and body where terms of `search` occur (the same term rules as "
            "articles(search:)). Order: most distinct terms first, then most occurrences, then TITLE, EXCERPT, "
            "BODY, then earliest. Empty when no term occurs. first: default 3, 0..10; length: default 200, 20..1000."
        )
    )
    def snippets(
        self, search: str, first: Optional[int] = UNSET, length: Optional[int] = UNSET
    ) -> list[Snippet]:
        (found,) = snippets.batch([self._doc], search, _given(first), _given(length))
        return [Snippet.from_snippet(s) for s in found]

    @strawberry.field(description="The story this article belongs to (a story of one when it shares no coverage).")
    async def story(self, info: Info) -> Annotated[Story, strawberry.lazy("graph.schema.stories")]:
        from graph.schema.stories import story_of

        found = await story_of(info, self._doc["id"])
        assert found is not None  # every stored article is in a story
        return found


@strawberry.type
class ArticleEdge:
    cursor: str
    node: Article


@strawberry.type
class FacetCount:
    value: str
    count: int
    _domain: strawberry.Private[Optional[str]] = None

    @strawberry.field(
        description="In the providers facet, the provider whose domain is value (for its name); null in every other facet."
    )
    async def provider(self, info: Info) -> Optional[Provider]:
        if self._domain is None:
            return None
        found = await info.context.providers.load(self._domain)
        return Provider.from_info(found) if found else None


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


def _counts(pairs: list[tuple[str, int]]) -> list[FacetCount]:
    return [FacetCount(value=value, count=count) for value, count in pairs]


@strawberry.type
class ArticleFacets:
    _reader: strawberry.Private[Reader]
    _queries: strawberry.Private[FacetQueries]

    async def _counts(self, info: Info, field: str, name: str, first: Any) -> list[FacetCount]:
        first = _given(first)
        paging.check_list_size(name, first, info.context.limits.max_list_size)
        size = DEFAULT_FACET_SIZE if first is None else first
        pairs = await self._reader.facet_counts(self._queries.of(field), field, size)
        if field == "provider":
            return [FacetCount(value=value, count=count, _domain=value) for value, count in pairs]
        return _counts(pairs)

    @strawberry.field(description="Most frequent first, ties by value ASC. Default first: 20.")
    async def topics(self, info: Info, first: Optional[int] = UNSET) -> list[FacetCount]:
        return await self._counts(info, "topics", "topics", first)

    @strawberry.field(description="value = provider domain.")
    async def providers(self, info: Info, first: Optional[int] = UNSET) -> list[FacetCount]:
        return await self._counts(info, "provider", "providers", first)

    @strawberry.field
    async def categories(self, info: Info, first: Optional[int] = UNSET) -> list[FacetCount]:
        return await self._counts(info, "category", "categories", first)

    @strawberry.field
    async def types(self, info: Info, first: Optional[int] = UNSET) -> list[FacetCount]:
        return await self._counts(info, "type", "types", first)

    @strawberry.field(description='value = "true" or "false".')
    async def published(self) -> list[FacetCount]:
        return _counts(await self._reader.facet_counts(self._queries.of("published"), "published", None))

    @strawberry.field
    async def quality(self) -> IntStats:
        stats = await self._reader.int_stats(self._queries.of("quality"), "quality")
        return IntStats(count=stats.count, min=stats.min, max=stats.max, avg=stats.avg)

    @strawberry.field
    async def heat(self) -> IntStats:
        stats = await self._reader.int_stats(self._queries.of("heat"), "heat")
        return IntStats(count=stats.count, min=stats.min, max=stats.max, avg=stats.avg)

    @strawberry.field
    async def published_date_time(self) -> DateTimeRange:
        low, high = await self._reader.date_range(self._queries.of("publishedDateTime"))
        return DateTimeRange(min=low, max=high)

    @strawberry.field(
        description=(
            "Articles per calendar bucket in UTC, oldest first; value = the bucket's first day as YYYY-MM-DD "
            "(WEEK starts Monday). Empty buckets omitted."
        )
    )
    async def histogram(self, interval: DateInterval) -> list[FacetCount]:
        return _counts(await self._reader.histogram(self._queries.of("publishedDateTime"), interval.value))


class _PageMemo:
    """One store call per connection, shared by edges, nodes and pageInfo."""

    def __init__(self) -> None:
        self.task: asyncio.Future[Page] | None = None


@strawberry.type
class ArticleConnection:
    _reader: strawberry.Private[Reader]
    _query: strawberry.Private[ArticleQuery]
    _window: strawberry.Private[Window]
    _memo: strawberry.Private[_PageMemo]
    _selection: strawberry.Private[Selection]

    async def _page(self) -> Page:
        if self._memo.task is None:
            self._memo.task = asyncio.ensure_future(self._reader.find_articles(self._query, self._window))
        return await self._memo.task

    @strawberry.field
    async def edges(self) -> list[ArticleEdge]:
        page = await self._page()
        order = self._query.order
        return [
            ArticleEdge(cursor=paging.encode_cursor(order, key), node=Article.from_document(doc))
            for doc, key in zip(page.items, page.keys)
        ]

    @strawberry.field(description="The same articles as edges, without cursors.")
    async def nodes(self) -> list[Article]:
        page = await self._page()
        return [Article.from_document(doc) for doc in page.items]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        page = await self._page()
        order = self._query.order
        return PageInfo.from_page(page, [paging.encode_cursor(order, key) for key in page.keys])

    @strawberry.field(description="How many articles match, ignoring paging.")
    async def total_count(self) -> int:
        return await self._reader.count_articles(self._query)

    @strawberry.field(description="Counts and statistics over ALL matching articles, ignoring paging.")
    def facets(self) -> ArticleFacets:
        return ArticleFacets(_reader=self._reader, _queries=FacetQueries(self._selection, disjunctive=False))

    @strawberry.field(
        description=(
            "Like facets, except that each facet ignores this connection's own top-level where condition on its "
            "field: topics <- where.topics, providers <- where.provider, categories <- where.category, types <- "
            "where.type, published <- where.published, quality <- where.quality, heat <- where.heat, "
            "publishedDateTime and histogram <- where.publishedDateTime. Conditions inside AND/OR/NOT, search and "
            "the enclosing scope (a provider's, topic's or story's articles) still apply."
        )
    )
    def disjunctive_facets(self) -> ArticleFacets:
        return ArticleFacets(_reader=self._reader, _queries=FacetQueries(self._selection, disjunctive=True))


def article_connection(
    info: Info,
    where: Any,
    search_text: Any,
    order_by: Any,
    first: Any,
    after: Any,
    last: Any,
    before: Any,
    scope: filters.Filter | None = None,
) -> ArticleConnection:
    """Checks the arguments of any articles connection and describes the query for the store."""
    where = as_mapping(_given(where))
    f = scoped(scope, _filter("article", where))
    search_text = _given(search_text)
    terms = search.parse_query(search_text) if search_text is not None else None
    order = paging.article_order(_given(order_by), terms is not None)
    page_window = paging.window(
        _given(first), _given(after), _given(last), _given(before), order, info.context.limits.max_page_size
    )
    query = ArticleQuery(filter=f, search=terms, order=order)
    return ArticleConnection(
        _reader=info.context.reader,
        _query=query,
        _window=page_window,
        _memo=_PageMemo(),
        _selection=Selection(query, scope, where),
    )


@strawberry.type
class Topic:
    name: str
    article_count: int

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
        scope = Compare("topics", "has", self.name)
        return article_connection(info, where, search, order_by, first, after, last, before, scope)


@strawberry.type
class ProviderEdge:
    cursor: str
    node: Provider


@strawberry.type
class ProviderConnection:
    _reader: strawberry.Private[Reader]
    _query: strawberry.Private[ProviderQuery]
    _window: strawberry.Private[Window]
    _memo: strawberry.Private[_PageMemo]

    async def _page(self) -> Page:
        if self._memo.task is None:
            self._memo.task = asyncio.ensure_future(self._reader.find_providers(self._query, self._window))
        return await self._memo.task

    @strawberry.field
    async def edges(self) -> list[ProviderEdge]:
        page = await self._page()
        order = self._query.order
        return [
            ProviderEdge(cursor=paging.encode_cursor(order, key), node=Provider.from_info(item))
            for item, key in zip(page.items, page.keys)
        ]

    @strawberry.field
    async def nodes(self) -> list[Provider]:
        page = await self._page()
        return [Provider.from_info(item) for item in page.items]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        page = await self._page()
        order = self._query.order
        return PageInfo.from_page(page, [paging.encode_cursor(order, key) for key in page.keys])

    @strawberry.field
    async def total_count(self) -> int:
        return await self._reader.count_providers(self._query)


def provider_connection(
    info: Info, where: Any, order_by: Any, first: Any, after: Any, last: Any, before: Any
) -> ProviderConnection:
    f = _filter("provider", where)
    order = paging.provider_order(_given(order_by))
    page_window = paging.window(
        _given(first), _given(after), _given(last), _given(before), order, info.context.limits.max_page_size
    )
    return ProviderConnection(
        _reader=info.context.reader,
        _query=ProviderQuery(filter=f, order=order),
        _window=page_window,
        _memo=_PageMemo(),
    )


__all__ = [
    "Article",
    "ArticleConnection",
    "Provider",
    "ProviderConnection",
    "ProviderFilter",
    "ProviderOrder",
    "Related",
    "Image",
    "Topic",
    "article_connection",
    "provider_connection",
]
