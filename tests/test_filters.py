"""Every filter operator over the hand-checked corpus (tests/fixtures/corpus/).

Each case names the ids it must return; they were worked out by hand from the
seed files, never by running the code under test. The rules (DESIGN.md
"Query semantics" and the contract's comments): operators of one input and
fields of one filter are ANDed; a missing or null value matches only
``isNull: true``, ``ne`` and ``notIn``; contains/startsWith/endsWith are
casefolded (not accent-folded); eq/in, topics and ids are exact; date-times
compare as instants. Filters see the values the API serves: an article without
``published`` is unpublished, one without topics/images/related has an empty
list, an image without ``isCached`` is not cached, a missing body is "".

Readings chosen where the spec is silent (tested here):
- an explicit null operator value (``eq: null``) or filter (``title: null``) is ignored;
- a DateTime input without an offset is read as UTC;
- an article without a provider is seen by a ProviderFilter as a provider whose
  name, domain and articleCount are all null (so ``domain: {isNull: true}`` finds it);
- ``images``/``related`` ``some: {}`` means "has at least one element".
"""

from __future__ import annotations

from typing import Any

ALL = [
    "zurich-tram", "lighthouse-title", "lighthouse-body", "offset-newyear", "twin-a", "twin-b",
    "recognition", "recognize", "strasse", "no-date", "minimal", "nulls", "empty-lists", "old-2019",
    "beta-the", "gamma-wire", "zeit-marathon", "field-excerpt", "field-body", "field-topic",
    "field-unsearched", "fruit-a", "fruit-b", "fruit-c", "fruit-d", "fruit-e", "case-mixed",
    "year-2022", "leap-day",
]  # fmt: skip
FRUIT = ["fruit-a", "fruit-b", "fruit-c", "fruit-d", "fruit-e"]
NEWS = ["zurich-tram", "lighthouse-title", "lighthouse-body", "offset-newyear", "strasse", "no-date", "leap-day"]
ALPHA = [
    "zurich-tram", "lighthouse-title", "recognition", "no-date", "field-excerpt", "field-body", "field-topic",
    "field-unsearched", "fruit-a", "fruit-c", "fruit-d", "fruit-e", "case-mixed", "year-2022", "leap-day",
]  # fmt: skip
NO_PROVIDER = ["minimal", "nulls", "fruit-b"]
WITH_IMAGES = ["zurich-tram", "lighthouse-title", "recognition", "field-unsearched"]
WITH_RELATED = ["zurich-tram", "recognition", "recognize", "field-unsearched"]
QUALITY_NULL = ["twin-a", "twin-b", "minimal", "nulls", "field-topic", "fruit-c"]
PUBLISHED = [
    "zurich-tram", "lighthouse-title", "lighthouse-body", "offset-newyear", "twin-a", "twin-b", "recognize",
    "strasse", "old-2019", "beta-the", "gamma-wire", "zeit-marathon", "field-excerpt", "field-body",
    "field-topic", "field-unsearched", "fruit-a", "leap-day",
]  # fmt: skip
UNDATED = ["no-date", "minimal", "nulls", "fruit-d"]

IDS_QUERY = """
query ($w: ArticleFilter) {
  articles(where: $w, first: 100, orderBy: [{field: ID}]) { totalCount nodes { id } }
}
"""


def but(*excluded: str, base: list[str] = ALL) -> list[str]:
    """The base list without the given ids (each must be in it, so typos fail loudly)."""
    assert set(excluded) <= set(base), set(excluded) - set(base)
    return [i for i in base if i not in excluded]


def ids(api: Any, where: Any) -> list[str]:
    """Ids matching a filter, in id order; totalCount must agree with the page."""
    data = api.data(IDS_QUERY, {"w": where})["articles"]
    found = [node["id"] for node in data["nodes"]]
    assert data["totalCount"] == len(found)
    return found


def cases(*table: tuple[str, Any, list[str]]) -> list[tuple[str, Any, list[str]]]:
    """A table of (name, filter, expected ids); names must be unique."""
    names = [name for name, _, _ in table]
    assert len(names) == len(set(names)), names
    return list(table)


def assert_cases(api: Any, table: list[tuple[str, Any, list[str]]]) -> None:
    """Run every case against one store; report all that fail at once, by name."""
    wrong = {}
    for name, where, expected in table:
        got = ids(api, where)
        if got != sorted(expected):
            wrong[name] = {"where": where, "got": got, "expected": sorted(expected)}
    assert not wrong


