"""The Query root."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry import UNSET

from graph.schema.inputs import ArticleFilter, ArticleOrder, ProviderFilter, ProviderOrder
from graph.schema.types import (
    Article,
    ArticleConnection,
    Info,
    Provider,
    ProviderConnection,
    Topic,
    _given,
    article_connection,
    provider_connection,
)
from graph.errors import UserInputError
from graph.schema.stories import Story, StoryConnection, StoryOrder, story_connection, story_of


@strawberry.type
class Query:
    @strawberry.field(description="One article by its id. Null when there is none.")
    async def article(self, info: Info, id: strawberry.ID) -> Optional[Article]:
        doc = await info.context.articles.load(str(id))
        return Article.from_document(doc) if doc else None

    @strawberry.field(
        description=(
            "The article whose originalUrl, webUrl, ampWebUrl or cdnAmpWebUrl equals this URL. "
            "Null when there is none."
        )
    )
    async def article_by_url(self, info: Info, url: str) -> Optional[Article]:
        doc = await info.context.by_url.load(url)
        return Article.from_document(doc) if doc else None

    @strawberry.field(description="Articles, filtered, searched, ordered and paged (Relay cursor connection).")
    def articles(
        self,
        info: Info,
        where: Optional[ArticleFilter] = UNSET,
        search: Annotated[
            Optional[str],
            strawberry.argument(
                description=(
                    "Full-text search over title, excerpt, body, topics, provider name and related titles; every term "
                    "must match a word (case- and accent-folded); a term ending in * matches as a prefix; \"quoted "
                    "words\" must occur in this order in one field, OR between terms matches either, -term excludes "
                    "(see DESIGN)."
                )
            ),
        ] = UNSET,
        order_by: Annotated[
            Optional[list[ArticleOrder]],
            strawberry.argument(
                description=(
                    "Default: PUBLISHED_DATE_TIME DESC, or RELEVANCE DESC when search is given. "
                    "Ties are always broken by id ASC."
                )
            ),
        ] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> ArticleConnection:
        return article_connection(info, where, search, order_by, first, after, last, before)

    @strawberry.field(
        description=(
            "A provider by its domain (providers are known from articles and from related items). Null when unknown."
        )
    )
    async def provider(self, info: Info, domain: str) -> Optional[Provider]:
        found = await info.context.providers.load(domain)
        return Provider.from_info(found) if found else None

    @strawberry.field(description="Known providers. Default order: ARTICLE_COUNT DESC, then NAME ASC.")
    def providers(
        self,
        info: Info,
        where: Optional[ProviderFilter] = UNSET,
        order_by: Optional[list[ProviderOrder]] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> ProviderConnection:
        return provider_connection(info, where, order_by, first, after, last, before)

    @strawberry.field(description="A topic by its exact name. Null when no article has it.")
    async def topic(self, info: Info, name: str) -> Optional[Topic]:
        (found,) = await info.context.reader.get_topics([name])
        return Topic(name=found["name"], article_count=found["articleCount"]) if found else None

    @strawberry.field(description="All topics that articles carry, most used first (ties by name).")
    async def topics(self, info: Info, first: Optional[int] = UNSET) -> list[Topic]:
        first = _given(first)
        if first is not None and first < 0:
            raise UserInputError(f"topics: first must be 0 or more, got {first}")
        found = await info.context.reader.list_topics(first)
        return [Topic(name=t["name"], article_count=t["articleCount"]) for t in found]

    @strawberry.field(
        description=(
            "Stories: stored articles grouped by the coverage they share (see Story). Only stories with at least one "
            "article matching where/search are listed; totalCount counts those stories. Default order: "
            "LAST_PUBLISHED_DATE_TIME DESC. Ties are always broken by id ASC."
        )
    )
    def stories(
        self,
        info: Info,
        where: Optional[ArticleFilter] = UNSET,
        search: Optional[str] = UNSET,
        order_by: Optional[list[StoryOrder]] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> StoryConnection:
        return story_connection(info, where, search, order_by, first, after, last, before)

    @strawberry.field(description="The story with this id, or the story of the article with this id. Null when neither exists.")
    async def story(self, info: Info, id: strawberry.ID) -> Optional[Story]:
        return await story_of(info, str(id))
