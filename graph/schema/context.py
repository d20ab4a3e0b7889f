"""Per-request context: one pinned store reader, fresh DataLoaders, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from graph.config import Limits
from graph.store.base import Document, Reader


@dataclass
class Context:
    reader: Reader
    limits: Limits = field(default_factory=Limits)
    providers: DataLoader[str, dict[str, Any] | None] = field(init=False)
    by_url: DataLoader[str, Document | None] = field(init=False)
    articles: DataLoader[str, Document | None] = field(init=False)
    stories: DataLoader[str, dict[str, Any] | None] = field(init=False)

    def __post_init__(self) -> None:
        reader = self.reader
        # Batched per request, so a page of 100 articles costs one store call per relation.
        self.providers = DataLoader(load_fn=lambda keys: reader.get_providers(list(keys)))
        self.by_url = DataLoader(load_fn=lambda keys: reader.get_articles_by_url(list(keys)))
        self.articles = DataLoader(load_fn=lambda keys: reader.get_articles(list(keys)))
        self.stories = DataLoader(load_fn=lambda keys: reader.get_stories(list(keys)))
