"""Limits (DESIGN.md "Limits"): each refused before it runs with QUERY_TOO_COMPLEX and a
message naming the limit, the cost model's figures, and hostile queries sent to a real
server that refuses them cheaply."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from graphql import Lexer, Source, TokenKind, get_introspection_query, parse

from conftest import article
from graph.execution import limits as query_limits
from graph.config import Limits
from graph.errors import TooComplexError
from graph.schema import schema
from server import running_server, write_db

FULL_PAGE = """
query FullPage {
  articles(first: 100) {
    nodes {
      id title excerpt body category type quality heat published publishedDateTime
      originalUrl webUrl ampWebUrl cdnAmpWebUrl topics
      provider { name domain articleCount }
      images { url width height isCached aspectRatio }
      related {
        title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality
        provider { name domain articleCount }
        images { url width height isCached aspectRatio }
        article { id title }
      }
    }
  }
}
"""
BOMB = "{ articles(first: 100) { nodes { related(first: 100) { article { related(first: 100) { id } } } } } }"
BOMB_MESSAGE = (
    "query could return up to 1,020,101 objects; the cost limit is 50,000 "
    "(ask for fewer items with first/last on connections and nested lists)"
)


def price(query: str, variables: dict | None = None, limits: Limits | None = None, **kwargs) -> int:
    return query_limits.check(schema._schema, parse(query), None, variables, limits or Limits(), **kwargs).cost


def refusal(api, query: str, variables: dict | None = None, code: str = "QUERY_TOO_COMPLEX") -> str:
    """The message of a request refused before execution with one error of this code."""
    payload = api.execute(query, variables)
    assert "data" not in payload, payload
    [error] = payload["errors"]
    assert error["extensions"]["code"] == code, error
    return error["message"]


def bad_bound(api, query: str, variables: dict | None = None) -> str:
    """Page and list bounds are bad paging arguments: BAD_USER_INPUT, still refused before execution."""
    return refusal(api, query, variables, code="BAD_USER_INPUT")


def rich_article(n: int) -> dict:
    """An article with 10 images and 10 related items (each with a provider and an image)."""
    return article(
        id=f"a{n:03d}",
        title=f"Article {n}",
        webUrl=f"https://example.org/{n}",
        publishedDateTime=f"2021-01-{1 + n % 28:02d}T00:00:00Z",
        provider={"name": "Example", "domain": "example.org"},
        topics=[f"topic {n % 7}"],
        images=[{"url": f"https://example.org/{n}/{i}.jpg", "width": 4, "height": 3} for i in range(10)],
        related=[
            {
                "title": f"Related {n}.{i}",
                "webUrl": f"https://example.org/{(n + i) % 100}",
                "provider": {"name": "Other", "domain": "other.org"},
                "images": [{"url": f"https://other.org/{n}/{i}.jpg"}],
            }
            for i in range(10)
        ],
    )


# ---- the cost model against DESIGN.md's two examples -------------------------------------------


def test_a_full_page_of_100_articles_costs_about_14000_and_runs(api_for):
    # 1 connection + 100 × (article + provider + 10 images + 10 × (related + provider + 10 images + article))
    assert price(FULL_PAGE) == 1 + 100 * (1 + 1 + 10 + 10 * (1 + 1 + 10 + 1)) == 14_201
    api = api_for([rich_article(n) for n in range(100)])
    nodes = api.data(FULL_PAGE)["articles"]["nodes"]
    assert len(nodes) == 100
    assert {len(node["images"]) for node in nodes} == {10}
    assert {len(node["related"]) for node in nodes} == {10}
    assert all(item["article"] is not None for node in nodes for item in node["related"])


def test_the_design_bomb_costs_about_1020000_and_is_refused(api_for):
    with pytest.raises(TooComplexError) as raised:
        price(BOMB)
    assert raised.value.message == BOMB_MESSAGE
    assert refusal(api_for([rich_article(0)]), BOMB) == BOMB_MESSAGE


def test_nested_lists_default_to_10_items_as_the_cost_model_assumes(api_for):
    api = api_for([rich_article(0)])
    node = api.data('{ article(id: "a000") { images { url } related { title } } }')["article"]
    assert (len(node["images"]), len(node["related"])) == (10, 10)
    assert price('{ article(id: "a000") { images { url } related { title } } }') == 1 + 10 + 10


def test_cost_counts_pages_defaults_and_variables():
    assert price("{ articles { nodes { id } } }") == 1 + 20
    assert price("{ articles(last: 5) { edges { cursor node { id } } pageInfo { hasNextPage } } }") == 1 + 5 * 2 + 1
    assert price("query($n: Int) { articles(first: $n) { nodes { id } } }", {"n": 7}) == 1 + 7
    assert price("query($n: Int = 3) { articles(first: $n) { nodes { id } } }") == 1 + 3
    assert price("{ articles { facets { topics { value } quality { min } } } }") == 1 + 1 + 20 + 1
    # A fragment spread twice in one selection set is one set of fields, as in execution.
    assert price("{ articles { nodes { ...A ...A } } } fragment A on Article { provider { name } }") == 1 + 20 * 2


def test_topics_without_first_is_priced_with_the_stores_topic_count(api_for):
    docs = [article(id=f"t{n}", title="t", topics=[f"topic {n}"]) for n in range(60)]
    api = api_for(docs, Limits(max_cost=50))
    assert refusal(api, "{ topics { name } }") == (
        "query could return up to 60 objects; the cost limit is 50 "
        "(ask for fewer items with first/last on connections and nested lists)"
    )
    assert len(api.data("{ topics(first: 50) { name } }")["topics"]) == 50
    small = api_for(docs[:40], Limits(max_cost=50))
    assert len(small.data("{ topics { name } }")["topics"]) == 40


# ---- each limit: the largest allowed runs, one more is refused -----------------------------------


def nested(levels: int) -> str:
    """A query `levels` fields deep: article > related > article > ... > id (or title)."""
    parents = ['article(id: "a000")', *["related(first: 1)", "article"] * levels][: levels - 1]
    leaf = "title" if parents[-1].startswith("related") else "id"
    return "{ " + " ".join(f"{name} {{" for name in parents) + f" {leaf}" + " }" * len(parents) + " }"


def test_depth_limit(api_for):
    api = api_for([rich_article(0)])
    assert api.error_codes(nested(12)) == []
    assert refusal(api, nested(13)) == "query is nested more than 12 levels deep; the depth limit is 12"
    # Past the parser's own nesting bound the answer is the same limit, not a syntax error.
    deep = "{" + "a {" * 300 + "b" + "}" * 301
    assert refusal(api, deep) == "query is nested more than 12 levels deep; the depth limit is 12"


def test_alias_limit(api_for):
    api = api_for([])
    assert api.error_codes("{ " + " ".join(f"a{n}: __typename" for n in range(30)) + " }") == []
    assert refusal(api, "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }") == (
        "query has 31 aliases; the alias limit is 30"
    )


def tokens(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def test_token_limit(api_for):
    api = api_for([])

    def query(strings: int) -> str:
        return '{ articles(where: {id: {in: [' + ' "x"' * strings + "]}}) { totalCount } }"

    assert tokens(query(1980)) == 2000
    assert api.error_codes(query(1980)) == []
    assert refusal(api, query(1981)) == "query has more than 2000 tokens; the token limit is 2000"


def test_directive_limit(api_for):
    api = api_for([])
    assert api.error_codes("{ " + "__typename @include(if: true) " * 50 + "}") == []
    assert refusal(api, "{ " + "__typename @include(if: true) " * 51 + "}") == (
        "query has 51 directives; the directive limit is 50"
    )


def test_page_size_limit_applies_to_literals_variables_and_defaults(api_for):
    api = api_for([rich_article(0)])
    assert api.error_codes("{ articles(first: 100) { totalCount } }") == []
    assert bad_bound(api, "{ articles(first: 101) { totalCount } }") == (
        "articles: first is 101; the page size limit is 100"
    )
    assert bad_bound(api, "query($n: Int) { providers(last: $n) { totalCount } }", {"n": 1000}) == (
        "providers: last is 1000; the page size limit is 100"
    )
    assert bad_bound(api, "query($n: Int = 500) { articles(first: $n) { totalCount } }") == (
        "articles: first is 500; the page size limit is 100"
    )
    # A negative size is a bad argument, not a limit.
    assert api.error_codes("{ articles(first: -1) { totalCount } }") == ["BAD_USER_INPUT"]


def test_nested_list_size_limit(api_for):
    api = api_for([rich_article(0)])
    assert api.error_codes('{ article(id: "a000") { images(first: 100) { url } } }') == []
    assert bad_bound(api, '{ article(id: "a000") { related(first: 101) { title } } }') == (
        "related: first is 101; the nested list size limit is 100"
    )
    assert bad_bound(api, "{ articles(first: 1) { facets { topics(first: 101) { value } } } }") == (
        "topics: first is 101; the nested list size limit is 100"
    )


def test_cost_limit_is_configurable(api_for):
    api = api_for([], Limits(max_cost=21))
    assert api.error_codes("{ articles { nodes { id } } }") == []
    assert refusal(api, "{ articles { nodes { id } pageInfo { hasNextPage } } }") == (
        "query could return up to 22 objects; the cost limit is 21 "
        "(ask for fewer items with first/last on connections and nested lists)"
    )


def test_execution_time_limit(api_for):
    # A microsecond: the first wait for the store's data is already past it.
    api = api_for([rich_article(n) for n in range(20)], Limits(timeout_seconds=0.000001))
    payload = api.execute("{ articles { nodes { provider { name } related { article { provider { name } } } } } }")
    assert payload == {
        "data": None,
        "errors": [
            {
                "message": "the request ran longer than the execution time limit of 1e-06 s",
                "extensions": {"code": "QUERY_TOO_COMPLEX"},
            }
        ],
    }


def test_validation_work_limit(api_for):
    api = api_for([])
    # Fields sharing a name are compared pairwise by validation: 480 of them are ~115,000 comparisons.
    assert refusal(api, "{ " + "topics { name } " * 480 + "}") == (
        "query is too complex to validate (too many fields or fragments share a name); "
        "the validation work limit is 50,000"
    )
    assert api.error_codes("{ " + "topics { name } " * 20 + "}") == []


# ---- introspection and fragments ------------------------------------------------------------------


def test_graphiqls_introspection_query_passes_the_limits(api_for):
    api = api_for([])
    query = get_introspection_query(descriptions=True, input_value_deprecation=True, directive_is_repeatable=True)
    assert api.data(query)["__schema"]["queryType"]["name"] == "Query"


def test_an_introspection_bomb_is_refused(api_for):
    api = api_for([])
    bomb = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }"
    payload = api.execute(bomb)
    assert payload["errors"][0]["message"] == "Maximum introspection depth exceeded"
    assert "data" not in payload


def test_a_fragment_cycle_is_refused_by_validation(api_for):
    api = api_for([])
    payload = api.execute("{ ...A } fragment A on Query { ...B } fragment B on Query { topics { ...C } } "
                          "fragment C on Topic { articles { nodes { provider { ...D } } } } "
                          "fragment D on Provider { articles { nodes { provider { ...D } } } }")
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert payload["errors"][0]["message"] == "Cannot spread fragment 'D' within itself."


def test_a_long_fragment_chain_is_priced_without_recursion(api_for):
    chain = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(180))
    query = "{ ...F0 } " + chain + " fragment F180 on Query { topics(first: 1) { name } }"
    assert price(query) == 1
    assert api_for([]).data(query) == {"topics": []}


# ---- configuration ---------------------------------------------------------------------------------


def test_limits_come_from_flags_and_environment_variables(tmp_path: Path):
    db = write_db(tmp_path / "db.json", [rich_article(0)])
    env = {"NEWSGRAPH_MAX_DEPTH": "3", "NEWSGRAPH_MAX_COST": "10"}
    with running_server(db, "--max-aliases", "1", "--max-body-bytes", "200", env=env) as server:
        def message(query: str) -> str:
            response = server.post({"query": query})
            return response.json()["errors"][0]["message"]

        assert message("{ articles { nodes { provider { name } } } }") == (
            "query is nested more than 3 levels deep; the depth limit is 3"
        )
        assert message("{ a: __typename b: __typename }") == "query has 2 aliases; the alias limit is 1"
        assert message("{ articles(first: 10) { nodes { id } } }") == (
            "query could return up to 11 objects; the cost limit is 10 "
            "(ask for fewer items with first/last on connections and nested lists)"
        )
        too_big = server.post({"query": "{ __typename }", "extensions": {"pad": "x" * 200}})
        assert too_big.status_code == 413
        assert too_big.json()["errors"][0]["message"] == "request body is over the request body limit of 200 bytes"


# ---- hostile queries against a real server ----------------------------------------------------------


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory):
    db = write_db(tmp_path_factory.mktemp("limits") / "db.json", [rich_article(n) for n in range(3)])
    with running_server(db) as server:
        server.data("{ articles { nodes { id } } }")  # warm: imports and caches done
        yield server


def attacks() -> dict[str, tuple[str, int, str]]:
    """name -> (query, HTTP status with graphql-response+json, code)."""
    return {
        "deep nesting": ('{ article(id: "x") {' + " related { article {" * 40 + " id" + " } }" * 40 + " } }", 400, "QUERY_TOO_COMPLEX"),
        "nesting past the parser's bound": ("{" + " a {" * 1000 + " b" + " }" * 1001, 400, "QUERY_TOO_COMPLEX"),
        "10,000 aliases": ("{ articles { nodes { " + "a:id " * 10_000 + "} } }", 400, "QUERY_TOO_COMPLEX"),
        "aliases within the token limit": ("{ " + "a:id " * 600 + "}", 400, "QUERY_TOO_COMPLEX"),
        "a huge token count": ("{ " + "id " * 20_000 + "}", 400, "QUERY_TOO_COMPLEX"),
        "a cost bomb": (BOMB, 400, "QUERY_TOO_COMPLEX"),
        "a fragment cycle": ("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", 400, "GRAPHQL_VALIDATION_FAILED"),
        "many directives": ("{ " + "__typename @skip(if: false) " * 250 + "}", 400, "QUERY_TOO_COMPLEX"),
        "fields sharing a name": ("{ " + "topics { name } " * 480 + "}", 400, "QUERY_TOO_COMPLEX"),
        "an introspection bomb": (
            "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }",
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    }


CPU_BOUND_SECONDS = 0.5
"""Generous: each refusal costs a few milliseconds; this only catches work that grows with the attack."""


@pytest.mark.parametrize("name", list(attacks()))
def test_an_attack_is_refused_cheaply(target, name):
    query, status, code = attacks()[name]
    before = target.cpu_seconds()
    response = target.post({"query": query}, accept="application/graphql-response+json")
    spent = target.cpu_seconds() - before
    assert response.status_code == status, response.text[:500]
    payload = response.json()
    assert "data" not in payload
    assert {e["extensions"]["code"] for e in payload["errors"]} == {code}
    assert spent < CPU_BOUND_SECONDS, f"{name}: the server spent {spent:.2f} s of CPU refusing it"


def test_a_10_mb_body_is_refused_with_413_cheaply(target):
    before = target.cpu_seconds()
    body = b'{"query": "{ __typename }", "pad": "' + b"x" * 10_000_000 + b'"}'
    response = target.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    spent = target.cpu_seconds() - before
    assert response.status_code == 413
    assert response.json()["errors"] == [
        {
            "message": "request body is over the request body limit of 65536 bytes",
            "extensions": {"code": "QUERY_TOO_COMPLEX"},
        }
    ]
    assert spent < CPU_BOUND_SECONDS


def test_a_body_without_a_length_is_cut_off_at_the_limit(target):
    # Chunked transfer: no Content-Length to refuse up front, so the stream is counted as it arrives.
    with socket.create_connection(("127.0.0.1", target.port), timeout=10) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 16_384
        for _ in range(5):  # 80 KiB, over 64 KiB; the rest of a 10 MB body is never sent
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        reply = sock.recv(65_536)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]


# ---- sizes are read as execution reads them (issue 12, item 2) ----------------------------------------

THREE_LEVELS = (
    "query($a: Int, $b: Int, $c: Int) { articles(first: $a) { nodes { id provider { articles(first: $b) {"
    " nodes { id provider { articles(first: $c) { nodes { id title } } } } } } } } }"
)
THREE_LEVELS_MESSAGE = (
    "query could return up to 1,030,301 objects; the cost limit is 50,000 "
    "(ask for fewer items with first/last on connections and nested lists)"
)


def test_int_variables_sent_as_floats_are_priced_as_the_ints_they_coerce_to(api_for):
    # graphql-core coerces 100.0 (and 1e2) to the Int 100, so the price must count 100 too.
    assert price(THREE_LEVELS, {"a": 5, "b": 5, "c": 5}) == price(THREE_LEVELS, {"a": 5.0, "b": 5.0, "c": 5e0})
    api = api_for([rich_article(0)])
    for value in (100, 100.0, 1e2):
        assert refusal(api, THREE_LEVELS, {"a": value, "b": value, "c": value}) == THREE_LEVELS_MESSAGE
    assert bad_bound(api, "query($n: Int) { articles(first: $n) { totalCount } }", {"n": 101.0}) == (
        "articles: first is 101; the page size limit is 100"
    )
    assert bad_bound(api, "query($n: Int!) { providers(last: $n) { totalCount } }", {"n": 1000.0}) == (
        "providers: last is 1000; the page size limit is 100"
    )
    assert bad_bound(api, 'query($n: Int) { article(id: "a000") { related(first: $n) { title } } }', {"n": 101.0}) == (
        "related: first is 101; the nested list size limit is 100"
    )
    assert bad_bound(api, "query($n: Int) { articles { facets { topics(first: $n) { value } } } }", {"n": 101.0}) == (
        "topics: first is 101; the nested list size limit is 100"
    )
    # Values that do not coerce to an Int are refused by execution, before anything runs.
    assert api.error_codes("query($n: Int) { articles(first: $n) { totalCount } }", {"n": 1.5}) == ["BAD_USER_INPUT"]
    assert api.error_codes("query($n: Int) { articles(first: $n) { totalCount } }", {"n": "100"}) == ["BAD_USER_INPUT"]
    assert api.data("query($n: Int) { articles(first: $n) { totalCount } }", {"n": 3.0}) == {"articles": {"totalCount": 1}}


def test_a_float_variable_cost_bomb_is_refused_by_a_real_server_cheaply(target):
    before = target.cpu_seconds()
    response = target.post({"query": THREE_LEVELS, "variables": {"a": 100.0, "b": 100.0, "c": 100.0}})
    spent = target.cpu_seconds() - before
    assert response.status_code == 200
    assert response.json() == {"errors": [{"message": THREE_LEVELS_MESSAGE, "extensions": {"code": "QUERY_TOO_COMPLEX"}}]}
    assert spent < CPU_BOUND_SECONDS
