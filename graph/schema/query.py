"""The Query root (declared here; graph.schema.fields answers every field)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry import UNSET

from graph.schema.inputs import ArticleFilter, ArticleOrder, ProviderFilter, ProviderOrder
from graph.schema.stories import Story, StoryConnection, StoryOrder
from graph.schema.types import Article, ArticleConnection, Provider, ProviderConnection, Topic


@strawberry.type
class Query:
    @strawberry.field(description="One article by its id. Null when there is none.")
    def article(self, id: strawberry.ID) -> Optional[Article]: ...

    @strawberry.field(
        description=(
            "The article whose originalUrl, webUrl, ampWebUrl or cdnAmpWebUrl equals this URL. "
            "Null when there is none."
        )
    )
    def article_by_url(self, url: str) -> Optional[Article]: ...

    @strawberry.field(description="Articles, filtered, searched, ordered and paged (Relay cursor connection).")
    def articles(
        self,
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
    ) -> ArticleConnection: ...

    @strawberry.field(
        description=(
            "A provider by its domain (providers are known from articles and from related items). Null when unknown."
        )
    )
    def provider(self, domain: str) -> Optional[Provider]: ...

    @strawberry.field(description="Known providers. Default order: ARTICLE_COUNT DESC, then NAME ASC.")
    def providers(
        self,
        where: Optional[ProviderFilter] = UNSET,
        order_by: Optional[list[ProviderOrder]] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> ProviderConnection: ...

    @strawberry.field(description="A topic by its exact name. Null when no article has it.")
    def topic(self, name: str) -> Optional[Topic]: ...

    @strawberry.field(description="All topics that articles carry, most used first (ties by name).")
    def topics(self, first: Optional[int] = UNSET) -> list[Topic]: ...

    @strawberry.field(
        description=(
            "Stories: stored articles grouped by the coverage they share (see Story). Only stories with at least one "
            "article matching where/search are listed; totalCount counts those stories. Default order: "
            "LAST_PUBLISHED_DATE_TIME DESC. Ties are always broken by id ASC."
        )
    )
    def stories(
        self,
        where: Optional[ArticleFilter] = UNSET,
        search: Optional[str] = UNSET,
        order_by: Optional[list[StoryOrder]] = UNSET,
        first: Optional[int] = UNSET,
        after: Optional[str] = UNSET,
        last: Optional[int] = UNSET,
        before: Optional[str] = UNSET,
    ) -> StoryConnection: ...

    @strawberry.field(description="The story with this id, or the story of the article with this id. Null when neither exists.")
    def story(self, id: strawberry.ID) -> Optional[Story]: ...
