"""GraphQL over HTTP on a real server (DESIGN.md "HTTP"): media types, status codes,
GET and POST, refusals, GraphiQL, introspection switches and CORS."""

from __future__ import annotations

import json

import pytest

from conftest import article
from graph.graphiql import graphiql_page
from server import running_server, write_db

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
QUERY = '{ article(id: "a1") { id title } }'
DATA = {"article": {"id": "a1", "title": "First"}}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    docs = [
        article(id="a1", title="First", topics=["AI"], secured="token-1", extraKey={"kept": True}),
        article(id="a2", title="Second", topics=["AI"]),
    ]
    return write_db(tmp_path_factory.mktemp("http") / "db.json", docs)


@pytest.fixture(scope="module")
def server(db):
    with running_server(db) as running:
        yield running


def media(response) -> str:
    return response.headers["content-type"].split(";")[0]


def errors(response) -> list[tuple[str, str]]:
    return [(e["extensions"]["code"], e["message"]) for e in response.json()["errors"]]


# ---- media types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        ("application/*", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"text/html, {GRAPHQL_RESPONSE};q=0.1", GRAPHQL_RESPONSE),
        # urql's Accept on every request: JSON types first, text/event-stream after them.
        (f"{GRAPHQL_RESPONSE}, application/graphql+json, {JSON}, text/event-stream, multipart/mixed", GRAPHQL_RESPONSE),
        (f"text/event-stream, {JSON}", JSON),  # equal preference: the spec's JSON
        (f"text/event-stream;q=0.5, {JSON}", JSON),
    ],
)
def test_the_response_media_type_follows_accept(server, accept, expected):
    response = server.post({"query": QUERY}, accept=accept)
    assert response.status_code == 200
    assert media(response) == expected
    assert response.json() == {"data": DATA}
    assert response.headers["vary"] == "Accept"


def test_event_streams_are_for_clients_that_prefer_them(server):
    for accept in ("text/event-stream", f"text/event-stream, {JSON};q=0.5"):
        response = server.post({"query": QUERY}, accept=accept)
        assert (response.status_code, media(response)) == (200, "text/event-stream")
        assert f'data: {{"data":{json.dumps(DATA, separators=(",", ":"))}}}' in response.text


def test_nothing_acceptable_is_406(server):
    response = server.post({"query": QUERY}, accept="text/plain")
    assert response.status_code == 406
    assert errors(response) == [
        ("BAD_USER_INPUT", f"not acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}")
    ]


# ---- request errors: 400 without data for graphql-response+json, 200 for application/json --------


REQUEST_ERRORS = [
    ("{ article(id: ", {}, "GRAPHQL_PARSE_FAILED", "Syntax Error: Unexpected <EOF>."),
    ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED", "Cannot query field 'nope' on type 'Query'."),
    (
        "query($id: ID!) { article(id: $id) { id } }",
        {"id": None},
        "BAD_USER_INPUT",
        "Variable '$id' has invalid value: Expected value of non-null type 'ID!' not to be None.",
    ),
    ("{ articles(first: 101) { totalCount } }", {}, "BAD_USER_INPUT", "articles: first is 101; the page size limit is 100"),
]


