"""Article.snippets (DESIGN "Next": Snippets) on both stores, rule by rule, plus properties of
graph.snippets on generated texts and searches against a brute-force reading of the rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import Api, article
from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.execution import limits as query_limits
from graph import search, snippets
from graph.config import Limits
from graph.schema import schema

QUERY = """
query ($id: ID!, $s: String!, $n: Int, $l: Int) {
  article(id: $id) { snippets(search: $s, first: $n, length: $l) { field text highlights { start end } } }
}
"""

BODY = (
    "The council met on Tuesday. Police said **facial recognition** was used twice. "
    + "Nothing happened for a long while after that, and the meeting went on. " * 4
    + "Later the police chief defended facial software."
)
DOCS = [
    article(id="a", title="Zürich police test facial recognition", excerpt="A facial scan, then police arrived.",
            body=BODY, topics=["Surveillance"], related=[{"title": "Camera story"}]),
    article(id="emoji", title="🚓🚓 Police in ZÜRICH", body="cafe\u0301s and Straße: STRASSE"),
    article(id="plain", title="Nothing to see", excerpt=None, body=""),
]  # fmt: skip


@pytest.fixture
def api(api_for: Any) -> Api:
    return api_for(DOCS)


def snips(api: Api, text: str, doc: str = "a", first: int | None = None, length: int | None = None) -> list[dict]:
    data = api.data(QUERY, {"id": doc, "s": text, "n": first, "l": length})
    return data["article"]["snippets"]


def marked(snippet: dict) -> list[str]:
    return [snippet["text"][r["start"] : r["end"]] for r in snippet["highlights"]]


def test_a_highlight_is_the_word_as_it_stands_in_the_text(api):
    [title] = snips(api, "zurich", "emoji")
    assert title["field"] == "TITLE" and marked(title) == ["ZÜRICH"]
    [snippet] = snips(api, "zürich")
    assert marked(snippet) == ["Zürich"]


def test_offsets_are_code_points(api):
    [title] = snips(api, "police", "emoji")
    assert title["highlights"] == [{"start": 3, "end": 9}]  # two emoji before: one code point each


def test_folding_keeps_marks_and_expansions_whole(api):
    [body] = snips(api, "cafes strasse", "emoji")
    assert marked(body) == ["cafe\u0301s", "Straße", "STRASSE"]


def test_prefix_terms_highlight_whole_words(api):
    [first, *_] = snips(api, "recog*")
    assert marked(first) == ["recognition"]


def test_phrase_highlights_its_words_where_they_stand_together(api):
    found = snips(api, '"facial recognition"', first=10)
    assert [(s["field"], marked(s)) for s in found] == [
        ("TITLE", ["facial", "recognition"]),
        ("BODY", ["facial", "recognition"]),  # not the lone "facial" of the body's end nor the excerpt's
    ]


def test_excluded_terms_are_never_highlighted(api):
    for text in ("police -zurich", 'police -"zurich police"', "police -zur*"):
        for snippet in snips(api, text, first=10):
            assert "Zürich" not in marked(snippet), text
            assert set(marked(snippet)) <= {"Police", "police"}, text


def test_every_occurrence_of_a_term_inside_a_snippet_is_highlighted(api):
    for snippet in snips(api, "police facial", first=10, length=1000):
        words = re.findall(r"\w+", snippet["text"])
        assert marked(snippet) == [w for w in words if w.lower() in {"police", "facial"}]


def test_order_distinct_terms_then_occurrences_then_field_then_earliest(api):
    found = snips(api, "police facial recognition", first=10, length=40)
    keys = [(len({w.lower() for w in marked(s)}), len(s["highlights"])) for s in found]
    assert keys == sorted(keys, key=lambda k: (-k[0], -k[1]))
    assert found[0]["field"] == "TITLE"  # three distinct terms
    # equal terms and occurrences: TITLE before EXCERPT before BODY, then earliest
    ties = snips(api, "arrived OR tuesday OR chief", first=10)
    assert [(s["field"], marked(s)) for s in ties] == [
        ("EXCERPT", ["arrived"]),
        ("BODY", ["Tuesday"]),
        ("BODY", ["chief"]),  # over 200 characters after Tuesday: a passage of its own, later
    ]


def test_coverage_when_fewer_than_first_every_occurrence_is_in_a_snippet(api):
    found = snips(api, "police", first=10, length=30)
    assert len(found) < 10
    per_field = {"TITLE": 1, "EXCERPT": 1, "BODY": 2}
    for field, count in per_field.items():
        assert sum(len(s["highlights"]) for s in found if s["field"] == field) == count


def test_a_field_whose_occurrences_fit_gets_one_passage(api):
    found = snips(api, "police", first=10, length=1000)
    assert [s["field"] for s in found] == ["BODY", "TITLE", "EXCERPT"]  # body: 2 occurrences in one passage
    assert len(found[0]["highlights"]) == 2


def test_at_least_min_first_and_fields_with_a_term(api):
    assert len(snips(api, "police", first=2, length=20)) == 2
    assert len(snips(api, "police", first=1)) == 1
    assert snips(api, "police", first=0) == []


def test_passages_never_cut_a_word_and_keep_to_length(api):
    text = DOCS[0]["body"]
    for length in (20, 37, 64, 200):
        for snippet in snips(api, "police OR facial OR meeting", first=10, length=length):
            assert len(snippet["text"]) <= length
            at = text.find(snippet["text"]) if snippet["field"] == "BODY" else 0
            assert at >= 0
            before = text[at - 1] if at > 0 else " "
            after = text[at + len(snippet["text"])] if at + len(snippet["text"]) < len(text) else " "
            if snippet["field"] == "BODY":
                assert not (before.isalnum() and snippet["text"][:1].isalnum()), snippet
                assert not (after.isalnum() and snippet["text"][-1:].isalnum()), snippet


def test_text_is_the_stored_text_markdown_included(api):
    [snippet] = snips(api, '"facial recognition"', first=10)[1:]
    assert "**facial recognition**" in snippet["text"]


def test_nothing_to_show_gives_an_empty_list(api):
    assert snips(api, "") == []
    assert snips(api, "   ") == []
    assert snips(api, "-police") == []  # exclusions only
    assert snips(api, "surveillance") == []  # only in a topic
    assert snips(api, "camera") == []  # only in a related title
    assert snips(api, "police", "plain") == []
    assert snips(api, "nothing", "plain") == [
        {"field": "TITLE", "text": "Nothing to see", "highlights": [{"start": 0, "end": 7}]}
    ]


def test_defaults_are_three_snippets_of_at_most_200(api):
    found = snips(api, "police OR facial OR meeting OR nothing")
    assert len(found) == 3
    long = snips(api, "police OR facial OR meeting OR nothing", first=10)
    assert found == long[:3] and all(len(s["text"]) <= 200 for s in long)


@pytest.mark.parametrize(
    "first,length,message",
    [
        (11, None, "snippets: first must be between 0 and 10, got 11"),
        (-1, None, "snippets: first must be between 0 and 10, got -1"),
        (None, 19, "snippets: length must be between 20 and 1000, got 19"),
        (None, 1001, "snippets: length must be between 20 and 1000, got 1001"),
    ],
)
def test_out_of_range_arguments_are_bad_user_input(api, first, length, message):
    payload = api.execute(QUERY, {"id": "a", "s": "police", "n": first, "l": length})
    [error] = payload["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == message
    assert error["path"] == ["article", "snippets"]


def test_snippets_are_priced_as_a_nested_list_of_first_items():
    def price(query: str) -> int:
        return query_limits.check(schema._schema, parse(query), None, None, Limits()).cost

    base = price("{ articles(first: 10) { nodes { id } } }")
    # three snippets by default, each a Snippet and its highlights (a list without first: the list limit)
    assert price('{ articles(first: 10) { nodes { id snippets(search: "x") { text } } } }') == base + 10 * 3
    assert price('{ articles(first: 10) { nodes { id snippets(search: "x", first: 5) { text } } } }') == base + 10 * 5
    with_ranges = price('{ articles(first: 10) { nodes { id snippets(search: "x") { highlights { start } } } } }')
    assert with_ranges == base + 10 * 3 * (1 + Limits().max_list_size)


# ---- properties of graph.snippets on generated texts and searches -----------------------------

VOCABULARY = ["Police", "police", "Zürich", "zurich", "new", "York", "facial", "recognition", "or", "a", "émeute"]
SEPARATORS = [" ", ", ", " — ", "\n", "**", " (", ") ", "-"]


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)), max_size=40))
    lead = draw(st.sampled_from(["", " ", "> "]))
    return lead + "".join(w + s for w, s in parts)


@st.composite
def searches(draw: st.DrawFn) -> str:
    chunks = []
    for _ in range(draw(st.integers(0, 4))):
        word = draw(st.sampled_from(VOCABULARY)).lower()
        if draw(st.booleans()):
            word = word[: draw(st.integers(1, len(word)))] + "*"
        kind = draw(st.sampled_from(["", "", "-", "OR", "phrase"]))
        if kind == "phrase":
            chunks.append('"' + word + " " + draw(st.sampled_from(VOCABULARY)) + '"')
        elif kind == "OR":
            chunks.extend(["OR", word])
        else:
            chunks.append(kind + word)
    return " ".join(chunks)


def _reference_occurrences(text: str, query: search.SearchQuery) -> list[tuple[int, int]]:
    """Words (by a plain regex over the text) a kept non-phrase term matches and no excluded term does."""
    kept = [t for c in query.clauses for lit in c if not lit.negated and not lit.match.phrase for t in lit.match.terms]
    dropped = [t for c in query.clauses for lit in c if lit.negated and not lit.match.phrase for t in lit.match.terms]

    def hit(term: search.Term, word: str) -> bool:
        return word.startswith(term.text) if term.prefix else word == term.text

    found = [(m.start(), m.end(), search.fold(m.group())) for m in re.finditer(r"[^\W_]+", text)]
    inside_excluded_phrase = set()
    for lit in (lit for c in query.clauses for lit in c if lit.negated and lit.match.phrase):
        size = len(lit.match.terms)
        for i in range(len(found) - size + 1):
            if all(hit(t, found[i + k][2]) for k, t in enumerate(lit.match.terms)):
                inside_excluded_phrase.update(range(i, i + size))
    return [
        (start, end)
        for i, (start, end, word) in enumerate(found)
        if any(hit(t, word) for t in kept) and not any(hit(t, word) for t in dropped) and i not in inside_excluded_phrase
    ]


@settings(max_examples=300, deadline=None)
@given(title=texts(), excerpt=texts(), body=texts(), text=searches(), first=st.integers(0, 10),
       length=st.integers(20, 120))  # fmt: skip
def test_snippet_invariants(title, excerpt, body, text, first, length):
    doc = {"title": title, "excerpt": excerpt, "body": body}
    query = search.parse_query(text)
    found = snippets.snippets(doc, text, first, length)
    assert len(found) <= first
    words_of = {name: {(w.start, w.end): w.folded for w in snippets.text_words(doc[key])} for name, key in snippets.FIELDS}
    terms = query.terms
    for s in found:
        field = doc[dict(snippets.FIELDS)[s.field]]
        assert len(s.text) <= length and field[s.start : s.start + len(s.text)] == s.text
        assert s.highlights, s
        previous_end = 0
        for start, end in s.highlights:
            assert previous_end <= start < end <= len(s.text)  # in order, never overlapping
            previous_end = end
            folded = words_of[s.field].get((s.start + start, s.start + end))
            assert folded is not None, "a highlight is exactly one word"
            assert any(folded.startswith(t.text) if t.prefix else folded == t.text for t in terms)
    # passages of one field never overlap
    for name, _ in snippets.FIELDS:
        spans = sorted((s.start, s.start + len(s.text)) for s in found if s.field == name)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # every reference occurrence inside a snippet's text is highlighted; with fewer than first, all are in one
    for name, key in snippets.FIELDS:
        occurrences = [o for o in _reference_occurrences(doc[key], query) if o[1] - o[0] <= length]
        shown = {(s.start + a, s.start + b) for s in found if s.field == name for a, b in s.highlights}
        for s in (s for s in found if s.field == name):
            inside = [o for o in occurrences if s.start <= o[0] and o[1] <= s.start + len(s.text)]
            assert set(inside) <= shown
        if len(found) < first:
            assert set(occurrences) <= shown
    fields_with_a_term = sum(1 for name, key in snippets.FIELDS if _reference_occurrences(doc[key], query))
    assert len(found) >= min(first, fields_with_a_term)
    keys = [(-s.terms, -len(s.highlights), snippets._FIELD_RANK[s.field], s.start) for s in found]
    assert keys == sorted(keys)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_words_with_offsets_are_the_search_words(text):
    found = snippets.text_words(text)
    assert [w.folded for w in found] == search.words(text)
    for w in found:
        # one character may fold to two words (¼ -> 1⁄4): both stand on it
        assert w.folded in search.words(text[w.start : w.end])