def test_the_corpus_is_what_the_expectations_assume(corpus):
    assert ids(corpus, None) == sorted(ALL)
    assert len(ALL) == 29


STRING_CASES = cases(
    ("title-eq", {"title": {"eq": "Banana bread"}}, ["fruit-c", "fruit-d"]),
    ("title-eq-is-exact", {"title": {"eq": "banana bread"}}, []),
    ("title-ne", {"title": {"ne": "Banana bread"}}, but("fruit-c", "fruit-d")),
    ("title-in", {"title": {"in": ["Minimal", "apple pie", "nothing"]}}, ["minimal", "fruit-a"]),
    ("title-notIn", {"title": {"notIn": ["Minimal", "apple pie", "Apple pie"]}}, but("minimal", "fruit-a", "fruit-b")),
    ("title-contains-casefolds", {"title": {"contains": "APPLE"}}, ["fruit-a", "fruit-b"]),
    ("title-contains-keeps-accents", {"title": {"contains": "ÁPPLE"}}, ["fruit-e"]),
    ("title-contains-umlaut-any-case", {"title": {"contains": "zür"}}, ["zurich-tram", "zeit-marathon"]),
    ("title-contains-no-accent-folding", {"title": {"contains": "zurich"}}, []),
    ("title-contains-sharp-s-casefold", {"title": {"contains": "STRASSE"}}, ["strasse"]),
    ("title-startsWith", {"title": {"startsWith": "lIGHT"}}, ["lighthouse-title"]),
    ("title-endsWith", {"title": {"endsWith": "PIE"}}, ["fruit-a", "fruit-b"]),
    ("title-isNull-true", {"title": {"isNull": True}}, []),
    ("title-isNull-false", {"title": {"isNull": False}}, ALL),
    ("title-operators-are-anded", {"title": {"startsWith": "a", "endsWith": "pie", "ne": "apple pie"}}, ["fruit-b"]),
    ("title-empty-input", {"title": {}}, ALL),
    ("excerpt-eq-skips-nulls", {"excerpt": {"eq": "Repairs begin."}}, ["lighthouse-body"]),
    ("excerpt-ne-keeps-nulls", {"excerpt": {"ne": "Repairs begin."}}, but("lighthouse-body")),
    ("excerpt-notIn-keeps-nulls", {"excerpt": {"notIn": ["Repairs begin.", "From the archive."]}}, but("lighthouse-body", "old-2019")),
    ("excerpt-in-skips-nulls", {"excerpt": {"in": ["Repairs begin.", "From the archive."]}}, ["lighthouse-body", "old-2019"]),
    (
        "excerpt-contains-empty-skips-nulls",
        {"excerpt": {"contains": ""}},
        [
            "zurich-tram", "lighthouse-title", "lighthouse-body", "twin-a", "twin-b", "recognition", "strasse",
            "old-2019", "beta-the", "gamma-wire", "zeit-marathon", "field-excerpt", "field-topic", "year-2022",
        ],
    ),  # fmt: skip
    (
        "excerpt-contains",
        {"excerpt": {"contains": "THE "}},
        ["lighthouse-title", "recognition", "strasse", "old-2019", "zeit-marathon", "year-2022"],
    ),
    (
        "excerpt-isNull",
        {"excerpt": {"isNull": True}},
        [
            "offset-newyear", "recognize", "no-date", "minimal", "nulls", "empty-lists", "field-body",
            "field-unsearched", *FRUIT, "case-mixed", "leap-day",
        ],
    ),  # fmt: skip
    ("body-contains", {"body": {"contains": "XYLOPHONE"}}, ["field-body"]),
    ("body-endsWith", {"body": {"endsWith": "years."}}, ["leap-day"]),
    ("body-missing-is-empty-not-null", {"body": {"isNull": True}}, []),
    (
        "body-eq-empty",
        {"body": {"eq": ""}},
        but("zurich-tram", "lighthouse-title", "lighthouse-body", "recognition", "no-date", "old-2019", "field-body", "case-mixed", "leap-day"),
    ),
    ("category-eq-is-case-sensitive", {"category": {"eq": "tech"}}, ["recognition", "recognize"]),
    ("category-in", {"category": {"in": ["Tech", "wildlife"]}}, ["case-mixed", "twin-a", "twin-b"]),
    ("category-contains", {"category": {"contains": "TEC"}}, ["recognition", "recognize", "case-mixed"]),
    ("category-startsWith", {"category": {"startsWith": "HORT"}}, ["field-unsearched"]),
    ("category-endsWith", {"category": {"endsWith": "URE"}}, ["old-2019", "beta-the", "field-unsearched"]),
    ("category-ne-keeps-nulls", {"category": {"ne": "news"}}, but(*NEWS)),
    ("category-notIn-keeps-nulls", {"category": {"notIn": ["news", "fruit"]}}, but(*NEWS, *FRUIT)),
    ("category-isNull-true", {"category": {"isNull": True}}, ["minimal", "nulls", "empty-lists"]),
    ("category-isNull-false", {"category": {"isNull": False}}, but("minimal", "nulls", "empty-lists")),
    (
        "category-contains-and-ne",
        {"category": {"contains": "e", "ne": "news"}},
        [
            "old-2019", "beta-the", "gamma-wire", "field-body", "field-topic", "field-unsearched", "twin-a",
            "twin-b", "recognition", "recognize", "case-mixed",
        ],
    ),  # fmt: skip
    ("type-eq-capital", {"type": {"eq": "Article"}}, ["case-mixed"]),
    (
        "type-eq",
        {"type": {"eq": "article"}},
        but("no-date", "beta-the", "field-unsearched", "case-mixed", "minimal", "nulls", "empty-lists", *FRUIT),
    ),
    ("type-isNull", {"type": {"isNull": True}}, ["minimal", "nulls", "empty-lists", *FRUIT]),
    ("id-eq", {"id": {"eq": "minimal"}}, ["minimal"]),
    ("id-eq-is-exact", {"id": {"eq": "MINIMAL"}}, []),
    ("id-in", {"id": {"in": ["nulls", "minimal", "nope"]}}, ["minimal", "nulls"]),
    ("id-startsWith-casefolds", {"id": {"startsWith": "FRUIT-"}}, FRUIT),
    ("id-endsWith", {"id": {"endsWith": "-a"}}, ["twin-a", "fruit-a"]),
    ("id-notIn", {"id": {"notIn": ALL[1:]}}, ["zurich-tram"]),
    ("originalUrl-isNull-false", {"originalUrl": {"isNull": False}}, ["zurich-tram", "recognition", "field-excerpt", "field-unsearched"]),
    ("originalUrl-eq", {"originalUrl": {"eq": "https://alpha.example/secretslug"}}, ["field-unsearched"]),
    (
        "webUrl-isNull-false",
        {"webUrl": {"isNull": False}},
        ["zurich-tram", "lighthouse-title", "lighthouse-body", "twin-a", "twin-b", "recognition"],
    ),
    ("webUrl-startsWith", {"webUrl": {"startsWith": "HTTPS://DELTA."}}, ["lighthouse-body", "twin-a", "twin-b"]),
    ("webUrl-eq-shared", {"webUrl": {"eq": "https://delta.example/quokka"}}, ["twin-a", "twin-b"]),
)


