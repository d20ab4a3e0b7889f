"""The TinyDB facet tables count exactly what a plain count over the selected documents gives.

FacetTables.counts ranks in numpy and gathers a few documents' topics by their
ranges instead of a mask over every document; both are held here to a
Counter over the selected documents' values, for selections small and large.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.store.tinydb.facet_tables import FacetTables

TOPICS = ["a", "B", "b", "é", "z", "Zürich", "topic 1", "topic 10", "topic 2"]
PROVIDERS = ["x.com", "y.org", "Z.net", "a.io", None]


def columns(seed: int, size: int) -> dict[str, list]:
    pick = random.Random(seed)
    return {
        "provider": [pick.choice(PROVIDERS) for _ in range(size)],
        "category": [pick.choice(["news", "Sport", None]) for _ in range(size)],
        "type": [pick.choice(["article", None]) for _ in range(size)],
        "published": [pick.random() < 0.5 for _ in range(size)],
        "topics": [list(dict.fromkeys(pick.choices(TOPICS, k=pick.randint(0, 4)))) for _ in range(size)],
        "quality": [pick.choice([None, *range(100)]) for _ in range(size)],
        "heat": [pick.choice([None, *range(10)]) for _ in range(size)],
        "publishedDateTime": [None] * size,
    }


def reference(values: list) -> list[tuple[str, int]]:
    counted = Counter(v for v in values if v is not None)
    return sorted(counted.items(), key=lambda vc: (-vc[1], vc[0]))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 120), st.floats(0.0, 1.0))
def test_counts_equal_a_plain_count_of_the_selected_documents(seed, size, share):
    cols = columns(seed, size)
    tables = FacetTables(cols, size)
    pick = random.Random(seed + 1)
    selection = np.array(sorted(n for n in range(size) if pick.random() < share), dtype=np.int32)
    chosen = selection.tolist()
    assert tables.counts("topics", selection) == reference([t for n in chosen for t in cols["topics"][n]])
    for field in ("provider", "category", "type"):
        assert tables.counts(field, selection) == reference([cols[field][n] for n in chosen]), field
    published = ["true" if cols["published"][n] else "false" for n in chosen]
    assert tables.counts("published", selection) == reference(published)