@pytest.mark.parametrize(("query", "variables", "code", "message"), REQUEST_ERRORS)
def test_request_errors_with_graphql_response_json_are_400_without_data(server, query, variables, code, message):
    response = server.post({"query": query, "variables": variables}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert media(response) == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    assert errors(response) == [(code, message)]


@pytest.mark.parametrize(("query", "variables", "code", "message"), REQUEST_ERRORS)
def test_request_errors_with_application_json_are_200(server, query, variables, code, message):
    response = server.post({"query": query, "variables": variables}, accept=JSON)
    assert response.status_code == 200
    assert media(response) == JSON
    assert "data" not in response.json()
    assert errors(response) == [(code, message)]


def test_a_field_error_during_execution_keeps_200_and_data_null(server):
    response = server.post({"query": "{ articles(first: -1) { totalCount } }"}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert errors(response) == [("BAD_USER_INPUT", "first must be between 0 and 100, got -1")]


# ---- GET ---------------------------------------------------------------------------------------------


def test_get_runs_queries_with_variables_and_operation_name(server):
    response = server.get(
        {
            "query": "query One($id: ID!) { article(id: $id) { id title } } query Two { __typename }",
            "variables": '{"id": "a1"}',
            "operationName": "One",
        }
    )
    assert response.status_code == 200
    assert response.json() == {"data": DATA}
    assert response.headers["vary"] == "Accept"


def test_a_mutation_over_get_is_405_with_allow_post(server):
    response = server.get({"query": "mutation { x }"}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert errors(response) == [("BAD_USER_INPUT", "mutation operations cannot be sent with GET; use POST")]


def test_a_mutation_over_post_fails_validation_on_this_read_only_schema(server):
    response = server.post({"query": "mutation { x }"}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert errors(response) == [("GRAPHQL_VALIDATION_FAILED", "The mutation operation is not supported by the schema.")]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "a GET request needs a query parameter"),
        ({"query": QUERY, "variables": "{nope"}, "variables must be a JSON object"),
        ({"query": QUERY, "variables": "[1]"}, "variables must be a JSON object"),
        ({"query": QUERY, "extensions": "3"}, "extensions must be a JSON object"),
    ],
)
def test_unusable_get_parameters_are_400(server, params, message):
    response = server.get(params)
    assert response.status_code == 400
    assert errors(response) == [("BAD_USER_INPUT", message)]


def test_other_methods_are_405(server):
    for method in ("PUT", "DELETE", "PATCH", "HEAD"):
        response = server.client.request(method, "/graphql")
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, POST"


# ---- POST bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not valid JSON"),
        (b"", "the request body is not valid JSON"),
        (b'"query"', "the request body must be a JSON object with a query"),
        (b'{"variables": {}}', "the request body needs a query string"),
        (b'{"query": 1}', "the request body needs a query string"),
        (b'{"query": "{ __typename }", "variables": []}', "variables must be a JSON object"),
        (b'{"query": "{ __typename }", "operationName": 3}', "operationName must be a string"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "extensions must be a JSON object"),
        (
            b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]',
            "batching is not supported: send one operation per request, as a JSON object",
        ),
    ],
)
def test_unusable_bodies_are_400(server, body, message):
    response = server.client.post("/graphql", content=body, headers={"content-type": JSON, "accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert media(response) == GRAPHQL_RESPONSE
    assert errors(response) == [("BAD_USER_INPUT", message)]


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (None, "unsupported media type: send the request body as application/json"),
        ("text/plain", "unsupported media type: send the request body as application/json"),
        ("application/x-www-form-urlencoded", "unsupported media type: send the request body as application/json"),
        ("application/json; charset=latin-1", "unsupported charset 'latin-1': send the request body as UTF-8"),
    ],
)
def test_bodies_that_are_not_json_are_415(server, content_type, message):
    headers = {"content-type": content_type} if content_type else {}
    response = server.client.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == 415
    assert errors(response) == [("BAD_USER_INPUT", message)]


