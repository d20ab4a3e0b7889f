"""disjunctiveFacets and FacetCount.provider, on both stores and both execution paths.

Each disjunctive facet counts the connection's matches without the connection's
own top-level where condition on the facet's field (DESIGN "Next"); conditions
inside AND/OR/NOT, the search and the enclosing scope (Provider.articles,
Topic.articles) stay. The property test generates documents and where inputs
(facet keys combined with AND/OR/NOT and a key no facet drops), runs every
query through the compiled plan and the stock resolvers, and holds both to a
brute-force reference written here: graph.filters.matches over the documents,
with the provider catalog computed independently (test_filters_property).
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from conftest import Api, article
from graphql import parse
from graphql import execute as graphql_execute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_filters_property import (
    ARTICLE_FILTER,
    BOOLEAN_FILTER,
    DATETIME_FILTER,
    DOMAINS,
    INTS,
    PROVIDER_FILTER,
    TEXTS,
    TOPICS,
    TOPICS_FILTER,
    catalog,
    documents,
    int_filter,
    refill,
    string_filter,
)

from graph import filters
from graph.execution import limits
from graph.config import Limits
from graph.execution.plan import PlanCache, run_plan
from graph.schema import schema
from graph.schema.context import Context

FACET_SELECTION = """
  topics(first: 100) { value count provider { domain } }
  providers(first: 100) { value count provider { name domain articleCount } }
  categories(first: 100) { value count }
  types(first: 100) { value count }
  published { value count provider { name } }
  quality { count min max avg }
  heat { count min max avg }
  publishedDateTime { min max }
  day: histogram(interval: DAY) { value count provider { name } }
  week: histogram(interval: WEEK) { value count }
  month: histogram(interval: MONTH) { value count }
  year: histogram(interval: YEAR) { value count }
