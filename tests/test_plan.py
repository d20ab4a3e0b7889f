"""Differential tests: the compiled execution path gives exactly graphql-core's results.

Every query here runs both ways over the same store: the stock way
(graphql-core driving the resolvers graph.schema installs) and through
graph.execution.plan; both call the same batch functions (graph.schema.fields).
Where the stock way succeeds, the plan must produce identical JSON (same keys,
same order, same values); where the stock way reports errors, the plan must
refuse (Fallback, or the batch function's own UserInputError), so errors always
come from graphql-core.
"""

from __future__ import annotations

import inspect
import re

import orjson
import pytest
import strawberry
from graphql import GraphQLObjectType, parse, validate
from graphql import execute as graphql_execute

from conftest import ROOT, article
from graph.execution.plan import EXPECTED_FALLBACKS, Fallback, PlanCache, run_plan
from graph.schema import schema
from graph.schema.context import Context
from graph.schema.fields import HANDLERS
from graph.schema.resolvers import MissingHandler, install

CORPUS = [
    article(
        id="a1", title="Zürich opens a facial recognition lab", excerpt="Cameras everywhere", body="The lab in Zurich.",
        category="news", type="article", quality=72, heat=-1, published=True,
        publishedDateTime="2021-03-04T10:00:00+02:00", originalUrl="https://one.example/a1",
        webUrl="https://one.example/a1", ampWebUrl="https://one.example/a1.amp",
        provider={"name": "One", "domain": "one.example"}, topics=["AI", "Computer Vision"],
        images=[{"url": "https://img/1", "width": 1200, "height": 628, "isCached": True}, {"url": "https://img/2"}],
        related=[
            {"title": "Second story", "webUrl": "https://two.example/b2", "provider": {"name": "Two", "domain": "two.example"},
             "quality": 10, "images": [{"url": "https://img/3", "width": 10, "height": 0}]},
            {"title": "Elsewhere", "webUrl": "https://nowhere.example/x", "provider": {"name": "Far", "domain": "far.example"}},
        ],
    ),
    article(
        id="b2", title="Second story", body="", category="tech", quality=10, published=False,
        publishedDateTime="2021-03-05", webUrl="https://two.example/b2",
        provider={"name": "Two", "domain": "two.example"}, topics=["AI"],
        related=[{"title": "First", "cdnAmpWebUrl": "https://one.example/a1.amp"}],
    ),
    article(id="c3", title="A story with nothing else"),
    article(
        id="d4", title="recognition again", heat=5, publishedDateTime="2020-01-01T00:00:00Z",
        provider={"name": "one", "domain": "one.example"}, topics=["Policy"],
    ),
]

