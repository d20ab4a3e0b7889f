"""orderBy over the hand-checked corpus (tests/fixtures/corpus/).

DESIGN.md: keys apply in turn; nulls last in both directions; id ASC breaks
every tie; text keys (TITLE, PROVIDER_NAME, NAME, DOMAIN) compare casefolded,
then by code point (so "Apple pie" < "apple pie" < "Banana bread" < "Ápple
tart": casefolding does not strip accents). Defaults: articles
PUBLISHED_DATE_TIME DESC; providers ARTICLE_COUNT DESC then NAME ASC. A
provider's identity is its domain, so domain ASC breaks provider ties.
PROVIDER_NAME is the catalog's (canonical) name.
"""

from __future__ import annotations

from typing import Any

import pytest

NEWEST_FIRST = [
    "year-2022", "fruit-c", "fruit-a", "fruit-b", "fruit-e", "beta-the", "gamma-wire", "zeit-marathon",
    "strasse", "twin-a", "twin-b", "lighthouse-body", "lighthouse-title", "zurich-tram", "field-unsearched",
    "field-topic", "field-body", "field-excerpt", "offset-newyear", "recognize", "recognition", "case-mixed",
    "leap-day", "empty-lists", "old-2019",
    "fruit-d", "minimal", "no-date", "nulls",  # undated: last, by id
]  # fmt: skip
OLDEST_FIRST = [
    "old-2019", "empty-lists", "leap-day", "case-mixed", "recognition", "recognize", "offset-newyear",
    "field-excerpt", "field-body", "field-topic", "field-unsearched", "zurich-tram", "lighthouse-title",
    "lighthouse-body", "twin-a", "twin-b", "strasse", "zeit-marathon", "beta-the", "gamma-wire", "fruit-e",
    "fruit-a", "fruit-b", "fruit-c", "year-2022",
    "fruit-d", "minimal", "no-date", "nulls",  # undated: still last, still by id
]  # fmt: skip
BY_TITLE = [
    "case-mixed",  # AI ethics panel
    "nulls",  # All nulls
    "fruit-b",  # Apple pie   (same casefold as "apple pie": code point decides, 'A' < 'a')
    "fruit-a",  # apple pie
    "old-2019",  # Archive: a winter tale
    "fruit-c",  # Banana bread (same title as fruit-d: id decides)
    "fruit-d",  # Banana bread
    "beta-the",  # Beta launches a podcast
    "field-excerpt",  # Breakfast news
    "recognize",  # Cameras that recognize faces
    "empty-lists",  # Empty lists
    "field-unsearched",  # Garden diary
    "leap-day",  # Leap day special
    "lighthouse-title",  # Lighthouse reopens after storm
    "year-2022",  # Looking ahead
    "minimal",  # Minimal
    "field-body",  # Music class
    "offset-newyear",  # New Year fireworks over the harbour
    "field-topic",  # Night sky
    "recognition",  # Police expand facial recognition
    "twin-a",  # Quokka sighting
    "twin-b",  # Quokka sighting
    "lighthouse-body",  # Storm damage on the coast
    "strasse",  # Straße closed for repairs (casefolds to "strasse")
    "zurich-tram",  # Tram strike in Zürich
    "no-date",  # Undated notice
    "gamma-wire",  # Wire services merge
    "zeit-marathon",  # ZÜRICH MARATHON RESULTS
    "fruit-e",  # Ápple tart ('á' comes after every ASCII letter)
]
ARTICLES = """
query ($w: ArticleFilter, $o: [ArticleOrder!]) {
  articles(where: $w, orderBy: $o, first: 100) { nodes { id } }
}
"""
FRUIT = {"category": {"eq": "fruit"}}


def order(api: Any, keys: Any, where: Any = None) -> list[str]:
    return [node["id"] for node in api.data(ARTICLES, {"w": where, "o": keys})["articles"]["nodes"]]


def key(field: str, direction: str | None = None) -> dict[str, str]:
    return {"field": field} if direction is None else {"field": field, "direction": direction}


@pytest.mark.parametrize("keys", [None, [], [key("PUBLISHED_DATE_TIME", "DESC")]])
def test_default_is_newest_first_with_undated_last(corpus, keys):
    assert order(corpus, keys) == NEWEST_FIRST


def test_published_date_time_asc_keeps_nulls_last(corpus):
    assert order(corpus, [key("PUBLISHED_DATE_TIME", "ASC")]) == OLDEST_FIRST


def test_direction_defaults_to_asc(corpus):
    assert order(corpus, [key("PUBLISHED_DATE_TIME")]) == OLDEST_FIRST


