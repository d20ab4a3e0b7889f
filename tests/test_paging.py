"""Relay cursor paging on every connection: articles, Provider.articles, Topic.articles, providers.

DESIGN.md: first/last default to 20 when neither is given and must be 0..100;
first with last is an error; cursors are opaque keyset cursors that survive
data changes; a malformed cursor (or one made for another ordering) is an
error, never a silent first page.

Readings chosen where the spec is silent (tested here):
- pageInfo is exact in both directions: hasNextPage says whether any item
  follows the page's last item in this ordering, hasPreviousPage whether any
  precedes its first, whatever the paging direction;
- ``before`` without first/last pages backwards: the 20 items just before it;
- a page size above the configured page size limit is refused before anything
  runs, a negative one by the resolver: both are BAD_USER_INPUT.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import article

START = 1609459200  # 2021-01-01T00:00:00Z


def generated(count: int) -> list[dict[str, Any]]:
    """count articles with tied and missing dates, titles and qualities, over up to 40 providers and 3 topics.

    Every fifth article is d3.example's, so that one provider has more than a page of articles.
    """
    docs = []
    for n in range(count):
        k = 3 if n % 5 == 0 else n % 40
        fields: dict[str, Any] = {
            "id": f"p{n:03d}",
            "title": f"Title {n % 13}",
            "provider": {"name": f"Provider {k}", "domain": f"d{k}.example"},
            "topics": ["all", f"t{n % 3}"],
        }
        if n % 11:
            hours = (n * 37) % 97
            fields["publishedDateTime"] = f"2021-01-{1 + hours // 24:02d}T{hours % 24:02d}:00:00Z"
        if n % 7:
            fields["quality"] = n % 10
        docs.append(article(**fields))
    return docs


def newest_first(docs: list[dict[str, Any]]) -> list[str]:
    """The default order, worked out independently: date DESC, undated last, id ASC on ties."""
    by_id = sorted(docs, key=lambda d: d["id"])
    dated = sorted((d for d in by_id if d.get("publishedDateTime")), key=lambda d: d["publishedDateTime"], reverse=True)
    undated = [d for d in by_id if not d.get("publishedDateTime")]
    return [d["id"] for d in dated + undated]


def quality_desc_title(docs: list[dict[str, Any]]) -> list[str]:
    """QUALITY DESC (nulls last), then TITLE ASC, then id ASC."""
    by_title = sorted(docs, key=lambda d: (d["title"].casefold(), d["title"], d["id"]))
    rated = sorted((d for d in by_title if d.get("quality") is not None), key=lambda d: d["quality"], reverse=True)
    return [d["id"] for d in rated + [d for d in by_title if d.get("quality") is None]]


ARTICLES = """
query ($first: Int, $after: String, $last: Int, $before: String, $o: [ArticleOrder!], $s: String) {
  c: articles(first: $first, after: $after, last: $last, before: $before, orderBy: $o, search: $s) {
    edges { cursor node { id } } nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""
PROVIDER_ARTICLES = """
query ($first: Int, $after: String, $last: Int, $before: String, $o: [ArticleOrder!]) {
  provider(domain: "d3.example") {
    c: articles(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {
      edges { cursor node { id } } nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}
"""
TOPIC_ARTICLES = """
query ($first: Int, $after: String, $last: Int, $before: String, $o: [ArticleOrder!]) {
  topic(name: "t1") {
    c: articles(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {
      edges { cursor node { id } } nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}
"""
PROVIDERS = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  c: providers(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id: domain } } nodes { id: domain }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""


def connection(data: dict[str, Any]) -> dict[str, Any]:
    return data["c"] if "c" in data else next(iter(data.values()))["c"]


def page(api: Any, query: str, **variables: Any) -> dict[str, Any]:
    conn = connection(api.data(query, variables))
    edges = conn["edges"]
    # edges and nodes agree; pageInfo's cursors are the page's first and last.
    assert [e["node"] for e in edges] == conn["nodes"]
    assert conn["pageInfo"]["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert conn["pageInfo"]["endCursor"] == (edges[-1]["cursor"] if edges else None)
    return conn


def ids_of(conn: dict[str, Any]) -> list[str]:
    return [node["id"] for node in conn["nodes"]]


def walk_forwards(api: Any, query: str, size: int, **variables: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        conn = page(api, query, first=size, after=after, **variables)
        seen += ids_of(conn)
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            assert 0 < len(conn["nodes"]) <= size
            return seen
        assert len(conn["nodes"]) == size
        after = conn["pageInfo"]["endCursor"]


def walk_backwards(api: Any, query: str, size: int, **variables: Any) -> list[str]:
    pages: list[list[str]] = []
    before = None
    while True:
        conn = page(api, query, last=size, before=before, **variables)
        pages.insert(0, ids_of(conn))
        assert conn["pageInfo"]["hasNextPage"] is (before is not None)
        if not conn["pageInfo"]["hasPreviousPage"]:
            assert 0 < len(conn["nodes"]) <= size
            return [i for p in pages for i in p]
        assert len(conn["nodes"]) == size
        before = conn["pageInfo"]["startCursor"]


@pytest.fixture
def many(api_for):
    docs = generated(300)
    return api_for(docs), docs


@pytest.mark.parametrize(
    ("orderings", "reference"),
    [
        pytest.param(None, newest_first, id="default"),
        pytest.param([{"field": "QUALITY", "direction": "DESC"}, {"field": "TITLE"}], quality_desc_title, id="quality-title"),
    ],
)
def test_walk_all_articles_forwards_and_backwards_in_pages_of_7(many, orderings, reference):
    api, docs = many
    expected = reference(docs)
    assert len(expected) == 300 and len(set(expected)) == 300
    assert walk_forwards(api, ARTICLES, 7, o=orderings) == expected
    assert walk_backwards(api, ARTICLES, 7, o=orderings) == expected


def test_walk_provider_and_topic_articles(many):
    api, docs = many
    of_d3 = [d for d in docs if d["provider"]["domain"] == "d3.example"]
    in_t1 = [d for d in docs if "t1" in d["topics"]]
    assert walk_forwards(api, PROVIDER_ARTICLES, 7) == newest_first(of_d3)
    assert walk_backwards(api, PROVIDER_ARTICLES, 7) == newest_first(of_d3)
    assert len(in_t1) == 100
    assert walk_forwards(api, TOPIC_ARTICLES, 7) == newest_first(in_t1)
    assert walk_backwards(api, TOPIC_ARTICLES, 7) == newest_first(in_t1)


def test_walk_providers(many):
    api, docs = many
    counts: dict[str, int] = {}
    for d in docs:
        counts[d["provider"]["domain"]] = counts.get(d["provider"]["domain"], 0) + 1
    # d3 has 68 articles; dK (K not a multiple of 5) has 8 below K=20, else 7; dK for K a multiple
    # of 5 has none and does not exist. Names are "Provider K": ties go to NAME ASC.
    expected = sorted(counts, key=lambda domain: (-counts[domain], f"provider {domain[1:-8]}"))
    assert len(expected) == 32
    assert expected[:3] == ["d3.example", "d1.example", "d11.example"]
    assert walk_forwards(api, PROVIDERS, 7) == expected
    assert walk_backwards(api, PROVIDERS, 7) == expected


def test_walk_search_results(many):
    api, _ = many
    # Relevance cursors carry scores: walking both ways must agree and cover every match once.
    forwards = walk_forwards(api, ARTICLES, 7, s="title t1")
    assert len(forwards) == len(set(forwards)) == 100
    assert walk_backwards(api, ARTICLES, 7, s="title t1") == forwards
    assert forwards == ids_of(page(api, ARTICLES, first=100, s="title t1"))


def test_default_page_size_is_20_on_every_connection(many):
    api, _ = many
    for query in (ARTICLES, PROVIDER_ARTICLES, TOPIC_ARTICLES, PROVIDERS):
        conn = page(api, query)
        assert len(conn["nodes"]) == 20, query
        assert conn["pageInfo"]["hasNextPage"] is True
        assert conn["pageInfo"]["hasPreviousPage"] is False
    assert page(api, ARTICLES)["totalCount"] == 300


def test_first_and_last_take_0_to_100(many):
    api, docs = many
    expected = newest_first(docs)
    assert ids_of(page(api, ARTICLES, first=100)) == expected[:100]
    assert ids_of(page(api, ARTICLES, last=100)) == expected[-100:]
    assert ids_of(page(api, ARTICLES, last=3)) == expected[-3:]
    empty = page(api, ARTICLES, first=0)
    assert empty["edges"] == []
    assert empty["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
    empty = page(api, ARTICLES, last=0)
    assert empty["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None}


def test_before_alone_gives_the_20_just_before_it(many):
    api, docs = many
    expected = newest_first(docs)
    cursor = page(api, ARTICLES, first=50)["edges"][-1]["cursor"]  # the 50th article
    conn = page(api, ARTICLES, before=cursor)
    assert ids_of(conn) == expected[29:49]
    assert conn["pageInfo"]["hasPreviousPage"] is True
    assert conn["pageInfo"]["hasNextPage"] is True


def test_after_and_before_together(many):
    api, docs = many
    expected = newest_first(docs)
    edges = page(api, ARTICLES, first=30)["edges"]
    after, before = edges[4]["cursor"], edges[12]["cursor"]
    assert ids_of(page(api, ARTICLES, after=after, before=before)) == expected[5:12]
    assert ids_of(page(api, ARTICLES, after=after, before=before, first=3)) == expected[5:8]
    assert ids_of(page(api, ARTICLES, after=after, before=before, last=3)) == expected[9:12]
    # A window that is empty because before comes first.
    conn = page(api, ARTICLES, after=before, before=after)
    assert conn["edges"] == []


def test_page_info_is_exact_in_the_middle(many):
    api, docs = many
    expected = newest_first(docs)
    edges = page(api, ARTICLES, first=30)["edges"]
    forwards = page(api, ARTICLES, first=5, after=edges[9]["cursor"])
    assert ids_of(forwards) == expected[10:15]
    assert forwards["pageInfo"]["hasPreviousPage"] is True
    assert forwards["pageInfo"]["hasNextPage"] is True
    backwards = page(api, ARTICLES, last=5, before=edges[9]["cursor"])
    assert ids_of(backwards) == expected[4:9]
    assert backwards["pageInfo"]["hasPreviousPage"] is True
    assert backwards["pageInfo"]["hasNextPage"] is True
    # The very start and end.
    start = page(api, ARTICLES, last=5, before=edges[5]["cursor"])
    assert ids_of(start) == expected[:5]
    assert start["pageInfo"]["hasPreviousPage"] is False
    end_cursor = page(api, ARTICLES, last=1)["edges"][0]["cursor"]
    after_end = page(api, ARTICLES, first=5, after=end_cursor)
    assert after_end["edges"] == []
    assert after_end["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None}


def test_a_cursor_from_one_connection_works_in_another_with_the_same_order(many):
    api, docs = many
    cursor = page(api, ARTICLES, first=1)["pageInfo"]["endCursor"]
    of_d3 = newest_first([d for d in docs if d["provider"]["domain"] == "d3.example"])
    assert ids_of(page(api, PROVIDER_ARTICLES, after=cursor, first=100)) == [
        i for i in of_d3 if newest_first(docs).index(i) > 0
    ]


# ---- errors --------------------------------------------------------------------------------


def errors(api: Any, query: str, **variables: Any) -> list[tuple[str, str]]:
    payload = api.execute(query, variables)
    return [(e["message"], e["extensions"]["code"]) for e in payload.get("errors", [])]


CONNECTIONS = {"articles": ARTICLES, "Provider.articles": PROVIDER_ARTICLES, "Topic.articles": TOPIC_ARTICLES, "providers": PROVIDERS}


def test_first_with_last_is_an_error(many):
    api, _ = many
    for name, query in CONNECTIONS.items():
        assert errors(api, query, first=1, last=1) == [
            (
                "first and last cannot be used together; page forwards with first/after or backwards with last/before",
                "BAD_USER_INPUT",
            )
        ], name


def test_page_size_out_of_bounds_is_bad_user_input(many):
    api, _ = many
    for name, query in CONNECTIONS.items():
        field = name.split(".")[-1]
        for argument in ("first", "last"):
            # Below 0 the resolver refuses it; above the limit the limits check does, before anything runs.
            assert errors(api, query, **{argument: -1}) == [
                (f"{argument} must be between 0 and 100, got -1", "BAD_USER_INPUT")
            ], (name, argument)
            assert errors(api, query, **{argument: 101}) == [
                (f"{field}: {argument} is 101; the page size limit is 100", "BAD_USER_INPUT")
            ], (name, argument)


MALFORMED = [
    "",
    "abc",  # not base64 of JSON
    "not a cursor!",
    "W10",  # base64 of []
    "e30",  # base64 of {}
    "WzFd",  # base64 of [1]
    "ü",
]


def test_malformed_cursor_is_bad_user_input(many):
    api, _ = many
    for name, query in CONNECTIONS.items():
        for argument in ("after", "before"):
            for cursor in MALFORMED:
                assert errors(api, query, **{argument: cursor}) == [
                    (f"{argument}: invalid cursor {cursor!r}: not a cursor this API made", "BAD_USER_INPUT")
                ], (name, argument, cursor)


def test_truncated_cursor_is_bad_user_input(many):
    api, _ = many
    cursor = page(api, ARTICLES, first=1)["pageInfo"]["endCursor"]
    broken = cursor[: len(cursor) // 2]
    assert errors(api, ARTICLES, after=broken) == [
        (f"after: invalid cursor {broken!r}: not a cursor this API made", "BAD_USER_INPUT")
    ]


def test_cursor_of_another_ordering_is_bad_user_input(many):
    api, _ = many
    cases = {
        "default-then-title": ({}, {"o": [{"field": "TITLE"}]}),
        "asc-then-desc": ({"o": [{"field": "TITLE"}]}, {"o": [{"field": "TITLE", "direction": "DESC"}]}),
        "more-keys": ({"o": [{"field": "QUALITY"}]}, {"o": [{"field": "QUALITY"}, {"field": "HEAT"}]}),
        "search-then-no-search": ({"s": "title"}, {}),
        "no-search-then-search": ({}, {"s": "title"}),
    }
    for name, (made_with, used_with) in cases.items():
        cursor = page(api, ARTICLES, first=2, **made_with)["pageInfo"]["endCursor"]
        for argument in ("after", "before"):
            assert errors(api, ARTICLES, **{argument: cursor}, **used_with) == [
                (
                    f"{argument}: invalid cursor {cursor[:80]!r}: it was made for another ordering; restart paging without it",
                    "BAD_USER_INPUT",
                )
            ], (name, argument)


def test_article_cursor_on_providers_and_back_is_bad_user_input(many):
    api, _ = many
    article_cursor = page(api, ARTICLES, first=1)["pageInfo"]["endCursor"]
    provider_cursor = page(api, PROVIDERS, first=1)["pageInfo"]["endCursor"]
    assert [code for _, code in errors(api, PROVIDERS, after=article_cursor)] == ["BAD_USER_INPUT"]
    assert [code for _, code in errors(api, ARTICLES, after=provider_cursor)] == ["BAD_USER_INPUT"]


# ---- keyset cursors across writes ------------------------------------------------------------


def dated(article_id: str, hour: int) -> dict[str, Any]:
    return article(id=article_id, title=article_id, publishedDateTime=f"2021-01-01T{hour:02d}:00:00Z", topics=["x"])


def test_cursors_stay_valid_when_articles_are_added_and_removed(api_for, run):
    # a0 is the newest, a9 the oldest.
    api = api_for([dated(f"a{n}", 20 - n) for n in range(10)])
    first_page = page(api, ARTICLES, first=4)
    assert ids_of(first_page) == ["a0", "a1", "a2", "a3"]
    cursor = first_page["pageInfo"]["endCursor"]

    # Remove a page-one article and the cursor's own; add one before the cursor and one after it.
    run(api.store.write([dated("new-top", 23), dated("a5b", 15)], ["a1", "a3"]))

    second_page = page(api, ARTICLES, first=4, after=cursor)
    assert ids_of(second_page) == ["a4", "a5", "a5b", "a6"]
    assert second_page["pageInfo"]["hasPreviousPage"] is True
    assert second_page["pageInfo"]["hasNextPage"] is True
    # Backwards from the same cursor: what is now before it.
    assert ids_of(page(api, ARTICLES, last=10, before=cursor)) == ["new-top", "a0", "a2"]
    # And on through the rest, after another write that empties what is left but one.
    run(api.store.write([], ["a7", "a8"]))
    last_page = page(api, ARTICLES, first=4, after=second_page["pageInfo"]["endCursor"])
    assert ids_of(last_page) == ["a9"]
    assert last_page["pageInfo"]["hasNextPage"] is False


def test_topic_cursor_survives_its_own_article_losing_the_topic(api_for, run):
    api = api_for([dated(f"a{n}", 20 - n) for n in range(6)])
    query = TOPIC_ARTICLES.replace('"t1"', '"x"')
    cursor = page(api, query, first=2)["pageInfo"]["endCursor"]
    changed = dated("a1", 19)
    changed["topics"] = ["y"]
    run(api.store.write([changed], []))
    assert ids_of(page(api, query, first=10, after=cursor)) == ["a2", "a3", "a4", "a5"]