def test_string_filter(corpus):
    assert_cases(corpus, STRING_CASES)


INT_CASES = cases(
    ("quality-eq", {"quality": {"eq": 70}}, ["fruit-b", "fruit-d"]),
    ("quality-eq-zero", {"quality": {"eq": 0}}, ["empty-lists"]),
    ("quality-ne-keeps-nulls", {"quality": {"ne": 70}}, but("fruit-b", "fruit-d")),
    ("quality-in", {"quality": {"in": [0, 5, 999]}}, ["empty-lists", "field-unsearched"]),
    ("quality-in-empty", {"quality": {"in": []}}, []),
    (
        "quality-notIn-keeps-nulls",
        {"quality": {"notIn": [50, 60]}},
        but("lighthouse-title", "lighthouse-body", "beta-the", "gamma-wire", "fruit-a"),
    ),
    ("quality-notIn-empty", {"quality": {"notIn": []}}, ALL),
    ("quality-gt", {"quality": {"gt": 75}}, ["zurich-tram", "case-mixed", "year-2022"]),
    ("quality-gte", {"quality": {"gte": 75}}, ["zurich-tram", "zeit-marathon", "case-mixed", "year-2022"]),
    ("quality-lt-skips-nulls", {"quality": {"lt": 20}}, ["empty-lists", "field-unsearched", "fruit-e"]),
    ("quality-lte", {"quality": {"lte": 20}}, ["empty-lists", "field-unsearched", "fruit-e", "old-2019"]),
    (
        "quality-range",
        {"quality": {"gte": 40, "lte": 50}},
        ["strasse", "beta-the", "gamma-wire", "field-excerpt", "field-body", "fruit-a"],
    ),
    ("quality-empty-range", {"quality": {"gt": 60, "lt": 60}}, []),
    ("quality-isNull-true", {"quality": {"isNull": True}}, QUALITY_NULL),
    ("quality-isNull-false", {"quality": {"isNull": False}}, but(*QUALITY_NULL)),
    ("quality-isNull-and-ne", {"quality": {"isNull": True, "ne": 3}}, QUALITY_NULL),
    ("heat-lt-negative", {"heat": {"lt": 0}}, ["recognition", "old-2019", "fruit-e"]),
    ("heat-eq-zero", {"heat": {"eq": 0}}, ["twin-a", "twin-b", "strasse"]),
    (
        "heat-isNull",
        {"heat": {"isNull": True}},
        [
            "no-date", "minimal", "nulls", "empty-lists", "field-excerpt", "field-body", "field-topic",
            "field-unsearched", "fruit-a", "leap-day",
        ],
    ),  # fmt: skip
)


