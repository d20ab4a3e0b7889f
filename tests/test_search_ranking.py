"""Ranking a first page without scoring every match (graph.search.Ranking.contenders).

The contenders must hold every document of the first page in exact order, with the
scores a full scoring gives, whatever the ties: the corpus below has few words, so
many documents share a score and many more differ from it by less than the 1e-6 that
rounding decides on.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import search

WORDS = ["alpha", "alpine", "beta", "bet", "gamma", "gap", "delta", "del"]


def corpus(seed: int, size: int) -> list[dict[str, str]]:
    pick = random.Random(seed)
    return [
        {
            "title": " ".join(pick.choices(WORDS, k=pick.randint(0, 3))),
            "body": " ".join(pick.choices(WORDS, k=pick.randint(1, 12))),
        }
        for _ in range(size)
    ]


INDEX = search.SearchIndex(corpus(5, 3000))


def first_page(scores: search.Scores, count: int) -> list[tuple[int, float]]:
    """The first count matches by score descending, ties by number: from every match's score."""
    ranked = sorted(zip(scores.numbers.tolist(), scores.values.tolist()), key=lambda nv: (-nv[1], nv[0]))
    return ranked[:count]


queries = st.lists(
    st.sampled_from([*WORDS, "al*", "be*", "g*", "de*", "alpha OR delta", "-beta"]), min_size=1, max_size=3
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(text=queries, count=st.integers(1, 40))
def test_contenders_hold_the_first_page_with_exact_scores(text, count):
    query = search.parse_query(text)
    pruned, full = INDEX.search(query), INDEX.search(query)
    assert pruned is not None and full is not None
    expected = first_page(full, count)
    numbers = pruned.contenders(pruned.numbers, count)
    kept = dict(zip(numbers.tolist(), pruned.of(numbers).tolist()))
    got = sorted(kept.items(), key=lambda nv: (-nv[1], nv[0]))[:count]
    assert got == expected, text
    # A document the pruned search scores later (the page's keys, a cursor) gets the full score too.
    assert pruned.of(full.numbers).tolist() == full.values.tolist()


def test_a_large_match_set_is_not_scored_whole():
    query = search.parse_query("alpha g*")
    scores = INDEX.search(query)
    assert scores is not None and len(scores.numbers) > 1000
    assert len(scores.contenders(scores.numbers, 10)) < len(scores.numbers) // 10


def test_contenders_of_a_subset_rank_within_it():
    # A filter or a cursor leaves a subset of the matches: its first page, not the search's.
    scores = INDEX.search(search.parse_query("gamma del*"))
    assert scores is not None
    subset = scores.numbers[scores.numbers % 3 == 0]
    numbers = scores.contenders(subset, 5)
    assert np.isin(numbers, subset).all()
    values = dict(zip(subset.tolist(), scores.of(subset).tolist()))
    expected = sorted(values.items(), key=lambda nv: (-nv[1], nv[0]))[:5]
    got = sorted(zip(numbers.tolist(), scores.of(numbers).tolist()), key=lambda nv: (-nv[1], nv[0]))[:5]
    assert got == expected


def test_a_near_tie_decided_by_rounding_keeps_the_lower_raw_score():
    # Both score 0.738577 once rounded; the first document's raw score is the lower one (its
    # body is a word longer), and the tie goes to it by number: pruning on raw scores alone
    # would serve the second.
    size = 200_000
    docs = [
        {"title": "zeta", "body": "filler " * (size + 1)},
        {"title": "zeta", "body": "filler " * size},
        {"title": "other", "body": "filler " * size},
    ]
    index = search.SearchIndex(docs)
    scores = index.search(search.parse_query("zeta"))
    assert scores is not None
    raw = index.norms()  # precondition: the two raw scores differ, the rounded ones do not
    tf = 3.0
    assert tf / (tf + raw[0]) < tf / (tf + raw[1])
    assert scores.values.tolist() == [0.738577, 0.738577]
    pruned = index.search(search.parse_query("zeta"))
    assert pruned is not None
    assert pruned.contenders(pruned.numbers, 1).tolist()[0] == 0


two_word_corpora = st.lists(
    st.fixed_dictionaries(
        # Up to 8 title words (weighted 3): a term's tf / (tf + norm) comes near 1, its bound.
        {"title": st.lists(st.sampled_from(["alpha", "beta"]), max_size=8).map(" ".join),
         "body": st.lists(st.sampled_from(["alpha", "beta", "x", "y"]), min_size=1, max_size=10).map(" ".join)}
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=1000, deadline=None)
@given(docs=two_word_corpora, text=st.sampled_from(["alpha OR beta", "beta OR al*", "alpha beta", "b* alpha"]),
       count=st.integers(1, 3))
def test_contenders_when_a_terms_bound_decides(docs, text, count):
    # Few documents and an OR: a document lacking the first term can still win on the second.
    index = search.SearchIndex(docs)
    query = search.parse_query(text)
    pruned, full = index.search(query), index.search(query)
    if pruned is None or full is None:
        return
    numbers = pruned.contenders(pruned.numbers, count)
    got = sorted(zip(numbers.tolist(), pruned.of(numbers).tolist()), key=lambda nv: (-nv[1], nv[0]))[:count]
    assert got == first_page(full, count), text


def test_no_contenders_for_an_empty_page():
    scores = INDEX.search(search.parse_query("alpha"))
    assert scores is not None
    assert scores.contenders(scores.numbers, 0).tolist() == []


def test_a_page_won_on_the_last_term_alone():
    # "alpha OR beta": alpha (the rarer) is scored first; the second document lacks it and wins
    # on beta alone, with 93.5% of what beta can add at most: a bound 10% short drops it.
    docs = [
        {"title": "alpha", "body": " ".join(["x"] * 80)},
        {"title": " ".join(["beta"] * 8), "body": "beta"},
        *[{"title": "beta", "body": "y " * 5}] * 4,
        *[{"title": "z", "body": "y " * 5}] * 6,
    ]
    index = search.SearchIndex(docs)
    query = search.parse_query("alpha OR beta")
    full = index.search(query)
    assert full is not None
    assert first_page(full, 2) == [(1, 1.769553), (0, 1.76654)]
    pruned = index.search(query)
    assert pruned is not None
    assert pruned.contenders(pruned.numbers, 1).tolist() == [1]
