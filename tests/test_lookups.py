"""Lookups by key: article(id), articleByUrl(url), provider(domain), topic(name), topics.

Expectations are hand-checked against the fixture corpus (tests/fixtures/corpus/).
Unknown keys give null, never an error.
"""

from __future__ import annotations

ARTICLE_FIELDS = """
  id title excerpt body category type quality heat published publishedDateTime
  originalUrl webUrl ampWebUrl cdnAmpWebUrl topics
  provider { name domain articleCount }
  images { url width height isCached aspectRatio }
  related { title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality provider { domain } article { id } }
"""


def test_article_by_id_serves_every_field(corpus):
    data = corpus.data('query ($id: ID!) { article(id: $id) { %s } }' % ARTICLE_FIELDS, {"id": "zurich-tram"})
    assert data["article"] == {
        "id": "zurich-tram",
        "title": "Tram strike in Zürich",
        "excerpt": "Commuters walked to work.",
        "body": "The strike began at dawn and stopped every line.",
        "category": "news",
        "type": "article",
        "quality": 80,
        "heat": 5,
        "published": True,
        "publishedDateTime": "2021-03-03T08:00:00Z",
        "originalUrl": "https://alpha.example/2021/03/zurich-tram",
        "webUrl": "https://alpha.example/zurich-tram",
        "ampWebUrl": None,
        "cdnAmpWebUrl": None,
        "topics": ["Transport", "Zürich"],
        "provider": {"name": "Alpha News", "domain": "alpha.example", "articleCount": 15},
        "images": [
            {"url": "https://img.example/tram-flamingo.jpg", "width": 800, "height": 600, "isCached": True, "aspectRatio": 800 / 600},
            {"url": "https://img.example/tram-2.jpg", "width": 400, "height": 0, "isCached": False, "aspectRatio": None},
        ],
        "related": [
            {
                "title": "Keepers return to the tower",
                "excerpt": None,
                "publishedDateTime": "2021-03-07T23:45:00Z",
                "webUrl": "https://alpha-example.cdn.example/c/lighthouse",
                "ampWebUrl": None,
                "cdnAmpWebUrl": None,
                "type": "article",
                "quality": 66,
                "provider": {"domain": "alpha.example"},
                "article": {"id": "lighthouse-title"},
            },
            {
                "title": "Pelican count rises",
                "excerpt": "A walrus was also seen.",
                "publishedDateTime": "2021-03-02T12:00:00Z",
                "webUrl": "https://harbour.example/pelican",
                "ampWebUrl": None,
                "cdnAmpWebUrl": None,
                "type": "article",
                "quality": 40,
                "provider": {"domain": "onlyrelated.example"},
                "article": None,
            },
        ],
    }


def test_missing_and_null_fields_are_served_as_null_or_empty(corpus):
    # "minimal" has only a title; "nulls" sets every other key to null explicitly.
    for article_id, title in (("minimal", "Minimal"), ("nulls", "All nulls")):
        data = corpus.data("query ($id: ID!) { article(id: $id) { %s } }" % ARTICLE_FIELDS, {"id": article_id})
        assert data["article"] == {
            "id": article_id,
            "title": title,
            "excerpt": None,
            "body": "",
            "category": None,
            "type": None,
            "quality": None,
            "heat": None,
            "published": False,
            "publishedDateTime": None,
            "originalUrl": None,
            "webUrl": None,
            "ampWebUrl": None,
            "cdnAmpWebUrl": None,
            "topics": [],
            "provider": None,
            "images": [],
            "related": [],
        }


def test_an_image_without_size_or_cache_flag(corpus):
    data = corpus.data('{ article(id: "field-unsearched") { images { url width height isCached aspectRatio } } }')
    assert data["article"]["images"] == [
        {"url": "https://img.example/flamingo.jpg", "width": None, "height": None, "isCached": False, "aspectRatio": None}
    ]


def test_offset_and_plain_date_inputs_are_served_in_utc(corpus):
    data = corpus.data(
        '{ a: article(id: "offset-newyear") { publishedDateTime }'
        ' b: article(id: "old-2019") { publishedDateTime }'
        ' c: article(id: "fruit-e") { publishedDateTime } }'
    )
    assert data == {
        "a": {"publishedDateTime": "2020-12-31T23:30:00Z"},
        "b": {"publishedDateTime": "2019-01-02T00:00:00Z"},
        "c": {"publishedDateTime": "2021-07-01T01:00:00Z"},
    }


def test_unknown_article_id_is_null_without_errors(corpus):
    for article_id in ("nope", "", "ZURICH-TRAM", " zurich-tram"):
        payload = corpus.execute("query ($id: ID!) { article(id: $id) { id } }", {"id": article_id})
        assert payload == {"data": {"article": None}}, article_id


def test_article_by_url_matches_each_url_field(corpus):
    cases = [
        ("https://alpha.example/2021/03/zurich-tram", "zurich-tram"),  # originalUrl
        ("https://delta.example/storm-damage", "lighthouse-body"),  # webUrl
        ("https://beta.example/amp/fireworks", "offset-newyear"),  # ampWebUrl
        ("https://alpha-example.cdn.example/c/lighthouse", "lighthouse-title"),  # cdnAmpWebUrl
        ("https://alpha.example/amp/lighthouse", "lighthouse-title"),  # ampWebUrl of an article with three
        # Two articles share this webUrl: the lowest id wins, every time.
        ("https://delta.example/quokka", "twin-a"),
    ]
    for url, expected in cases:
        assert corpus.data("query ($u: String!) { articleByUrl(url: $u) { id } }", {"u": url}) == {
            "articleByUrl": {"id": expected}
        }, url


