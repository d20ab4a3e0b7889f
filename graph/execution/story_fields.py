"""The compiled path's handlers for stories (graph.execution.plan): Query.stories/story, Article.story, Story.

Each field is answered from the same store calls and the same functions as its
Strawberry resolver (graph.schema.stories, graph.stories).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph import search, stories
from graph.execution.plan import ConnectionState, Fallback, Runtime, _article_state, _get, _index, _ordering, _page_info
from graph import paging
from graph.schema.inputs import to_filter
from graph.schema.stories import story_order


def _query_stories(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    try:
        f = to_filter("article", args.get("where"))
        text = args.get("search")
        terms = search.parse_query(text) if text is not None else None
        order = story_order(_ordering(args.get("orderBy")))
        window = paging.window(
            args.get("first"), args.get("after"), args.get("last"), args.get("before"), order, runtime.max_page_size
        )
    except Exception as exc:
        raise Fallback(str(exc)) from None
    return [ConnectionState(stories.StoryQuery(filter=f, search=terms, order=order), window, "story") for _ in sources]


async def _query_story(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_stories([str(args["id"])])


async def _article_story(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return await runtime.reader.get_stories([doc["id"] for doc in sources])


def _story_articles(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    return [_article_state(args, runtime, stories.in_story(s["id"])) for s in sources]


async def _story_providers(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    domains = sorted({domain for s in sources for domain in stories.provider_domains(s)})
    known = dict(zip(domains, await runtime.reader.get_providers(domains)))
    return [[p for d in stories.provider_domains(s) if (p := known[d]) is not None] for s in sources]


def _story_topics(sources: list[Any], args: dict[str, Any], runtime: Runtime) -> list[Any]:
    first = args.get("first")
    try:
        paging.check_list_size("topics", first, runtime.max_list_size)
    except Exception as exc:
        raise Fallback(str(exc)) from None
    return [stories.top_topics(s, first) for s in sources]


def _connection(kind: str) -> dict[tuple[str, str], tuple[Callable[..., Any], bool]]:
    from graph.execution.plan import _edges, _nodes, _total_count

    return {
        (kind, "edges"): (_edges, True),
        (kind, "nodes"): (_nodes, True),
        (kind, "pageInfo"): (_page_info, True),
        (kind, "totalCount"): (_total_count, True),
    }


STORY_HANDLERS: dict[tuple[str, str], tuple[Callable[..., Any], bool]] = {
    ("Query", "stories"): (_query_stories, False),
    ("Query", "story"): (_query_story, True),
    ("Article", "story"): (_article_story, True),
    ("Story", "articles"): (_story_articles, False),
    ("Story", "providers"): (_story_providers, True),
    ("Story", "topics"): (_story_topics, False),
    ("StoryEdge", "cursor"): (_index(0), False),
    ("StoryEdge", "node"): (_index(1), False),
    **_connection("StoryConnection"),
}
for _name in ("id", "headline", "articleCount", "coverageCount", "firstPublishedDateTime", "lastPublishedDateTime"):
    STORY_HANDLERS[("Story", _name)] = (_get(_name), False)
