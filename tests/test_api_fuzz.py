"""API fuzzing (the reliability issue): random and malformed inputs never cause an internal error.

Hypothesis sends filters, orderings, paging arguments, cursors and search
texts as GraphQL *variables* to the in-process API over a small corpus (both
stores), plus random query texts. Whatever it sends, every error has one of
the client-side codes of DESIGN.md "Errors" (never INTERNAL_SERVER_ERROR), and
an answer without errors is internally consistent: edges and cursors agree,
the page size is within its bounds, paging on from the end cursor continues
the order, facets count within the total. Values are drawn from the schema's
own input types, so that most requests pass coercion and reach the resolvers
and the stores, with a share of malformed ones that must be refused cleanly.

A smaller HTTP variant sends random methods, content types, Accept headers,
bodies and query strings to a real server and checks that none gets a 5xx.
"""

from __future__ import annotations

import base64
import json
import re
import string
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from conftest import article
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.schema import schema as strawberry_schema
from server import running_server, write_db

CLIENT_CODES = {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}
SCHEMA = strawberry_schema._schema
DEFAULT_PAGE = 20
# The function-scoped api_for store is built once per test and only read by the examples.
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# ---- the corpus: a few articles with every kind of value, missing and null included ------------

TOPICS = ["AI", "Computer Vision", "Zürich", "ai", "x"]
DOMAINS = ["thelensnola.org", "nola.com", "aclu.org", "example.org"]


CORPUS_SIZE = 30  # more than a default page (20), so pages end before the matches do


def corpus() -> list[dict[str, Any]]:
    docs = []
    for n in range(CORPUS_SIZE):
        fields: dict[str, Any] = {
            "id": f"a{n:02d}",
            "title": ["City releases emails", "NOPD’s facial recognition", "Zürich Straße", "ﬁle 50% off_sale"][n % 4]
            + f" {n}",
            "body": "" if n % 3 == 0 else f"Body text number {n} about recognition and Zürich.",
            "topics": TOPICS[n % 5 : n % 5 + n % 3],
            "published": n % 2 == 0,
        }
        if n % 4:
            fields["publishedDateTime"] = f"20{19 + n % 3}-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:30:00+0{n % 3}:00"
        if n % 5:
            fields["quality"] = n * 7 % 100
            fields["heat"] = -n if n % 2 else n
            fields["category"] = ["news", "sports", "weather"][n % 3]
            fields["type"] = "story"
        if n % 6:
            domain = DOMAINS[n % 4]
            fields["provider"] = {"name": domain.split(".")[0].title(), "domain": domain}
            fields["webUrl"] = f"https://{domain}/{n}"
            fields["originalUrl"] = f"https://{domain}/o/{n}"
        fields["images"] = [
            {"url": f"https://img.example/{n}/{i}.jpg", "width": 100 * i or None, "height": 50, "isCached": i % 2 == 0}
            for i in range(n % 3)
        ]
        fields["related"] = [
            {
                "title": f"Related {n}.{i} nopd",
                "webUrl": f"https://{DOMAINS[(n + i) % 4]}/{(n + i) % CORPUS_SIZE}",
                "publishedDateTime": "2020-12-14T23:30:00Z",
                "provider": {"name": DOMAINS[(n + i) % 4], "domain": DOMAINS[(n + i) % 4]},
                "quality": i,
            }
            for i in range(n % 4)
        ]
        docs.append(article(**fields))
    return docs


# ---- values drawn from the schema's input types -------------------------------------------------

# Texts that meet the corpus (case, accents, casefold traps, LIKE metacharacters, search syntax)
# and texts that should not (NUL, control characters, very long ones).
NASTY_TEXT = ["", " ", "*", "**", "a*", "recog*", "%", "_", "\\", "'", '"', "\x00", "a\x00b", "\n\t", "😀",
              "İ", "ß", "ﬁ", "NOPD’s", "x" * 300, "🙂" * 40, "null", "true", "0", "-1", "1e308"]
