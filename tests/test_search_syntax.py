"""The web search syntax (DESIGN "Next": Search syntax, Phrases) on both stores.

Each rule DESIGN lists is a test of its own over a small hand-made corpus; a
property test holds the TinyDB store, the PostgreSQL store and a brute-force
reading (tests/search_reference.py) to the same answers on generated corpora
and generated queries with phrases, OR, exclusions and prefixes.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from conftest import Api, article
from hypothesis import given, settings
from hypothesis import strategies as st
from search_reference import reference

from graph import search

QUERY = """
query ($s: String, $o: [ArticleOrder!]) {
  articles(search: $s, orderBy: $o, first: 100) { totalCount nodes { id } }
}
"""

DOCS = [
    article(id="ny", title="New York police review", excerpt="Facial recognition in the city", topics=["Big Apple"],
            provider={"domain": "lens.example", "name": "The Lens"}),
    article(id="york-new", title="York is not new", body="The police said: new, York!",
            provider={"domain": "lens.example", "name": "The Lens"}),
    article(id="split", title="A brand new", excerpt="York story about facial", topics=["Recognition Tech", "City"],
            provider={"domain": "lens.example", "name": "Lens Daily"}),
    article(id="email", title="E-mail leak at city hall", body="The e mail was sent. Email is old.",
            related=[{"title": "Police e-mail"}, {"title": "Records request"}]),
    article(id="punct", title="facial—recognition, police; records", body="Zürich police use *facial* recognition"),
    article(id="or-word", title="Either this or that", body="nothing else"),
    article(id="lens-the", title="Weekly digest", provider={"domain": "lens.example", "name": "Lens, The"}),
]  # fmt: skip
ALL = sorted(doc["id"] for doc in DOCS)


@pytest.fixture
def api(api_for: Any) -> Api:
    return api_for(DOCS)


def found(api: Api, text: str | None, order: Any = None) -> list[str]:
    data = api.data(QUERY, {"s": text, "o": order})["articles"]
    ids = [node["id"] for node in data["nodes"]]
    assert data["totalCount"] == len(ids)
    return ids


def ids(api: Api, text: str) -> list[str]:
    return found(api, text, [{"field": "ID"}])


def test_terms_separated_by_spaces_must_all_match(api):
    assert ids(api, "police facial") == ["ny", "punct"]
    assert ids(api, "police city") == ["email", "ny"]


def test_or_matches_either(api):
    assert ids(api, "zurich OR records") == ["email", "punct"]
    assert ids(api, "zurich OR records OR either") == ["email", "or-word", "punct"]


def test_or_binds_tighter_than_the_implicit_and(api):
    # police AND (zurich OR review), not (police AND zurich) OR review
    assert ids(api, "police zurich OR review") == ["ny", "punct"]
    assert ids(api, "zurich OR review police") == ["ny", "punct"]


def test_or_in_capitals_only(api):
    assert ids(api, "either or that") == ["or-word"]  # lowercase or is a word
    assert ids(api, "police or") == []
    assert ids(api, "police Or zurich") == []  # "Or" is a word too, not the operator


def test_minus_term_excludes(api):
    assert ids(api, "police -facial") == ["email", "york-new"]
    assert ids(api, "police -FACIAL*") == ["email", "york-new"]


def test_minus_phrase_excludes_the_phrase_only(api):
    # split has new and york, but not as a phrase: it stays; york-new has it in its body ("new, York!")
    assert ids(api, 'york -"new york"') == ["split"]
    assert ids(api, 'york -"york new"') == ["ny", "split", "york-new"]


def test_phrase_words_consecutive_within_one_field(api):
    assert ids(api, '"new york"') == ["ny", "york-new"]  # york-new: body "new, York!" (punctuation ignored)
    assert ids(api, '"york new"') == []  # order matters
    # split: title ends "new", excerpt starts "York": fields are apart
    assert ids(api, '"facial recognition"') == ["ny", "punct"]  # punct: "facial—recognition" in the title


def test_phrase_within_one_topic_provider_name_and_related_title(api):
    assert ids(api, '"recognition tech"') == ["split"]
    assert ids(api, '"tech city"') == []  # two topics are two fields
    assert ids(api, '"apple recognition"') == []
    assert ids(api, '"police e mail"') == ["email"]  # one related title
    assert ids(api, '"mail records"') == []  # two related titles


def test_phrase_matches_the_providers_canonical_name(api):
    # lens.example's canonical name is "The Lens" (2 of 3 articles), split's own is "Lens Daily"
    assert api.data('{ provider(domain: "lens.example") { name } }') == {"provider": {"name": "The Lens"}}
    # A phrase also needs its words among the article's own words (a phrase is within its words' AND):
    # split's own provider name is "Lens Daily", it has no "the".
    assert ids(api, '"the lens"') == ["lens-the", "ny", "york-new"]  # lens-the: own "Lens, The"
    assert ids(api, '"lens the"') == []
    assert ids(api, '"lens daily"') == []  # its own name is not a phrase field, the canonical one is
    assert ids(api, "daily") == ["split"]  # a word of its own provider name still matches


def test_prefix_terms_inside_phrases(api):
    assert ids(api, '"fac* rec*"') == ["ny", "punct"]
    assert ids(api, '"new yo*"') == ["ny", "york-new"]
    assert ids(api, '"n* y*"') == ["ny", "york-new"]


def test_unbalanced_quote_closes_at_the_end(api):
    assert ids(api, 'police "facial recognition') == ["ny", "punct"]
    assert ids(api, '"york new') == []
    assert ids(api, '"') == ALL


def test_lone_minus_and_minus_space_are_ignored(api):
    assert ids(api, "-") == ALL
    assert ids(api, "police - facial") == ["ny", "punct"]
    assert ids(api, "police -") == ids(api, "police")


def test_leading_and_trailing_or_are_ignored(api):
    assert ids(api, "OR zurich") == ["punct"]
    assert ids(api, "zurich OR") == ["punct"]
    assert ids(api, "OR") == ALL
    assert ids(api, "zurich OR OR records") == ["email", "punct"]


def test_negated_term_or_term(api):
    # -zurich OR review = (NOT zurich) OR review
    assert ids(api, "-zurich OR review") == [i for i in ALL if i != "punct"]
    assert ids(api, "police -facial OR review") == ["email", "ny", "york-new"]


def test_hyphenated_chunk_needs_all_its_words(api):
    assert ids(api, "e-mail") == ["email"]
    assert ids(api, "york-police") == ["ny", "york-new"]
    assert ids(api, "zurich-mail") == []
    assert ids(api, "-e-mail") == [i for i in ALL if i != "email"]


def test_only_exclusions_match_every_article_without_them(api):
    assert ids(api, "-police") == ["lens-the", "or-word", "split"]
    assert ids(api, '-police -"brand new"') == ["lens-the", "or-word"]
    assert found(api, "-police") == ["lens-the", "or-word", "split"]  # relevance all 0: ties by id


def test_empty_search_matches_every_article(api):
    for text in ("", "   ", "!!", "*", '""', "- OR -"):
        assert ids(api, text) == ALL, text


def test_ranking_ignores_excluded_terms(api):
    ranked = found(api, "police")
    without = found(api, "police -zurich")
    assert without == [i for i in ranked if i != "punct"]
    scores = api.data(
        '{ a: articles(search: "police", orderBy: [{field: RELEVANCE, direction: DESC}]) { edges { cursor node { id } } }'
        ' b: articles(search: "police -zurich -\\"zzz yyy\\"") { edges { cursor node { id } } } }'
    )
    kept = {e["node"]["id"]: e["cursor"] for e in scores["a"]["edges"] if e["node"]["id"] != "punct"}
    assert {e["node"]["id"]: e["cursor"] for e in scores["b"]["edges"]} == kept  # cursors encode the scores


def test_or_ranks_by_the_terms_each_article_has(api):
    # An article matching only one side of an OR is scored by that side alone, as if it were searched alone.
    either = found(api, "zurich OR either")
    assert sorted(either) == ["or-word", "punct"]
    assert found(api, "zurich OR either OR zurich") == either


def test_parse_query_structure():
    q = search.parse_query('police "new york" -facial OR rec* -"a b"')
    term = search.Term
    assert q.clauses == (
        (search.Literal(search.Match((term("police", False),))),),
        (search.Literal(search.Match((term("new", False), term("york", False)), phrase=True)),),
        (
            search.Literal(search.Match((term("facial", False),)), negated=True),
            search.Literal(search.Match((term("rec", True),))),
        ),
        (search.Literal(search.Match((term("a", False), term("b", False)), phrase=True), negated=True),),
    )
    assert q.terms == (term("police", False), term("new", False), term("york", False), term("rec", True))
    assert search.parse_query("  ") == search.SearchQuery()
    assert not search.parse_query("- OR")
    assert search.parse_query("word").single_word == term("word", False)
    assert search.parse_query("word*").single_word is None


# ---- both stores and the reference, on generated corpora and queries ------------------------

WORDS = ["new", "york", "news", "police", "Zürich", "or", "mail"]
text = st.lists(st.sampled_from(WORDS + [",", "-"]), max_size=6).map(" ".join)


@st.composite
def corpora(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs = []
    for n in range(draw(st.integers(min_value=1, max_value=7))):
        docs.append(
            article(
                id=f"d{n}",
                title=draw(text) or "untitled",
                excerpt=draw(text),
                body=draw(text),
                topics=draw(st.lists(text.filter(bool), max_size=2, unique=True)),
                provider={"domain": draw(st.sampled_from(["a.example", "b.example"])), "name": draw(text) or "P"},
                related=[{"title": draw(text) or "r"} for _ in range(draw(st.integers(0, 2)))],
            )
        )
    return docs


@st.composite
def queries(draw: st.DrawFn) -> str:
    def word() -> str:
        w = draw(st.sampled_from(WORDS))
        if draw(st.integers(0, 3)) == 0:
            w = w[: draw(st.integers(1, len(w)))] + "*"
        return w

    chunks = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["word", "word", "phrase", "OR", "not", "notphrase", "hyphen", "-", "open"]))
        if kind == "word":
            chunks.append(word())
        elif kind == "phrase":
            chunks.append('"' + " ".join(word() for _ in range(draw(st.integers(1, 3)))) + '"')
        elif kind == "not":
            chunks.append("-" + word())
        elif kind == "notphrase":
            chunks.append('-"' + " ".join(word() for _ in range(draw(st.integers(1, 3)))) + '"')
        elif kind == "hyphen":
            chunks.append(word().rstrip("*") + "-" + word())
        elif kind == "open":
            chunks.append('"' + word() + " " + word())
        else:
            chunks.append(kind)
    return " ".join(chunks)


@pytest.fixture
def both_stores(tmp_path, run, pg_url):
    import pg

    from graph.store.postgres.store import PostgresStore
    from graph.store.tinydb.store import TinyDBStore

    with contextlib.ExitStack() as stack:
        stores = [TinyDBStore(tmp_path / "db" / "newsgraph.json"), PostgresStore(stack.enter_context(pg.recycled_schema(pg_url)), max_size=4)]
        for store in stores:
            run(store.open())
        yield [Api(store, run) for store in stores]
        for store in stores:
            run(store.close())


def test_both_stores_agree_with_the_reference(both_stores, run):
    tiny, postgres = both_stores
    stored: list[str] = []

    @settings(max_examples=60, deadline=None)
    @given(docs=corpora(), texts=st.lists(queries(), min_size=1, max_size=4))
    def check(docs: list[dict[str, Any]], texts: list[str]) -> None:
        nonlocal stored
        new = [doc["id"] for doc in docs]
        for api in (tiny, postgres):
            run(api.store.write(docs, [i for i in stored if i not in new]))
        stored = new
        names = {
            p["domain"]: p["name"]
            for p in tiny.data("{ providers(first: 100) { nodes { domain name } } }")["providers"]["nodes"]
        }
        for q in texts:
            expected = reference(docs, q, names)
            ranked = found(tiny, q)
            assert sorted(ranked) == expected, q
            assert found(postgres, q) == ranked, q  # the same matches in the same relevance order

    check()


@settings(max_examples=200, deadline=None)
@given(queries())
def test_algebra_of_the_syntax(q):
    """A phrase implies its words' AND; the parse of `a OR b` is one clause; leniency never raises."""
    parsed = search.parse_query(q)
    for clause in parsed.clauses:
        assert clause and len(set(clause)) == len(clause)
        for literal in clause:
            assert literal.match.terms
            assert literal.match.phrase == (len(literal.match.terms) > 1 and literal.match.phrase)