QUERIES = [
    ("{ __typename article(id: \"a1\") { __typename id title excerpt body category type quality heat published "
     "publishedDateTime originalUrl webUrl ampWebUrl cdnAmpWebUrl topics } }", None),
    ('{ article(id: "nope") { id } articleByUrl(url: "https://one.example/a1.amp") { id } }', None),
    ('{ a: article(id: "a1") { provider { name domain articleCount } images { url width height isCached aspectRatio } '
     "related { title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality provider { name domain articleCount } "
     "images { url aspectRatio } article { id title } } } }", None),
    ('{ article(id: "a1") { images(first: 1) { url } related(first: 1) { title } imgs: images(where: {width: {gt: 100}}) { url } '
     'rel: related(where: {provider: {name: {eq: "Two"}}}) { title } } }', None),
    ("{ articles { totalCount edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }", None),
    ("query($n: Int, $w: ArticleFilter) { articles(first: $n, where: $w, orderBy: [{field: QUALITY, direction: DESC}, {field: TITLE}]) "
     "{ totalCount nodes { id quality } pageInfo { endCursor hasNextPage } } }",
     {"n": 2, "w": {"OR": [{"topics": {"has": "AI"}}, {"quality": {"isNull": True}}]}}),
    ('{ articles(search: "recog*") { totalCount edges { cursor node { id } } } }', None),
    ('{ articles(search: "zurich", orderBy: [{field: RELEVANCE, direction: DESC}]) { nodes { id } } }', None),
    ("{ articles { facets { topics { value count } providers(first: 1) { value count } categories { value count } "
     "types { value count } published { value count } quality { count min max avg } heat { count min max avg } "
     "publishedDateTime { min max } d: histogram(interval: DAY) { value count } w: histogram(interval: WEEK) { value count } "
     "m: histogram(interval: MONTH) { value count } y: histogram(interval: YEAR) { value count } } } }", None),
    ("query ($w: ArticleFilter) { articles(where: $w, search: \"recog*\") { disjunctiveFacets { topics { value count provider { name } } "
     "providers { value count provider { name domain articleCount } } categories { value count } published { value count } "
     "quality { count min max avg } heat { count } publishedDateTime { min max } y: histogram(interval: YEAR) { value count } } "
     "facets { providers(first: 1) { value provider { name } } } } }",
     {"w": {"topics": {"has": "AI"}, "provider": {"domain": {"eq": "two.example"}}, "OR": [{"quality": {"gt": 5}}]}}),
    ('{ provider(domain: "one.example") { articles(where: {provider: {name: {eq: "x"}}, heat: {gt: 0}}) { totalCount '
     "disjunctiveFacets { providers { value count provider { name } } heat { count min max } } } } }", None),
    ('{ provider(domain: "one.example") { name domain articleCount articles(first: 1) { totalCount nodes { id } '
     "pageInfo { hasNextPage } } } }", None),
    ('{ provider(domain: "far.example") { name articleCount articles { totalCount } } provider2: provider(domain: "x") { name } }', None),
    ("{ providers { totalCount edges { cursor node { domain name articleCount } } pageInfo { hasNextPage endCursor } } }", None),
    ('{ providers(where: {articleCount: {gte: 1}}, orderBy: [{field: NAME, direction: DESC}], last: 2) { nodes { domain } } }', None),
    ('{ topic(name: "AI") { name articleCount articles { nodes { id related { article { id provider { domain } } } } } } '
     'none: topic(name: "ai") { name } topics { name articleCount } t1: topics(first: 1) { name } }', None),
    ("query Q($skip: Boolean!) { articles(first: 1) { nodes { id title @skip(if: $skip) ...F } } } "
     "fragment F on Article { quality ... on Article { heat } }", {"skip": True}),
    ("query Q($skip: Boolean!) { articles(first: 1) { nodes { id title @include(if: $skip) } } }", {"skip": False}),
    ('{ articles(where: {publishedDateTime: {gte: "2021-03-04T08:00:00Z"}}) { nodes { id publishedDateTime } } }', None),
    ('{ articles(search: "recognition") { nodes { id snippets(search: "zurich OR recog* -lab") { field text '
     'highlights { start end } } s: snippets(search: "\\"facial recognition\\"", first: 1, length: 20) { text } } } }', None),
    ("query($s: String!, $n: Int, $l: Int) { articles { nodes { snippets(search: $s, first: $n, length: $l) "
     "{ field highlights { end } } } } }", {"s": "story", "n": 10, "l": 1000}),
    # error cases: the plan must refuse each
    ('{ article(id: "a1") { snippets(search: "lab", first: 11) { text } } }', None),
    ('{ article(id: "a1") { snippets(search: "lab", length: 19) { text } } }', None),
    ("{ articles(first: 101) { totalCount } }", None),
    ("{ articles(first: 1, last: 1) { totalCount } }", None),
    ('{ articles(after: "garbage") { totalCount } }', None),
    ("{ articles(orderBy: [{field: RELEVANCE}]) { totalCount } }", None),
    ('{ articles(where: {publishedDateTime: {gt: "yesterday"}}) { totalCount } }', None),
    ('{ article(id: "a1") { images(first: -1) { url } } }', None),
    ("{ articles { facets { topics(first: 1000) { value } } } }", None),
    ("{ topics(first: -1) { name } }", None),
    ("{ __schema { queryType { name } } }", None),
    # Stories (a1 and b2 cover each other: one story of two)
    ("{ stories { totalCount edges { cursor node { id headline articleCount coverageCount firstPublishedDateTime "
     "lastPublishedDateTime providers { name domain articleCount } topics { value count } } } "
     "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }", None),
    ('{ stories(where: {quality: {gte: 50}}, search: "recognition", orderBy: [{field: ARTICLE_COUNT, direction: DESC}], first: 1) '
     "{ totalCount nodes { id articles(orderBy: [{field: ID}]) { totalCount nodes { id story { id } } facets { topics { value count } } } } } }", None),
    ('{ a: story(id: "b2") { id topics(first: 1) { value } } b: story(id: "zz") { id } articles { nodes { id story { id articleCount } } } }', None),
    ("query($after: String) { stories(first: 1, after: $after, orderBy: [{field: COVERAGE_COUNT}]) { nodes { id } } }",
     {"after": "WyJjb3ZlcmFnZUNvdW50KyxpZCsiLDEsImMzIl0"}),
    ('{ stories(last: 2, before: "WyJsYXN0UHVibGlzaGVkRGF0ZVRpbWUtLGlkKyIsbnVsbCwiYzMiXQ") { nodes { id } } }', None),
    ('{ stories(after: "garbage") { totalCount } }', None),
    ('{ story(id: "a1") { topics(first: 1000) { value } } }', None),
]


