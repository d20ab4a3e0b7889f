"""The filter language: a small immutable AST built from GraphQL filter inputs.

Stores never see Python callables: the TinyDB store evaluates this AST over its
documents (narrowed by indexes), the PostgreSQL store compiles it to SQL. The
``matches`` function here is the reference (naive) evaluation both are tested
against.

Semantics (DESIGN.md "Query semantics"): operators in one input are ANDed,
fields of one filter are ANDed; a missing or null value matches only
``isNull: true``, ``ne`` and ``notIn``; contains/startsWith/endsWith compare
casefolded; eq/in and list membership are exact. A filter is evaluated on the
values the API serves: an article without ``published`` is unpublished, one
without topics has an empty list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Union

from graph.dates import parse_datetime


class FilterError(ValueError):
    """A filter input that cannot be used (e.g. a DateTime that does not parse)."""


@dataclass(frozen=True, slots=True)
class Compare:
    """``field op value`` on the current entity. ``value`` is hashable (tuples for lists)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Filter


@dataclass(frozen=True, slots=True)
class Each:
    """A quantifier over a list of sub-entities: ``some``, ``every`` or ``none`` element matches."""

    field: str
    quantifier: str
    filter: Filter


@dataclass(frozen=True, slots=True)
class ProviderIs:
    """Re-scope to the provider as the catalog knows it (canonical name, domain, articleCount)."""

    filter: Filter


Filter = Union[Compare, And, Or, Not, Each, ProviderIs]
TRUE: Filter = And(())
FALSE: Filter = Or(())

# Entity -> field -> kind. Kinds: str, int, bool, datetime, strlist, provider, images, related.
ENTITIES: dict[str, dict[str, str]] = {
    "article": {
        "id": "str",
        "title": "str",
        "excerpt": "str",
        "body": "str",
        "category": "str",
        "type": "str",
        "quality": "int",
        "heat": "int",
        "published": "bool",
        "publishedDateTime": "datetime",
        "originalUrl": "str",
        "webUrl": "str",
        "topics": "strlist",
        "provider": "provider",
        "images": "images",
        "related": "related",
        # The article's story id (graph.stories.in_story): kept by the stores, not in documents or ArticleFilter.
        "story": "str",
    },
    "related": {
        "title": "str",
        "excerpt": "str",
        "publishedDateTime": "datetime",
        "webUrl": "str",
        "type": "str",
        "quality": "int",
        "provider": "provider",
        "images": "images",
    },
    "image": {"url": "str", "width": "int", "height": "int", "isCached": "bool"},
    "provider": {"name": "str", "domain": "str", "articleCount": "int"},
}
# What a missing value is served as (and so filtered as).
DEFAULTS: dict[tuple[str, str], Any] = {
    ("article", "body"): "",
    ("article", "published"): False,
    ("article", "topics"): (),
    ("article", "images"): (),
    ("article", "related"): (),
    ("related", "images"): (),
    ("image", "isCached"): False,
}
OPS = {
    "str": ("eq", "ne", "in", "notIn", "contains", "startsWith", "endsWith", "isNull"),
    "int": ("eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte", "isNull"),
    "bool": ("eq", "isNull"),
    "datetime": ("eq", "gt", "gte", "lt", "lte", "isNull"),
    "strlist": ("has", "hasSome", "hasEvery", "isEmpty"),
}
SUB_ENTITY = {"images": "image", "related": "related"}
# Article fields that live in the document rather than in a column of their own (long text,
# lists of items): a condition on one costs a store about ten column conditions per article.
DOCUMENT_FIELDS = frozenset({"excerpt", "body", "originalUrl", "webUrl", "images", "related"})
DOCUMENT_WORK = 10


# ---- building from GraphQL input (plain mappings, contract field names) -----


def build(entity: str, data: Mapping[str, Any] | None) -> Filter:
    """An AST from a filter input given as a mapping; None/absent entries are ignored."""
    if not data:
        return TRUE
    fields = ENTITIES[entity]
    parts: list[Filter] = []
    for name, value in data.items():
        if value is None:
            continue
        if name == "AND":
            parts.append(And(tuple(build(entity, item) for item in value)))
        elif name == "OR":
            parts.append(Or(tuple(build(entity, item) for item in value)))
        elif name == "NOT":
            parts.append(Not(build(entity, value)))
        elif name not in fields:
            raise FilterError(f"unknown filter field {name!r}")
        else:
            kind = fields[name]
            if kind == "provider":
                parts.append(ProviderIs(build("provider", value)))
            elif kind in SUB_ENTITY:
                parts.extend(_build_list(name, SUB_ENTITY[kind], value))
            else:
                parts.extend(_build_scalar(name, kind, value))
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _build_list(name: str, sub: str, data: Mapping[str, Any]) -> list[Filter]:
    parts: list[Filter] = []
    for op, value in data.items():
        if value is None:
            continue
        if op in ("some", "every", "none"):
            parts.append(Each(name, op, build(sub, value)))
        elif op == "isEmpty":
            parts.append(Compare(name, "isEmpty", bool(value)))
        else:
            raise FilterError(f"unknown operator {op!r} for {name}")
    return parts


