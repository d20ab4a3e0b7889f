"""Schemathesis against the served GraphQL schema (the reliability issue).

Schemathesis loads the schema from a real server by introspection and, for
every root field, generates queries (selections, arguments and values that the
schema allows, then invalid ones) and sends them over HTTP. Whatever it sends,
the server never answers with a 5xx status nor with an INTERNAL_SERVER_ERROR:
arguments the schema allows but the API refuses (a page of 1000, a made-up
cursor, a bad date-time) are BAD_USER_INPUT, expensive ones QUERY_TOO_COMPLEX,
and the invalid queries are all refused.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from conftest import article
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from server import running_server, write_db

CLIENT_CODES = {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}
# Per root field and generation mode: 7 fields x (25 + 10) cases, about 10 s.
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
ROOT_FIELDS = ["article", "articleByUrl", "articles", "provider", "providers", "topic", "topics", "stories", "story"]


def corpus() -> list[dict[str, Any]]:
    providers = [{"name": "The Lens", "domain": "thelensnola.org"}, {"name": "NOLA.com", "domain": "nola.com"}]
    return [
        article(
            id=f"a{n}",
            title=f"Article {n} about recognition",
            body="Emails on facial recognition." if n % 2 else "",
            publishedDateTime=f"2020-12-{10 + n:02d}T19:04:00Z",
            quality=60 + n,
            topics=["AI", "Computer Vision"][: 1 + n % 2],
            provider=providers[n % 2],
            webUrl=f"https://{providers[n % 2]['domain']}/{n}",
            images=[{"url": f"https://img.example/{n}.jpg", "width": 1200, "height": 628}],
            related=[{"title": f"Related {n}", "webUrl": f"https://{providers[0]['domain']}/{n + 1}",
                      "provider": providers[1 - n % 2]}],
        )
        for n in range(6)
    ]


@pytest.fixture(scope="module")
def served_schema(tmp_path_factory: pytest.TempPathFactory):
    db = write_db(tmp_path_factory.mktemp("schemathesis") / "db.json", corpus())
    with running_server(db) as server:
        yield server, schemathesis.graphql.from_url(server.url)


def test_the_schema_has_every_root_field(served_schema):
    _, schema = served_schema
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == sorted(f"Query.{name}" for name in ROOT_FIELDS)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
@pytest.mark.parametrize("field", ROOT_FIELDS)
def test_no_generated_query_gets_a_server_error(served_schema, field, mode):
    server, schema = served_schema
    operation = schema["Query"][field]
    answers: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call()
        # Schemathesis' own check: no 5xx, and no GraphQL error it takes for the server's.
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code < 500, (case.body, response.status_code, response.text)
        payload = response.json()
        codes = {error.get("extensions", {}).get("code") for error in payload.get("errors", [])}
        assert codes <= CLIENT_CODES, (case.body, payload["errors"])
        answers["/".join(sorted(codes)) or "data"] += 1

    check()
    print(field, mode.value, dict(answers))  # with -s: how the generated queries were answered
    assert sum(answers.values()) >= 1
    if mode is GenerationMode.NEGATIVE:
        assert "data" not in answers  # a query the schema does not allow is refused, never answered
    assert "error id" not in server.log()