def test_int_filter(corpus):
    assert_cases(corpus, INT_CASES)


BOOLEAN_CASES = cases(
    ("published-true", {"published": {"eq": True}}, PUBLISHED),
    ("published-false-includes-missing", {"published": {"eq": False}}, but(*PUBLISHED)),
    ("published-is-never-null", {"published": {"isNull": True}}, []),
    ("published-not-null", {"published": {"isNull": False}}, ALL),
    ("published-both", {"published": {"eq": True, "isNull": False}}, PUBLISHED),
)


def test_boolean_filter(corpus):
    assert_cases(corpus, BOOLEAN_CASES)


DATETIME_CASES = cases(
    (
        "gte-plain-date-is-midnight-utc",
        {"publishedDateTime": {"gte": "2021-03-08"}},
        [
            "lighthouse-body", "twin-a", "twin-b", "strasse", "zeit-marathon", "beta-the", "gamma-wire",
            "fruit-a", "fruit-b", "fruit-c", "fruit-e", "year-2022",
        ],
    ),  # fmt: skip
    (
        "lt-offset-compares-instants",
        {"publishedDateTime": {"lt": "2021-03-08T01:00:00+01:00"}},
        [
            "zurich-tram", "lighthouse-title", "offset-newyear", "recognition", "recognize", "empty-lists",
            "old-2019", "field-excerpt", "field-body", "field-topic", "field-unsearched", "case-mixed", "leap-day",
        ],
    ),  # fmt: skip
    ("eq-offset", {"publishedDateTime": {"eq": "2021-01-01T01:30:00+02:00"}}, ["offset-newyear"]),
    ("eq-utc", {"publishedDateTime": {"eq": "2020-12-31T23:30:00Z"}}, ["offset-newyear"]),
    ("eq-lowercase-z", {"publishedDateTime": {"eq": "2020-12-31t23:30:00z"}}, ["offset-newyear"]),
    ("eq-plain-date-is-one-instant", {"publishedDateTime": {"eq": "2021-01-01"}}, []),
    ("eq-plain-date-midnight", {"publishedDateTime": {"eq": "2019-01-02"}}, ["old-2019"]),
    ("eq-without-offset-is-utc", {"publishedDateTime": {"eq": "2021-07-01T10:00:00"}}, ["fruit-a", "fruit-b"]),
    ("eq-fractional-seconds", {"publishedDateTime": {"eq": "2021-07-01T10:00:00.000+00:00"}}, ["fruit-a", "fruit-b"]),
    (
        "gt-excludes-equal",
        {"publishedDateTime": {"gt": "2021-05-20T00:00:00Z"}},
        ["fruit-a", "fruit-b", "fruit-c", "fruit-e", "year-2022"],
    ),
    (
        "gte-offset-includes-equal",
        {"publishedDateTime": {"gte": "2021-05-20T02:00:00+02:00"}},
        ["beta-the", "gamma-wire", "fruit-a", "fruit-b", "fruit-c", "fruit-e", "year-2022"],
    ),
    (
        "lte",
        {"publishedDateTime": {"lte": "2020-12-31T23:30:00Z"}},
        ["offset-newyear", "recognition", "recognize", "empty-lists", "old-2019", "case-mixed", "leap-day"],
    ),
    # fruit-e was published 2021-06-30 23:00 at -02:00: on July 1st in UTC.
    ("a-utc-day", {"publishedDateTime": {"gte": "2021-07-01", "lt": "2021-07-02"}}, ["fruit-a", "fruit-b", "fruit-e"]),
    ("isNull", {"publishedDateTime": {"isNull": True}}, UNDATED),
    ("isNull-false", {"publishedDateTime": {"isNull": False}}, but(*UNDATED)),
)