TEXT = st.one_of(
    st.sampled_from(NASTY_TEXT + TOPICS + DOMAINS + ["a00", "a05", "a11", "zürich", "Zurich", "recognition"]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
)
DATETIMES = st.one_of(
    st.sampled_from([
        "2020-12-14", "2020-12-14T19:04:00Z", "2020-12-14T19:04:00+01:00", "2021-06-15T12:00:00.123456-05:30",
        "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31", "0001-01-01", "2020-02-30",
        "2020-13-01", "2020-12-14T25:00:00Z", "20201214", "2020-W51", "2020-12-14 19:04", "", "now", "\x00",
        "2020-12-14T19:04:00+24:00", "+10000-01-01", "-0001-01-01",
    ]),
    st.datetimes().map(lambda d: d.isoformat()),
    TEXT,
)
INT32 = st.integers(-(2**31), 2**31 - 1)
INTS = st.one_of(st.sampled_from([0, 1, -1, 7, 49, 50, 100, 101, 2**31 - 1, -(2**31)]), INT32)
# Anything JSON can carry, as the server's JSON parser (orjson) hands it on: what a client could
# send in place of the expected value. Integers past its range arrive as floats, infinities not at all.
JSON_INTS = st.integers(-(2**63), 2**64 - 1)
JSON_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), JSON_INTS, JSON_FLOATS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


def scalar_value(type_: GraphQLScalarType) -> st.SearchStrategy[Any]:
    if type_.name == "Int":
        return INTS
    if type_.name == "Boolean":
        return st.booleans()
    if type_.name == "DateTime":
        return DATETIMES
    if type_.name == "Float":
        return JSON_FLOATS
    return TEXT  # String, ID


