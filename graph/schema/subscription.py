"""The Subscription root: live article changes (served by graph.live over WebSocket and SSE)."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Optional

import strawberry
from strawberry import UNSET

from graph.schema.fields import change_query
from graph.schema.inputs import ArticleFilter, as_mapping
from graph.schema.types import Article
from graph.store.base import ArticleQuery


@strawberry.enum
class ChangeKind(enum.Enum):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


@strawberry.type
class ArticleChange:
    kind: ChangeKind
    id: strawberry.ID = strawberry.field(description="The article's id.")
    article: Optional[Article] = strawberry.field(description="The article as it is after the write; null when REMOVED.")
    version: str = strawberry.field(
        description="The data version the write produced (the version /healthz reports and ETags are made from)."
    )


@dataclass(frozen=True)
class ChangeStream:
    """What a subscription asks for: the articles its events are about (graph.live matches and delivers).

    The source stream graphql-core gets from the root field; graph.live reads
    ``query`` from it and feeds the subscribers itself, so iterating it here
    yields nothing.
    """

    query: ArticleQuery

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


@strawberry.type(
    description=(
        "Live changes, pushed over GraphQL over WebSocket (graphql-transport-ws) and GraphQL over Server-Sent "
        "Events (graphql-sse) at /graphql."
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "One event per article that a committed write (a seed, or a batch of seed --watch) added, updated or "
            "removed, for articles matching where/search: ADDED and UPDATED are matched as the article is after the "
            "write, REMOVED as it was before; an UPDATED article that matched before but no longer does is sent too. "
            "Events of one write arrive after its data is visible to queries, in article id order."
        )
    )
    def article_changes(
        self, where: Optional[ArticleFilter] = UNSET, search: Optional[str] = UNSET
    ) -> AsyncIterator[ArticleChange]:
        # graphql-core asks for the stream here (graph.live): what the subscription selects.
        query = change_query({"where": as_mapping(where), "search": None if search is UNSET else search})
        return ChangeStream(query)  # type: ignore[return-value]
