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

import numpy as np
from conftest import article
from search_reference import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import search
from graph.documents import parse_file

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


def assert_found(api: Any, table: list[tuple[str, list[str]]]) -> None:
    """Every (search text, expected ids in id order) case; all failures reported at once."""
    wrong = {text: {"got": got, "expected": expected} for text, expected in table if (got := found_set(api, text)) != expected}
    assert not wrong


def test_case_and_accent_folding(corpus):
    # Titles "Tram strike in Zürich" and "ZÜRICH MARATHON RESULTS"; topic "Zürich" on strasse.
    zurich = ["strasse", "zeit-marathon", "zurich-tram"]
    assert_found(corpus, [(text, zurich) for text in ("zurich", "Zurich", "ZÜRICH", "Zürich", "zürich", "ZURICH")])


def test_sharp_s_folds_to_ss(corpus):
    assert_found(corpus, [(text, ["strasse"]) for text in ("strasse", "STRASSE", "Straße", "STRAẞE")])


def test_accents_fold_both_ways(corpus):
    assert_found(corpus, [(text, ["fruit-a", "fruit-b", "fruit-e"]) for text in ("apple", "ÁPPLE", "àpple")])


def test_every_term_must_match_a_word(corpus):
    assert_found(
        corpus,
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


def test_prefix_terms(corpus):
    assert_found(
        corpus,
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


def test_fields_searched(corpus):
    assert_found(
        corpus,
        [
            ("quokka", ["twin-a", "twin-b"]),  # title (and excerpt)
            ("marmalade", ["field-excerpt"]),  # excerpt
            ("xylophone", ["field-body"]),  # body
            ("astronomy", ["field-topic"]),  # topics
            ("zeitung", ["strasse", "zeit-marathon"]),  # provider name
            ("review", ["lighthouse-body", "twin-a", "twin-b"]),  # provider name
            # The article's own provider name: two beta.example articles call it "Beta Times".
            ("times", ["offset-newyear", "old-2019"]),
            ("pelican", ["zurich-tram"]),  # related title
            ("seasonal", ["field-unsearched"]),  # related title
        ],
    )


def test_fields_not_searched(corpus):
    assert_found(
        corpus,
        [
            ("secretslug", []),  # originalUrl
            ("example", []),  # URLs and domains
            ("https", []),  # URL scheme
            ("horticulture", []),  # category
            ("vlog", []),  # type
            ("walrus", []),  # related excerpts
            ("herald", []),  # a related item's provider name
            ("onlyrelated", []),  # a related item's provider domain
            ("flamingo", []),  # image URLs
            ("narwhal", []),  # a key the contract does not know
            ("opaque", []),  # the secured token
        ],
    )


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


def test_a_search_without_words_matches_everything_in_id_order(corpus):
    for text in ("", "   ", "*", "!!", "-"):
        assert found(corpus, text) == ALL, text


def test_search_null_is_no_search(corpus):
    newest = found(corpus, None)
    assert newest[:3] == ["year-2022", "fruit-c", "fruit-a"]
    assert newest[-4:] == ["fruit-d", "minimal", "no-date", "nulls"]


def test_relevance_without_search_is_bad_user_input(corpus):
    for query in (
        "{ articles(orderBy: [{field: RELEVANCE}]) { totalCount } }",
        "{ articles(orderBy: [{field: TITLE}, {field: RELEVANCE, direction: DESC}]) { totalCount } }",
        '{ provider(domain: "alpha.example") { articles(orderBy: [{field: RELEVANCE}]) { totalCount } } }',
        '{ topic(name: "AI") { articles(orderBy: [{field: RELEVANCE}]) { totalCount } } }',
    ):
        payload = corpus.execute(query)
        assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [
            ("orderBy RELEVANCE needs a search", "BAD_USER_INPUT")
        ], query


def test_search_scoped_to_provider_and_topic(corpus):
    data = corpus.data(
        """
        {
          provider(domain: "delta.example") { articles(search: "quokka or review") { nodes { id } } }
          topic(name: "Weather") { articles(search: "lighthouse") { nodes { id } } }
        }
        """
    )
    # Lowercase "or" is an ordinary term: no delta article has the word.
    assert data == {
        "provider": {"articles": {"nodes": []}},
        "topic": {"articles": {"nodes": [{"id": "lighthouse-title"}, {"id": "lighthouse-body"}]}},
    }


# ---- property: membership equals the definition --------------------------------------------

WORDS = ["Zürich", "zurich", "ZÜRICH", "Straße", "strasse", "recognition", "recognize", "İstanbul", "ﬁle", "naïve", "x2", "2020"]
phrases = st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)


@st.composite
def searchable_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Documents with pool words in searched fields and in fields that must not be searched."""
    docs = []
    for n in range(draw(st.integers(min_value=0, max_value=6))):
        fields: dict[str, Any] = {
            "id": f"s{n}",
            "title": draw(phrases) or "untitled",
            "excerpt": draw(phrases),
            "body": draw(phrases),
            "topics": draw(st.lists(phrases, max_size=2)),
            # Never searched: category, type, URLs, related excerpts and related providers' names.
            "category": draw(phrases),
            "type": draw(phrases),
            "originalUrl": "https://example.org/" + draw(phrases).replace(" ", "-"),
        }
        if draw(st.booleans()):
            fields["provider"] = {"domain": "p.example", "name": draw(phrases) or "P"}
        fields["related"] = [
            {"title": draw(phrases) or "related", "excerpt": draw(phrases), "provider": {"domain": "q.example", "name": draw(phrases) or "Q"}}
            for _ in range(draw(st.integers(min_value=0, max_value=2)))
        ]
        docs.append(article(**fields))
    return docs


@st.composite
def search_strings(draw: st.DrawFn) -> str:
    terms = []
    for word in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2)):
        word = draw(st.sampled_from([word, word.upper(), word.lower()]))
        if draw(st.booleans()):
            word = word[: draw(st.integers(min_value=1, max_value=len(word)))] + "*"
        terms.append(word)
    return draw(st.sampled_from([" ", ", ", " -"])).join(terms)


def test_search_membership_equals_the_definition(api_for, run):
    api = api_for([])
    stored: list[str] = []

    @settings(max_examples=80, deadline=None)
    @given(docs=searchable_documents(), texts=st.lists(search_strings(), min_size=1, max_size=3))
    def check(docs: list[dict[str, Any]], texts: list[str]) -> None:
        nonlocal stored
        ids = [doc["id"] for doc in docs]
        run(api.store.write(docs, [i for i in stored if i not in ids]))
        stored = ids
        for text in texts:
            assert found_set(api, text) == reference(docs, text), text

    check()


def test_postings_are_each_words_documents_with_their_weighted_frequencies(tmp_path):
    from collections import Counter

    from benchmarks.generate import generate

    docs = [parse_file(path, path.read_bytes()) for path in sorted(generate(tmp_path, 40, seed=3))]
    index = search.SearchIndex(docs)
    expected: dict[str, dict[int, float]] = {}
    for number, doc in enumerate(docs):
        for field, field_words in search.searchable_fields(doc).items():
            for word, count in Counter(field_words).items():
                found = expected.setdefault(word, {})
                found[number] = found.get(number, 0.0) + search.WEIGHTS[field] * count
    assert sorted(index.postings) == sorted(expected)
    for word, (numbers, tfs) in index.postings.items():
        assert numbers.tolist() == sorted(expected[word]), word
        assert tfs.tolist() == [expected[word][n] for n in sorted(expected[word])], word


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
            # values at or next to a half in the 7th decimal place, where rounding is decided
            st.builds(lambda k, ulps: float(np.nextafter(float(f"{k}.5e-6"), np.inf * ulps)) if ulps else float(f"{k}.5e-6"),
                      st.integers(0, 10**8), st.sampled_from([-1, 0, 1])),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_round6_is_pythons_round(values):
    rounded = search.round6(np.array(values, dtype=np.float64))
    assert rounded.tolist() == [round(v, 6) for v in values]


def test_prefix_postings_equal_the_sum_over_the_words_whether_few_or_many():
    # 2,000 documents: "ra100*" expands to rare words (few postings: merged by sorting),
    # "co*" to common ones (many postings: summed in one array over every document).
    import random

    pick = random.Random(11)
    rare = [f"ra{n:04d}" for n in range(3000)]
    common = [f"co{n}" for n in range(5)]
    docs = [
        {"title": " ".join(pick.choices(rare, k=2) + pick.choices(common, k=3)), "body": pick.choice(common)}
        for _ in range(2000)
    ]
    index = search.SearchIndex(docs)
    for prefix in ("ra", "ra100", "ra2", "co", "co1", "zz"):
        expected: dict[int, float] = {}
        for word, (numbers, tfs) in index.postings.items():
            if word.startswith(prefix):
                for n, tf in zip(numbers.tolist(), tfs.tolist()):
                    expected[n] = expected.get(n, 0.0) + tf
        numbers, tfs = index._term_postings(search.Term(prefix, True))
        assert numbers.tolist() == sorted(expected), prefix
        assert tfs.tolist() == [expected[n] for n in sorted(expected)], prefix
