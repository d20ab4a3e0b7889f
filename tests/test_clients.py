"""Real GraphQL clients against a real `newsgraph serve`.

Node.js: Apollo Client (normalized InMemoryCache) and graphql-request, from
tests/clients (scripts/setup-clients.sh installs them). Python: gql over HTTP,
from the `test` extra. Both build their caches and validation from what the
server says, so these tests also hold the schema to a consistent identity:
Article by id, Provider by domain, Topic by name.
Skipped when a client is not installed; failed in CI.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import newsgraph
from live_server import SEED_ARTICLE_ID, SEED_ARTICLE_TITLE, live_server, need
from server import Server

CLIENTS = Path(__file__).resolve().parent / "clients"
TITLE_ORDER = [[SEED_ARTICLE_ID, "extra1"], ["extra2", "extra3"], ["extra4", "extra5"]]
"""articles ordered by TITLE, two a page: "City releases…" sorts before "Generated article 1…"."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("clients")) as running:
        yield running


@pytest.fixture(scope="module")
def node_report(server: Server) -> dict[str, Any]:
    need(shutil.which("node") is not None, "node is not installed (Node.js 18 or newer is needed)")
    installed = (CLIENTS / "node_modules" / "@apollo" / "client").is_dir()
    need(installed, "tests/clients is not installed (run scripts/setup-clients.sh)")
    # --conditions=development: Apollo's development build, the one that checks the cache and warns.
    done = subprocess.run(
        ["node", "--conditions=development", "run.mjs", server.url],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# ---- graphql-request --------------------------------------------------------------


def test_graphql_request_query_with_variables(node_report: dict[str, Any]) -> None:
    assert node_report["graphqlRequest"]["variables"] == {
        "article": {
            "id": SEED_ARTICLE_ID,
            "title": SEED_ARTICLE_TITLE,
            "provider": {"domain": "thelensnola.org", "name": "The Lens", "articleCount": 2},
        }
    }


def test_graphql_request_walks_every_page_with_cursors(node_report: dict[str, Any]) -> None:
    assert node_report["graphqlRequest"]["paging"] == {"pages": TITLE_ORDER}


def test_graphql_request_facets(node_report: dict[str, Any]) -> None:
    assert node_report["graphqlRequest"]["facets"] == {
        "articles": {
            "totalCount": 5,
            "facets": {
                "topics": [{"value": "Budgets", "count": 5}],
                "providers": [
                    {"value": "example0.org", "count": 2},
                    {"value": "example1.org", "count": 2},
                    {"value": "thelensnola.org", "count": 1},
                ],
                "quality": {"count": 5, "min": 10, "max": 50},
            },
        }
    }


def test_graphql_request_sees_errors_with_their_codes(node_report: dict[str, Any]) -> None:
    errors = node_report["graphqlRequest"]["errors"]
    assert errors["badCursor"] == {
        "thrown": True,
        "status": 200,
        "codes": ["BAD_USER_INPUT"],
        "messages": ["after: invalid cursor 'not-a-cursor': not a cursor this API made"],
    }
    # graphql-request asks for application/graphql-response+json: request errors are 400s.
    assert errors["unknownField"] == {
        "thrown": True,
        "status": 400,
        "codes": ["GRAPHQL_VALIDATION_FAILED"],
        "messages": ["Cannot query field 'nosuchfield' on type 'Article'."],
    }
    assert errors["badVariable"]["status"] == 400
    assert errors["badVariable"]["codes"] == ["BAD_USER_INPUT"]
    assert errors["badVariable"]["messages"][0].startswith("Variable '$first' has invalid value")
    assert node_report["graphqlRequest"]["logged"] == []


# ---- Apollo Client ----------------------------------------------------------------


def test_apollo_normalizes_articles_providers_and_topics_without_warnings(node_report: dict[str, Any]) -> None:
    apollo = node_report["apollo"]
    assert apollo["logged"] == []
    assert apollo["cacheKeys"] == [
        f"Article:{SEED_ARTICLE_ID}",
        "Article:extra1",
        "Article:extra2",
        "Article:extra3",
        "Article:extra4",
        "Article:extra5",
        'Provider:{"domain":"aclu.org"}',
        'Provider:{"domain":"nola.com"}',
        'Provider:{"domain":"thelensnola.org"}',
        "ROOT_QUERY",
        'Topic:{"name":"AI"}',
    ]
    assert apollo["rootArticle"] == {"__ref": f"Article:{SEED_ARTICLE_ID}"}
    # Reached through an article (name) and directly (articleCount): one entry holding both.
    assert apollo["providerEntity"] == {
        "__typename": "Provider",
        "domain": "thelensnola.org",
        "name": "The Lens",
        "articleCount": 2,
    }


def test_apollo_query_with_variables_pages_facets_and_errors(node_report: dict[str, Any]) -> None:
    apollo = node_report["apollo"]
    article = apollo["variables"]["article"]
    assert (article["__typename"], article["id"], article["title"]) == ("Article", SEED_ARTICLE_ID, SEED_ARTICLE_TITLE)
    related = [(r["provider"]["domain"], r["article"]) for r in article["related"]]
    assert related == [("nola.com", None), ("aclu.org", None)]
    assert article["images"][0]["width"] == 2560
    assert apollo["paging"] == {"pages": TITLE_ORDER}
    assert apollo["facets"]["articles"]["totalCount"] == 6
    assert apollo["facets"]["articles"]["facets"]["histogram"] == [
        {"__typename": "FacetCount", "value": "2020-01-01", "count": 1},
        {"__typename": "FacetCount", "value": "2021-01-01", "count": 5},
    ]
    assert apollo["facets"]["topic"] == {"__typename": "Topic", "name": "AI", "articleCount": 1}
    assert apollo["error"] == {"thrown": True, "codes": ["BAD_USER_INPUT"]}


def test_apollo_without_the_provider_key_warns_so_the_check_above_is_live(node_report: dict[str, Any]) -> None:
    control = node_report["apolloWithoutProviderPolicy"]
    assert not any(key.startswith("Provider:") for key in control["cacheKeys"])
    assert control["logged"][0].startswith(
        "warn: Cache data may be lost when replacing the provider field of a Article object."
    )


# ---- gql (Python) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def gql_session(server: Server) -> Iterator[Any]:
    need(importlib.util.find_spec("gql") is not None, "gql is not installed (pip install -e '.[test]')")
    from gql import Client
    from gql.transport.httpx import HTTPXTransport

    # fetch_schema_from_transport: gql introspects the server and validates every request locally.
    client = Client(transport=HTTPXTransport(url=server.url, timeout=30), fetch_schema_from_transport=True)
    with client as session:
        yield session


def test_gql_query_with_variables(gql_session: Any) -> None:
    from gql import GraphQLRequest

    request = GraphQLRequest(
        "query ($id: ID!) { article(id: $id) { id title provider { domain name } topics } }",
        variable_values={"id": SEED_ARTICLE_ID},
    )
    assert gql_session.execute(request) == {
        "article": {
            "id": SEED_ARTICLE_ID,
            "title": SEED_ARTICLE_TITLE,
            "provider": {"domain": "thelensnola.org", "name": "The Lens"},
            "topics": ["Computer Vision", "AI"],
        }
    }


def test_gql_walks_pages_backwards_with_before_and_last(gql_session: Any) -> None:
    from gql import GraphQLRequest

    query = """query ($before: String) {
      articles(last: 2, before: $before, orderBy: [{ field: TITLE }]) {
        edges { node { id } }
        pageInfo { hasPreviousPage startCursor }
      }
    }"""
    pages: list[list[str]] = []
    before = None
    for _ in range(10):
        data = gql_session.execute(GraphQLRequest(query, variable_values={"before": before}))["articles"]
        pages.append([edge["node"]["id"] for edge in data["edges"]])
        if not data["pageInfo"]["hasPreviousPage"]:
            break
        before = data["pageInfo"]["startCursor"]
    assert pages == list(reversed(TITLE_ORDER))


def test_gql_facets(gql_session: Any) -> None:
    from gql import gql

    data = gql_session.execute(
        gql('{ provider(domain: "thelensnola.org") { articleCount articles { facets { types { value count } } } } }')
    )
    types = [{"value": "article", "count": 2}]
    assert data == {"provider": {"articleCount": 2, "articles": {"facets": {"types": types}}}}


def test_gql_errors_local_validation_and_server_codes(gql_session: Any) -> None:
    from gql import GraphQLRequest, gql
    from gql.transport.exceptions import TransportQueryError
    from graphql import GraphQLError

    # Validated against the introspected schema before anything is sent.
    with pytest.raises(GraphQLError, match="Cannot query field 'nosuchfield' on type 'Article'."):
        gql_session.execute(gql("{ articles { nodes { nosuchfield } } }"))
    with pytest.raises(TransportQueryError) as raised:
        gql_session.execute(GraphQLRequest('{ articles(after: "not-a-cursor") { totalCount } }'))
    assert [(e["message"], e["extensions"]["code"]) for e in raised.value.errors] == [
        ("after: invalid cursor 'not-a-cursor': not a cursor this API made", "BAD_USER_INPUT")
    ]


def test_gql_builds_a_client_from_the_exported_schema(tmp_path: Path) -> None:
    """What a codegen user does: export the SDL, generate or validate against it offline."""
    need(importlib.util.find_spec("gql") is not None, "gql is not installed (pip install -e '.[test]')")
    from gql import Client, gql
    from graphql import GraphQLError

    exported = newsgraph("export-schema", "--output", str(tmp_path / "schema.graphql"))
    assert (exported.returncode, exported.stdout, exported.stderr) == (0, "", "")
    client = Client(schema=(tmp_path / "schema.graphql").read_text(encoding="utf-8"))
    client.validate(gql("{ articles(first: 5) { nodes { id provider { domain } } facets { topics { value } } } }"))
    with pytest.raises(GraphQLError, match="Cannot query field 'nosuchfield'"):
        client.validate(gql("{ articles { nodes { nosuchfield } } }"))
