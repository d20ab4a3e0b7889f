"""Full-text search over the hand-checked corpus (tests/fixtures/corpus/).

DESIGN.md: words are runs of Unicode letters and digits compared after case and
accent folding; every term must equal a word of the article's title, excerpt,
body, topics, provider name or related titles; ``term*`` matches as a prefix;
ranking is BM25-like with the title weighted, ties by id; RELEVANCE ordering
only with search; the default order with search is RELEVANCE DESC.

Readings chosen where the spec is silent (tested here):
- "provider name" is the name the article itself gives its provider (its own
  searchable text), not the catalog's canonical name;
- a search string without any word (``""``, ``"*"``, ``"!!"``) constrains
  nothing: every article matches with the same relevance, so with the default
  RELEVANCE order they come in id order.
"""

from __future__ import annotations

from typing import Any

import pytest

ALL = sorted(
    [
        "zurich-tram", "lighthouse-title", "lighthouse-body", "offset-newyear", "twin-a", "twin-b",
        "recognition", "recognize", "strasse", "no-date", "minimal", "nulls", "empty-lists", "old-2019",
        "beta-the", "gamma-wire", "zeit-marathon", "field-excerpt", "field-body", "field-topic",
        "field-unsearched", "fruit-a", "fruit-b", "fruit-c", "fruit-d", "fruit-e", "case-mixed",
        "year-2022", "leap-day",
    ]
)  # fmt: skip

QUERY = """
query ($s: String, $w: ArticleFilter, $o: [ArticleOrder!]) {
  articles(search: $s, where: $w, orderBy: $o, first: 100) { totalCount nodes { id } }
}
"""


def found(api: Any, text: str | None, where: Any = None, order: Any = None) -> list[str]:
    data = api.data(QUERY, {"s": text, "w": where, "o": order})["articles"]
    result = [node["id"] for node in data["nodes"]]
    assert data["totalCount"] == len(result)
    return result


def found_set(api: Any, text: str) -> list[str]:
    """Matches in id order (when only membership matters)."""
    return found(api, text, order=[{"field": "ID"}])


@pytest.mark.parametrize("text", ["zurich", "Zurich", "ZÜRICH", "Zürich", "zürich", "ZURICH"])
def test_case_and_accent_folding(corpus, text):
    # Titles "Tram strike in Zürich" and "ZÜRICH MARATHON RESULTS"; topic "Zürich" on strasse.
    assert found_set(corpus, text) == ["strasse", "zeit-marathon", "zurich-tram"]


@pytest.mark.parametrize("text", ["strasse", "STRASSE", "Straße", "STRAẞE"])
def test_sharp_s_folds_to_ss(corpus, text):
    assert found_set(corpus, text) == ["strasse"]


@pytest.mark.parametrize("text", ["apple", "ÁPPLE", "àpple"])
def test_accents_fold_both_ways(corpus, text):
    assert found_set(corpus, text) == ["fruit-a", "fruit-b", "fruit-e"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tram", ["recognition", "zurich-tram"]),  # recognition: related title "Tram strike spreads"
        ("zurich tram", ["zurich-tram"]),
        ("tram zurich", ["zurich-tram"]),
        ("zurich xylophone", []),
        ("Zürich-Tram!", ["zurich-tram"]),  # punctuation separates words
        ("New-Year", ["offset-newyear"]),  # year-2022 has "year" but not "new"
        ("quokka quokka", ["twin-a", "twin-b"]),
        ("2018", ["recognition"]),
    ],
)
def test_every_term_must_match_a_word(corpus, text, expected):
    assert found_set(corpus, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recog*", ["case-mixed", "recognition", "recognize"]),  # recognition, recognize, recognizing
        ("RECOG*", ["case-mixed", "recognition", "recognize"]),
        ("recog", []),  # without * a term must be a whole word
        ("recognition", ["recognition"]),
        ("recognize", ["recognize"]),
        ("zür*", ["strasse", "zeit-marathon", "zurich-tram"]),  # zurich, and zurcher (provider name)
        ("recog* police", ["recognition"]),
        ("recog* tram*", ["recognition"]),
    ],
)
def test_prefix_terms(corpus, text, expected):
    assert found_set(corpus, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("quokka", ["twin-a", "twin-b"], id="title"),
        pytest.param("marmalade", ["field-excerpt"], id="excerpt"),
        pytest.param("xylophone", ["field-body"], id="body"),
        pytest.param("astronomy", ["field-topic"], id="topic"),
        pytest.param("zeitung", ["strasse", "zeit-marathon"], id="provider-name"),
        pytest.param("review", ["lighthouse-body", "twin-a", "twin-b"], id="provider-name-2"),
        # The article's own provider name: two beta.example articles call it "Beta Times".
        pytest.param("times", ["offset-newyear", "old-2019"], id="own-provider-name"),
        pytest.param("pelican", ["zurich-tram"], id="related-title"),
        pytest.param("seasonal", ["field-unsearched"], id="related-title-2"),
    ],
)
def test_fields_searched(corpus, text, expected):
    assert found_set(corpus, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("secretslug", id="originalUrl"),
        pytest.param("example", id="urls-and-domains"),
        pytest.param("https", id="url-scheme"),
        pytest.param("horticulture", id="category"),
        pytest.param("vlog", id="type"),
        pytest.param("walrus", id="related-excerpt"),
        pytest.param("herald", id="related-provider-name"),
        pytest.param("onlyrelated", id="related-provider-domain"),
        pytest.param("flamingo", id="image-url"),
        pytest.param("narwhal", id="unknown-key"),
        pytest.param("opaque", id="secured"),
    ],
)
def test_fields_not_searched(corpus, text):
    assert found_set(corpus, text) == []


