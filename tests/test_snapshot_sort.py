"""The numpy rank sort of the in-memory snapshot (and its top-k for first pages) orders exactly like the plain multi-pass sort."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import article
from graph.paging import ArticleQuery, OrderKey, Window
from graph.store.tinydb.snapshot import Snapshot
from graph.store.tinydb.ordering import window_slice

FIELDS = ("publishedDateTime", "quality", "heat", "title", "providerName", "id")


def corpus(seed: int, size: int = 400) -> Snapshot:
    rng = random.Random(seed)
    docs = []
    for n in range(size):
        fields = {"id": f"a{rng.randrange(10**6):06d}-{n}", "title": rng.choice(["Alpha", "alpha", "Beta", "beta", "Ärger", "zeta"])}
        if rng.random() < 0.8:
            fields["quality"] = rng.randrange(-3, 4)
        if rng.random() < 0.7:
            fields["heat"] = rng.randrange(3)
        if rng.random() < 0.8:
            fields["publishedDateTime"] = f"2020-0{rng.randrange(1, 4)}-0{rng.randrange(1, 4)}T00:00:00Z"
        if rng.random() < 0.7:
            domain = rng.choice(["a.example", "b.example", "c.example"])
            fields["provider"] = {"name": rng.choice(["Gamma", "gamma", "Delta"]), "domain": domain}
        docs.append(article(**fields))
    return Snapshot.build(docs, "v")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 5),
    keys=st.lists(st.tuples(st.sampled_from(FIELDS), st.booleans()), min_size=1, max_size=3),
)
def test_rank_sort_equals_multi_pass_sort(seed, keys):
    snapshot = corpus(seed)
    order = tuple(OrderKey(field, descending) for field, descending in keys) + (OrderKey("id"),)
    numbers = list(range(len(snapshot.docs)))
    expected = numbers
    for key in reversed(order):  # the reference: stable passes, nulls last both ways
        column = snapshot._sort_key(key.field)
        present = [n for n in expected if column[n] is not None]
        missing = [n for n in expected if column[n] is None]
        expected = sorted(present, key=column.__getitem__, reverse=key.descending) + missing
    assert list(snapshot._sorted_by_ranks(numbers, order)) == expected
    assert list(snapshot._sorted(numbers, order, None)) == expected
    for count in (1, 7, 20, len(numbers)):  # a first page is the head of the same order
        assert list(snapshot._top(numbers, order, None, count)) == expected[:count]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 5),
    keys=st.lists(st.tuples(st.sampled_from(FIELDS), st.booleans()), min_size=1, max_size=3),
    at=st.integers(0, 399),
    first=st.sampled_from([1, 5, 20]),
    elsewhere=st.booleans(),
)
def test_a_page_after_a_cursor_equals_the_slice_of_the_sorted_list(seed, keys, at, first, elsewhere):
    # The cursor is an article's keys: of this snapshot, or of another one (values this one may not have).
    snapshot = corpus(seed)
    order = tuple(OrderKey(field, descending) for field, descending in keys) + (OrderKey("id"),)
    query = ArticleQuery(order=order)
    source = corpus(seed + 10) if elsewhere else snapshot
    ordered = source._sorted_by_ranks(list(range(len(source.docs))), order)
    value = source._value_function(None)
    cursor = tuple(value(int(ordered[at]), key.field) for key in order)
    window = Window(first=first, after=cursor)
    expected = window_slice(
        snapshot._sorted_by_ranks(list(range(len(snapshot.docs))), order),
        lambda n: tuple(snapshot._value_function(None)(n, key.field) for key in order),
        order,
        window,
    )
    page = snapshot.find(query, window)  # the keyset path: nothing sorted is cached yet
    assert [doc["id"] for doc in page.items] == [snapshot.docs[int(n)]["id"] for n in expected.items]
    assert (page.has_next, page.has_previous) == (expected.has_next, expected.has_previous)
    assert page.keys == expected.keys