"""
CONNECTION = "totalCount nodes { id } facets { %s } disjunctiveFacets { %s }" % (FACET_SELECTION, FACET_SELECTION)
SCOPES = {
    "articles": "query ($w: ArticleFilter, $s: String) { c: articles(where: $w, search: $s, first: 100) { %s } }",
    "provider": 'query ($w: ArticleFilter, $s: String, $d: String!) { provider(domain: $d) { c: articles(where: $w, search: $s, first: 100) { %s } } }',
    "topic": 'query ($w: ArticleFilter, $s: String, $t: String!) { topic(name: $t) { c: articles(where: $w, search: $s, first: 100) { %s } } }',
}
# Each facet (by its key in FACET_SELECTION) and the where key it drops.
DROPS = {
    "topics": "topics", "providers": "provider", "categories": "category", "types": "type", "published": "published",
    "quality": "quality", "heat": "heat", "publishedDateTime": "publishedDateTime",
    "day": "publishedDateTime", "week": "publishedDateTime", "month": "publishedDateTime", "year": "publishedDateTime",
}  # fmt: skip

# where inputs: any of the facet keys, a key no facet drops, and AND/OR/NOT holding facet keys too.
WHERE = st.fixed_dictionaries(
    {},
    optional={
        "topics": TOPICS_FILTER,
        "provider": PROVIDER_FILTER,
        "category": string_filter(TEXTS),
        "type": string_filter(TEXTS),
        "published": BOOLEAN_FILTER,
        "quality": int_filter(INTS),
        "heat": int_filter(INTS),
        "publishedDateTime": DATETIME_FILTER,
        "title": string_filter(TEXTS),
        "AND": st.lists(ARTICLE_FILTER, max_size=2),
        "OR": st.lists(ARTICLE_FILTER, min_size=1, max_size=2),
        "NOT": ARTICLE_FILTER,
    },
)
SEARCHES = [None, "alpha", "beta", "zeta", "a*"]


# ---- the reference ---------------------------------------------------------------------------


def ranked(counter: Counter[str]) -> list[dict[str, Any]]:
    return [{"value": v, "count": n} for v, n in sorted(counter.items(), key=lambda vn: (-vn[1], vn[0]))]


def stats(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "min": None, "max": None, "avg": None}
    return {"count": len(values), "min": min(values), "max": max(values), "avg": sum(values) / len(values)}


def bucket(day: str, interval: str) -> str:
    d = date.fromisoformat(day)
    if interval == "week":
        d -= timedelta(days=d.weekday())
    elif interval == "month":
        d = d.replace(day=1)
    elif interval == "year":
        d = d.replace(month=1, day=1)
    return d.isoformat()


def reference_facet(name: str, docs: list[dict[str, Any]], known: dict[str, Any]) -> Any:
    """One facet of a set of documents, computed the plain way."""
    if name == "topics":
        return [dict(c, provider=None) for c in ranked(Counter(t for d in docs for t in set(d.get("topics") or ())))]
    if name == "providers":
        domains = Counter(d["provider"]["domain"] for d in docs if d.get("provider"))
        return [dict(c, provider=known[c["value"]]) for c in ranked(domains)]
    if name in ("categories", "types"):
        key = "category" if name == "categories" else "type"
        return ranked(Counter(d[key] for d in docs if d.get(key) is not None))
    if name == "published":
        return [dict(c, provider=None) for c in ranked(Counter("true" if d.get("published") is True else "false" for d in docs))]
    if name in ("quality", "heat"):
        return stats([d[name] for d in docs if d.get(name) is not None])
    dates = sorted(d["publishedDateTime"] for d in docs if d.get("publishedDateTime"))
    if name == "publishedDateTime":
        return {"min": dates[0] if dates else None, "max": dates[-1] if dates else None}
    buckets = sorted(Counter(bucket(t[:10], name) for t in dates).items())
    counts = [{"value": v, "count": n} for v, n in buckets]
    return [dict(c, provider=None) for c in counts] if name == "day" else counts


def reference(docs: list[dict[str, Any]], where: dict[str, Any], found: set[str], scope: Any) -> dict[str, Any]:
    """totalCount, facets and disjunctiveFacets of a connection, by brute force.

    ``found``: ids the search matches (every id without search); ``scope``: a filter for the
    enclosing Provider.articles or Topic.articles (always applied).
    """
    known = catalog(docs)

    def matching(w: dict[str, Any]) -> list[dict[str, Any]]:
        f = filters.And((scope, filters.build("article", w)))
        return [d for d in docs if d["id"] in found and filters.matches(f, d, "article", known.get)]

    chosen = matching(where)
    disjunctive = {}
    for name, key in DROPS.items():
        without = matching({k: v for k, v in where.items() if k != key})
        disjunctive[name] = reference_facet(name, without, known)
    return {
        "totalCount": len(chosen),
        "nodes": sorted(d["id"] for d in chosen),
        "facets": {name: reference_facet(name, chosen, known) for name in DROPS},
        "disjunctiveFacets": disjunctive,
    }


# ---- running a query both ways ---------------------------------------------------------------


def both_ways(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The data of a query through the compiled plan, asserted equal to the stock resolvers' data."""
    document = parse(query)

    async def run() -> tuple[Any, Any]:
        reader = await api.store.reader()
        stock = graphql_execute(schema._schema, document, context_value=Context(reader=reader), variable_values=variables)
        if inspect.isawaitable(stock):
            stock = await stock
        plan, coerced = PlanCache(schema._schema).get(document, document.definitions[0], variables, None)
        compiled = await run_plan(plan, Context(reader=reader, variables=coerced))
        return stock, compiled

    stock, compiled = api.run(run())
    assert not stock.errors, stock.errors
    assert orjson.dumps(compiled) == orjson.dumps(stock.data)
    return compiled


def literal(value: Any) -> str:
    """A JSON-like input value as a GraphQL literal."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if value is None:
        return "null"
    return json.dumps(value)


def close(got: Any, expected: Any) -> bool:
    """Equal, with averages compared to 1e-12 (a store may sum in another order)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(close(got[k], expected[k]) for k in expected)
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(close(g, e) for g, e in zip(got, expected))
    if isinstance(expected, float) and isinstance(got, float):
        return got == pytest.approx(expected, rel=1e-12)
    return got == expected