def value_of(type_: Any, wild: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for an input type: well-formed, or (``wild``) now and then null or junk at any level."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        well_formed = st.lists(st.deferred(lambda: value_of(inner.of_type, wild, depth + 1)), max_size=3)
    elif isinstance(inner, GraphQLInputObjectType):
        well_formed = input_object(inner, wild, depth)
    elif isinstance(inner, GraphQLEnumType):
        well_formed = st.sampled_from(list(inner.values))
    else:
        well_formed = scalar_value(inner)
    if not wild:
        return well_formed
    odd = [st.none()] if nullable else []
    return st.one_of(*[well_formed] * 6, *odd, JUNK)


COMBINATORS = {"AND", "OR", "NOT"}


def input_object(type_: GraphQLInputObjectType, wild: bool, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    # AND/OR/NOT recurse only near the top, and nesting stops at 8 levels, so examples stay small.
    names = [
        n
        for n, f in type_.fields.items()
        if (depth < 2 or n not in COMBINATORS) and (depth < 8 or not _is_input_object(f.type))
    ]
    required = [
        n for n, f in type_.fields.items() if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
    ]

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        chosen = set(draw(st.lists(st.sampled_from(names), max_size=3, unique=True)) if names else []) | set(required)
        value = {name: draw(value_of(type_.fields[name].type, wild, depth + 1)) for name in sorted(chosen)}
        if wild and draw(st.integers(0, 9)) == 0:
            value[draw(TEXT)] = draw(JUNK)  # a field the type does not have
        return value

    return build()


def _is_input_object(type_: Any) -> bool:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return isinstance(type_, GraphQLInputObjectType)


def schema_value(type_: Any) -> st.SearchStrategy[Any]:
    """Half well-formed values of the type (they reach the resolvers), half wild ones (coercion errors)."""
    return st.one_of(st.none(), value_of(type_, wild=False), value_of(type_, wild=True))


def schema_input(name: str) -> st.SearchStrategy[Any]:
    return schema_value(SCHEMA.get_type(name))


def order_by(field: str) -> st.SearchStrategy[Any]:
    """A value for a Query field's orderBy argument."""
    return schema_value(SCHEMA.get_type("Query").fields[field].args["orderBy"].type)


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# Cursors: absent, junk, this API's shape with odd contents (wrong types, lengths, orderings),
# and real cursors of the corpus (from any ordering) that the test collects first.
CURSOR_SIGNATURES = ["publishedDateTime-,id+", "relevance-,id+", "quality+,id+", "title-,id+",
                     "articleCount-,name+,domain+", "name+,domain+", "domain+", "id+", "", "x"]
CURSOR_VALUES = st.one_of(st.none(), st.booleans(), JSON_INTS, JSON_FLOATS, TEXT, st.lists(JSON_INTS, max_size=2))
FORGED = st.builds(
    lambda sig, values: b64(to_json([sig, *values])),
    st.sampled_from(CURSOR_SIGNATURES),
    st.lists(CURSOR_VALUES, max_size=4),
)
CURSOR_TEXT = st.one_of(
    TEXT,
    st.binary(max_size=40).map(b64),
    JUNK.map(lambda value: b64(to_json(value))),
    st.text(string.ascii_letters + string.digits + "-_=+/", max_size=60),
)


def cursors(real: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.none(), st.sampled_from(real), FORGED, CURSOR_TEXT)


PAGE_SIZES = st.one_of(st.none(), st.none(), st.integers(-3, 103), st.sampled_from([2**31 - 1, -(2**31), 2**40]), JUNK)


def paging(real_cursors: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Paging arguments: half of them sane (one direction, a size in bounds), half anything at all."""
    sane = st.one_of(
        st.fixed_dictionaries({"first": st.integers(0, 100)}, optional={"after": st.sampled_from(real_cursors)}),
        st.fixed_dictionaries({"last": st.integers(0, 100)}, optional={"before": st.sampled_from(real_cursors)}),
        st.just({}),
    )
    wild = st.fixed_dictionaries(
        {},
        optional={
            "first": PAGE_SIZES,
            "last": PAGE_SIZES,
            "after": cursors(real_cursors),
            "before": cursors(real_cursors),
        },
    )
    return st.one_of(sane, wild)


# ---- the queries ----------------------------------------------------------------------------------

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
ARTICLES_QUERY = f"""
query($w: ArticleFilter, $o: [ArticleOrder!], $first: Int, $after: String, $last: Int, $before: String,
      $s: String) {{
  articles(where: $w, orderBy: $o, first: $first, after: $after, last: $last, before: $before, search: $s) {{
    totalCount
    edges {{ cursor node {{ id }} }}
    {PAGE_INFO}
    facets {{ topics {{ value count }} providers {{ value count }} quality {{ count min max }} }}
  }}
}}"""
PROVIDERS_QUERY = f"""
query($w: ProviderFilter, $o: [ProviderOrder!], $first: Int, $after: String, $last: Int, $before: String) {{
  providers(where: $w, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {{
    totalCount
    edges {{ cursor node {{ domain name articleCount }} }}
    {PAGE_INFO}
  }}
}}"""
# Connections below the root take the same arguments (a topic's and a provider's articles).
NESTED_QUERY = f"""
query($t: String!, $d: String!, $w: ArticleFilter, $o: [ArticleOrder!], $first: Int, $after: String,
      $last: Int, $before: String, $s: String) {{
  topic(name: $t) {{
    articles(where: $w, orderBy: $o, first: $first, after: $after, last: $last, before: $before, search: $s) {{
      totalCount edges {{ cursor node {{ id }} }} {PAGE_INFO}
    }}
  }}
  provider(domain: $d) {{
    articles(where: $w, orderBy: $o, first: $first, after: $after, last: $last, before: $before, search: $s) {{
      totalCount edges {{ cursor node {{ id }} }} {PAGE_INFO}
    }}
  }}
}}"""


def assert_client_errors(payload: dict[str, Any], request: Any, allowed: set[str] = CLIENT_CODES) -> str:
    """Every error carries a client-side code: nothing the client sent is the server's failure.

    Returns what the answer was ("data", or its error codes), so that a test can check its mix.
    """
    codes = [error.get("extensions", {}).get("code") for error in payload.get("errors", [])]
    assert set(codes) <= allowed, (codes, payload["errors"], request)
    return "/".join(sorted(set(codes))) or "data"


def assert_mix(answers: Counter[str], at_least: dict[str, int]) -> None:
    """The examples reached what they are meant to reach (a fuzzer refused at the door tests little)."""
    print(dict(answers))  # with -s: how the examples were answered
    for kind, count in at_least.items():
        assert sum(n for k, n in answers.items() if kind in k.split("/")) >= count, (kind, dict(answers))


def expected_page(variables: dict[str, Any], total: int) -> int | None:
    """The page length when no cursor is given (None when a cursor makes it depend on the data)."""
    if variables.get("after") is not None or variables.get("before") is not None:
        return None
    size = variables.get("first")
    if size is None:
        size = variables.get("last")
    return min(DEFAULT_PAGE if size is None else size, total)


def assert_consistent_connection(connection: dict[str, Any], variables: dict[str, Any], key: str) -> None:
    """Edges, cursors, page info and the total agree with each other and with the paging arguments."""
    edges = connection["edges"]
    total = connection["totalCount"]
    info = connection["pageInfo"]
    size = variables.get("first") if variables.get("first") is not None else variables.get("last")
    assert 0 <= len(edges) <= (DEFAULT_PAGE if size is None else size)
    assert len(edges) <= total
    cursor_list = [edge["cursor"] for edge in edges]
    assert all(isinstance(c, str) and c for c in cursor_list)
    assert len(set(cursor_list)) == len(cursor_list)
    keys = [edge["node"][key] for edge in edges]
    assert len(set(keys)) == len(keys)
    if edges:
        assert (info["startCursor"], info["endCursor"]) == (cursor_list[0], cursor_list[-1])
    else:
        assert (info["startCursor"], info["endCursor"]) == (None, None)
    page = expected_page(variables, total)
    if page is not None:
        assert len(edges) == page
        forwards = variables.get("last") is None
        more = len(edges) < total
        assert (info["hasNextPage"], info["hasPreviousPage"]) == ((more, False) if forwards else (False, more))


def assert_consistent_facets(connection: dict[str, Any]) -> None:
    total = connection["totalCount"]
    facets = connection["facets"]
    for name in ("topics", "providers"):
        counts = [bucket["count"] for bucket in facets[name]]
        assert all(0 < count <= total for count in counts)
        assert counts == sorted(counts, reverse=True)
    assert 0 <= facets["quality"]["count"] <= total


def continue_paging(api: Any, query: str, variables: dict[str, Any], connection: dict[str, Any], key: str,
                    path: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The page after the end cursor continues this one: together they are one longer page."""
    edges = connection["edges"]
    backwards = variables.get("last") is not None or (variables.get("first") is None and variables.get("before"))
    if not edges or not connection["pageInfo"]["hasNextPage"] or backwards:
        return
    following = {**variables, "after": connection["pageInfo"]["endCursor"]}
    payload = api.execute(query, following)
    assert "errors" not in payload, (payload["errors"], following)
    next_edges = path(payload["data"])["edges"]
    if variables.get("before") is None:
        # With before, hasNextPage may mean items past before (Relay), not before it.
        assert next_edges, following
    together = len(edges) + len(next_edges)
    if together > 100:
        return
    longer = {**variables, "first": together}
    payload = api.execute(query, longer)
    assert "errors" not in payload, (payload["errors"], longer)
    expected = [edge["node"][key] for edge in path(payload["data"])["edges"]]
    assert [edge["node"][key] for edge in edges + next_edges] == expected, (variables, following)


def real_cursors(api: Any) -> list[str]:
    """Cursors this API made, over several orderings (so most belong to another ordering than asked)."""
    found = []
    for order in (None, [{"field": "TITLE", "direction": "DESC"}], [{"field": "QUALITY"}, {"field": "HEAT"}]):
        data = api.data(ARTICLES_QUERY, {"o": order, "first": 100})
        found += [edge["cursor"] for edge in data["articles"]["edges"]]
    data = api.data(ARTICLES_QUERY, {"s": "recognition", "first": 100})
    found += [edge["cursor"] for edge in data["articles"]["edges"]]
    found += [edge["cursor"] for edge in api.data(PROVIDERS_QUERY, {"first": 100})["providers"]["edges"]]
    return found


# ---- the in-process properties ---------------------------------------------------------------------


def test_random_article_arguments_never_fail_internally(api_for):
    api = api_for(corpus())
    cursor_pool = real_cursors(api)
    answers: Counter[str] = Counter()

    @settings(max_examples=120, **FUZZ)
    @given(
        where=schema_input("ArticleFilter"),
        order=order_by("articles"),
        page=paging(cursor_pool),
        search=st.one_of(st.none(), st.none(), TEXT, st.lists(TEXT, max_size=4).map(" ".join)),
    )
    def check(where: Any, order: Any, page: dict[str, Any], search: Any) -> None:
        variables = {"w": where, "o": order, "s": search, **page}
        payload = api.execute(ARTICLES_QUERY, variables)
        answers[assert_client_errors(payload, variables)] += 1
        if "errors" not in payload:
            connection = payload["data"]["articles"]
            assert_consistent_connection(connection, variables, "id")
            assert_consistent_facets(connection)
            continue_paging(api, ARTICLES_QUERY, variables, connection, "id", lambda data: data["articles"])

    check()
    assert_mix(answers, {"data": 20, "BAD_USER_INPUT": 20})


def test_random_provider_arguments_never_fail_internally(api_for):
    api = api_for(corpus())
    cursor_pool = real_cursors(api)
    answers: Counter[str] = Counter()

    @settings(max_examples=60, **FUZZ)
    @given(
        where=schema_input("ProviderFilter"),
        order=order_by("providers"),
        page=paging(cursor_pool),
    )
    def check(where: Any, order: Any, page: dict[str, Any]) -> None:
        variables = {"w": where, "o": order, **page}
        payload = api.execute(PROVIDERS_QUERY, variables)
        answers[assert_client_errors(payload, variables)] += 1
        if "errors" not in payload:
            connection = payload["data"]["providers"]
            assert_consistent_connection(connection, variables, "domain")
            continue_paging(api, PROVIDERS_QUERY, variables, connection, "domain", lambda data: data["providers"])

    check()
    assert_mix(answers, {"data": 10, "BAD_USER_INPUT": 10})


def test_random_nested_connection_arguments_never_fail_internally(api_for):
    api = api_for(corpus())
    cursor_pool = real_cursors(api)
    answers: Counter[str] = Counter()

    @settings(max_examples=40, **FUZZ)
    @given(
        topic=st.one_of(st.sampled_from(TOPICS), TEXT),
        domain=st.one_of(st.sampled_from(DOMAINS), TEXT),
        where=schema_input("ArticleFilter"),
        page=paging(cursor_pool),
        search=st.one_of(st.none(), TEXT),
    )
    def check(topic: str, domain: str, where: Any, page: dict[str, Any], search: Any) -> None:
        variables = {"t": topic, "d": domain, "w": where, "s": search, **page}
        payload = api.execute(NESTED_QUERY, variables)
        answers[assert_client_errors(payload, variables)] += 1
        if "errors" not in payload:
            for parent in ("topic", "provider"):
                if payload["data"][parent] is not None:
                    assert_consistent_connection(payload["data"][parent]["articles"], variables, "id")

    check()
    assert_mix(answers, {"data": 5, "BAD_USER_INPUT": 2})


# ---- what the fuzzer found ---------------------------------------------------------------------------


def test_an_unknown_name_whose_lowercase_is_longer_is_bad_user_input(api_for):
    # graphql-core's "Did you mean" distance raised IndexError on "İ" ("İ".lower() is two characters).
    api = api_for([])
    payload = api.execute(PROVIDERS_QUERY, {"w": {"İİ": 1}})
    assert payload == {
        "errors": [
            {
                "message": "Variable '$w' has invalid value: Expected value of type 'ProviderFilter' "
                "not to include unknown field 'İİ', found: {'İİ': 1}.",
                "locations": [{"line": 2, "column": 7}],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    payload = api.execute(ARTICLES_QUERY, {"o": [{"field": "İdD"}]})
    assert [(e["extensions"]["code"], e["message"]) for e in payload["errors"]] == [
        ("BAD_USER_INPUT", "Variable '$o' has invalid value at [0].field: Value 'İdD' does not exist in "
         "'ArticleSortField' enum. Did you mean the enum value 'ID'?")
    ]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_an_order_that_starts_with_id_is_the_id_order(api_for, direction):
    # The TinyDB store skipped every id ASC key, not just the last one (found by the paging check).
    api = api_for(corpus())
    order = [{"field": "ID", "direction": direction}, {"field": "PUBLISHED_DATE_TIME"}]
    nodes = api.data(ARTICLES_QUERY, {"o": order, "first": 5})["articles"]["edges"]
    ids = [f"a{n:02d}" for n in range(CORPUS_SIZE)]
    assert [edge["node"]["id"] for edge in nodes] == (ids if direction == "ASC" else ids[::-1])[:5]


NUL_QUERY = """
query($w: ArticleFilter, $after: String, $before: String, $last: Int) {
  articles(where: $w, orderBy: [{field: TITLE}], after: $after, before: $before, last: $last) { nodes { id } }
  provider(domain: "a\\u0000") { name }
  topic(name: "\\u0000") { name }
  article(id: "t1\\u0000") { id }
  articleByUrl(url: "https://a.example/1\\u0000") { id }
}"""


@pytest.mark.parametrize(
    ("variables", "ids"),
    [
        ({"w": {"title": {"eq": "ab\x00"}}}, []),
        ({"w": {"title": {"ne": "ab\x00"}}}, ["t1", "t2", "t3", "t4"]),
        ({"w": {"title": {"in": ["ab\x00", "abc"]}}}, ["t3"]),
        ({"w": {"title": {"notIn": ["ab\x00", "abc"]}}}, ["t1", "t2", "t4"]),
        ({"w": {"title": {"contains": "\x00"}}}, []),
        ({"w": {"NOT": {"title": {"startsWith": "a\x00"}}}}, ["t1", "t2", "t3", "t4"]),
        ({"w": {"topics": {"hasSome": ["x\x00", "x"]}}}, ["t2"]),
        ({"w": {"topics": {"hasEvery": ["x\x00"]}}}, []),
        ({"w": {"provider": {"domain": {"eq": "a.example\x00"}}}}, []),
        # "ab\0…" sorts after "ab" and before "ab c" (U+0000 is the least character).
        ({"after": b64(to_json(["title+,id+", "ab\x00", "t9"]))}, ["t2", "t3", "t4"]),
        ({"before": b64(to_json(["title+,id+", "ab\x00", "t9"])), "last": 10}, ["t1"]),
        ({"after": b64(to_json(["title+,id+", "ab", "t1\x00"]))}, ["t2", "t3", "t4"]),
        ({"before": b64(to_json(["title+,id+", "ab", "t1\x00"])), "last": 10}, ["t1"]),
    ],
)
def test_texts_with_nul_match_nothing_on_every_store(api_for, variables, ids):
    # PostgreSQL cannot take U+0000 at all (the fuzzer found INTERNAL_SERVER_ERROR): such a text
    # equals no stored text there, so both stores answer as if it were any other unknown value.
    api = api_for([
        article(id="t1", title="ab", provider={"name": "A", "domain": "a.example"}),
        article(id="t2", title="ab c", topics=["x"]),
        article(id="t3", title="abc"),
        article(id="t4", title="B"),
    ])
    data = api.data(NUL_QUERY, variables)
    assert [node["id"] for node in data["articles"]["nodes"]] == ids
    assert [data[name] for name in ("provider", "topic", "article", "articleByUrl")] == [None] * 4


def test_serve_with_workers_accepts_connections_with_nagle_off(monkeypatch):
    # benchmarks/load.py found every keep-alive request to `serve --workers 2` taking ~44 ms: uvicorn
    # binds that socket with protocol 0, so asyncio never set TCP_NODELAY on its connections.
    import asyncio
    import socket

    from uvicorn.config import Config

    from graph import cli

    monkeypatch.setattr(Config, "bind_socket", Config.bind_socket)  # put back after the test
    cli._bind_workers_socket_as_tcp()
    listener = Config(app="graph.app:app_from_env", host="127.0.0.1", port=0, log_level="warning").bind_socket()

    class Accepted(asyncio.Protocol):
        nodelay: int | None = None

        def connection_made(self, transport: Any) -> None:
            Accepted.nodelay = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            transport.close()

    async def connect() -> None:
        server = await asyncio.get_running_loop().create_server(Accepted, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname())
            await writer.drain()
            while Accepted.nodelay is None:
                await asyncio.sleep(0.01)
            writer.close()
            await writer.wait_closed()

    asyncio.run(connect())
    assert listener.proto == socket.IPPROTO_TCP
    assert Accepted.nodelay == 1


# Token soup: GraphQL's own tokens and the schema's names, so that random texts often parse
# and get as far as the limits, validation and execution.
TOKENS = [
    "{", "}", "(", ")", "[", "]", ":", "$", "...", "@", "!", "=", ",", "query", "fragment", "on", "mutation",
    "subscription", "articles", "article", "providers", "provider", "topics", "topic", "articleByUrl", "edges",
    "nodes", "node", "cursor", "totalCount", "pageInfo", "facets", "histogram", "interval", "WEEK", "id", "title",
    "related", "images", "first", "last", "after", "before", "where", "orderBy", "search", "field", "direction",
    "DESC", "QUALITY", "RELEVANCE", "__typename", "__schema", "__type", "name", "types", "fields", "include",
    "skip", "if", "true", "false", "null", "0", "-1", "101", "99999999999", "1.5", '"a"', '"x*"', '""', '"""b"""',
    "Article", "Int", "String", "$x", "$x: Int", "$y: String = \"z\"", "F", "...F", "fragment F on Query",
    "domain", "eq", "gte", "contains", "AND", "OR", "NOT", "has", "some", "every", "#c\n",
]
# Valid documents to mutate: a few token edits leave most of them parsable, so they get as far as
# the limits, validation and execution (fragments, directives, variables, aliases, introspection).
SEED_DOCUMENTS = [
    ARTICLES_QUERY,
    NESTED_QUERY,
    '{ a: articles(first: 2, orderBy: [{field: TITLE, direction: DESC}]) { nodes { id title provider { name } } } '
    'b: providers(last: 1) { totalCount } }',
    'query Q($n: Int = 3) { articles(first: $n, search: "recog*") { edges { node { ...F } } '
    'facets { histogram(interval: WEEK) { value count } } } } fragment F on Article { id related(first: 1) '
    '{ title article { id } } images { url aspectRatio } }',
    '{ topic(name: "AI") { articles(where: {quality: {gte: 10}}) { nodes { id @include(if: true) } } } '
    'topics(first: 3) { name articleCount } }',
    '{ __schema { queryType { name } types { name kind } } __type(name: "Article") { fields { name } } }',
    '{ articleByUrl(url: "https://nola.com/1") { id } article(id: "a01") { related { provider { articles '
    '{ totalCount } } } } }',
]
LEXEME = re.compile(r'"""(?:.|\n)*?"""|"(?:[^"\\]|\\.)*"|\.\.\.|[A-Za-z_$][A-Za-z0-9_]*|-?\d+(?:\.\d+)?|\S')

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@st.composite
def mutated_document(draw: Any) -> str:
    """A seed document with a few tokens deleted, repeated, swapped or replaced."""
    tokens = LEXEME.findall(draw(st.sampled_from(SEED_DOCUMENTS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(tokens) - 1))
        edit = draw(st.sampled_from(["rename", "rename", "delete", "repeat", "swap", "replace"]))
        if edit == "rename":
            # One name for another keeps the document parsable: validation or execution decides.
            names = [n for n, token in enumerate(tokens) if NAME.fullmatch(token)]
            tokens[names[at % len(names)]] = draw(st.sampled_from([t for t in TOKENS if NAME.fullmatch(t)]))
        elif edit == "delete" and len(tokens) > 1:
            del tokens[at]
        elif edit == "repeat":
            tokens.insert(at, tokens[at])
        elif edit == "swap" and at + 1 < len(tokens):
            tokens[at], tokens[at + 1] = tokens[at + 1], tokens[at]
        else:
            tokens[at] = draw(st.sampled_from(TOKENS))
    return " ".join(tokens)


QUERY_TEXT = st.one_of(
    mutated_document(),
    mutated_document(),
    mutated_document(),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
    st.text(max_size=200),
)


def test_random_query_texts_never_fail_internally(api_for):
    api = api_for(corpus())
    answers: Counter[str] = Counter()

    @settings(max_examples=120, **FUZZ)
    @given(query=QUERY_TEXT, variables=st.one_of(st.none(), st.dictionaries(st.sampled_from(["x", "y", "n"]), JUNK)))
    def check(query: str, variables: Any) -> None:
        payload = api.execute(query, variables)
        answers[assert_client_errors(payload, (query, variables))] += 1

    check()
    assert_mix(answers, {"data": 5, "GRAPHQL_PARSE_FAILED": 20, "GRAPHQL_VALIDATION_FAILED": 3})


# ---- over HTTP: a real server never answers 5xx -----------------------------------------------------

METHODS = ["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
CONTENT_TYPES = [None, "application/json", "application/json; charset=utf-8", "application/json;charset=latin-1",
                 "APPLICATION/JSON", "application/graphql", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/json; charset=", ";", "\u00e9".encode("latin-1")]
ACCEPTS = [None, "*/*", "application/json", "application/graphql-response+json", "text/html", "text/plain",
           "application/graphql-response+json;q=0.5, application/json;q=abc", ";q=", ",,,", "*/*;q=0"]
JSON_ACCEPTS = [None, "*/*", "application/json", "application/graphql-response+json", "application/*"]
# Over HTTP, Apollo's persisted query protocol adds its own two client-side codes (graph.persisted).
HTTP_CLIENT_CODES = CLIENT_CODES | {"PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_SUPPORTED"}
VALID_QUERY = "{ articles(first: 2) { totalCount nodes { id } } }"


def graphql_params() -> st.SearchStrategy[dict[str, Any]]:
    """GraphQL-over-HTTP parameters: a query (often a real one) with random variables and extensions."""
    return st.fixed_dictionaries(
        {"query": st.one_of(QUERY_TEXT, st.just(VALID_QUERY), st.just(ARTICLES_QUERY), st.just(PROVIDERS_QUERY))},
        optional={
            "variables": st.one_of(
                st.builds(lambda w, s: {"w": w, "s": s}, schema_input("ArticleFilter"), TEXT),
                st.dictionaries(st.sampled_from(["w", "o", "first", "after", "s"]), JUNK),
            ),
            "operationName": st.one_of(st.none(), TEXT),
            "extensions": st.builds(
                lambda h, v: {"persistedQuery": {"version": v, "sha256Hash": h}},
                st.one_of(st.text(string.hexdigits, max_size=64), JUNK),
                st.one_of(st.just(1), JUNK),
            ),
        },
    )


def wild_body() -> st.SearchStrategy[bytes]:
    params = st.fixed_dictionaries(
        {}, optional={"query": JUNK, "variables": JUNK, "operationName": JUNK, "extensions": JUNK}
    ).map(to_json)
    # Numbers the server's JSON parser refuses or turns into floats, which no junk value above makes.
    numbers = st.sampled_from([b'{"query": "{ __typename }", "variables": {"n": 1e400}}', b'{"query": Infinity}',
                               b'{"query": "query($n: Int) { articles(first: $n) { totalCount } }", '
                               b'"variables": {"n": 99999999999999999999999}}'])
    return st.one_of(graphql_params().map(to_json), params, JUNK.map(to_json), st.binary(max_size=100),
                     st.just(b""), numbers)


def as_query_string(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={quote(v if isinstance(v, str) else to_json(v).decode(), safe='')}" for k, v in params.items())


def wild_query_string() -> st.SearchStrategy[str]:
    value = st.one_of(QUERY_TEXT, JUNK.map(lambda v: to_json(v).decode()), st.just(VALID_QUERY))
    pair = st.tuples(st.sampled_from(["query", "variables", "operationName", "extensions", "x", ""]), value)
    encoded = st.lists(pair, max_size=4).map(lambda pairs: "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs))
    # Raw, badly escaped query strings too (invalid percent escapes, invalid UTF-8 once decoded).
    raw = st.lists(st.sampled_from(["query=", "%", "%zz", "%ff%fe", "%00", "&", "=", "variables=%7B", "{", "+"]),
                   max_size=6).map("".join)
    return st.one_of(encoded, raw)


# (method, headers, body, query string): a third plausible POSTs, a third plausible GETs, a third anything.
HEADERS = st.builds(
    lambda content_type, accept: {k: v for k, v in (("content-type", content_type), ("accept", accept)) if v},
    st.sampled_from(CONTENT_TYPES),
    st.sampled_from(ACCEPTS),
)
REQUESTS = st.one_of(
    st.tuples(
        st.just("POST"),
        st.builds(lambda a: {"content-type": "application/json", **({"accept": a} if a else {})},
                  st.sampled_from(JSON_ACCEPTS)),
        graphql_params().map(to_json),
        st.just(""),
    ),
    st.tuples(
        st.just("GET"),
        st.builds(lambda a: {"accept": a} if a else {}, st.sampled_from(JSON_ACCEPTS)),
        st.just(b""),
        graphql_params().map(as_query_string),
    ),
    st.tuples(st.sampled_from(METHODS), HEADERS, wild_body(), wild_query_string()),
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory):
    db = write_db(tmp_path_factory.mktemp("fuzz") / "db.json", corpus())
    with running_server(db) as running:
        yield running


def test_random_http_requests_never_get_a_server_error(fuzz_server):
    statuses: Counter[str] = Counter()

    @settings(max_examples=100, **FUZZ)
    @given(request=REQUESTS)
    def check(request: tuple[str, dict[str, Any], bytes, str]) -> None:
        method, headers, body, query_string = request
        content = body if method not in ("GET", "HEAD") else None
        url = "/graphql" + (f"?{query_string}" if query_string else "")
        response = fuzz_server.client.request(method, url, content=content, headers=headers)
        assert response.status_code < 500, (request, response.status_code, response.text)
        statuses[str(response.status_code)] += 1
        if response.headers.get("content-type", "").startswith(("application/json", "application/graphql-response")):
            assert_client_errors(response.json(), request, HTTP_CLIENT_CODES)

    check()
    assert_mix(statuses, {"200": 10, "400": 10, "405": 3})
    assert "error id" not in fuzz_server.log()


# ---- variables nested past what a JSON encoder can key (issue 12, item 3) ------------------------

NESTED_WHERE = "query($w: ArticleFilter) { articles(where: $w) { totalCount } }"


def nested_where_body(levels: int) -> bytes:
    """A request body whose `where` variable is `levels` NOTs deep (built as text: encoders give up first)."""
    where = '{"NOT":' * levels + '{"title":{"eq":"x"}}' + "}" * levels
    return b'{"query":"%s","variables":{"w":%s}}' % (NESTED_WHERE.encode(), where.encode())


@pytest.mark.parametrize("levels", [200, 300, 1000])
def test_variables_nested_past_the_encoders_depth_are_bad_user_input(api_for, levels):
    api = api_for(corpus())
    variables = orjson.loads(nested_where_body(levels))["variables"]
    payload = api.execute(NESTED_WHERE, variables)
    assert payload == {"errors": [{"message": "Variable values are nested too deeply.", "extensions": {"code": "BAD_USER_INPUT"}}]}


def test_deeply_nested_variables_get_bad_user_input_from_a_real_server(fuzz_server):
    for levels in (251, 252, 300, 1000):
        response = fuzz_server.client.post(
            "/graphql", content=nested_where_body(levels), headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, (levels, response.text[:300])
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"], levels
    assert "Traceback" not in fuzz_server.log()
    assert "error id" not in fuzz_server.log()
