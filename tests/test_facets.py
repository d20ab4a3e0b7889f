"""totalCount and facets over every match, ignoring paging, for filters and search.

Expectations are hand-counted from the fixture corpus (tests/fixtures/corpus/).
Counts are most frequent first, ties by value ASC (by code point, so "Article"
< "notice" and "Tech" < "business"); facet lists default to 20 entries;
histogram buckets are UTC calendar days/weeks (Monday)/months/years, oldest
first, empty buckets omitted.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import article

FACETS = """
query ($w: ArticleFilter, $s: String, $first: Int) {
  articles(where: $w, search: $s, first: $first) {
    totalCount
    edges { node { id } }
    facets {
      topics { value count }
      providers { value count }
      categories { value count }
      types { value count }
      published { value count }
      quality { count min max avg }
      heat { count min max avg }
      publishedDateTime { min max }
      day: histogram(interval: DAY) { value count }
      week: histogram(interval: WEEK) { value count }
      month: histogram(interval: MONTH) { value count }
      year: histogram(interval: YEAR) { value count }
    }
  }
}
"""


def counts(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"value": value, "count": count} for value, count in pairs]


def facets(api: Any, where: Any = None, search: str | None = None, first: int | None = None) -> dict[str, Any]:
    return api.data(FACETS, {"w": where, "s": search, "first": first})["articles"]


def test_facets_of_the_whole_corpus(corpus):
    result = facets(corpus, first=1)
    assert result["totalCount"] == 29
    assert len(result["edges"]) == 1
    got = result["facets"]
    # 23 topics: the default first is 20, so Sports, ai and zürich (count 1, last by code point) are cut.
    assert got["topics"] == counts(
        ("Baking", 4), ("Food", 4),
        ("AI", 2), ("Animals", 2), ("Coast", 2), ("Computer Vision", 2), ("Media", 2), ("Transport", 2),
        ("Weather", 2), ("Zürich", 2),
        ("Astronomy", 1), ("Calendar", 1), ("Celebration", 1), ("Dessert", 1), ("Ethics", 1), ("Forecast", 1),
        ("Garden", 1), ("History", 1), ("Music", 1), ("Notices", 1),
    )  # fmt: skip
    # Articles only: onlyrelated.example (related items only) and provider-less articles are not counted.
    assert got["providers"] == counts(
        ("alpha.example", 15), ("beta.example", 3), ("delta.example", 3), ("gamma.example", 2), ("zeit.example", 2), ("noname.example", 1)
    )
    assert got["categories"] == counts(
        ("news", 7), ("fruit", 5), ("culture", 2), ("tech", 2), ("wildlife", 2),
        ("Tech", 1), ("business", 1), ("education", 1), ("food", 1), ("horticulture", 1), ("opinion", 1),
        ("science", 1), ("sports", 1),
    )  # fmt: skip
    assert got["types"] == counts(("article", 17), ("Article", 1), ("notice", 1), ("podcast", 1), ("vlog", 1))
    assert got["published"] == counts(("true", 18), ("false", 11))
    assert got["quality"] == {"count": 23, "min": 0, "max": 95, "avg": pytest.approx(1162 / 23, rel=1e-12)}
    assert got["heat"] == {"count": 19, "min": -5, "max": 10, "avg": pytest.approx(52 / 19, rel=1e-12)}
    assert got["publishedDateTime"] == {"min": "2019-01-02T00:00:00Z", "max": "2022-01-03T00:00:00Z"}
    assert got["year"] == counts(("2019-01-01", 2), ("2020-01-01", 5), ("2021-01-01", 17), ("2022-01-01", 1))
    assert got["month"] == counts(
        ("2019-01-01", 1), ("2019-06-01", 1), ("2020-02-01", 1), ("2020-11-01", 1), ("2020-12-01", 3),
        ("2021-02-01", 4), ("2021-03-01", 5), ("2021-04-01", 2), ("2021-05-01", 2), ("2021-07-01", 4),
        ("2022-01-01", 1),
    )  # fmt: skip
    assert got["week"] == counts(
        ("2018-12-31", 1),  # 2019-01-02 is a Wednesday: its week began in 2018
        ("2019-06-10", 1),
        ("2020-02-24", 1),
        ("2020-11-30", 1),  # a Monday starts its own week
        ("2020-12-14", 2),
        ("2020-12-28", 1),  # offset-newyear: 2021-01-01T01:30+02:00 is 2020-12-31 in UTC
        ("2021-02-08", 4),
        ("2021-03-01", 2),  # ...03-03 and Sunday 03-07 23:30
        ("2021-03-08", 3),  # Monday 03-08 00:15 and 12:00 (twice)
        ("2021-04-05", 1),
        ("2021-04-19", 1),  # Sunday 2021-04-25
        ("2021-05-17", 2),
        ("2021-06-28", 4),  # fruit-e: 2021-06-30T23:00-02:00 is July 1st in UTC
        ("2022-01-03", 1),
    )
    assert got["day"] == counts(
        ("2019-01-02", 1), ("2019-06-15", 1), ("2020-02-29", 1), ("2020-11-30", 1), ("2020-12-14", 1),
        ("2020-12-15", 1), ("2020-12-31", 1), ("2021-02-10", 1), ("2021-02-11", 1), ("2021-02-12", 1),
        ("2021-02-13", 1), ("2021-03-03", 1), ("2021-03-07", 1), ("2021-03-08", 3), ("2021-04-10", 1),
        ("2021-04-25", 1), ("2021-05-20", 2), ("2021-07-01", 3), ("2021-07-02", 1), ("2022-01-03", 1),
    )  # fmt: skip


def test_facets_follow_the_filter_not_the_page(corpus):
    result = facets(corpus, where={"category": {"eq": "fruit"}}, first=1)
    assert result["totalCount"] == 5
    assert result["edges"] == [{"node": {"id": "fruit-c"}}]
    assert result["facets"] == {
        "topics": counts(("Baking", 4), ("Food", 3), ("Dessert", 1)),
        "providers": counts(("alpha.example", 4)),
        "categories": counts(("fruit", 5)),
        "types": [],
        "published": counts(("false", 4), ("true", 1)),
        "quality": {"count": 4, "min": 10, "max": 70, "avg": 50.0},
        "heat": {"count": 4, "min": -2, "max": 9, "avg": 3.25},
        "publishedDateTime": {"min": "2021-07-01T01:00:00Z", "max": "2021-07-02T10:00:00Z"},
        "day": counts(("2021-07-01", 3), ("2021-07-02", 1)),
        "week": counts(("2021-06-28", 4)),
        "month": counts(("2021-07-01", 4)),
        "year": counts(("2021-01-01", 4)),
    }


def test_facets_of_a_search(corpus):
    result = facets(corpus, search="recog*", first=0)
    assert result["totalCount"] == 3
    assert result["edges"] == []
    assert result["facets"] == {
        "topics": counts(("AI", 2), ("Computer Vision", 2), ("Ethics", 1), ("ai", 1)),
        "providers": counts(("alpha.example", 2), ("gamma.example", 1)),
        "categories": counts(("tech", 2), ("Tech", 1)),
        "types": counts(("article", 2), ("Article", 1)),
        "published": counts(("false", 2), ("true", 1)),
        "quality": {"count": 3, "min": 65, "max": 85, "avg": 74.0},
        "heat": {"count": 3, "min": -1, "max": 6, "avg": 3.0},
        "publishedDateTime": {"min": "2020-11-30T12:00:00Z", "max": "2020-12-15T10:00:00Z"},
        "day": counts(("2020-11-30", 1), ("2020-12-14", 1), ("2020-12-15", 1)),
        "week": counts(("2020-11-30", 1), ("2020-12-14", 2)),
        "month": counts(("2020-11-01", 1), ("2020-12-01", 2)),
        "year": counts(("2020-01-01", 3)),
    }


def test_facets_of_search_and_filter_together(corpus):
    result = facets(corpus, search="recog*", where={"published": {"eq": False}})
    assert result["totalCount"] == 2
    assert result["facets"]["providers"] == counts(("alpha.example", 2))
    assert result["facets"]["published"] == counts(("false", 2))


def test_facets_of_nothing(corpus):
    result = facets(corpus, where={"OR": []})
    assert result["totalCount"] == 0
    assert result["facets"] == {
        "topics": [],
        "providers": [],
        "categories": [],
        "types": [],
        "published": [],
        "quality": {"count": 0, "min": None, "max": None, "avg": None},
        "heat": {"count": 0, "min": None, "max": None, "avg": None},
        "publishedDateTime": {"min": None, "max": None},
        "day": [],
        "week": [],
        "month": [],
        "year": [],
    }


def test_facets_of_articles_with_only_nulls(corpus):
    result = facets(corpus, where={"id": {"in": ["minimal", "nulls"]}})
    assert result["totalCount"] == 2
    got = result["facets"]
    assert got["published"] == counts(("false", 2))
    assert got["quality"] == {"count": 0, "min": None, "max": None, "avg": None}
    assert got["publishedDateTime"] == {"min": None, "max": None}
    assert got["topics"] == got["providers"] == got["categories"] == got["types"] == got["year"] == []


def test_facet_first(corpus):
    data = corpus.data(
        """
        { articles { facets {
            three: topics(first: 3) { value }
            none: topics(first: 0) { value }
            all: topics(first: 100) { value }
            providers(first: 1) { value count }
            categories(first: 2) { value }
            types(first: 1) { value }
        } } }
        """
    )["articles"]["facets"]
    assert data["three"] == [{"value": "Baking"}, {"value": "Food"}, {"value": "AI"}]
    assert data["none"] == []
    assert [t["value"] for t in data["all"]][-3:] == ["Sports", "ai", "zürich"]
    assert len(data["all"]) == 23
    assert data["providers"] == counts(("alpha.example", 15))
    assert data["categories"] == [{"value": "news"}, {"value": "fruit"}]
    assert data["types"] == [{"value": "article"}]


def test_facet_first_out_of_bounds_is_bad_user_input(corpus):
    for name in ("topics", "providers", "categories", "types"):
        low = corpus.execute("{ articles { facets { %s(first: -1) { value } } } }" % name)
        assert [(e["message"], e["extensions"]["code"]) for e in low["errors"]] == [
            (f"{name}: first must be between 0 and 100, got -1", "BAD_USER_INPUT")
        ]
        high = corpus.execute("{ articles { facets { %s(first: 101) { value } } } }" % name)
        assert [(e["message"], e["extensions"]["code"]) for e in high["errors"]] == [
            (f"{name}: first is 101; the nested list size limit is 100", "BAD_USER_INPUT")
        ]


def test_facets_of_provider_and_topic_connections(corpus):
    data = corpus.data(
        """
        {
          provider(domain: "beta.example") { articles(first: 1) { totalCount facets { providers { value count } topics { value count } } } }
          topic(name: "Coast") { articles(first: 0) { totalCount facets { providers { value count } week: histogram(interval: WEEK) { value count } } } }
        }
        """
    )
    assert data == {
        "provider": {
            "articles": {
                "totalCount": 3,
                "facets": {
                    "providers": counts(("beta.example", 3)),
                    "topics": counts(("Celebration", 1), ("History", 1), ("Media", 1)),
                },
            }
        },
        "topic": {
            "articles": {
                "totalCount": 2,
                # Sunday 2021-03-07 23:30 and Monday 2021-03-08 00:15 UTC: two different weeks.
                "facets": {
                    "providers": counts(("alpha.example", 1), ("delta.example", 1)),
                    "week": counts(("2021-03-01", 1), ("2021-03-08", 1)),
                },
            }
        },
    }


def test_totalcount_ignores_paging_on_every_connection(corpus):
    data = corpus.data(
        """
        {
          articles(first: 2, orderBy: [{field: ID}]) { totalCount nodes { id } }
          providers(first: 1) { totalCount }
          provider(domain: "alpha.example") { articles(last: 1) { totalCount } }
          topic(name: "Food") { articles(first: 0) { totalCount } }
        }
        """
    )
    assert data["articles"] == {"totalCount": 29, "nodes": [{"id": "beta-the"}, {"id": "case-mixed"}]}
    assert data["providers"] == {"totalCount": 7}
    assert data["provider"] == {"articles": {"totalCount": 15}}
    assert data["topic"] == {"articles": {"totalCount": 4}}


def test_a_topic_repeated_in_one_article_counts_once(api_for):
    api = api_for([article(id="a", title="A", topics=["x", "x", "y"]), article(id="b", title="B", topics=["x"])])
    data = api.data('{ articles { facets { topics { value count } } } topic(name: "x") { articleCount } topics { name articleCount } }')
    assert data == {
        "articles": {"facets": {"topics": counts(("x", 2), ("y", 1))}},
        "topic": {"articleCount": 2},
        "topics": [{"name": "x", "articleCount": 2}, {"name": "y", "articleCount": 1}],
    }