# ---- the property ----------------------------------------------------------------------------


def test_disjunctive_facets_equal_the_reference(api_for, run):
    api = api_for([])
    stored: list[str] = []

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        docs=documents(),
        where=WHERE,
        search=st.sampled_from(SEARCHES),
        scope=st.sampled_from(["articles", "provider", "topic"]),
        scope_value=st.integers(0, 3),
        as_literal=st.booleans(),
    )
    def check(docs, where, search, scope, scope_value, as_literal):
        nonlocal stored
        stored = refill(api, run, stored, docs)
        variables: dict[str, Any] = {"w": where, "s": search}
        scope_filter: Any = filters.TRUE
        if scope == "provider":
            variables["d"] = DOMAINS[scope_value % len(DOMAINS)]
            scope_filter = filters.ProviderIs(filters.Compare("domain", "eq", variables["d"]))
        elif scope == "topic":
            variables["t"] = TOPICS[scope_value]
            scope_filter = filters.Compare("topics", "has", variables["t"])
        query = SCOPES[scope] % CONNECTION
        if as_literal:  # a where given inline counts as the same where given as a variable
            query = query.replace("where: $w", f"where: {literal(where)}")
            variables.pop("w")
        data = both_ways(api, query, variables)
        connection = data["c"] if scope == "articles" else (data[scope] or {}).get("c")
        if connection is None:  # no such provider or topic
            assert scope != "articles"
            return
        found = {d["id"] for d in docs}
        if search is not None:
            searched = api.data("query ($s: String) { articles(search: $s, first: 100) { nodes { id } } }", {"s": search})
            found = {n["id"] for n in searched["articles"]["nodes"]}
        expected = reference(docs, where, found, scope_filter)
        connection["nodes"] = sorted(n["id"] for n in connection["nodes"])
        assert close(connection, expected), (where, search, scope)

    check()


# ---- edge cases ------------------------------------------------------------------------------

DOCS = [
    article(id="a", title="One", category="news", type="article", quality=10, heat=1, published=True,
            publishedDateTime="2021-01-04T10:00:00Z", topics=["AI", "Policy"],
            provider={"name": "Alpha", "domain": "a.example"}),
    article(id="b", title="Two", category="tech", type="podcast", quality=50, heat=-3, published=False,
            publishedDateTime="2021-02-01T10:00:00Z", topics=["AI"], provider={"name": "Beta", "domain": "b.example"},
            related=[{"title": "x", "provider": {"name": "Bee", "domain": "b.example"}},
                     {"title": "y", "provider": {"name": "Bee", "domain": "b.example"}},
                     {"title": "z", "provider": {"name": "Sea", "domain": "c.example"}}]),
    article(id="c", title="Three", category="news", quality=90, published=True, topics=["Policy"],
            publishedDateTime="2022-06-01T00:00:00Z", provider={"name": "Alpha", "domain": "a.example"}),
    article(id="d", title="Four, no provider", category="tech", topics=["AI"]),
]  # fmt: skip


@pytest.fixture
def api(api_for):
    return api_for(DOCS)


def test_each_facet_drops_only_its_own_key(api):
    where = {"category": {"eq": "news"}, "topics": {"has": "AI"}}
    data = both_ways(
        api,
        "query ($w: ArticleFilter) { articles(where: $w) { totalCount disjunctiveFacets { "
        "categories { value count } topics { value count } types { value count } providers { value count } } } }",
        {"w": where},
    )["articles"]
    assert data["totalCount"] == 1  # only "a"
    got = data["disjunctiveFacets"]
    # categories ignore category (AI articles: a, b, d), topics ignore topics (news: a, c).
    assert got["categories"] == [{"value": "tech", "count": 2}, {"value": "news", "count": 1}]
    assert got["topics"] == [{"value": "Policy", "count": 2}, {"value": "AI", "count": 1}]
    # every other facet keeps both conditions
    assert got["types"] == [{"value": "article", "count": 1}]
    assert got["providers"] == [{"value": "a.example", "count": 1}]


