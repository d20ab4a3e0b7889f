"""Error codes (DESIGN.md "Errors"): each code with its exact message, and internal errors
masked: the client gets an error id, the server log the details under that id."""

from __future__ import annotations

import logging
import re

import pytest

from conftest import article
from server import running_server, write_db

INTERNAL_MESSAGE = re.compile(r"Internal server error \(error id ([0-9a-f]{12})\)")
CURSOR = "eyJub3QiOiJ0aGlzIn0"  # base64 of {"not":"this"}


def only_error(payload: dict) -> tuple[str, str]:
    [error] = payload["errors"]
    return error["extensions"]["code"], error["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ articles(first: -1) { totalCount } }", "first must be between 0 and 100, got -1"),
        ("{ providers(last: -2) { totalCount } }", "last must be between 0 and 100, got -2"),
        (
            "{ articles(first: 1, last: 1) { totalCount } }",
            "first and last cannot be used together; page forwards with first/after or backwards with last/before",
        ),
        ('{ articles(after: "garbage") { totalCount } }', "after: invalid cursor 'garbage': not a cursor this API made"),
        (f'{{ articles(before: "{CURSOR}") {{ totalCount }} }}', f"before: invalid cursor '{CURSOR}': not a cursor this API made"),
        (
            '{ articles(where: {publishedDateTime: {gt: "not a date"}}) { totalCount } }',
            "where: publishedDateTime: not an ISO-8601 date-time: 'not a date'",
        ),
        ("{ articles(orderBy: [{field: RELEVANCE}]) { totalCount } }", "orderBy RELEVANCE needs a search"),
        ('{ article(id: "a1") { images(first: -1) { url } } }', "images: first must be between 0 and 100, got -1"),
    ],
)
def test_bad_user_input(api_for, query, message):
    payload = api_for([article(id="a1", title="One")]).execute(query)
    assert only_error(payload) == ("BAD_USER_INPUT", message)


def test_a_cursor_from_another_ordering_is_bad_user_input(api_for):
    api = api_for([article(id="a1", title="One"), article(id="a2", title="Two")])
    cursor = api.data("{ articles(first: 1, orderBy: [{field: TITLE}]) { pageInfo { endCursor } } }")["articles"][
        "pageInfo"
    ]["endCursor"]
    payload = api.execute(f'{{ articles(after: "{cursor}") {{ totalCount }} }}')
    assert only_error(payload) == (
        "BAD_USER_INPUT",
        f"after: invalid cursor {cursor!r}: it was made for another ordering; restart paging without it",
    )


def test_bad_variables_are_bad_user_input_and_nothing_runs(api_for):
    payload = api_for([]).execute("query($n: Int) { articles(first: $n) { totalCount } }", {"n": "ten"})
    assert "data" not in payload
    assert only_error(payload) == ("BAD_USER_INPUT", "Variable '$n' has invalid value: Int cannot represent non-integer value: 'ten'")


def test_a_parse_error(api_for):
    payload = api_for([]).execute("{ articles { totalCount }")
    assert "data" not in payload
    assert only_error(payload) == ("GRAPHQL_PARSE_FAILED", "Syntax Error: Expected Name, found <EOF>.")


def test_a_validation_error(api_for):
    payload = api_for([]).execute("{ articles { totalCount zzz } }")
    assert "data" not in payload
    assert only_error(payload) == ("GRAPHQL_VALIDATION_FAILED", "Cannot query field 'zzz' on type 'ArticleConnection'.")


def test_an_unknown_operation_name_is_bad_user_input(api_for):
    api = api_for([])
    payload = api.execute("query A { __typename } query B { __typename }", None, "C")
    assert only_error(payload) == ("BAD_USER_INPUT", "Unknown operation named 'C'.")


# ---- internal errors ---------------------------------------------------------------------------------


@pytest.mark.plan_failures_expected
def test_an_unexpected_exception_is_masked_and_logged_with_its_id(api_for, caplog):
    # An image that is not a mapping (as no seed file could store): Image.url fails with an AttributeError.
    api = api_for([{"id": "broken", "title": "t", "body": "", "images": ["x"]}])
    with caplog.at_level(logging.ERROR, logger="newsgraph.errors"):
        payload = api.execute('{ article(id: "broken") { id images { url } } }')
    [error] = payload["errors"]
    match = INTERNAL_MESSAGE.fullmatch(error["message"])
    assert match, error
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": match.group(1)}
    assert error["path"] == ["article", "images", 0, "url"]
    assert payload["data"] == {"article": None}
    [record] = caplog.records
    assert f"error id {match.group(1)}" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is AttributeError


