"""Property tests: the API's filtering equals the reference evaluation, graph.filters.matches.

Hypothesis generates small sets of documents (with missing, null and empty
values of every kind, case and accent variants, offsets and plain dates) and
random filters (every operator, ImageListFilter, ProviderFilter,
RelatedListFilter, AND/OR/NOT nesting), and checks that
``articles(where:, first: 100)`` returns exactly the documents ``matches``
accepts. The provider catalog that ``matches`` consults is computed here,
independently of the stores. A few hand cases pin ``matches`` itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from conftest import article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import filters
from graph.filters import And, Compare, Each, Not, Or, ProviderIs

# ---- small value domains, so that filters and documents meet ---------------------------------

# Texts where casefolding differs from lower() (ß, İ, ligatures) and with characters that
# are special in SQL LIKE patterns (% _ \), so that a store translating filters to SQL must
# get both right.
TEXTS = ["Alpha", "alpha", "ALPHA beta", "Ápple", "Straße", "zeta", "", "50% off_sale", "İstanbul", "ﬁle", "back\\slash"]
FRAGMENTS = ["a", "AL", "ss", "ß", "á", "ZETA", "", "beta", "%", "_", "\\", "0%", "f_s", "i", "İ", "fi", "FILE"]
INTS = [-1, 0, 1, 5, 50]
DATES = [
    "2021-01-01",
    "2021-01-01T00:00:00Z",
    "2020-12-31T23:30:00-01:00",
    "2021-06-15T12:00:00+02:00",
    "2021-06-15T10:00:00Z",
    "2019-03-01T08:00:00Z",
]
URLS = ["https://a.example/1", "https://a.example/2", "https://B.example/1"]
TOPICS = ["AI", "ai", "Zürich", "x"]
DOMAINS = ["a.example", "b.example", "c.example"]
NAMES = ["A", "a", "Bee", "Cee"]

MISSING = object()


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: missing, explicit null, or one of the values."""
    return st.one_of(st.just(MISSING), st.none(), values)


def present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not MISSING}


providers = st.builds(
    lambda domain, name: present({"domain": domain, "name": name}),
    st.sampled_from(DOMAINS),
    st.one_of(st.just(MISSING), st.sampled_from(NAMES)),
)
images = st.lists(
    st.builds(
        lambda url, width, height, cached: present({"url": url, "width": width, "height": height, "isCached": cached}),
        st.sampled_from(URLS),
        maybe(st.sampled_from(INTS)),
        maybe(st.sampled_from(INTS)),
        maybe(st.booleans()),
    ),
    max_size=3,
)
related_items = st.lists(
    st.builds(
        lambda title, excerpt, date, web, kind, quality, provider, pictures: present(
            {
                "title": title,
                "excerpt": excerpt,
                "publishedDateTime": date,
                "webUrl": web,
                "type": kind,
                "quality": quality,
                "provider": provider,
                "images": pictures,
            }
        ),
        st.sampled_from([t for t in TEXTS if t]),
        maybe(st.sampled_from(TEXTS)),
        maybe(st.sampled_from(DATES)),
        maybe(st.sampled_from(URLS)),
        maybe(st.sampled_from(TEXTS)),
        maybe(st.sampled_from(INTS)),
        maybe(providers),
        maybe(images),
    ),
    max_size=3,
)


DOCUMENT_FIELDS = st.fixed_dictionaries(
    {
        "title": st.sampled_from([t for t in TEXTS if t]),
        "excerpt": maybe(st.sampled_from(TEXTS)),
        "category": maybe(st.sampled_from(TEXTS)),
        "type": maybe(st.sampled_from(TEXTS)),
        "quality": maybe(st.sampled_from(INTS)),
        "heat": maybe(st.sampled_from(INTS)),
        "published": maybe(st.booleans()),
        "publishedDateTime": maybe(st.sampled_from(DATES)),
        "originalUrl": maybe(st.sampled_from(URLS)),
        "webUrl": maybe(st.sampled_from(URLS)),
        "topics": maybe(st.lists(st.sampled_from(TOPICS), max_size=3)),
        "provider": maybe(providers),
        "images": maybe(images),
        "related": maybe(related_items),
        "body": st.sampled_from(TEXTS),
    }
)


def documents() -> st.SearchStrategy[list[dict[str, Any]]]:
    """0-7 stored documents d0, d1, ... built by the real normalizer."""
    return st.lists(DOCUMENT_FIELDS, max_size=7).map(
        lambda drawn: [article(id=f"d{n}", **present(fields)) for n, fields in enumerate(drawn)]
    )


# ---- filters as GraphQL input values ---------------------------------------------------------