def test_conditions_inside_and_or_not_and_the_search_stay(api):
    query = (
        "query ($w: ArticleFilter, $s: String) { articles(where: $w, search: $s) { "
        "disjunctiveFacets { categories { value count } } } }"
    )
    nested = {"AND": [{"category": {"eq": "news"}}], "NOT": {"category": {"eq": "tech"}}, "OR": [{"category": {"eq": "news"}}]}
    got = both_ways(api, query, {"w": nested})["articles"]["disjunctiveFacets"]["categories"]
    assert got == [{"value": "news", "count": 2}]
    searched = both_ways(api, query, {"w": {"category": {"eq": "news"}}, "s": "two"})
    assert searched["articles"]["disjunctiveFacets"]["categories"] == [{"value": "tech", "count": 1}]


def test_the_enclosing_scope_is_never_dropped(api):
    data = both_ways(
        api,
        '{ provider(domain: "a.example") { articles(where: {provider: {domain: {eq: "b.example"}}}) { totalCount '
        "disjunctiveFacets { providers { value count } } } } "
        'topic(name: "Policy") { articles(where: {topics: {has: "AI"}}) { totalCount disjunctiveFacets { topics { value count } } } } }',
        {},
    )
    assert data["provider"]["articles"] == {"totalCount": 0, "disjunctiveFacets": {"providers": [{"value": "a.example", "count": 2}]}}
    assert data["topic"]["articles"] == {
        "totalCount": 1,
        "disjunctiveFacets": {"topics": [{"value": "Policy", "count": 2}, {"value": "AI", "count": 1}]},
    }


def test_dates_and_histogram_drop_where_published_date_time_heat_drops_heat(api):
    where = {"publishedDateTime": {"gte": "2022-01-01"}, "heat": {"lt": 0}}
    data = both_ways(
        api,
        "query ($w: ArticleFilter) { articles(where: $w) { totalCount disjunctiveFacets { "
        "publishedDateTime { min max } histogram(interval: YEAR) { value count } heat { count min max } quality { count } } } }",
        {"w": where},
    )["articles"]
    assert data["totalCount"] == 0
    got = data["disjunctiveFacets"]
    assert got["publishedDateTime"] == {"min": "2021-02-01T10:00:00Z", "max": "2021-02-01T10:00:00Z"}  # heat < 0: b
    assert got["histogram"] == [{"value": "2021-01-01", "count": 1}]
    assert got["heat"] == {"count": 0, "min": None, "max": None}  # c has no heat
    assert got["quality"] == {"count": 0}


def test_without_where_disjunctive_facets_are_the_facets(api):
    data = both_ways(
        api,
        "{ articles(search: \"one\") { facets { %s } disjunctiveFacets { %s } } }" % (FACET_SELECTION, FACET_SELECTION),
        {},
    )["articles"]
    assert data["facets"] == data["disjunctiveFacets"]


def test_facet_count_provider_is_the_catalog_provider_in_the_providers_facet_only(api):
    data = both_ways(
        api,
        "{ articles { facets { providers { value provider { name domain articleCount } } topics { provider { name } } "
        "categories { provider { name } } types { provider { name } } published { provider { name } } "
        "histogram(interval: YEAR) { provider { name } } } "
        'disjunctiveFacets { providers { value provider { name } } } } provider(domain: "b.example") { name } }',
        {},
    )
    facets = data["articles"]["facets"]
    # b.example's name is the most frequent one over articles and related items: Bee (2) over Beta (1).
    assert facets["providers"] == [
        {"value": "a.example", "provider": {"name": "Alpha", "domain": "a.example", "articleCount": 2}},
        {"value": "b.example", "provider": {"name": "Bee", "domain": "b.example", "articleCount": 1}},
    ]
    assert data["articles"]["disjunctiveFacets"]["providers"] == [
        {"value": "a.example", "provider": {"name": "Alpha"}},
        {"value": "b.example", "provider": {"name": "Bee"}},
    ]
    for name in ("topics", "categories", "types", "published", "histogram"):
        assert facets[name] and all(item["provider"] is None for item in facets[name]), name


