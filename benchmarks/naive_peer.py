"""The naive peer: a plain Strawberry server with default settings.

It serves the same documents, held as plain objects in memory, through the
same type and field names for the benchmark's page query, so that its
requests/s is what "stock Strawberry over in-memory data" gives. It is kept
small and honest: default schema config, the stock ASGI view, no caches, no
custom execution. Run with ``python -m benchmarks.naive_peer DB_FILE PORT``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

import orjson
import strawberry
import uvicorn
from strawberry.asgi import GraphQL


@dataclass
class ProviderData:
    name: str
    domain: str


@strawberry.type
class Provider:
    name: str
    domain: str
    article_count: int


@strawberry.type
class Image:
    url: str
    width: Optional[int]
    height: Optional[int]
    is_cached: bool


@strawberry.type
class Related:
    title: str
    excerpt: Optional[str]
    published_date_time: Optional[str]
    web_url: Optional[str]
    type: Optional[str]
    quality: Optional[int]
    provider: Optional[Provider]
    images: list[Image]


@strawberry.type
class Article:
    id: strawberry.ID
    title: str
    excerpt: Optional[str]
    body: str
    category: Optional[str]
    type: Optional[str]
    quality: Optional[int]
    heat: Optional[int]
    published: bool
    published_date_time: Optional[str]
    original_url: Optional[str]
    web_url: Optional[str]
    topics: list[str]
    provider: Optional[Provider]
    images: list[Image]
    related: list[Related]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Optional[str]
    end_cursor: Optional[str]


@strawberry.type
class ArticleEdge:
    cursor: str
    node: Article


@strawberry.type
class ArticleConnection:
    edges: list[ArticleEdge]
    nodes: list[Article]
    page_info: PageInfo
    total_count: int


ARTICLES: list[Article] = []
BY_ID: dict[str, Article] = {}


def _images(items: list[dict]) -> list[Image]:
    return [Image(url=i["url"], width=i.get("width"), height=i.get("height"), is_cached=bool(i.get("isCached"))) for i in items or []]


def load(path: str) -> None:
    data = orjson.loads(open(path, "rb").read())
    docs = sorted(data["articles"].values(), key=lambda d: (d.get("publishedDateTime") or "", d["id"]), reverse=True)
    counts: dict[str, int] = {}
    for doc in docs:
        if doc.get("provider"):
            counts[doc["provider"]["domain"]] = counts.get(doc["provider"]["domain"], 0) + 1

    def provider(p: dict | None) -> Provider | None:
        if not p:
            return None
        return Provider(name=p.get("name") or p["domain"], domain=p["domain"], article_count=counts.get(p["domain"], 0))

    for doc in docs:
        article = Article(
            id=strawberry.ID(doc["id"]),
            title=doc["title"],
            excerpt=doc.get("excerpt"),
            body=doc.get("body") or "",
            category=doc.get("category"),
            type=doc.get("type"),
            quality=doc.get("quality"),
            heat=doc.get("heat"),
            published=bool(doc.get("published")),
            published_date_time=doc.get("publishedDateTime"),
            original_url=doc.get("originalUrl"),
            web_url=doc.get("webUrl"),
            topics=list(doc.get("topics") or []),
            provider=provider(doc.get("provider")),
            images=_images(doc.get("images")),
            related=[
                Related(
                    title=r["title"],
                    excerpt=r.get("excerpt"),
                    published_date_time=r.get("publishedDateTime"),
                    web_url=r.get("webUrl"),
                    type=r.get("type"),
                    quality=r.get("quality"),
                    provider=provider(r.get("provider")),
                    images=_images(r.get("images")),
                )
                for r in doc.get("related") or []
            ],
        )
        ARTICLES.append(article)
        BY_ID[doc["id"]] = article


@strawberry.type
class Query:
    @strawberry.field
    def article(self, id: strawberry.ID) -> Optional[Article]:
        return BY_ID.get(str(id))

    @strawberry.field
    def articles(self, first: int = 20, after: Optional[str] = None) -> ArticleConnection:
        start = int(after) + 1 if after else 0
        page = ARTICLES[start : start + first]
        edges = [ArticleEdge(cursor=str(start + i), node=a) for i, a in enumerate(page)]
        return ArticleConnection(
            edges=edges,
            nodes=page,
            page_info=PageInfo(
                has_next_page=start + first < len(ARTICLES),
                has_previous_page=start > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=len(ARTICLES),
        )


schema = strawberry.Schema(query=Query)
app = GraphQL(schema)


if __name__ == "__main__":
    load(sys.argv[1])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