def _build_scalar(name: str, kind: str, data: Mapping[str, Any]) -> list[Filter]:
    parts: list[Filter] = []
    for op, value in data.items():
        if value is None:
            continue
        if op not in OPS[kind]:
            raise FilterError(f"unknown operator {op!r} for {name}")
        if op in ("isNull", "isEmpty"):
            parts.append(Compare(name, op, bool(value)))
        elif op in ("in", "notIn", "hasSome", "hasEvery"):
            parts.append(Compare(name, op, tuple(_operand(name, kind, v) for v in value)))
        elif op in ("contains", "startsWith", "endsWith"):
            parts.append(Compare(name, op, str(value).casefold()))
        else:
            parts.append(Compare(name, op, _operand(name, kind, value)))
    return parts


def _operand(name: str, kind: str, value: Any) -> Any:
    if kind == "datetime":
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise FilterError(f"{name}: {exc}") from None
    return value


# ---- reference evaluation -----------------------------------------------------


ProviderLookup = Callable[[str], Mapping[str, Any] | None]


def value_of(entity: str, obj: Mapping[str, Any], field: str) -> Any:
    """The value a filter sees: what the API serves for this field."""
    value = obj.get(field)
    if value is None:
        return DEFAULTS.get((entity, field))
    return value


def matches(f: Filter, obj: Mapping[str, Any], entity: str, providers: ProviderLookup) -> bool:
    """Naive, direct evaluation of a filter on one entity (a stored document or a part of one)."""
    if isinstance(f, And):
        return all(matches(p, obj, entity, providers) for p in f.parts)
    if isinstance(f, Or):
        return any(matches(p, obj, entity, providers) for p in f.parts)
    if isinstance(f, Not):
        return not matches(f.part, obj, entity, providers)
    if isinstance(f, ProviderIs):
        own = obj.get("provider")
        domain = own.get("domain") if isinstance(own, Mapping) else None
        provider = (providers(domain) if domain is not None else None) or {}
        return matches(f.filter, provider, "provider", providers)
    if isinstance(f, Each):
        sub = SUB_ENTITY[f.field]
        items = value_of(entity, obj, f.field)
        if f.quantifier == "some":
            return any(matches(f.filter, item, sub, providers) for item in items)
        if f.quantifier == "every":
            return all(matches(f.filter, item, sub, providers) for item in items)
        return not any(matches(f.filter, item, sub, providers) for item in items)
    return compare(ENTITIES[entity][f.field], f.op, value_of(entity, obj, f.field), f.value)


def compare(kind: str, op: str, actual: Any, operand: Any) -> bool:
    """One operator on one value, with document-store null semantics."""
    if op == "isEmpty":
        return (len(actual) == 0) == operand
    if kind == "strlist":
        if op == "has":
            return operand in actual
        if op == "hasSome":
            return any(item in actual for item in operand)
        return all(item in actual for item in operand)
    if op == "isNull":
        return (actual is None) == operand
    if actual is None:
        return op in ("ne", "notIn")
    if kind == "datetime":
        actual = instant(actual)
    if op == "eq":
        return actual == operand
    if op == "ne":
        return actual != operand
    if op == "in":
        return actual in operand
    if op == "notIn":
        return actual not in operand
    if op == "gt":
        return actual > operand
    if op == "gte":
        return actual >= operand
    if op == "lt":
        return actual < operand
    if op == "lte":
        return actual <= operand
    folded = actual.casefold()
    if op == "contains":
        return operand in folded
    if op == "startsWith":
        return folded.startswith(operand)
    if op == "endsWith":
        return folded.endswith(operand)
    raise FilterError(f"unknown operator {op!r}")


@lru_cache(maxsize=65536)
def instant(text: str) -> datetime:
    """A stored date-time string as an aware datetime (stored values are normalized UTC)."""
    return parse_datetime(text)


def fields_used(f: Filter) -> set[str]:
    """Top-level field names a filter reads (used to pick indexes)."""
    if isinstance(f, (And, Or)):
        out: set[str] = set()
        for part in f.parts:
            out |= fields_used(part)
        return out
    if isinstance(f, Not):
        return fields_used(f.part)
    if isinstance(f, ProviderIs):
        return {"provider"}
    return {f.field}


def work(f: Filter, entity: str = "article") -> int:
    """Work units of a filter per article it is checked on: 1 a column condition, more for document fields.

    A request's filter work (this times the articles it may be checked on) is
    priced before it runs against the filter work limit (graph.budget).
    """
    if isinstance(f, (And, Or)):
        return sum(work(p, entity) for p in f.parts)
    if isinstance(f, Not):
        return work(f.part, entity)
    if isinstance(f, ProviderIs):
        return 1 + work(f.filter, "provider")
    if isinstance(f, Each):
        return DOCUMENT_WORK * (1 + work(f.filter, SUB_ENTITY[f.field]))
    if entity == "article" and f.field in DOCUMENT_FIELDS:
        return DOCUMENT_WORK
    return 1