def test_phrase_words_sharing_a_code_are_told_apart(api_for):
    """The TinyDB index finds phrases by one byte a word, then checks the text: two words with
    the same byte (found here, in this process) never make a false match."""
    seen: dict[int, str] = {}
    for n in range(10_000):
        word = f"w{n}"
        code = search.word_code(word)
        if code in seen:
            same, other = seen[code], word
            break
        seen[code] = word
    api = api_for([
        article(id="false", title=f"lead {same}", body=f"{other} elsewhere"),
        article(id="true", title=f"lead {other}"),
    ])  # fmt: skip
    assert ids(api, f'"lead {other}"') == ["true"]
    assert ids(api, f'"lead {same}"') == ["false"]
    assert ids(api, '"lead w*"') == ["false", "true"]


def test_syntax_reaches_counts_facets_paging_and_scoped_connections(api):
    query = """
    query ($s: String) {
      all: articles(search: $s, first: 2) { totalCount facets { providers { value count } } pageInfo { endCursor } }
      provider(domain: "lens.example") { articles(search: $s) { totalCount nodes { id } } }
      topic(name: "City") { articles(search: $s) { nodes { id } } }
    }
    """
    data = api.data(query, {"s": 'police -"new york" OR review'})
    # police AND ((NOT "new york") OR review): ny (review), email, punct
    assert data["all"]["totalCount"] == 3
    assert data["all"]["facets"]["providers"] == [{"value": "lens.example", "count": 1}]
    assert data["provider"]["articles"] == {"totalCount": 1, "nodes": [{"id": "ny"}]}
    assert data["topic"]["articles"] == {"nodes": []}
    first = found(api, 'police -"new york" OR review')
    after = api.data(
        'query ($c: String) { articles(search: "police -\\"new york\\" OR review", after: $c) { nodes { id } } }',
        {"c": data["all"]["pageInfo"]["endCursor"]},
    )
    assert [n["id"] for n in after["articles"]["nodes"]] == first[2:]
