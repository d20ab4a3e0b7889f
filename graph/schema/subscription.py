"""The Subscription root: live article changes (served by graph.live over WebSocket and SSE;
graph.schema.fields says what the field streams and answers)."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Optional

import strawberry
from strawberry import UNSET

from graph.schema.inputs import ArticleFilter
from graph.schema.types import Article


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
    ) -> AsyncIterator[ArticleChange]: ...