def test_a_title_hit_outranks_a_body_hit(corpus):
    # lighthouse-title has the word in its title, lighthouse-body in its body.
    assert found(corpus, "lighthouse") == ["lighthouse-title", "lighthouse-body"]
    assert found(corpus, "LightHouse*") == ["lighthouse-title", "lighthouse-body"]


def test_default_order_with_search_is_relevance_desc(corpus):
    assert found(corpus, "lighthouse", order=[{"field": "RELEVANCE", "direction": "DESC"}]) == [
        "lighthouse-title",
        "lighthouse-body",
    ]
    assert found(corpus, "lighthouse", order=[{"field": "RELEVANCE"}]) == ["lighthouse-body", "lighthouse-title"]


def test_other_orders_apply_to_search_results(corpus):
    assert found(corpus, "lighthouse", order=[{"field": "PUBLISHED_DATE_TIME", "direction": "DESC"}]) == [
        "lighthouse-body",
        "lighthouse-title",
    ]
    assert found(corpus, "recog*", order=[{"field": "QUALITY", "direction": "DESC"}]) == [
        "case-mixed",
        "recognition",
        "recognize",
    ]


def test_equal_relevance_is_ordered_by_id_in_both_directions(corpus):
    # twin-a and twin-b are the same text: their scores are equal.
    assert found(corpus, "quokka") == ["twin-a", "twin-b"]
    assert found(corpus, "quokka", order=[{"field": "RELEVANCE"}]) == ["twin-a", "twin-b"]


def test_relevance_then_another_key(corpus):
    order = [{"field": "RELEVANCE", "direction": "DESC"}, {"field": "TITLE", "direction": "DESC"}]
    assert found(corpus, "quokka", order=order) == ["twin-a", "twin-b"]


def test_search_and_filter_combine(corpus):
    assert found(corpus, "recog*", where={"published": {"eq": True}}) == ["recognize"]
    assert found(corpus, "zurich", where={"topics": {"has": "zürich"}}) == ["zeit-marathon"]
    assert found(corpus, "zurich", where={"OR": []}) == []


@pytest.mark.parametrize("text", ["", "   ", "*", "!!", "-"])
def test_a_search_without_words_matches_everything_in_id_order(corpus, text):
    assert found(corpus, text) == ALL


def test_search_null_is_no_search(corpus):
    newest = found(corpus, None)
    assert newest[:3] == ["year-2022", "fruit-c", "fruit-a"]
    assert newest[-4:] == ["fruit-d", "minimal", "no-date", "nulls"]


@pytest.mark.parametrize(
    "query",
    [
        "{ articles(orderBy: [{field: RELEVANCE}]) { totalCount } }",
        "{ articles(orderBy: [{field: TITLE}, {field: RELEVANCE, direction: DESC}]) { totalCount } }",
        '{ provider(domain: "alpha.example") { articles(orderBy: [{field: RELEVANCE}]) { totalCount } } }',
        '{ topic(name: "AI") { articles(orderBy: [{field: RELEVANCE}]) { totalCount } } }',
    ],
)
def test_relevance_without_search_is_bad_user_input(corpus, query):
    payload = corpus.execute(query)
    assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [
        ("orderBy RELEVANCE needs a search", "BAD_USER_INPUT")
    ]


def test_search_scoped_to_provider_and_topic(corpus):
    data = corpus.data(
        """
        {
          provider(domain: "delta.example") { articles(search: "quokka OR review") { nodes { id } } }
          topic(name: "Weather") { articles(search: "lighthouse") { nodes { id } } }
        }
        """
    )
    # "or" is an ordinary term: no delta article has the word.
    assert data == {
        "provider": {"articles": {"nodes": []}},
        "topic": {"articles": {"nodes": [{"id": "lighthouse-title"}, {"id": "lighthouse-body"}]}},
    }
