"""Filter and ordering inputs and enums of the contract (graphql-core hands their values to the
batch functions as plain dicts and enum members; graph.filters builds filters from them)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry

from graph.schema.scalars import DateTime


@strawberry.input
class StringFilter:
    eq: Optional[str] = strawberry.UNSET
    ne: Optional[str] = strawberry.UNSET
    in_: Optional[list[str]] = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: Optional[list[str]] = strawberry.UNSET
    contains: Optional[str] = strawberry.field(
        default=strawberry.UNSET, description="Case-insensitive (Unicode casefold) substring."
    )
    starts_with: Optional[str] = strawberry.field(default=strawberry.UNSET, description="Case-insensitive prefix.")
    ends_with: Optional[str] = strawberry.field(default=strawberry.UNSET, description="Case-insensitive suffix.")
    is_null: Optional[bool] = strawberry.UNSET


@strawberry.input
class IntFilter:
    eq: Optional[int] = strawberry.UNSET
    ne: Optional[int] = strawberry.UNSET
    in_: Optional[list[int]] = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: Optional[list[int]] = strawberry.UNSET
    gt: Optional[int] = strawberry.UNSET
    gte: Optional[int] = strawberry.UNSET
    lt: Optional[int] = strawberry.UNSET
    lte: Optional[int] = strawberry.UNSET
    is_null: Optional[bool] = strawberry.UNSET


@strawberry.input
class BooleanFilter:
    eq: Optional[bool] = strawberry.UNSET
    is_null: Optional[bool] = strawberry.UNSET


@strawberry.input
class DateTimeFilter:
    eq: Optional[DateTime] = strawberry.UNSET
    gt: Optional[DateTime] = strawberry.UNSET
    gte: Optional[DateTime] = strawberry.UNSET
    lt: Optional[DateTime] = strawberry.UNSET
    lte: Optional[DateTime] = strawberry.UNSET
    is_null: Optional[bool] = strawberry.UNSET


@strawberry.input(description="Over a list of strings (topics): exact, case-sensitive elements.")
class StringListFilter:
    has: Optional[str] = strawberry.UNSET
    has_some: Optional[list[str]] = strawberry.UNSET
    has_every: Optional[list[str]] = strawberry.UNSET
    is_empty: Optional[bool] = strawberry.UNSET


@strawberry.input
class ImageFilter:
    url: Optional[StringFilter] = strawberry.UNSET
    width: Optional[IntFilter] = strawberry.UNSET
    height: Optional[IntFilter] = strawberry.UNSET
    is_cached: Optional[BooleanFilter] = strawberry.UNSET


@strawberry.input(
    description=(
        "some: at least one element matches; every: all elements match (true for an empty list); "
        "none: no element matches."
    )
)
class ImageListFilter:
    some: Optional[ImageFilter] = strawberry.UNSET
    every: Optional[ImageFilter] = strawberry.UNSET
    none: Optional[ImageFilter] = strawberry.UNSET
    is_empty: Optional[bool] = strawberry.UNSET


@strawberry.input
class ProviderFilter:
    name: Optional[StringFilter] = strawberry.UNSET
    domain: Optional[StringFilter] = strawberry.UNSET
    article_count: Optional[IntFilter] = strawberry.UNSET
    and_: Optional[list[ProviderFilter]] = strawberry.field(name="AND", default=strawberry.UNSET)
    or_: Optional[list[ProviderFilter]] = strawberry.field(name="OR", default=strawberry.UNSET)
    not_: Optional[ProviderFilter] = strawberry.field(name="NOT", default=strawberry.UNSET)


@strawberry.input
class RelatedFilter:
    title: Optional[StringFilter] = strawberry.UNSET
    excerpt: Optional[StringFilter] = strawberry.UNSET
    published_date_time: Optional[DateTimeFilter] = strawberry.UNSET
    web_url: Optional[StringFilter] = strawberry.UNSET
    type: Optional[StringFilter] = strawberry.UNSET
    quality: Optional[IntFilter] = strawberry.UNSET
    provider: Optional[ProviderFilter] = strawberry.UNSET
    images: Optional[ImageListFilter] = strawberry.UNSET
    and_: Optional[list[RelatedFilter]] = strawberry.field(name="AND", default=strawberry.UNSET)
    or_: Optional[list[RelatedFilter]] = strawberry.field(name="OR", default=strawberry.UNSET)
    not_: Optional[RelatedFilter] = strawberry.field(name="NOT", default=strawberry.UNSET)


@strawberry.input
class RelatedListFilter:
    some: Optional[RelatedFilter] = strawberry.UNSET
    every: Optional[RelatedFilter] = strawberry.UNSET
    none: Optional[RelatedFilter] = strawberry.UNSET
    is_empty: Optional[bool] = strawberry.UNSET


@strawberry.input(description="AND: [] matches everything; OR: [] matches nothing.")
class ArticleFilter:
    id: Optional[StringFilter] = strawberry.UNSET
    title: Optional[StringFilter] = strawberry.UNSET
    excerpt: Optional[StringFilter] = strawberry.UNSET
    body: Optional[StringFilter] = strawberry.UNSET
    category: Optional[StringFilter] = strawberry.UNSET
    type: Optional[StringFilter] = strawberry.UNSET
    quality: Optional[IntFilter] = strawberry.UNSET
    heat: Optional[IntFilter] = strawberry.UNSET
    published: Optional[BooleanFilter] = strawberry.UNSET
    published_date_time: Optional[DateTimeFilter] = strawberry.UNSET
    original_url: Optional[StringFilter] = strawberry.UNSET
    web_url: Optional[StringFilter] = strawberry.UNSET
    topics: Optional[StringListFilter] = strawberry.UNSET
    provider: Optional[ProviderFilter] = strawberry.UNSET
    images: Optional[ImageListFilter] = strawberry.UNSET
    related: Optional[RelatedListFilter] = strawberry.UNSET
    and_: Optional[list[ArticleFilter]] = strawberry.field(name="AND", default=strawberry.UNSET)
    or_: Optional[list[ArticleFilter]] = strawberry.field(name="OR", default=strawberry.UNSET)
    not_: Optional[ArticleFilter] = strawberry.field(name="NOT", default=strawberry.UNSET)


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="Nulls sort last in both directions.")
class ArticleSortField(Enum):
    PUBLISHED_DATE_TIME = "publishedDateTime"
    QUALITY = "quality"
    HEAT = "heat"
    TITLE = "title"
    PROVIDER_NAME = "providerName"
    ID = "id"
    RELEVANCE = strawberry.enum_value("relevance", description="Only with search.")


@strawberry.input
class ArticleOrder:
    field: ArticleSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.enum
class ProviderSortField(Enum):
    NAME = "name"
    DOMAIN = "domain"
    ARTICLE_COUNT = "articleCount"


@strawberry.input
class ProviderOrder:
    field: ProviderSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.enum
class DateInterval(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
