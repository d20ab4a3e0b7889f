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


def test_default_is_newest_first_with_undated_last(corpus):
    for keys in (None, [], [key("PUBLISHED_DATE_TIME", "DESC")]):
        assert order(corpus, keys) == NEWEST_FIRST, keys


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


FRUIT_ORDERS = [
    ("title-asc", [key("TITLE")], ["fruit-b", "fruit-a", "fruit-c", "fruit-d", "fruit-e"]),
    ("title-desc", [key("TITLE", "DESC")], ["fruit-e", "fruit-c", "fruit-d", "fruit-a", "fruit-b"]),
    ("quality-asc", [key("QUALITY")], ["fruit-e", "fruit-a", "fruit-b", "fruit-d", "fruit-c"]),
    ("quality-desc", [key("QUALITY", "DESC")], ["fruit-b", "fruit-d", "fruit-a", "fruit-e", "fruit-c"]),
    ("heat-asc", [key("HEAT")], ["fruit-e", "fruit-b", "fruit-c", "fruit-d", "fruit-a"]),
    ("heat-desc", [key("HEAT", "DESC")], ["fruit-d", "fruit-b", "fruit-c", "fruit-e", "fruit-a"]),
    ("date-asc", [key("PUBLISHED_DATE_TIME")], ["fruit-e", "fruit-a", "fruit-b", "fruit-c", "fruit-d"]),
    ("date-desc", [key("PUBLISHED_DATE_TIME", "DESC")], ["fruit-c", "fruit-a", "fruit-b", "fruit-e", "fruit-d"]),
    ("id-asc", [key("ID")], ["fruit-a", "fruit-b", "fruit-c", "fruit-d", "fruit-e"]),
    ("id-desc", [key("ID", "DESC")], ["fruit-e", "fruit-d", "fruit-c", "fruit-b", "fruit-a"]),
    # All but fruit-b are "Alpha News"'s: a tie, broken by id; fruit-b has no provider.
    ("provider-asc", [key("PROVIDER_NAME")], ["fruit-a", "fruit-c", "fruit-d", "fruit-e", "fruit-b"]),
    ("provider-desc", [key("PROVIDER_NAME", "DESC")], ["fruit-a", "fruit-c", "fruit-d", "fruit-e", "fruit-b"]),
    # Multi-key: the second key orders what the first leaves tied.
    ("quality-desc-heat-desc", [key("QUALITY", "DESC"), key("HEAT", "DESC")], ["fruit-d", "fruit-b", "fruit-a", "fruit-e", "fruit-c"]),
    ("quality-desc-heat-asc", [key("QUALITY", "DESC"), key("HEAT")], ["fruit-b", "fruit-d", "fruit-a", "fruit-e", "fruit-c"]),
    ("date-desc-title", [key("PUBLISHED_DATE_TIME", "DESC"), key("TITLE")], ["fruit-c", "fruit-b", "fruit-a", "fruit-e", "fruit-d"]),
    ("provider-title-desc", [key("PROVIDER_NAME"), key("TITLE", "DESC")], ["fruit-e", "fruit-c", "fruit-d", "fruit-a", "fruit-b"]),
    ("three-keys", [key("HEAT"), key("QUALITY", "DESC"), key("TITLE")], ["fruit-e", "fruit-b", "fruit-c", "fruit-d", "fruit-a"]),
]


def test_fruit_orders(corpus):
    wrong = {}
    for name, keys, expected in FRUIT_ORDERS:
        got = order(corpus, keys, FRUIT)
        if got != expected:
            wrong[name] = {"got": got, "expected": expected}
    assert not wrong


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


PROVIDER_ORDERS = [
    ("default-count-desc-then-name", None, ["alpha", "delta", "beta", "gamma", "zeit", "noname", "onlyrelated"]),
    ("default-spelled-out", [key("ARTICLE_COUNT", "DESC"), key("NAME")], ["alpha", "delta", "beta", "gamma", "zeit", "noname", "onlyrelated"]),
    # Without NAME as second key, domain (the provider's identity) breaks the ties.
    ("count-desc", [key("ARTICLE_COUNT", "DESC")], ["alpha", "beta", "delta", "gamma", "zeit", "noname", "onlyrelated"]),
    ("count-asc", [key("ARTICLE_COUNT")], ["onlyrelated", "noname", "gamma", "zeit", "beta", "delta", "alpha"]),
    ("count-desc-name-desc", [key("ARTICLE_COUNT", "DESC"), key("NAME", "DESC")], ["alpha", "beta", "delta", "zeit", "gamma", "noname", "onlyrelated"]),
    # "gamma Daily" < "Harbour Herald" < "noname.example" < "The Beta" < "Zürcher Zeitung", casefolded.
    ("name-asc", [key("NAME")], ["alpha", "delta", "gamma", "onlyrelated", "noname", "beta", "zeit"]),
    ("name-desc", [key("NAME", "DESC")], ["zeit", "beta", "noname", "onlyrelated", "gamma", "delta", "alpha"]),
    ("domain-asc", [key("DOMAIN")], ["alpha", "beta", "delta", "gamma", "noname", "onlyrelated", "zeit"]),
    ("domain-desc", [key("DOMAIN", "DESC")], ["zeit", "onlyrelated", "noname", "gamma", "delta", "beta", "alpha"]),
]


def test_provider_orders(corpus):
    wrong = {}
    for name, keys, expected in PROVIDER_ORDERS:
        nodes = corpus.data(PROVIDERS, {"o": keys})["providers"]["nodes"]
        got = [node["domain"].removesuffix(".example") for node in nodes]
        if got != expected:
            wrong[name] = {"got": got, "expected": expected}
    assert not wrong


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
