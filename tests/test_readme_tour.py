"""The README tour is executable: each ```graphql block, run against the shipped seed, answers
exactly the ```json block that immediately follows it.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, SEEDS, Api

from graph.seed import seed

README = ROOT / "README.md"
START, END = "<!-- tour:start -->", "<!-- tour:end -->"
FENCE = re.compile(r"```(\w*)\n(.*?)\n```", re.DOTALL)


def tour_examples() -> list[tuple[str, str]]:
    """(query, expected JSON) pairs of the tour, in order; a query must be followed by its answer."""
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "README.md needs one tour:start and one tour:end marker"
    tour = text[text.index(START) + len(START) : text.index(END)]
    blocks = list(FENCE.finditer(tour))
    pairs = []
    for i, block in enumerate(blocks):
        if block.group(1) != "graphql":
            continue
        assert i + 1 < len(blocks), f"the last graphql block has no json block after it:\n{block.group(2)}"
        answer = blocks[i + 1]
        between = tour[block.end() : answer.start()]
        assert answer.group(1) == "json" and not between.strip(), (
            f"a graphql block must be immediately followed by a json block:\n{block.group(2)}"
        )
        pairs.append((block.group(2), answer.group(2)))
    assert len(pairs) == sum(1 for b in blocks if b.group(1) == "json"), "a json block without a query"
    return pairs


EXAMPLES = tour_examples()


def test_the_tour_covers_lookups_traversal_filters_search_paging_and_facets():
    queries = "\n".join(query for query, _ in EXAMPLES)
    for needle in ("article(id:", "articleByUrl", "provider(domain:", "related", "where:", "search:", "after:", "facets", "histogram"):
        assert needle in queries, needle
    assert len(EXAMPLES) >= 8


@pytest.fixture
def shipped(make_store, run) -> Api:
    """A store of the parametrized kind seeded from seeds/ by the real seed command's library."""
    store = make_store()
    report = run(seed(store, [SEEDS]))
    assert (report.new, report.failed) == (1, 0)
    return Api(store, run)


@pytest.mark.parametrize(("query", "expected"), EXAMPLES, ids=[f"example-{n + 1}" for n in range(len(EXAMPLES))])
def test_tour_example_answers_exactly_what_the_readme_says(shipped, query, expected):
    assert shipped.execute(query) == json.loads(expected)