def operators(choices: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An input object with 0-2 of the given operators (an explicit null now and then)."""
    return st.lists(st.sampled_from(sorted(choices)), max_size=2, unique=True).flatmap(
        lambda ops: st.fixed_dictionaries({op: st.one_of(choices[op], st.none()) if op in ("eq", "gt") else choices[op] for op in ops})
    )


def string_filter(values: list[str], fragments: list[str] = FRAGMENTS) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    fragment = st.sampled_from(fragments + values)
    return operators(
        {
            "eq": value,
            "ne": value,
            "in": st.lists(value, max_size=3),
            "notIn": st.lists(value, max_size=3),
            "contains": fragment,
            "startsWith": fragment,
            "endsWith": fragment,
            "isNull": st.booleans(),
        }
    )


def int_filter(values: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(values)
    return operators(
        {
            "eq": value,
            "ne": value,
            "in": st.lists(value, max_size=3),
            "notIn": st.lists(value, max_size=3),
            "gt": value,
            "gte": value,
            "lt": value,
            "lte": value,
            "isNull": st.booleans(),
        }
    )


BOOLEAN_FILTER = operators({"eq": st.booleans(), "isNull": st.booleans()})
DATETIME_FILTER = operators({op: st.sampled_from(DATES) for op in ("eq", "gt", "gte", "lt", "lte")} | {"isNull": st.booleans()})
TOPICS_FILTER = operators(
    {
        "has": st.sampled_from(TOPICS),
        "hasSome": st.lists(st.sampled_from(TOPICS), max_size=3),
        "hasEvery": st.lists(st.sampled_from(TOPICS), max_size=3),
        "isEmpty": st.booleans(),
    }
)
IMAGE_FILTER = st.fixed_dictionaries(
    {},
    optional={"url": string_filter(URLS), "width": int_filter(INTS), "height": int_filter(INTS), "isCached": BOOLEAN_FILTER},
)
IMAGE_LIST_FILTER = operators({"some": IMAGE_FILTER, "every": IMAGE_FILTER, "none": IMAGE_FILTER, "isEmpty": st.booleans()})


def combined(leaf: st.SearchStrategy[dict[str, Any]], max_leaves: int) -> st.SearchStrategy[dict[str, Any]]:
    """Leaves joined by AND/OR/NOT at any depth, and fields of one filter side by side."""
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda parts: {"AND": parts}),
            st.lists(children, max_size=3).map(lambda parts: {"OR": parts}),
            children.map(lambda part: {"NOT": part}),
            st.tuples(children, children).map(lambda pair: {**pair[0], **pair[1]}),
        ),
        max_leaves=max_leaves,
    )


PROVIDER_FILTER = combined(
    st.one_of(
        string_filter(NAMES + DOMAINS).map(lambda f: {"name": f}),
        string_filter(DOMAINS).map(lambda f: {"domain": f}),
        int_filter([0, 1, 2, 3]).map(lambda f: {"articleCount": f}),
    ),
    max_leaves=3,
)
RELATED_FILTER = combined(
    st.one_of(
        string_filter(TEXTS).map(lambda f: {"title": f}),
        string_filter(TEXTS).map(lambda f: {"excerpt": f}),
        DATETIME_FILTER.map(lambda f: {"publishedDateTime": f}),
        string_filter(URLS).map(lambda f: {"webUrl": f}),
        string_filter(TEXTS).map(lambda f: {"type": f}),
        int_filter(INTS).map(lambda f: {"quality": f}),
        PROVIDER_FILTER.map(lambda f: {"provider": f}),
        IMAGE_LIST_FILTER.map(lambda f: {"images": f}),
    ),
    max_leaves=3,
)
RELATED_LIST_FILTER = operators({"some": RELATED_FILTER, "every": RELATED_FILTER, "none": RELATED_FILTER, "isEmpty": st.booleans()})
ARTICLE_FILTER = combined(
    st.one_of(
        string_filter([f"d{n}" for n in range(9)]).map(lambda f: {"id": f}),
        *(string_filter(TEXTS).map(lambda f, name=name: {name: f}) for name in ("title", "excerpt", "body", "category", "type")),
        int_filter(INTS).map(lambda f: {"quality": f}),
        int_filter(INTS).map(lambda f: {"heat": f}),
        BOOLEAN_FILTER.map(lambda f: {"published": f}),
        DATETIME_FILTER.map(lambda f: {"publishedDateTime": f}),
        string_filter(URLS).map(lambda f: {"originalUrl": f}),
        string_filter(URLS).map(lambda f: {"webUrl": f}),
        TOPICS_FILTER.map(lambda f: {"topics": f}),
        PROVIDER_FILTER.map(lambda f: {"provider": f}),
        IMAGE_LIST_FILTER.map(lambda f: {"images": f}),
        RELATED_LIST_FILTER.map(lambda f: {"related": f}),
    ),
    max_leaves=6,
)


# ---- the reference ---------------------------------------------------------------------------


def catalog(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Providers as DESIGN.md defines them, worked out here (not by a store)."""
    names: dict[str, Counter[str]] = {}
    articles: Counter[str] = Counter()

    def seen(provider: dict[str, Any] | None) -> None:
        if provider:
            names.setdefault(provider["domain"], Counter())
            if provider.get("name"):
                names[provider["domain"]][provider["name"]] += 1

    for doc in docs:
        seen(doc.get("provider"))
        if doc.get("provider"):
            articles[doc["provider"]["domain"]] += 1
        for item in doc.get("related") or ():
            seen(item.get("provider"))
    out = {}
    for domain, counter in names.items():
        # Most frequent; ties: alphabetically first (casefolded, then by code point, like every text key).
        name = min(counter, key=lambda n: (-counter[n], n.casefold(), n)) if counter else domain
        out[domain] = {"name": name, "domain": domain, "articleCount": articles[domain]}
    return out


def expected_ids(docs: list[dict[str, Any]], where: Any) -> list[str]:
    known = catalog(docs)
    f = filters.build("article", where)
    return sorted(doc["id"] for doc in docs if filters.matches(f, doc, "article", known.get))


QUERY = """
query ($w: ArticleFilter) { articles(where: $w, first: 100, orderBy: [{field: ID}]) { totalCount nodes { id } } }
"""


def refill(api: Any, run: Any, stored: list[str], docs: list[dict[str, Any]]) -> list[str]:
    """Make the store hold exactly docs (one write); returns their ids."""
    ids = [doc["id"] for doc in docs]
    run(api.store.write(docs, [i for i in stored if i not in ids]))
    return ids


def test_api_filtering_equals_the_reference(api_for, run):
    # One store for all examples (a store per example would cost a database schema each),
    # refilled by one write per example.
    api = api_for([])
    stored: list[str] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(docs=documents(), wheres=st.lists(ARTICLE_FILTER, min_size=1, max_size=4))
    def check(docs: list[dict[str, Any]], wheres: list[Any]) -> None:
        nonlocal stored
        stored = refill(api, run, stored, docs)
        for where in wheres:
            data = api.data(QUERY, {"w": where})["articles"]
            got = [node["id"] for node in data["nodes"]]
            assert got == expected_ids(docs, where), where
            assert data["totalCount"] == len(got)
            # NOT is the complement, whatever nulls the documents hold.
            negated = [node["id"] for node in api.data(QUERY, {"w": {"NOT": where}})["articles"]["nodes"]]
            assert sorted(set(negated) | set(got)) == sorted(stored)
            assert not set(negated) & set(got)

    check()


PROVIDERS_QUERY = """
query ($w: ProviderFilter) {
  providers(where: $w, first: 100, orderBy: [{field: DOMAIN}]) { nodes { domain name articleCount } }
}
"""


def test_providers_filtering_equals_the_reference(api_for, run):
    api = api_for([])
    stored: list[str] = []

    @settings(max_examples=60, deadline=None)
    @given(docs=documents(), where=PROVIDER_FILTER)
    def check(docs: list[dict[str, Any]], where: Any) -> None:
        nonlocal stored
        stored = refill(api, run, stored, docs)
        known = catalog(docs)
        f = filters.build("provider", where)
        expected = sorted(domain for domain, info in known.items() if filters.matches(f, info, "provider", known.get))
        nodes = api.data(PROVIDERS_QUERY, {"w": where})["providers"]["nodes"]
        assert [node["domain"] for node in nodes] == expected
        assert all(node == known[node["domain"]] for node in nodes)

    check()


# ---- matches itself, on hand cases -----------------------------------------------------------

CATALOG = {
    "a.example": {"name": "A", "domain": "a.example", "articleCount": 2},
    "r.example": {"name": "R", "domain": "r.example", "articleCount": 0},
}


def holds(where: Any, doc: dict[str, Any], entity: str = "article") -> bool:
    return filters.matches(filters.build(entity, where), doc, entity, CATALOG.get)


def test_build_makes_the_expected_ast():
    assert filters.build("article", None) == filters.TRUE
    assert filters.build("article", {}) == filters.TRUE
    assert filters.build("article", {"quality": {"eq": None}}) == And(())
    assert filters.build("article", {"title": {"contains": "ÄB"}}) == Compare("title", "contains", "äb")
    assert filters.build("article", {"quality": {"in": [1, 2]}, "NOT": {"OR": []}}) == And(
        (Compare("quality", "in", (1, 2)), Not(Or(())))
    )
    assert filters.build("article", {"provider": {"domain": {"eq": "a.example"}}}) == ProviderIs(
        Compare("domain", "eq", "a.example")
    )
    assert filters.build("article", {"images": {"every": {"width": {"gt": 1}}}}) == Each(
        "images", "every", Compare("width", "gt", 1)
    )


@pytest.mark.parametrize(
    ("where", "doc", "expected"),
    [
        ({"quality": {"ne": 5}}, {}, True),
        ({"quality": {"notIn": [5]}}, {"quality": None}, True),
        ({"quality": {"in": [5]}}, {}, False),
        ({"quality": {"lt": 5}}, {}, False),
        ({"quality": {"isNull": True}}, {"quality": None}, True),
        ({"quality": {"isNull": True}}, {"quality": 0}, False),
        ({"quality": {"gte": 0, "lt": 1}}, {"quality": 0}, True),
        ({"title": {"contains": "STRASSE"}}, {"title": "Straße"}, True),
        ({"title": {"contains": "strasse"}}, {"title": "Strasse"}, True),
        ({"title": {"contains": "a"}}, {"title": "Ä"}, False),
        ({"title": {"eq": "a"}}, {"title": "A"}, False),
        ({"title": {"startsWith": "É"}}, {"title": "école"}, True),
        ({"excerpt": {"contains": ""}}, {}, False),
        ({"excerpt": {"ne": ""}}, {}, True),
        ({"body": {"eq": ""}}, {}, True),
        ({"body": {"isNull": True}}, {}, False),
        ({"published": {"eq": False}}, {}, True),
        ({"published": {"isNull": True}}, {"published": None}, False),
        ({"publishedDateTime": {"eq": "2021-01-01T01:00:00+01:00"}}, {"publishedDateTime": "2021-01-01T00:00:00Z"}, True),
        ({"publishedDateTime": {"eq": "2021-01-01"}}, {"publishedDateTime": "2021-01-01T00:00:00Z"}, True),
        ({"publishedDateTime": {"gt": "2020-12-31T23:59:59+00:01"}}, {"publishedDateTime": "2021-01-01T00:00:00Z"}, True),
        ({"publishedDateTime": {"lt": "2021-01-01"}}, {}, False),
        ({"topics": {"isEmpty": True}}, {}, True),
        ({"topics": {"hasEvery": []}}, {}, True),
        ({"topics": {"hasSome": []}}, {"topics": ["x"]}, False),
        ({"topics": {"has": "x"}}, {"topics": ["X"]}, False),
        ({"images": {"every": {"width": {"gt": 100}}}}, {}, True),
        ({"images": {"none": {"width": {"gt": 100}}}}, {"images": [{"url": "u"}]}, True),
        ({"images": {"some": {"isCached": {"eq": False}}}}, {"images": [{"url": "u"}]}, True),
        ({"images": {"some": {}}}, {"images": []}, False),
        ({"provider": {"name": {"eq": "A"}}}, {"provider": {"domain": "a.example", "name": "not the canonical"}}, True),
        ({"provider": {"articleCount": {"eq": 2}}}, {"provider": {"domain": "a.example"}}, True),
        ({"provider": {"domain": {"isNull": True}}}, {}, True),
        ({"provider": {"name": {"eq": "A"}}}, {}, False),
        ({"provider": {"NOT": {"name": {"eq": "A"}}}}, {}, True),
        ({"related": {"some": {"provider": {"articleCount": {"eq": 0}}}}}, {"related": [{"title": "t", "provider": {"domain": "r.example"}}]}, True),
        ({"related": {"every": {"quality": {"gt": 1}}}}, {"related": [{"title": "t"}]}, False),
        ({"AND": []}, {}, True),
        ({"OR": []}, {}, False),
        ({"NOT": {"OR": []}}, {}, True),
        ({"NOT": {"quality": {"gt": 1}}}, {}, True),
    ],
)
def test_matches_on_hand_cases(where, doc, expected):
    assert holds(where, doc) is expected


def test_matches_on_providers_and_images():
    assert holds({"articleCount": {"eq": 0}}, CATALOG["r.example"], "provider")
    assert holds({"NOT": {"name": {"startsWith": "a"}}}, CATALOG["r.example"], "provider")
    assert holds({"isCached": {"eq": False}}, {"url": "u"}, "image")
    assert not holds({"width": {"ne": 1}, "height": {"isNull": False}}, {"url": "u"}, "image")


def test_unknown_filter_field_is_refused():
    with pytest.raises(filters.FilterError, match="unknown filter field 'secured'"):
        filters.build("article", {"secured": {"eq": "x"}})
    with pytest.raises(filters.FilterError, match="unknown operator 'like' for title"):
        filters.build("article", {"title": {"like": "x"}})