def test_datetime_filter(corpus):
    assert_cases(corpus, DATETIME_CASES)


BAD_DATETIMES = [
    ({"publishedDateTime": {"gte": "yesterday"}}, "where: publishedDateTime: not an ISO-8601 date-time: 'yesterday'"),
        ({"publishedDateTime": {"eq": "2021-02-30"}}, "where: publishedDateTime: not an ISO-8601 date-time: '2021-02-30'"),
        (
            {"related": {"some": {"publishedDateTime": {"lt": "2021-13-01T00:00:00Z"}}}},
            "where: publishedDateTime: not an ISO-8601 date-time: '2021-13-01T00:00:00Z'",
        ),
    ({"OR": [{"NOT": {"publishedDateTime": {"lt": ""}}}]}, "where: publishedDateTime: not an ISO-8601 date-time: ''"),
]


def test_bad_datetime_is_bad_user_input(corpus):
    for where, message in BAD_DATETIMES:
        payload = corpus.execute(IDS_QUERY, {"w": where})
        assert payload["data"] is None, where
        assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [(message, "BAD_USER_INPUT")]


def test_a_datetime_filter_that_is_not_a_string_is_refused(corpus):
    assert corpus.error_codes("{ articles(where: {publishedDateTime: {eq: 5}}) { totalCount } }") == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


LIST_CASES = cases(
    ("has-is-exact", {"topics": {"has": "AI"}}, ["recognition", "recognize"]),
    ("has-lowercase", {"topics": {"has": "ai"}}, ["case-mixed"]),
    ("has-no-accent-folding", {"topics": {"has": "Zurich"}}, []),
    ("hasSome", {"topics": {"hasSome": ["Zürich", "zürich", "Nope"]}}, ["zurich-tram", "strasse", "zeit-marathon"]),
    ("hasSome-empty", {"topics": {"hasSome": []}}, []),
    ("hasEvery", {"topics": {"hasEvery": ["Baking", "Food"]}}, ["fruit-a", "fruit-b"]),
    ("hasEvery-empty", {"topics": {"hasEvery": []}}, ALL),
    ("isEmpty-missing-null-and-empty", {"topics": {"isEmpty": True}}, ["minimal", "nulls", "empty-lists"]),
    ("isEmpty-false", {"topics": {"isEmpty": False}}, but("minimal", "nulls", "empty-lists")),
    ("has-and-isEmpty", {"topics": {"has": "Food", "isEmpty": False}}, ["field-excerpt", "fruit-a", "fruit-b", "fruit-d"]),
)


def test_string_list_filter(corpus):
    assert_cases(corpus, LIST_CASES)


IMAGE_CASES = cases(
    ("some-width", {"images": {"some": {"width": {"gte": 1000}}}}, ["lighthouse-title", "recognition"]),
    # The flamingo image has no isCached: it is served (and filtered) as false.
    ("some-uncached", {"images": {"some": {"isCached": {"eq": False}}}}, ["zurich-tram", "field-unsearched"]),
    ("some-height-null", {"images": {"some": {"height": {"isNull": True}}}}, ["field-unsearched"]),
    ("some-url-endsWith-casefolds", {"images": {"some": {"url": {"endsWith": ".png"}}}}, ["lighthouse-title"]),
    ("some-url-contains", {"images": {"some": {"url": {"contains": "flamingo"}}}}, ["zurich-tram", "field-unsearched"]),
    ("some-width-ne-keeps-nulls", {"images": {"some": {"width": {"ne": 800}}}}, WITH_IMAGES),
    ("some-empty-filter", {"images": {"some": {}}}, WITH_IMAGES),
    # One image must satisfy both conditions...
    (
        "some-one-image-both",
        {"images": {"some": {"width": {"gte": 500}, "isCached": {"eq": False}}}},
        [],
    ),
    # ...unlike two separate quantifiers, which may be met by different images.
    (
        "two-somes",
        {"AND": [{"images": {"some": {"width": {"gte": 500}}}}, {"images": {"some": {"isCached": {"eq": False}}}}]},
        ["zurich-tram"],
    ),
    ("every-true-for-empty-lists", {"images": {"every": {"isCached": {"eq": True}}}}, but("zurich-tram", "field-unsearched")),
    (
        "every-and-not-empty",
        {"images": {"every": {"width": {"gte": 500}}, "isEmpty": False}},
        ["lighthouse-title", "recognition"],
    ),
    ("none", {"images": {"none": {"isCached": {"eq": True}}}}, but("zurich-tram", "lighthouse-title", "recognition")),
    ("none-and-not-empty", {"images": {"none": {"isCached": {"eq": True}}, "isEmpty": False}}, ["field-unsearched"]),
    ("isEmpty", {"images": {"isEmpty": True}}, but(*WITH_IMAGES)),
    ("isEmpty-false", {"images": {"isEmpty": False}}, WITH_IMAGES),
)