def test_title_casefolded_then_code_point(corpus):
    assert order(corpus, [key("TITLE")]) == BY_TITLE


def test_title_desc_reverses_the_text_order_but_not_the_id_tie_break(corpus):
    expected = list(reversed(BY_TITLE))
    # Ties keep id ASC in both directions.
    for first, second in (("fruit-c", "fruit-d"), ("twin-a", "twin-b")):
        i, j = expected.index(second), expected.index(first)
        expected[i], expected[j] = first, second
    assert order(corpus, [key("TITLE", "DESC")]) == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param([key("TITLE")], ["fruit-b", "fruit-a", "fruit-c", "fruit-d", "fruit-e"], id="title-asc"),
        pytest.param([key("TITLE", "DESC")], ["fruit-e", "fruit-c", "fruit-d", "fruit-a", "fruit-b"], id="title-desc"),
        pytest.param([key("QUALITY")], ["fruit-e", "fruit-a", "fruit-b", "fruit-d", "fruit-c"], id="quality-asc"),
        pytest.param([key("QUALITY", "DESC")], ["fruit-b", "fruit-d", "fruit-a", "fruit-e", "fruit-c"], id="quality-desc"),
        pytest.param([key("HEAT")], ["fruit-e", "fruit-b", "fruit-c", "fruit-d", "fruit-a"], id="heat-asc"),
        pytest.param([key("HEAT", "DESC")], ["fruit-d", "fruit-b", "fruit-c", "fruit-e", "fruit-a"], id="heat-desc"),
        pytest.param([key("PUBLISHED_DATE_TIME")], ["fruit-e", "fruit-a", "fruit-b", "fruit-c", "fruit-d"], id="date-asc"),
        pytest.param([key("PUBLISHED_DATE_TIME", "DESC")], ["fruit-c", "fruit-a", "fruit-b", "fruit-e", "fruit-d"], id="date-desc"),
        pytest.param([key("ID")], ["fruit-a", "fruit-b", "fruit-c", "fruit-d", "fruit-e"], id="id-asc"),
        pytest.param([key("ID", "DESC")], ["fruit-e", "fruit-d", "fruit-c", "fruit-b", "fruit-a"], id="id-desc"),
        # All but fruit-b are "Alpha News"'s: a tie, broken by id; fruit-b has no provider.
        pytest.param([key("PROVIDER_NAME")], ["fruit-a", "fruit-c", "fruit-d", "fruit-e", "fruit-b"], id="provider-asc"),
        pytest.param([key("PROVIDER_NAME", "DESC")], ["fruit-a", "fruit-c", "fruit-d", "fruit-e", "fruit-b"], id="provider-desc"),
        # Multi-key: the second key orders what the first leaves tied.
        pytest.param(
            [key("QUALITY", "DESC"), key("HEAT", "DESC")],
            ["fruit-d", "fruit-b", "fruit-a", "fruit-e", "fruit-c"],
            id="quality-desc-heat-desc",
        ),
        pytest.param(
            [key("QUALITY", "DESC"), key("HEAT")], ["fruit-b", "fruit-d", "fruit-a", "fruit-e", "fruit-c"], id="quality-desc-heat-asc"
        ),
        pytest.param(
            [key("PUBLISHED_DATE_TIME", "DESC"), key("TITLE")],
            ["fruit-c", "fruit-b", "fruit-a", "fruit-e", "fruit-d"],
            id="date-desc-title",
        ),
        pytest.param(
            [key("PROVIDER_NAME"), key("TITLE", "DESC")],
            ["fruit-e", "fruit-c", "fruit-d", "fruit-a", "fruit-b"],
            id="provider-title-desc",
        ),
        pytest.param(
            [key("HEAT"), key("QUALITY", "DESC"), key("TITLE")],
            ["fruit-e", "fruit-b", "fruit-c", "fruit-d", "fruit-a"],
            id="three-keys",
        ),
    ],
)
def test_fruit_orders(corpus, keys, expected):
    assert order(corpus, keys, FRUIT) == expected


def test_provider_name_is_the_canonical_name_casefolded(corpus):
    where = {"id": {"in": ["offset-newyear", "zurich-tram", "strasse", "recognize", "minimal"]}}
    # offset-newyear's own provider name is "Beta Times", the catalog's is "The Beta";
    # "gamma Daily" sorts before "The Beta" and "Zürcher Zeitung" only when casefolded.
    assert order(corpus, [key("PROVIDER_NAME")], where) == ["zurich-tram", "recognize", "offset-newyear", "strasse", "minimal"]
    assert order(corpus, [key("PROVIDER_NAME", "DESC")], where) == [
        "strasse",
        "offset-newyear",
        "recognize",
        "zurich-tram",
        "minimal",
    ]