def _readme_queries() -> list[tuple[str, None]]:
    readme = ROOT / "README.md"
    text = readme.read_text() if readme.exists() else ""
    return [(q, None) for q in re.findall(r"```graphql\n(.*?)```", text, re.S)]


@pytest.fixture
def api(api_for):
    return api_for(CORPUS)


@pytest.mark.parametrize("query,variables", QUERIES + _readme_queries())
def test_compiled_plan_matches_graphql_core(api, run, query, variables):
    document = parse(query)
    assert not validate(schema._schema, document)

    async def both():
        reader = await api.store.reader()
        stock = graphql_execute(schema._schema, document, context_value=Context(reader=reader), variable_values=variables)
        if inspect.isawaitable(stock):
            stock = await stock
        operation = document.definitions[0]
        try:
            plan, coerced = PlanCache(schema._schema).get(document, operation, variables, None)
            compiled = await run_plan(plan, Context(reader=reader, variables=coerced))
        except EXPECTED_FALLBACKS:
            compiled = None
        return stock, compiled

    stock, compiled = run(both())
    if stock.errors:
        assert compiled is None, f"the plan answered where graphql-core reported {stock.errors}"
    elif "__schema" in query:
        assert compiled is None
    else:
        assert compiled is not None, "the plan refused a query graphql-core answered"
        assert orjson.dumps(compiled) == orjson.dumps(stock.data)


def test_plan_cache_reuses_plans_by_key(api, run):
    document = parse('{ article(id: "a1") { id } }')
    cache = PlanCache(schema._schema)
    first, _ = cache.get(document, document.definitions[0], None, ("k",))
    assert cache.get(document, document.definitions[0], None, ("k",))[0] is first
    assert cache.get(document, document.definitions[0], None, ("other",))[0] is not first


def test_one_plan_serves_every_value_of_the_variables(api, run):
    document = parse("query ($id: ID!, $n: Int) { article(id: $id) { id related(first: $n) { title } } }")
    operation = document.definitions[0]
    cache = PlanCache(schema._schema)
    first, coerced = cache.get(document, operation, {"id": "a1", "n": 1}, ("q",))
    again, coerced_again = cache.get(document, operation, {"id": "a2", "n": 2}, ("q",))
    assert again is first  # the same plan; the arguments are bound per request
    article = first.fields[0]
    assert article.arguments(coerced) == {"id": "a1"} and article.arguments(coerced_again) == {"id": "a2"}


def test_an_operation_the_plan_cannot_run_is_remembered(api, run):
    document = parse("{ __schema { queryType { name } } }")
    cache = PlanCache(schema._schema)
    for _ in range(2):
        with pytest.raises(Fallback, match="introspection"):
            cache.get(document, document.definitions[0], None, ("q",))
    assert len(cache._plans) == 1


def test_a_field_without_a_batch_function_stops_the_schema():
    # Every field's value has one definition (graph.schema.fields); a field declared without one
    # would have none, so building the schema refuses it by name.
    @strawberry.type
    class Query:
        topics: list[str]
        unanswered_field: int

    with pytest.raises(MissingHandler, match=r"^no batch function for Query\.unansweredField "):
        install(strawberry.Schema(query=Query)._schema)


def test_every_served_field_resolves_through_its_batch_function():
    for type_ in schema._schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for name, definition in type_.fields.items():
                assert (type_.name, name) in HANDLERS
                assert definition.resolve.__module__ == "graph.schema.resolvers", f"{type_.name}.{name}"