def test_an_error_graphql_raises_while_executing_is_masked_too(api_for, caplog):
    # A null where the schema promises a value: graphql-core's own error, still the server's fault.
    api = api_for([{"id": "nulltitle", "title": None, "body": ""}])
    with caplog.at_level(logging.ERROR, logger="newsgraph.errors"):
        payload = api.execute('{ article(id: "nulltitle") { title } }')
    [error] = payload["errors"]
    assert INTERNAL_MESSAGE.fullmatch(error["message"]), error
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "Cannot return null for non-nullable field Article.title" in caplog.text


def leaks(text: str, *secrets: str) -> list[str]:
    """What of a stack trace, a file path or a secret a response body shows."""
    clues = ["Traceback", 'File "', ".py", "KeyError", "site-packages", *secrets]
    return [clue for clue in clues if clue in text]


def test_a_real_server_masks_a_broken_document_and_logs_it_under_the_same_id(tmp_path):
    broken = {"id": "broken", "title": "t", "body": "", "images": ["x"]}  # an image no seed file could store
    db = write_db(tmp_path / "db.json", [article(id="ok", title="Fine"), broken])
    with running_server(db) as server:
        response = server.post(
            {"query": '{ ok: article(id: "ok") { title } broken: article(id: "broken") { images { url } } }'}
        )
        assert response.status_code == 200
        payload = response.json()
        assert payload["data"] == {"ok": {"title": "Fine"}, "broken": None}
        [error] = payload["errors"]
        error_id = INTERNAL_MESSAGE.fullmatch(error["message"]).group(1)
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
        assert leaks(response.text, str(tmp_path)) == []
        log = server.log()
    assert f"error id {error_id}" in log
    assert "Traceback (most recent call last)" in log
    assert "AttributeError: 'str' object has no attribute 'get'" in log


def test_a_real_server_masks_a_corrupt_database_file(tmp_path):
    db = write_db(tmp_path / "db.json", [article(id="ok", title="Fine")])
    with running_server(db) as server:
        assert server.data('{ article(id: "ok") { title } }') == {"article": {"title": "Fine"}}
        db.write_bytes(b'{"articles": [not json')
        response = server.post({"query": '{ article(id: "ok") { title } }'}, accept="application/graphql-response+json")
        assert response.status_code == 503
        payload = response.json()
        assert "data" not in payload
        [error] = payload["errors"]
        error_id = INTERNAL_MESSAGE.fullmatch(error["message"]).group(1)
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
        assert leaks(response.text, str(tmp_path), "db.json", "JSON") == []
        log = server.log()
    [line] = [line for line in log.splitlines() if f"error id {error_id}" in line]
    assert "the store could not be read" in line
    assert f"{db}: not a newsgraph database (invalid JSON" in log


# ---- messages quote at most 80 characters of what a client sent (issue 12, item 10) -------------

LONG_DATE = "2020-12-14T" + "9" * 60_000
DATE_QUERY = "query($d: DateTime) { articles(where: {publishedDateTime: {gte: $d}}) { totalCount } }"
DATE_MESSAGE = f"where: publishedDateTime: not an ISO-8601 date-time: {LONG_DATE[:80]!r}"


def test_a_60_kb_date_time_is_quoted_as_80_characters_like_a_cursor(api_for, tmp_path):
    api = api_for([article(id="a1", title="One")])
    assert only_error(api.execute(DATE_QUERY, {"d": LONG_DATE})) == ("BAD_USER_INPUT", DATE_MESSAGE)
    long_cursor = "x" * 60_000
    code, message = only_error(api.execute("query($c: String) { articles(after: $c) { totalCount } }", {"c": long_cursor}))
    assert (code, message) == ("BAD_USER_INPUT", f"after: invalid cursor {long_cursor[:80]!r}: not a cursor this API made")
    # A date-time that is not a string at all is cut the same way.
    code, message = only_error(api.execute(DATE_QUERY, {"d": list(range(20_000))}))
    assert code == "BAD_USER_INPUT" and len(message) < 300, message

    db = write_db(tmp_path / "db.json", [article(id="a1", title="One")])
    with running_server(db) as server:
        response = server.post({"query": DATE_QUERY, "variables": {"d": LONG_DATE}})
        assert response.status_code == 200
        assert only_error(response.json()) == ("BAD_USER_INPUT", DATE_MESSAGE)
        assert len(response.content) < 300