def test_image_list_filter(corpus):
    assert_cases(corpus, IMAGE_CASES)


PROVIDER_CASES = cases(
    # beta.example is "Beta Times" in two of its articles, but the catalog's name is "The Beta".
    ("canonical-name", {"provider": {"name": {"eq": "The Beta"}}}, ["offset-newyear", "old-2019", "beta-the"]),
    ("not-an-article-name", {"provider": {"name": {"eq": "Beta Times"}}}, []),
    ("name-contains", {"provider": {"name": {"contains": "GAMMA"}}}, ["recognize", "gamma-wire"]),
    ("tie-loser-name", {"provider": {"name": {"eq": "Gamma Wire"}}}, []),
    ("domain-as-name", {"provider": {"name": {"eq": "noname.example"}}}, ["empty-lists"]),
    ("name-startsWith-umlaut", {"provider": {"name": {"startsWith": "zür"}}}, ["strasse", "zeit-marathon"]),
    ("domain-eq", {"provider": {"domain": {"eq": "delta.example"}}}, ["lighthouse-body", "twin-a", "twin-b"]),
    ("domain-in", {"provider": {"domain": {"in": ["zeit.example", "noname.example"]}}}, ["strasse", "zeit-marathon", "empty-lists"]),
    ("domain-isNull", {"provider": {"domain": {"isNull": True}}}, NO_PROVIDER),
    ("domain-ne-keeps-missing", {"provider": {"domain": {"ne": "alpha.example"}}}, but(*ALPHA)),
    ("articleCount-eq", {"provider": {"articleCount": {"eq": 2}}}, ["recognize", "gamma-wire", "strasse", "zeit-marathon"]),
    (
        "articleCount-range",
        {"provider": {"articleCount": {"gte": 3, "lt": 15}}},
        ["offset-newyear", "old-2019", "beta-the", "lighthouse-body", "twin-a", "twin-b"],
    ),
    ("articleCount-lt", {"provider": {"articleCount": {"lt": 3}}}, ["recognize", "gamma-wire", "strasse", "zeit-marathon", "empty-lists"]),
    ("articleCount-isNull", {"provider": {"articleCount": {"isNull": True}}}, NO_PROVIDER),
    (
        "provider-or",
        {"provider": {"OR": [{"name": {"eq": "The Beta"}}, {"domain": {"eq": "zeit.example"}}]}},
        ["offset-newyear", "old-2019", "beta-the", "strasse", "zeit-marathon"],
    ),
    ("provider-not", {"provider": {"NOT": {"domain": {"eq": "alpha.example"}}}}, but(*ALPHA)),
    ("provider-and-empty", {"provider": {"AND": []}}, ALL),
    ("provider-or-empty", {"provider": {"OR": []}}, []),
    ("not-provider", {"NOT": {"provider": {"domain": {"eq": "alpha.example"}}}}, but(*ALPHA)),
    ("provider-fields-anded", {"provider": {"domain": {"endsWith": ".example"}, "articleCount": {"eq": 15}}}, ALPHA),
)


def test_provider_filter_on_articles(corpus):
    assert_cases(corpus, PROVIDER_CASES)


PROVIDERS_QUERY = """
query ($w: ProviderFilter) { providers(where: $w, first: 100) { totalCount nodes { domain } } }
"""


PROVIDER_LIST_CASES = cases(
    ("all", None, ["alpha.example", "delta.example", "beta.example", "gamma.example", "zeit.example", "noname.example", "onlyrelated.example"]),
    ("related-only", {"articleCount": {"eq": 0}}, ["onlyrelated.example"]),
    ("name-startsWith", {"name": {"startsWith": "Z"}}, ["zeit.example"]),
    ("not-canonical", {"name": {"eq": "Beta Times"}}, []),
    ("name-from-related-items", {"name": {"eq": "Harbour Herald"}}, ["onlyrelated.example"]),
    ("anded", {"domain": {"endsWith": ".EXAMPLE"}, "articleCount": {"gte": 3}}, ["alpha.example", "delta.example", "beta.example"]),
    ("not", {"NOT": {"articleCount": {"gte": 3}}}, ["gamma.example", "zeit.example", "noname.example", "onlyrelated.example"]),
    ("or", {"OR": [{"domain": {"eq": "noname.example"}}, {"name": {"contains": "REVIEW"}}]}, ["delta.example", "noname.example"]),
    ("or-empty", {"OR": []}, []),
    ("and-empty", {"AND": []}, ["alpha.example", "delta.example", "beta.example", "gamma.example", "zeit.example", "noname.example", "onlyrelated.example"]),
)


