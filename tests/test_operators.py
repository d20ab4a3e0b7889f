"""The column engine (graph.store.tinydb.operators) equals the reference, graph.filters.matches, at scale.

tests/test_filters_property.py holds both stores to the reference through the API
on a handful of documents; here one snapshot of several thousand documents (so
that the engine's large-set paths run: the joined-text scan, postings, AND/OR
narrowing over big row sets) is checked against ``matches`` for random filters
and random subsets of rows, and the request's budget is shown to hold.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from conftest import article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_filters_property import (
    DATES,
    DOMAINS,
    FRAGMENTS,
    INTS,
    NAMES,
    TEXTS,
    TOPICS,
    URLS,
    catalog,
    combined,
    int_filter,
    string_filter,
    BOOLEAN_FILTER,
    DATETIME_FILTER,
    IMAGE_LIST_FILTER,
    PROVIDER_FILTER,
    RELATED_LIST_FILTER,
    TOPICS_FILTER,
)

from graph import filters
from graph.budget import Budget, DeadlineExceeded, FilterTooCostly, spending
from graph.store.tinydb.snapshot import Snapshot

SIZE = 6000
# Words that occur in few documents, so that text operators take the joined-scan path.
RARE = [f"w{n:04d}" for n in range(400)]


def _documents() -> list[dict]:
    pick = random.Random(20261203)

    def maybe(values):
        roll = pick.random()
        return None if roll < 0.1 else "missing" if roll < 0.2 else pick.choice(values)

    docs = []
    for n in range(SIZE):
        fields = {
            "title": f"{pick.choice([t for t in TEXTS if t])} {pick.choice(RARE)}",
            "excerpt": maybe(TEXTS),
            "category": maybe(TEXTS),
            "type": maybe(TEXTS),
            "quality": maybe(INTS),
            "heat": maybe(INTS),
            "published": maybe([True, False]),
            "publishedDateTime": maybe(DATES),
            "originalUrl": maybe(URLS),
            "webUrl": maybe(URLS),
            "topics": pick.sample(TOPICS, pick.randint(0, 3)),
            "provider": maybe([{"domain": d, "name": pick.choice(NAMES)} for d in DOMAINS]),
            "images": [{"url": pick.choice(URLS), "width": pick.choice(INTS)} for _ in range(pick.randint(0, 2))],
            "related": [
                {"title": pick.choice([t for t in TEXTS if t]), "quality": maybe(INTS), "provider": maybe([{"domain": d} for d in DOMAINS])}
                for _ in range(pick.randint(0, 2))
            ],
            "body": f"{pick.choice(TEXTS)} {pick.choice(RARE)}",
        }
        fields = {k: v for k, v in fields.items() if v != "missing"}
        for item in fields["related"]:
            for key in [k for k, v in item.items() if v == "missing"]:
                del item[key]
        docs.append(article(id=f"a{n:05d}", **fields))
    return docs


@pytest.fixture(scope="module")
def corpus():
    docs = sorted(_documents(), key=lambda d: d["id"])
    snapshot = Snapshot.build(docs, "v1")
    snapshot.build_text_indexes()  # as the TinyDB store does at load: title filters use trigrams
    return docs, snapshot, catalog(docs)


def text_filter(values: list[str]) -> st.SearchStrategy[dict]:
    """String operators whose fragments include rare words (the joined-scan path) and case variants."""
    return string_filter(values, FRAGMENTS + RARE[:40] + [w.upper() for w in RARE[:5]])


TITLES = [f"{t} {w}" for t in TEXTS[:3] for w in RARE[:3]]
WHERE = combined(
    st.one_of(
        text_filter(TITLES).map(lambda f: {"title": f}),
        text_filter(TEXTS).map(lambda f: {"body": f}),
        text_filter(TEXTS).map(lambda f: {"category": f}),
        text_filter([f"a{n:05d}" for n in range(0, SIZE, 997)]).map(lambda f: {"id": f}),
        int_filter(INTS).map(lambda f: {"quality": f}),
        BOOLEAN_FILTER.map(lambda f: {"published": f}),
        DATETIME_FILTER.map(lambda f: {"publishedDateTime": f}),
        TOPICS_FILTER.map(lambda f: {"topics": f}),
        PROVIDER_FILTER.map(lambda f: {"provider": f}),
        IMAGE_LIST_FILTER.map(lambda f: {"images": f}),
        RELATED_LIST_FILTER.map(lambda f: {"related": f}),
    ),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(where=WHERE, subset=st.sampled_from(["all", "half", "few"]))
def test_the_column_engine_equals_the_reference(corpus, where, subset):
    docs, snapshot, known = corpus
    f = filters.build("article", where)
    rows = np.arange(len(docs))
    if subset == "half":
        rows = rows[::2]
    elif subset == "few":
        rows = rows[::397]
    expected = [n for n in rows.tolist() if filters.matches(f, docs[n], "article", known.get)]
    assert snapshot.filtered(f, rows).tolist() == expected


def test_text_operators_on_the_trigram_and_scan_paths(corpus):
    docs, snapshot, known = corpus
    # Titles go through the trigram index (built), bodies through the scan of their joined text.
    for op, field in [(op, field) for op in ("contains", "startsWith", "endsWith") for field in ("title", "body")]:
        for operand in ("w0007", "W000", "alpha w", "ss", "", "\x00"):
            f = filters.build("article", {field: {op: operand}})
            expected = [n for n, doc in enumerate(docs) if filters.matches(f, doc, "article", known.get)]
            assert snapshot.filtered(f, np.arange(len(docs))).tolist() == expected, (op, field, operand)


def test_filter_work_is_priced_before_it_runs(corpus):
    docs, snapshot, _ = corpus
    many = filters.build("article", {"OR": [{"body": {"contains": f"q{n}"}} for n in range(50)]})
    with spending(Budget(max_filter_work=50 * 10 * len(docs) - 1)):
        with pytest.raises(FilterTooCostly, match="filter work of 3,000,000"):
            snapshot.filtered(many, np.arange(len(docs)))
    with spending(Budget(max_filter_work=50 * 10 * len(docs))):
        assert snapshot.filtered(many, np.arange(len(docs))).tolist() == []


def test_evaluation_stops_at_the_deadline(corpus):
    docs, snapshot, _ = corpus
    f = filters.build("article", {"related": {"some": {"title": {"contains": "zz"}}}})
    with spending(Budget(deadline=time.monotonic() - 1)):
        with pytest.raises(DeadlineExceeded):
            snapshot.filtered(f, np.arange(len(docs)))


def test_ranges_answered_by_the_ordered_index_equal_the_reference():
    # Values spread wide, so that narrow ranges select few rows and take the index's slice.
    docs = sorted(
        (
            article(
                id=f"r{n:05d}",
                title=f"Range {n}",
                topics=["T"] if n % 3 else [],
                **({} if n % 11 == 0 else {"quality": (n * 7919) % 5000}),
                **({} if n % 13 == 0 else {"publishedDateTime": f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"}),
            )
            for n in range(5000)
        ),
        key=lambda d: d["id"],
    )
    snapshot, known = Snapshot.build(docs, "v"), catalog(docs)
    pick = random.Random(5)
    for _ in range(200):
        lo = pick.randrange(-10, 5010)
        where = {
            "quality": {pick.choice(["gt", "gte"]): lo, pick.choice(["lt", "lte"]): lo + pick.randrange(0, 400)},
            "publishedDateTime": {pick.choice(["gte", "gt"]): f"2021-0{pick.randrange(1, 10)}-1{pick.randrange(0, 9)}T05:30:00+02:00"},
        }
        if pick.random() < 0.5:
            where["topics"] = {"has": "T"}
        f = filters.build("article", where)
        expected = [n for n, doc in enumerate(docs) if filters.matches(f, doc, "article", known.get)]
        assert snapshot.filtered(f, np.arange(len(docs))).tolist() == expected, where


def test_date_columns_parse_normalized_values_in_bulk_and_others_one_by_one():
    from graph.store.tinydb.operators import DateColumn, micros

    normalized = ["2021-03-04T05:06:07Z", None, "0999-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
    other = ["2021-03-04T06:06:07+01:00", None, "2021-03-04"]  # written by another program
    for values in (normalized, other):
        column = DateColumn(values)
        expected = [None if v is None else micros(filters.instant(v)) for v in values]
        assert [int(x) if present else None for x, present in zip(column.values, column.present)] == expected
