"""The Snippet, TextRange and TextField types of Article.snippets (graph.snippets computes them)."""

from __future__ import annotations

from enum import Enum

import strawberry

from graph import snippets


@strawberry.enum
class TextField(Enum):
    TITLE = "TITLE"
    EXCERPT = "EXCERPT"
    BODY = "BODY"


@strawberry.type
class TextRange:
    start: int
    end: int


@strawberry.type(description="A passage of an article's stored text, with where search terms occur in it.")
class Snippet:
    field: TextField
    text: str = strawberry.field(
        description=(
            "A substring of the field's text of at most `length` characters; it starts and ends at word "
            "boundaries unless the field itself starts or ends there."
        )
    )
    highlights: list[TextRange] = strawberry.field(
        description=(
            "Each occurrence of a term in text, as [start, end) offsets in Unicode code points, in order, "
            "never overlapping; at least one."
        )
    )

    @classmethod
    def from_snippet(cls, found: snippets.Snippet) -> Snippet:
        return cls(
            field=TextField(found.field),
            text=found.text,
            highlights=[TextRange(start=start, end=end) for start, end in found.highlights],
        )