def test_provider_filter_on_providers(corpus):
    wrong = {}
    for name, where, expected in PROVIDER_LIST_CASES:
        data = corpus.data(PROVIDERS_QUERY, {"w": where})["providers"]
        got = [node["domain"] for node in data["nodes"]]
        assert data["totalCount"] == len(got)
        if got != expected:
            wrong[name] = {"where": where, "got": got, "expected": expected}
    assert not wrong


RELATED_CASES = cases(
    ("some-title", {"related": {"some": {"title": {"contains": "STORM"}}}}, ["recognition"]),
    ("some-provider-related-only", {"related": {"some": {"provider": {"articleCount": {"eq": 0}}}}}, ["zurich-tram", "field-unsearched"]),
    ("some-provider-canonical-name", {"related": {"some": {"provider": {"name": {"eq": "The Beta"}}}}}, ["recognition"]),
    ("some-without-provider", {"related": {"some": {"provider": {"domain": {"isNull": True}}}}}, ["recognition"]),
    ("some-webUrl-null", {"related": {"some": {"webUrl": {"isNull": True}}}}, ["recognition", "recognize"]),
    ("some-webUrl-eq", {"related": {"some": {"webUrl": {"eq": "https://alpha.example/2021/03/zurich-tram"}}}}, ["recognition"]),
    ("some-excerpt", {"related": {"some": {"excerpt": {"contains": "walrus"}}}}, ["zurich-tram", "field-unsearched"]),
    ("some-type", {"related": {"some": {"type": {"eq": "video"}}}}, ["recognition"]),
    ("some-quality", {"related": {"some": {"quality": {"gt": 60}}}}, ["zurich-tram", "recognition"]),
    ("some-date-lt", {"related": {"some": {"publishedDateTime": {"lt": "2021-03-03"}}}}, ["zurich-tram"]),
    (
        "some-date-gte-offset",
        {"related": {"some": {"publishedDateTime": {"gte": "2021-03-04T00:00:00+01:00"}}}},
        ["zurich-tram", "recognition"],
    ),
    ("some-images-some", {"related": {"some": {"images": {"some": {"isCached": {"eq": False}}}}}}, ["zurich-tram"]),
    ("some-images-not-empty", {"related": {"some": {"images": {"isEmpty": False}}}}, ["zurich-tram"]),
    ("every-true-for-empty-lists", {"related": {"every": {"quality": {"gte": 30}}}}, but("recognition", "field-unsearched")),
    ("every-not-empty", {"related": {"every": {"quality": {"gte": 30}}, "isEmpty": False}}, ["zurich-tram", "recognize"]),
    (
        "none-not-empty",
        {"related": {"none": {"provider": {"domain": {"eq": "beta.example"}}}, "isEmpty": False}},
        ["zurich-tram", "recognize", "field-unsearched"],
    ),
    ("isEmpty", {"related": {"isEmpty": True}}, but(*WITH_RELATED)),
    ("isEmpty-false", {"related": {"isEmpty": False}}, WITH_RELATED),
    ("some-and-not", {"related": {"some": {"AND": [{"title": {"startsWith": "t"}}, {"NOT": {"quality": {"lt": 50}}}]}}}, ["recognition"]),
    (
        "some-or",
        {"related": {"some": {"OR": [{"type": {"eq": "video"}}, {"excerpt": {"contains": "walrus"}}]}}},
        ["recognition", "zurich-tram", "field-unsearched"],
    ),
    ("some-not-null-semantics", {"related": {"some": {"NOT": {"quality": {"gte": 0}}}}}, ["recognition", "field-unsearched"]),
    ("some-and-empty", {"related": {"some": {"AND": []}}}, WITH_RELATED),
    ("some-or-empty", {"related": {"some": {"OR": []}}}, []),
    ("every-or-empty", {"related": {"every": {"OR": []}}}, but(*WITH_RELATED)),
    ("some-provider-or-empty", {"related": {"some": {"provider": {"OR": []}}}}, []),
)