class CountingReader:
    """The store's own reader, counting the provider lookups that reach it."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.provider_calls: list[list[str]] = []

    async def get_providers(self, domains: Any) -> Any:
        self.provider_calls.append(list(domains))
        return await self._reader.get_providers(domains)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def test_facet_providers_load_in_one_store_call_per_facet_list(api_for, run):
    docs = [article(id=f"p{n}", title="t", provider={"name": f"P{n}", "domain": f"p{n}.example"}) for n in range(12)]
    api = api_for(docs)
    query = "{ articles { facets { providers(first: 100) { provider { name } } } disjunctiveFacets { providers { value } } } }"
    document = parse(query)

    async def go() -> tuple[CountingReader, CountingReader]:
        stock_reader = CountingReader(await api.store.reader())
        stock = await graphql_execute(schema._schema, document, context_value=Context(reader=stock_reader))
        assert not stock.errors
        assert len(stock.data["articles"]["facets"]["providers"]) == 12
        plan_reader = CountingReader(await api.store.reader())
        plan, coerced = PlanCache(schema._schema).get(document, document.definitions[0], None, None)
        compiled = await run_plan(plan, Context(reader=plan_reader, variables=coerced))
        assert compiled == stock.data
        return stock_reader, plan_reader

    stock_reader, plan_reader = run(go())
    assert len(stock_reader.provider_calls) == 1 and len(stock_reader.provider_calls[0]) == 12
    assert plan_reader.provider_calls == [sorted(f"p{n}.example" for n in range(12))]


def test_facet_count_provider_is_priced_like_a_relation():
    def cost(query: str) -> int:
        return limits.price(schema._schema, parse(query), None, None, Limits()).cost

    plain = cost("{ articles { disjunctiveFacets { providers(first: 50) { value } } } }")
    with_provider = cost("{ articles { disjunctiveFacets { providers(first: 50) { value provider { name } } } } }")
    assert with_provider - plain == 50  # one object per facet count, like Article.provider per article
    assert cost("{ articles { disjunctiveFacets { topics { value } } } }") == cost("{ articles { facets { topics { value } } } }")


def test_bad_input_in_disjunctive_facets_is_bad_user_input(api):
    payload = api.execute("{ articles { disjunctiveFacets { providers(first: 101) { value } } } }")
    assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [
        ("providers: first is 101; the nested list size limit is 100", "BAD_USER_INPUT")
    ]
    payload = api.execute('{ articles(where: {publishedDateTime: {gt: "soon"}}) { disjunctiveFacets { topics { value } } } }')
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["BAD_USER_INPUT"]


def test_each_disjunctive_facet_query_is_priced_against_the_filter_work_limit(api_for):
    docs = [article(id=f"w{n}", title="t", body="words", topics=["x"]) for n in range(10)]
    # Without topics the filter is 3 body conditions (10 work units each) over 10 articles: 300.
    where = {"topics": {"has": "x"}, "OR": [{"body": {"contains": f"q{n}"}} for n in range(3)]}
    query = "query ($w: ArticleFilter) { articles(where: $w) { disjunctiveFacets { topics { value count } } } }"
    refused = api_for(docs, Limits(max_filter_work=299)).execute(query, {"w": where})
    assert refused["data"] is None
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "filter work of 300 " in error["message"] and "limit of 299" in error["message"]
    served = api_for(docs, Limits(max_filter_work=300)).data(query, {"w": where})
    assert served == {"articles": {"disjunctiveFacets": {"topics": []}}}
