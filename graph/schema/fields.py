"""What every field of the schema answers: one batch function per field, its only definition.

A field's function takes the objects of one level (``sources``), the field's
arguments as graphql-core coerced them and the request's Context, and returns
one value per source. The compiled plan (graph.execution.plan) calls it once
per level; graphql-core calls it through the resolvers graph.schema installs,
on a list of one (async ones batched per level, graph.schema.resolvers). So
both execution paths compute every value with the same code, and a bad
argument raises the same UserInputError on both.

The objects a level holds are the stored data as the stores return it:
documents (Article), their image and related items (dicts), provider, topic
and story summaries (dicts), and the values below for the types that are not
documents: ConnectionState, PageInfoValue, FacetQueries, store IntStats,
(value, count[, domain]) facet pairs, (min, max) ranges, snippets and their
(start, end) ranges.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph import filters, paging, search, snippets, stories
from graph.documents import RELATED_URL_FIELDS
from graph.errors import UserInputError
from graph.facets import FacetQueries, Selection, scoped
from graph.filters import Compare, FilterError, ProviderIs
from graph.schema.context import Context
from graph.paging import ArticleQuery, Page, ProviderQuery, Window

DEFAULT_FACET_SIZE = 20

Handler = Callable[[list[Any], dict[str, Any], Context], Any]


# ---- values of the types that are not stored data ----------------------------------


@dataclass
class ConnectionState:
    """A connection: its query and window; its page is read once, by whichever field asks first."""

    query: Any
    window: Window
    kind: str  # "article", "provider" or "story"
    selection: Selection | None = None  # an articles connection's query in parts (graph.facets)
    _page: asyncio.Future[Page] | None = field(default=None, repr=False)
    _cursors: list[str] | None = field(default=None, repr=False)

    async def page(self, context: Context) -> Page:
        # The first asker reads it; others (graphql-core asks for edges and pageInfo at once) await it.
        if self._page is not None:
            return await self._page
        self._page = asyncio.get_running_loop().create_future()
        reader = context.reader
        find = {"article": reader.find_articles, "story": reader.find_stories}.get(self.kind, reader.find_providers)
        try:
            page = await find(self.query, self.window)
        except asyncio.CancelledError:
            self._page.cancel()
            raise
        except BaseException as exc:
            self._page.set_exception(exc)
            self._page.exception()  # retrieved: whoever else awaits it gets it; nobody need
            raise
        self._page.set_result(page)
        return page

    def cursors(self, page: Page) -> list[str]:
        if self._cursors is None:
            self._cursors = paging.encode_cursors(self.query.order, page.keys)
        return self._cursors


@dataclass
class PageInfoValue:
    page: Page
    cursors: list[str]


# ---- shared pieces ----------------------------------------------------------------------


def _get(key: str) -> Handler:
    def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        return [source.get(key) for source in sources]

    return handler


def _attr(name: str) -> Handler:
    def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        return [getattr(source, name) for source in sources]

    return handler


def _index(i: int) -> Handler:
    def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        return [source[i] for source in sources]

    return handler


def _nested_first(name: str, args: dict[str, Any], context: Context) -> int:
    first = args.get("first")
    paging.check_list_size(name, first, context.limits.max_list_size)
    return paging.DEFAULT_LIST_SIZE if first is None else first


def _filter(entity: str, value: Any) -> filters.Filter:
    try:
        return filters.build(entity, value)
    except FilterError as exc:
        raise UserInputError(f"where: {exc}") from None


def _window(args: dict[str, Any], order: tuple[Any, ...], context: Context) -> Window:
    return paging.window(
        args.get("first"), args.get("after"), args.get("last"), args.get("before"), order, context.limits.max_page_size
    )


def _search_terms(args: dict[str, Any]) -> search.SearchQuery | None:
    text = args.get("search")
    return search.parse_query(text) if text is not None else None


async def _providers_by_domain(domains: list[str | None], context: Context) -> list[Any]:
    unique = sorted({d for d in domains if d is not None})
    known = dict(zip(unique, await context.reader.get_providers(unique))) if unique else {}
    return [None if d is None else known.get(d) for d in domains]


# ---- Query ----------------------------------------------------------------------------------


async def query_article(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await context.reader.get_articles([str(args["id"])])


async def query_article_by_url(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await context.reader.get_articles_by_url([args["url"]])


def article_connection(args: dict[str, Any], context: Context, scope: filters.Filter | None) -> ConnectionState:
    """Any articles connection (Query, Provider, Topic, Story): its arguments checked, its query built."""
    where = args.get("where")
    f = scoped(scope, _filter("article", where))
    terms = _search_terms(args)
    order = paging.article_order(args.get("orderBy"), terms is not None)
    window = _window(args, order, context)
    query = ArticleQuery(filter=f, search=terms, order=order)
    return ConnectionState(query, window, "article", selection=Selection(query, scope, where))


@dataclass(frozen=True)
class ChangeStream:
    """What a subscription asks for: the articles its events are about (graph.live matches and delivers).

    The source stream graphql-core gets from Subscription.articleChanges; graph.live
    reads ``query`` from it and feeds the subscribers itself, so iterating it here
    yields nothing.
    """

    query: ArticleQuery

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


def article_changes_stream(source: Any, args: dict[str, Any], context: Context) -> ChangeStream:
    """Subscription.articleChanges(where:, search:): which articles its events are about."""
    return ChangeStream(ArticleQuery(filter=_filter("article", args.get("where")), search=_search_terms(args)))


def query_articles(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [article_connection(args, context, None) for _ in sources]


async def query_provider(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await context.reader.get_providers([args["domain"]])


def query_providers(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    f = _filter("provider", args.get("where"))
    order = paging.provider_order(args.get("orderBy"))
    window = _window(args, order, context)
    return [ConnectionState(ProviderQuery(filter=f, order=order), window, "provider") for _ in sources]


async def query_topic(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await context.reader.get_topics([args["name"]])


async def query_topics(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    first = args.get("first")
    if first is not None and first < 0:
        raise UserInputError(f"topics: first must be 0 or more, got {first}")
    return [await context.reader.list_topics(first)]


def query_stories(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    f = _filter("article", args.get("where"))
    terms = _search_terms(args)
    order = paging.story_order(args.get("orderBy"))
    window = _window(args, order, context)
    return [ConnectionState(stories.StoryQuery(filter=f, search=terms, order=order), window, "story") for _ in sources]


async def query_story(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    # A story's id is one of its articles' ids: the store finds a story by either.
    return await context.reader.get_stories([str(args["id"])])


# ---- Article, Related, Image -----------------------------------------------------------


def article_body(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [doc.get("body") or "" for doc in sources]


def article_published(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [doc.get("published") is True for doc in sources]


def article_topics(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [list(doc.get("topics") or ()) for doc in sources]


async def provider_of(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    """Article.provider and Related.provider: the catalog's provider of the item's domain."""
    return await _providers_by_domain([(s.get("provider") or {}).get("domain") for s in sources], context)


def images(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    limit = _nested_first("images", args, context)
    f = _filter("image", args.get("where"))
    out = []
    for source in sources:
        chosen = []
        for image in source.get("images") or ():
            if len(chosen) >= limit:
                break
            if f is filters.TRUE or filters.matches(f, image, "image", _no_providers):
                chosen.append(image)
        out.append(chosen)
    return out


def _no_providers(domain: str) -> None:
    return None


async def article_related(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    limit = _nested_first("related", args, context)
    f = _filter("related", args.get("where"))
    if f is filters.TRUE:
        return [list((doc.get("related") or ())[:limit]) for doc in sources]
    domains = sorted({i["provider"]["domain"] for d in sources for i in d.get("related") or () if i.get("provider")})
    known = dict(zip(domains, await context.reader.get_providers(domains))) if domains else {}
    out = []
    for doc in sources:
        items = [i for i in doc.get("related") or () if filters.matches(f, i, "related", known.get)]
        out.append(items[:limit])
    return out


def article_snippets(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return snippets.batch(sources, args["search"], args.get("first"), args.get("length"))


async def article_story(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await context.reader.get_stories([doc["id"] for doc in sources])


async def related_article(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    wanted = [[item[k] for k in RELATED_URL_FIELDS if item.get(k)] for item in sources]
    unique = sorted({url for urls in wanted for url in urls})
    found = dict(zip(unique, await context.reader.get_articles_by_url(unique))) if unique else {}
    return [next((found[u] for u in urls if found.get(u) is not None), None) for urls in wanted]


def image_cached(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [image.get("isCached") is True for image in sources]


def image_aspect_ratio(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    out = []
    for image in sources:
        width, height = image.get("width"), image.get("height")
        out.append(None if width is None or not height or height <= 0 else width / height)
    return out


# ---- Provider, Topic, Story -------------------------------------------------------------


def provider_articles(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [article_connection(args, context, ProviderIs(Compare("domain", "eq", p["domain"]))) for p in sources]


def topic_articles(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [article_connection(args, context, Compare("topics", "has", t["name"])) for t in sources]


def story_articles(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [article_connection(args, context, stories.in_story(s["id"])) for s in sources]


async def story_providers(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    domains = sorted({domain for s in sources for domain in stories.provider_domains(s)})
    known = dict(zip(domains, await context.reader.get_providers(domains))) if domains else {}
    return [[p for d in stories.provider_domains(s) if (p := known[d]) is not None] for s in sources]


def story_topics(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    first = args.get("first")
    paging.check_list_size("topics", first, context.limits.max_list_size)
    return [stories.top_topics(s, first) for s in sources]


# ---- connections -------------------------------------------------------------------------


async def _pages(states: list[ConnectionState], context: Context) -> list[Page]:
    if len(states) == 1:
        return [await states[0].page(context)]
    return list(await asyncio.gather(*(s.page(context) for s in states)))


async def edges(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [list(zip(s.cursors(page), page.items)) for s, page in zip(sources, await _pages(sources, context))]


async def nodes(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [list(page.items) for page in await _pages(sources, context)]


async def page_info(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [PageInfoValue(page, s.cursors(page)) for s, page in zip(sources, await _pages(sources, context))]


async def total_count(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    reader = context.reader
    out = []
    for state in sources:
        count = {"article": reader.count_articles, "story": reader.count_stories}.get(state.kind, reader.count_providers)
        out.append(await count(state.query))
    return out


def _page_info_field(name: str) -> Handler:
    def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        if name == "hasNextPage":
            return [value.page.has_next for value in sources]
        if name == "hasPreviousPage":
            return [value.page.has_previous for value in sources]
        at = 0 if name == "startCursor" else -1
        return [value.cursors[at] if value.cursors else None for value in sources]

    return handler


# ---- facets --------------------------------------------------------------------------------


def facets(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [FacetQueries(state.selection, disjunctive=False) for state in sources]


def disjunctive_facets(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [FacetQueries(state.selection, disjunctive=True) for state in sources]


def _facet_counts(field_name: str, name: str) -> Handler:
    async def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        first = args.get("first")
        paging.check_list_size(name, first, context.limits.max_list_size)
        size = DEFAULT_FACET_SIZE if first is None else first
        found = [await context.reader.facet_counts(s.of(field_name), field_name, size) for s in sources]
        if field_name == "provider":
            # The providers facet's pairs carry the domain a third time, for FacetCount.provider.
            return [[(value, count, value) for value, count in pairs] for pairs in found]
        return found

    return handler


async def facet_published(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [await context.reader.facet_counts(s.of("published"), "published", None) for s in sources]


def _int_stats(field_name: str) -> Handler:
    async def handler(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
        return [await context.reader.int_stats(s.of(field_name), field_name) for s in sources]

    return handler


async def facet_date_range(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return [await context.reader.date_range(s.of("publishedDateTime")) for s in sources]


async def facet_histogram(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    interval = args["interval"].value
    return [await context.reader.histogram(s.of("publishedDateTime"), interval) for s in sources]


async def facet_count_provider(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return await _providers_by_domain([s[2] if len(s) > 2 else None for s in sources], context)


# ---- the table --------------------------------------------------------------------------------

SYNC, ASYNC = False, True
# (type, field) -> (function, whether it is a coroutine function). graph.schema checks at start-up
# that every field of every object type has an entry.
HANDLERS: dict[tuple[str, str], tuple[Handler, bool]] = {
    ("Query", "article"): (query_article, ASYNC),
    ("Query", "articleByUrl"): (query_article_by_url, ASYNC),
    ("Query", "articles"): (query_articles, SYNC),
    ("Query", "provider"): (query_provider, ASYNC),
    ("Query", "providers"): (query_providers, SYNC),
    ("Query", "topic"): (query_topic, ASYNC),
    ("Query", "topics"): (query_topics, ASYNC),
    ("Query", "stories"): (query_stories, SYNC),
    ("Query", "story"): (query_story, ASYNC),
    ("Article", "body"): (article_body, SYNC),
    ("Article", "published"): (article_published, SYNC),
    ("Article", "topics"): (article_topics, SYNC),
    ("Article", "provider"): (provider_of, ASYNC),
    ("Article", "images"): (images, SYNC),
    ("Article", "related"): (article_related, ASYNC),
    ("Article", "snippets"): (article_snippets, SYNC),
    ("Article", "story"): (article_story, ASYNC),
    ("Snippet", "field"): (_attr("field"), SYNC),
    ("Snippet", "text"): (_attr("text"), SYNC),
    ("Snippet", "highlights"): (_attr("highlights"), SYNC),
    ("TextRange", "start"): (_index(0), SYNC),
    ("TextRange", "end"): (_index(1), SYNC),
    ("Related", "provider"): (provider_of, ASYNC),
    ("Related", "images"): (images, SYNC),
    ("Related", "article"): (related_article, ASYNC),
    ("Image", "isCached"): (image_cached, SYNC),
    ("Image", "aspectRatio"): (image_aspect_ratio, SYNC),
    ("Provider", "articles"): (provider_articles, SYNC),
    ("Topic", "articles"): (topic_articles, SYNC),
    ("Story", "articles"): (story_articles, SYNC),
    ("Story", "providers"): (story_providers, ASYNC),
    ("Story", "topics"): (story_topics, SYNC),
    ("ArticleConnection", "facets"): (facets, SYNC),
    ("ArticleConnection", "disjunctiveFacets"): (disjunctive_facets, SYNC),
    ("FacetCount", "value"): (_index(0), SYNC),
    ("FacetCount", "count"): (_index(1), SYNC),
    ("FacetCount", "provider"): (facet_count_provider, ASYNC),
    ("DateTimeRange", "min"): (_index(0), SYNC),
    ("DateTimeRange", "max"): (_index(1), SYNC),
    ("ArticleFacets", "topics"): (_facet_counts("topics", "topics"), ASYNC),
    ("ArticleFacets", "providers"): (_facet_counts("provider", "providers"), ASYNC),
    ("ArticleFacets", "categories"): (_facet_counts("category", "categories"), ASYNC),
    ("ArticleFacets", "types"): (_facet_counts("type", "types"), ASYNC),
    ("ArticleFacets", "published"): (facet_published, ASYNC),
    ("ArticleFacets", "quality"): (_int_stats("quality"), ASYNC),
    ("ArticleFacets", "heat"): (_int_stats("heat"), ASYNC),
    ("ArticleFacets", "publishedDateTime"): (facet_date_range, ASYNC),
    ("ArticleFacets", "histogram"): (facet_histogram, ASYNC),
}
for _connection in ("ArticleConnection", "ProviderConnection", "StoryConnection"):
    HANDLERS[(_connection, "edges")] = (edges, ASYNC)
    HANDLERS[(_connection, "nodes")] = (nodes, ASYNC)
    HANDLERS[(_connection, "pageInfo")] = (page_info, ASYNC)
    HANDLERS[(_connection, "totalCount")] = (total_count, ASYNC)
for _edge in ("ArticleEdge", "ProviderEdge", "StoryEdge"):
    HANDLERS[(_edge, "cursor")] = (_index(0), SYNC)
    HANDLERS[(_edge, "node")] = (_index(1), SYNC)
for _name in ("count", "min", "max", "avg"):
    HANDLERS[("IntStats", _name)] = (_attr(_name), SYNC)
for _name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"):
    HANDLERS[("PageInfo", _name)] = (_page_info_field(_name), SYNC)
# Fields served as stored (a missing key is null).
_STORED: Mapping[str, tuple[str, ...]] = {
    "Article": ("id", "title", "excerpt", "category", "type", "quality", "heat", "publishedDateTime",
                "originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl"),
    "Related": ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl", "type", "quality"),
    "Image": ("url", "width", "height"),
    "Provider": ("name", "domain", "articleCount"),
    "Topic": ("name", "articleCount"),
    "Story": ("id", "headline", "articleCount", "coverageCount", "firstPublishedDateTime", "lastPublishedDateTime"),
    # A subscription event (graph.live builds it as a dict: kind, id, article, version).
    "ArticleChange": ("kind", "id", "article", "version"),
}
for _type, _names in _STORED.items():
    for _name in _names:
        HANDLERS[(_type, _name)] = (_get(_name), SYNC)


def _event(sources: list[Any], args: dict[str, Any], context: Context) -> list[Any]:
    return sources


# A subscription's events are its root values (graph.live runs the selection over each).
HANDLERS[("Subscription", "articleChanges")] = (_event, SYNC)
# Where a subscription's events come from, by field.
STREAMS: dict[tuple[str, str], Callable[[Any, dict[str, Any], Context], Any]] = {
    ("Subscription", "articleChanges"): article_changes_stream,
}