def test_related_list_filter(corpus):
    assert_cases(corpus, RELATED_CASES)


BOOLEAN_LOGIC_CASES = cases(
    ("and-empty-is-everything", {"AND": []}, ALL),
    ("or-empty-is-nothing", {"OR": []}, []),
    ("not-and-empty", {"NOT": {"AND": []}}, []),
    ("not-or-empty", {"NOT": {"OR": []}}, ALL),
    ("and-empty-with-or-empty", {"AND": [], "OR": []}, []),
    ("empty-filter", {}, ALL),
    ("and", {"AND": [{"category": {"eq": "fruit"}}, {"quality": {"gte": 50}}]}, ["fruit-a", "fruit-b", "fruit-d"]),
    ("or", {"OR": [{"id": {"eq": "minimal"}}, {"topics": {"has": "AI"}}]}, ["minimal", "recognition", "recognize"]),
    ("not-keeps-nulls", {"NOT": {"category": {"eq": "fruit"}}}, but(*FRUIT)),
    (
        "not-comparison-keeps-nulls",
        {"NOT": {"quality": {"gte": 50}}},
        [
            "empty-lists", "old-2019", "strasse", "no-date", "field-excerpt", "field-body", "field-unsearched",
            "fruit-e", "leap-day", *QUALITY_NULL,
        ],
    ),  # fmt: skip
    (
        "fields-anded",
        {"category": {"eq": "news"}, "published": {"eq": True}, "heat": {"gte": 2}},
        ["zurich-tram", "lighthouse-title", "offset-newyear"],
    ),
    (
        "deep",
        {
            "OR": [
                {"AND": [{"category": {"eq": "fruit"}}, {"NOT": {"quality": {"gte": 50}}}]},
                {"NOT": {"NOT": {"id": {"eq": "minimal"}}}},
            ]
        },
        ["fruit-c", "fruit-e", "minimal"],
    ),
    (
        "deeper",
        {"NOT": {"OR": [{"NOT": {"AND": [{"OR": [{"heat": {"lt": 0}}]}, {"NOT": {"published": {"eq": True}}}]}}]}},
        ["recognition", "fruit-e"],
    ),
    (
        "nested-and-in-or-in-and",
        {"AND": [{"OR": [{"AND": [{"topics": {"has": "Baking"}}, {"heat": {"gte": 3}}]}, {"id": {"eq": "nulls"}}]}, {"NOT": {"id": {"eq": "fruit-b"}}}]},
        ["fruit-c", "nulls"],
    ),
    ("explicit-null-operator-ignored", {"quality": {"eq": None}}, ALL),
    ("explicit-null-field-ignored", {"quality": None, "AND": None, "NOT": None}, ALL),
    ("null-inside-and", {"AND": [{"quality": {"eq": None, "gte": 80}}]}, ["zurich-tram", "case-mixed", "year-2022"]),
)


def test_and_or_not(corpus):
    assert_cases(corpus, BOOLEAN_LOGIC_CASES)


def test_filter_written_inline_equals_filter_in_variables(corpus):
    data = corpus.data(
        '{ articles(where: {OR: [{topics: {has: "AI"}}, {provider: {name: {eq: "The Beta"}}}]}, orderBy: [{field: ID}])'
        " { nodes { id } } }"
    )
    assert [n["id"] for n in data["articles"]["nodes"]] == ["beta-the", "offset-newyear", "old-2019", "recognition", "recognize"]


def test_filters_apply_inside_provider_and_topic_connections(corpus):
    data = corpus.data(
        """
        {
          provider(domain: "alpha.example") { articles(where: {quality: {isNull: true}}) { totalCount nodes { id } } }
          topic(name: "Food") { articles(where: {NOT: {provider: {domain: {isNull: false}}}}) { nodes { id } } }
        }
        """
    )
    assert data == {
        "provider": {"articles": {"totalCount": 2, "nodes": [{"id": "fruit-c"}, {"id": "field-topic"}]}},
        "topic": {"articles": {"nodes": [{"id": "fruit-b"}]}},
    }


def test_unknown_fields_and_operators_are_validation_errors(corpus):
    for query in (
        '{ articles(where: {title: {like: "x"}}) { totalCount } }',
        '{ articles(where: {secured: {eq: "x"}}) { totalCount } }',
        '{ articles(where: {quality: {eq: "high"}}) { totalCount } }',
        '{ articles(where: {topics: {eq: "AI"}}) { totalCount } }',
    ):
        assert corpus.error_codes(query) == ["GRAPHQL_VALIDATION_FAILED"], query