def test_quality_nulls_last_in_both_directions(corpus):
    nulls_by_id = ["field-topic", "fruit-c", "minimal", "nulls", "twin-a", "twin-b"]
    assert order(corpus, [key("QUALITY")])[-6:] == nulls_by_id
    assert order(corpus, [key("QUALITY", "DESC")])[-6:] == nulls_by_id
    assert order(corpus, [key("QUALITY", "DESC")])[:3] == ["year-2022", "case-mixed", "zurich-tram"]
    assert order(corpus, [key("QUALITY")])[:3] == ["empty-lists", "field-unsearched", "fruit-e"]


def test_id_order_is_by_code_point(api_for):
    from conftest import article

    api = api_for([article(id=i, title="t") for i in ["b", "B", "a", "ä", "A", "10", "9"]])
    assert order(api, [key("ID")]) == ["10", "9", "A", "B", "a", "b", "ä"]
    assert order(api, [key("ID", "DESC")]) == ["ä", "b", "a", "B", "A", "9", "10"]
    # Equal keys everywhere else: id ASC is the final word.
    assert order(api, [key("TITLE", "DESC")]) == ["10", "9", "A", "B", "a", "b", "ä"]


PROVIDERS = """
query ($o: [ProviderOrder!]) { providers(orderBy: $o) { nodes { domain } } }
"""


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param(
            None,
            ["alpha", "delta", "beta", "gamma", "zeit", "noname", "onlyrelated"],
            id="default-count-desc-then-name",
        ),
        pytest.param(
            [key("ARTICLE_COUNT", "DESC"), key("NAME")],
            ["alpha", "delta", "beta", "gamma", "zeit", "noname", "onlyrelated"],
            id="default-spelled-out",
        ),
        # Without NAME as second key, domain (the provider's identity) breaks the ties.
        pytest.param(
            [key("ARTICLE_COUNT", "DESC")],
            ["alpha", "beta", "delta", "gamma", "zeit", "noname", "onlyrelated"],
            id="count-desc",
        ),
        pytest.param(
            [key("ARTICLE_COUNT")], ["onlyrelated", "noname", "gamma", "zeit", "beta", "delta", "alpha"], id="count-asc"
        ),
        pytest.param(
            [key("ARTICLE_COUNT", "DESC"), key("NAME", "DESC")],
            ["alpha", "beta", "delta", "zeit", "gamma", "noname", "onlyrelated"],
            id="count-desc-name-desc",
        ),
        # "gamma Daily" < "Harbour Herald" < "noname.example" < "The Beta" < "Zürcher Zeitung", casefolded.
        pytest.param([key("NAME")], ["alpha", "delta", "gamma", "onlyrelated", "noname", "beta", "zeit"], id="name-asc"),
        pytest.param(
            [key("NAME", "DESC")], ["zeit", "beta", "noname", "onlyrelated", "gamma", "delta", "alpha"], id="name-desc"
        ),
        pytest.param([key("DOMAIN")], ["alpha", "beta", "delta", "gamma", "noname", "onlyrelated", "zeit"], id="domain-asc"),
        pytest.param(
            [key("DOMAIN", "DESC")], ["zeit", "onlyrelated", "noname", "gamma", "delta", "beta", "alpha"], id="domain-desc"
        ),
    ],
)
def test_provider_orders(corpus, keys, expected):
    nodes = corpus.data(PROVIDERS, {"o": keys})["providers"]["nodes"]
    assert [node["domain"] for node in nodes] == [f"{name}.example" for name in expected]


def test_connections_under_providers_and_topics_take_orderBy(corpus):
    data = corpus.data(
        """
        {
          provider(domain: "delta.example") { articles(orderBy: [{field: PUBLISHED_DATE_TIME}]) { nodes { id } } }
          topic(name: "Baking") { articles(orderBy: [{field: QUALITY, direction: DESC}]) { nodes { id } } }
        }
        """
    )
    assert data == {
        "provider": {"articles": {"nodes": [{"id": "lighthouse-body"}, {"id": "twin-a"}, {"id": "twin-b"}]}},
        "topic": {"articles": {"nodes": [{"id": "fruit-b"}, {"id": "fruit-a"}, {"id": "fruit-e"}, {"id": "fruit-c"}]}},
    }