def test_a_json_body_with_a_utf8_charset_is_accepted(server):
    response = server.client.post(
        "/graphql", content='{"query": "{ __typename }"}'.encode(), headers={"content-type": "application/json; charset=UTF-8"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


def test_the_body_limit_is_64_kib(server):
    def body(size: int) -> bytes:
        head = b'{"query": "{ __typename }", "extensions": {"pad": "'
        tail = b'"}}'
        return head + b"x" * (size - len(head) - len(tail)) + tail

    at_limit = server.client.post("/graphql", content=body(65_536), headers={"content-type": JSON})
    assert at_limit.status_code == 200
    assert at_limit.json() == {"data": {"__typename": "Query"}}
    over = server.client.post("/graphql", content=body(65_537), headers={"content-type": JSON})
    assert over.status_code == 413
    assert errors(over) == [("QUERY_TOO_COMPLEX", "request body is over the request body limit of 65536 bytes")]


# ---- what is served and what is not ---------------------------------------------------------------


def test_the_secured_token_and_unknown_keys_are_stored_but_never_served(server, db):
    stored = db.read_text()
    assert "token-1" in stored and "extraKey" in stored
    response = server.post({"query": '{ article(id: "a1") { id title body topics } }'})
    assert "token-1" not in response.text and "extraKey" not in response.text
    assert errors(server.post({"query": '{ article(id: "a1") { secured } }'})) == [
        ("GRAPHQL_VALIDATION_FAILED", "Cannot query field 'secured' on type 'Article'.")
    ]


# ---- GraphiQL and introspection ------------------------------------------------------------------


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_graphiql(server):
    response = server.get(accept=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert media(response) == "text/html"
    assert response.text == graphiql_page(reader_link=True)  # the reader app is on by default
    assert response.headers["vary"] == "Accept"


def test_a_browser_get_with_a_query_gets_json(server):
    response = server.get({"query": QUERY}, accept=BROWSER_ACCEPT)
    assert media(response) == JSON
    assert response.json() == {"data": DATA}


def test_introspection_and_suggestions_are_on_by_default(server):
    assert server.data("{ __schema { queryType { name } } }") == {"__schema": {"queryType": {"name": "Query"}}}
    assert errors(server.post({"query": "{ artcles { totalCount } }"})) == [
        ("GRAPHQL_VALIDATION_FAILED", "Cannot query field 'artcles' on type 'Query'. Did you mean 'articles' or 'article'?")
    ]


@pytest.fixture(scope="module")
def locked_down(db):
    with running_server(db, "--no-graphiql", env={"NEWSGRAPH_INTROSPECTION": "false"}) as running:
        yield running


def test_introspection_can_be_turned_off(locked_down):
    response = locked_down.post({"query": '{ __type(name: "Article") { name } }'})
    assert errors(response) == [
        (
            "GRAPHQL_VALIDATION_FAILED",
            "GraphQL introspection has been disabled, but the requested query contained the field '__type'.",
        )
    ]
    assert locked_down.data("{ __typename }") == {"__typename": "Query"}


def test_without_introspection_errors_make_no_suggestions(locked_down):
    assert errors(locked_down.post({"query": "{ artcles { totalCount } }"})) == [
        ("GRAPHQL_VALIDATION_FAILED", "Cannot query field 'artcles' on type 'Query'.")
    ]
    response = locked_down.post({"query": "{ articles(orderBy: [{field: TITEL}]) { totalCount } }"})
    assert "Did you mean" not in response.text
    response = locked_down.post(
        {"query": "query($o: [ArticleOrder!]) { articles(orderBy: $o) { totalCount } }", "variables": {"o": [{"field": "TITEL"}]}}
    )
    assert errors(response)[0][0] == "BAD_USER_INPUT"
    assert "Did you mean" not in response.text


def test_graphiql_can_be_turned_off(locked_down):
    response = locked_down.get(accept=BROWSER_ACCEPT)
    assert response.status_code == 400
    assert media(response) == JSON
    assert errors(response) == [("BAD_USER_INPUT", "a GET request needs a query parameter")]
    assert locked_down.client.get("/graphql/static/graphiql.js").status_code == 404


# ---- CORS -----------------------------------------------------------------------------------------


ORIGIN = "https://app.example.com"


def preflight(server, origin: str):
    return server.client.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )


def test_no_cors_origins_by_default(server):
    assert "access-control-allow-origin" not in preflight(server, ORIGIN).headers
    response = server.post({"query": QUERY}, headers={"origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_from_an_origin_not_allowed_is_405_naming_the_setting(server):
    response = preflight(server, "http://localhost:3000")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == (
        "OPTIONS is not allowed here: this is a CORS preflight from http://localhost:3000, an origin this server "
        "does not allow; to let it call the API, serve with NEWSGRAPH_CORS_ORIGINS=http://localhost:3000 "
        "(or --cors-origins http://localhost:3000)"
    )
    assert server.client.options("/graphql").text == "OPTIONS is not allowed here"  # not from a browser


def test_cors_origins_from_configuration(db):
    with running_server(db, "--cors-origins", f"{ORIGIN}, https://other.example.com") as server:
        allowed = preflight(server, ORIGIN)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in allowed.headers["access-control-allow-methods"]
        response = server.post({"query": QUERY}, headers={"origin": ORIGIN})
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.json() == {"data": DATA}

        stranger = "https://evil.example.net"
        assert preflight(server, stranger).status_code == 400
        assert "access-control-allow-origin" not in server.post({"query": QUERY}, headers={"origin": stranger}).headers


def test_cors_origins_from_the_environment(db):
    with running_server(db, env={"NEWSGRAPH_CORS_ORIGINS": ORIGIN}) as server:
        assert preflight(server, ORIGIN).headers["access-control-allow-origin"] == ORIGIN


def test_healthz_reports_the_store(server):
    response = server.client.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["articles"] == 2
    assert health["warm"] is True  # two articles: a search builds its index at once
    assert len(health["version"]) == 32  # the data version the response cache and ETags use