def test_unknown_url_is_null_without_errors(corpus):
    for url in (
        "https://nowhere.example/x",  # only a related item's URL
        "https://ALPHA.example/2021/03/zurich-tram",  # URLs are compared exactly
        "https://alpha.example/2021/03/zurich-tram/",
        "",
    ):
        assert corpus.execute("query ($u: String!) { articleByUrl(url: $u) { id } }", {"u": url}) == {
            "data": {"articleByUrl": None}
        }, url


PROVIDERS = {
    "alpha.example": {"name": "Alpha News", "domain": "alpha.example", "articleCount": 15},
    # Named "Beta Times" by two articles and "The Beta" by one article and two related items.
    "beta.example": {"name": "The Beta", "domain": "beta.example", "articleCount": 3},
    # "gamma Daily" and "Gamma Wire" once each: the tie goes to the alphabetically first,
    # compared casefolded like every text key ("gamma daily" < "gamma wire").
    "gamma.example": {"name": "gamma Daily", "domain": "gamma.example", "articleCount": 2},
    "delta.example": {"name": "Delta Review", "domain": "delta.example", "articleCount": 3},
    "zeit.example": {"name": "Zürcher Zeitung", "domain": "zeit.example", "articleCount": 2},
    # Never named anywhere: the domain stands in for the name.
    "noname.example": {"name": "noname.example", "domain": "noname.example", "articleCount": 1},
    # Known only from related items: it has a name but no articles.
    "onlyrelated.example": {"name": "Harbour Herald", "domain": "onlyrelated.example", "articleCount": 0},
}


def test_provider_by_domain(corpus):
    for domain, expected in PROVIDERS.items():
        data = corpus.data("query ($d: String!) { provider(domain: $d) { name domain articleCount } }", {"d": domain})
        assert data == {"provider": expected}, domain


def test_unknown_provider_is_null_without_errors(corpus):
    for domain in ("nowhere.example", "ALPHA.EXAMPLE", "", "harbour.example"):
        assert corpus.execute("query ($d: String!) { provider(domain: $d) { name } }", {"d": domain}) == {
            "data": {"provider": None}
        }, domain


def test_topic_by_exact_name(corpus):
    for name, count in (("AI", 2), ("ai", 1), ("Zürich", 2), ("zürich", 1), ("Baking", 4), ("Computer Vision", 2)):
        assert corpus.data("query ($n: String!) { topic(name: $n) { name articleCount } }", {"n": name}) == {
            "topic": {"name": name, "articleCount": count}
        }, name


def test_unknown_topic_is_null_without_errors(corpus):
    for name in ("Zurich", "ZÜRICH", "computer vision", "Nope", ""):
        assert corpus.execute("query ($n: String!) { topic(name: $n) { name } }", {"n": name}) == {
            "data": {"topic": None}
        }, name


ALL_TOPICS = [
    ("Baking", 4),
    ("Food", 4),
    ("AI", 2),
    ("Animals", 2),
    ("Coast", 2),
    ("Computer Vision", 2),
    ("Media", 2),
    ("Transport", 2),
    ("Weather", 2),
    ("Zürich", 2),
    ("Astronomy", 1),
    ("Calendar", 1),
    ("Celebration", 1),
    ("Dessert", 1),
    ("Ethics", 1),
    ("Forecast", 1),
    ("Garden", 1),
    ("History", 1),
    ("Music", 1),
    ("Notices", 1),
    ("Sports", 1),
    ("ai", 1),
    ("zürich", 1),
]


def test_topics_lists_all_most_used_first_ties_by_name(corpus):
    data = corpus.data("{ topics { name articleCount } }")
    assert [(t["name"], t["articleCount"]) for t in data["topics"]] == ALL_TOPICS


def test_topics_first(corpus):
    assert corpus.data("{ topics(first: 3) { name } }") == {"topics": [{"name": "Baking"}, {"name": "Food"}, {"name": "AI"}]}
    assert corpus.data("{ topics(first: 0) { name } }") == {"topics": []}


def test_topics_first_below_zero_is_bad_user_input(corpus):
    payload = corpus.execute("{ topics(first: -1) { name } }")
    assert payload["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [
        ("topics: first must be 0 or more, got -1", "BAD_USER_INPUT")
    ]


def test_lookups_on_an_empty_store(api_for):
    api = api_for([])
    assert api.data(
        '{ article(id: "x") { id } articleByUrl(url: "x") { id } provider(domain: "x") { name }'
        ' topic(name: "x") { name } topics { name } }'
    ) == {"article": None, "articleByUrl": None, "provider": None, "topic": None, "topics": []}


def test_secured_and_unknown_keys_are_not_fields(corpus):
    assert corpus.error_codes('{ article(id: "zurich-tram") { secured } }') == ["GRAPHQL_VALIDATION_FAILED"]
    assert corpus.error_codes('{ article(id: "field-unsearched") { notes } }') == ["GRAPHQL_VALIDATION_FAILED"]
