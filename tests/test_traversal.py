"""Walking the graph: Article -> Provider -> articles -> related -> article -> ..., Topic.articles,
nested list arguments, and the cost in store calls of a page that asks for relations.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conftest import article

from graph.schema.context import Context


def test_article_provider_articles_related_article_chain(corpus):
    query = """
    {
      article(id: "recognition") {
        provider { name articleCount articles(first: 3) { totalCount nodes { id } } }
        related {
          title
          provider { domain name articleCount articles { totalCount nodes { id } } }
          article {
            id
            provider { name }
            related { title article { id provider { domain } } }
          }
        }
      }
    }
    """
    assert corpus.data(query) == {
        "article": {
            "provider": {
                "name": "Alpha News",
                "articleCount": 15,
                "articles": {"totalCount": 15, "nodes": [{"id": "year-2022"}, {"id": "fruit-c"}, {"id": "fruit-a"}]},
            },
            "related": [
                {
                    "title": "Tram strike spreads",
                    "provider": {
                        "domain": "beta.example",
                        "name": "The Beta",
                        "articleCount": 3,
                        "articles": {
                            "totalCount": 3,
                            "nodes": [{"id": "beta-the"}, {"id": "offset-newyear"}, {"id": "old-2019"}],
                        },
                    },
                    # webUrl = zurich-tram's originalUrl
                    "article": {
                        "id": "zurich-tram",
                        "provider": {"name": "Alpha News"},
                        "related": [
                            # webUrl = lighthouse-title's cdnAmpWebUrl
                            {"title": "Keepers return to the tower", "article": {"id": "lighthouse-title", "provider": {"domain": "alpha.example"}}},
                            {"title": "Pelican count rises", "article": None},
                        ],
                    },
                },
                {
                    "title": "Storm damage report",
                    "provider": {
                        "domain": "delta.example",
                        "name": "Delta Review",
                        "articleCount": 3,
                        "articles": {
                            "totalCount": 3,
                            "nodes": [{"id": "twin-a"}, {"id": "twin-b"}, {"id": "lighthouse-body"}],
                        },
                    },
                    # webUrl is not stored, ampWebUrl = lighthouse-body's webUrl
                    "article": {"id": "lighthouse-body", "provider": {"name": "Delta Review"}, "related": []},
                },
                {
                    "title": "Unrelated story",
                    "provider": {
                        "domain": "beta.example",
                        "name": "The Beta",
                        "articleCount": 3,
                        "articles": {
                            "totalCount": 3,
                            "nodes": [{"id": "beta-the"}, {"id": "offset-newyear"}, {"id": "old-2019"}],
                        },
                    },
                    "article": None,
                },
                {"title": "Print only", "provider": None, "article": None},
            ],
        }
    }


def test_related_article_by_cdn_amp_url_of_the_item(corpus):
    # The item's cdnAmpWebUrl equals offset-newyear's ampWebUrl.
    data = corpus.data('{ article(id: "recognize") { related { title cdnAmpWebUrl article { id title } } } }')
    assert data["article"]["related"] == [
        {
            "title": "Fireworks light the sky",
            "cdnAmpWebUrl": "https://beta.example/amp/fireworks",
            "article": {"id": "offset-newyear", "title": "New Year fireworks over the harbour"},
        }
    ]


def test_related_provider_known_only_from_related_items_is_a_full_provider(corpus):
    query = """
    { article(id: "zurich-tram") { related(first: 2) { provider {
        name domain articleCount
        articles { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    } } } }
    """
    data = corpus.data(query)
    assert data["article"]["related"][1]["provider"] == {
        "name": "Harbour Herald",
        "domain": "onlyrelated.example",
        "articleCount": 0,
        "articles": {
            "totalCount": 0,
            "nodes": [],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        },
    }
    assert data["article"]["related"][0]["provider"]["articleCount"] == 15


def test_provider_articles_take_filters_search_and_order(corpus):
    query = """
    {
      provider(domain: "alpha.example") {
        undated: articles(where: {publishedDateTime: {isNull: true}}) { totalCount nodes { id } }
        searched: articles(search: "recog*", orderBy: [{field: ID}]) { totalCount nodes { id } }
        byTitle: articles(orderBy: [{field: TITLE}], first: 4) { nodes { title } }
      }
    }
    """
    assert corpus.data(query) == {
        "provider": {
            "undated": {"totalCount": 2, "nodes": [{"id": "fruit-d"}, {"id": "no-date"}]},
            # recognize also matches recog* but is gamma.example's.
            "searched": {"totalCount": 2, "nodes": [{"id": "case-mixed"}, {"id": "recognition"}]},
            "byTitle": {
                "nodes": [{"title": "AI ethics panel"}, {"title": "apple pie"}, {"title": "Banana bread"}, {"title": "Banana bread"}]
            },
        }
    }


def test_topic_articles(corpus):
    query = """
    {
      zurich: topic(name: "Zürich") { name articleCount articles { totalCount nodes { id } } }
      baking: topic(name: "Baking") {
        articleCount
        all: articles { nodes { id } }
        good: articles(where: {quality: {gte: 50}}) { totalCount nodes { id } }
        searched: articles(search: "apple") { nodes { id } }
      }
    }
    """
    assert corpus.data(query) == {
        "zurich": {
            "name": "Zürich",
            "articleCount": 2,
            "articles": {"totalCount": 2, "nodes": [{"id": "strasse"}, {"id": "zurich-tram"}]},
        },
        "baking": {
            "articleCount": 4,
            # fruit-a and fruit-b were published at the same instant: id breaks the tie.
            "all": {"nodes": [{"id": "fruit-c"}, {"id": "fruit-a"}, {"id": "fruit-b"}, {"id": "fruit-e"}]},
            "good": {"totalCount": 2, "nodes": [{"id": "fruit-a"}, {"id": "fruit-b"}]},
            # "Ápple tart" folds to "apple tart". One title hit each: fruit-b has no provider, so its
            # text is the shortest and ranks first; fruit-a and fruit-e are equally long: id order.
            "searched": {"nodes": [{"id": "fruit-b"}, {"id": "fruit-a"}, {"id": "fruit-e"}]},
        },
    }


def test_topic_from_topics_list_walks_on(corpus):
    data = corpus.data("{ topics(first: 2) { name articles(first: 1) { nodes { id } } } }")
    assert data == {
        "topics": [
            {"name": "Baking", "articles": {"nodes": [{"id": "fruit-c"}]}},
            {"name": "Food", "articles": {"nodes": [{"id": "fruit-a"}]}},
        ]
    }


def test_article_topics_are_exact_and_case_sensitive(corpus):
    data = corpus.data('{ topic(name: "zürich") { articles { nodes { id topics } } } }')
    assert data == {"topic": {"articles": {"nodes": [{"id": "zeit-marathon", "topics": ["Sports", "zürich"]}]}}}


def test_nested_lists_take_where_and_first(corpus):
    query = """
    {
      article(id: "recognition") {
        beta: related(where: {provider: {name: {eq: "The Beta"}}}) { title }
        one: related(first: 1) { title }
        none: related(first: 0) { title }
        withUrl: related(where: {webUrl: {isNull: false}}, first: 2) { title }
        rated: related(where: {quality: {gte: 30}}) { title quality }
      }
      tram: article(id: "zurich-tram") {
        uncached: images(where: {isCached: {eq: false}}) { url }
        first: images(first: 1) { url }
        related { images(where: {width: {lt: 500}}) { url } }
      }
    }
    """
    assert corpus.data(query) == {
        "article": {
            "beta": [{"title": "Tram strike spreads"}, {"title": "Unrelated story"}],
            "one": [{"title": "Tram strike spreads"}],
            "none": [],
            "withUrl": [{"title": "Tram strike spreads"}, {"title": "Storm damage report"}],
            "rated": [{"title": "Tram strike spreads", "quality": 90}, {"title": "Storm damage report", "quality": 30}],
        },
        "tram": {
            "uncached": [{"url": "https://img.example/tram-2.jpg"}],
            "first": [{"url": "https://img.example/tram-flamingo.jpg"}],
            "related": [{"images": []}, {"images": [{"url": "https://img.example/pelican.jpg"}]}],
        },
    }


def test_nested_list_first_out_of_bounds_is_bad_user_input(corpus):
    cases = [
        # Below 0 the resolver refuses it; above the nested list size limit the limits check does, before anything runs.
        ('{ article(id: "recognition") { related(first: -1) { title } } }', "related: first must be between 0 and 100, got -1"),
        ('{ article(id: "zurich-tram") { images(first: -1) { url } } }', "images: first must be between 0 and 100, got -1"),
        ('{ article(id: "recognition") { related(first: 101) { title } } }', "related: first is 101; the nested list size limit is 100"),
        ('{ article(id: "zurich-tram") { images(first: 101) { url } } }', "images: first is 101; the nested list size limit is 100"),
    ]
    for query, message in cases:
        payload = corpus.execute(query)
        assert [(e["message"], e["extensions"]["code"]) for e in payload["errors"]] == [(message, "BAD_USER_INPUT")], query


def test_nested_lists_default_to_10_items_and_take_up_to_100(api_for):
    # Without first a nested list holds up to 10 items, as the cost limit prices it (DESIGN.md "Limits").
    images = [{"url": f"https://img.example/{n}.jpg"} for n in range(120)]
    related = [{"title": f"item {n}"} for n in range(120)]
    api = api_for([article(id="big", title="Big", images=images, related=related)])
    data = api.data('{ article(id: "big") { images { url } related { title } } }')
    assert [i["url"] for i in data["article"]["images"]] == [f"https://img.example/{n}.jpg" for n in range(10)]
    assert [r["title"] for r in data["article"]["related"]] == [f"item {n}" for n in range(10)]
    data = api.data('{ article(id: "big") { images(first: 100) { url } related(first: 100) { title } } }')
    assert len(data["article"]["images"]) == 100
    assert data["article"]["related"][-1] == {"title": "item 99"}


# ---- store calls --------------------------------------------------------------------------


class CountingReader:
    """A real Reader, with every call counted by method name."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._reader, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return target(*args, **kwargs)

        return counted


def linked_articles(count: int) -> list[dict[str, Any]]:
    """count articles over 7 providers; each has two related items pointing at other stored articles."""
    docs = []
    for n in range(count):
        docs.append(
            article(
                id=f"a{n:03d}",
                title=f"Article {n}",
                publishedDateTime=f"2021-01-01T00:{n % 60:02d}:00Z",
                webUrl=f"https://news.example/{n}",
                provider={"name": f"Provider {n % 7}", "domain": f"p{n % 7}.example"},
                related=[
                    {
                        "title": f"Next of {n}",
                        "webUrl": f"https://news.example/{(n + 1) % count}",
                        "provider": {"name": f"Provider {(n + 1) % 7}", "domain": f"p{(n + 1) % 7}.example"},
                    },
                    {"title": f"Unknown of {n}", "ampWebUrl": f"https://elsewhere.example/{n}"},
                ],
            )
        )
    return docs


PAGE_QUERY = """
query ($n: Int!) {
  articles(first: $n) {
    nodes {
      id
      provider { name articleCount }
      related { title provider { articleCount } article { id provider { name } } }
    }
  }
}
"""


def count_calls(api, size: int) -> tuple[Counter[str], dict[str, Any]]:
    async def go() -> tuple[Counter[str], Any]:
        reader = CountingReader(await api.store.reader())
        outcome = await api.executor.run(PAGE_QUERY, {"n": size}, None, Context(reader=reader, limits=api.limits))
        return reader.calls, outcome.payload

    return api.run(go())


def test_a_page_of_100_articles_with_relations_costs_a_constant_number_of_store_calls(api_for):
    api = api_for(linked_articles(150))
    calls_100, payload = count_calls(api, 100)
    nodes = payload["data"]["articles"]["nodes"]
    assert len(nodes) == 100
    # The answer is right, not just cheap: check one node fully.
    by_id = {node["id"]: node for node in nodes}
    assert by_id["a059"] == {
        "id": "a059",
        "provider": {"name": "Provider 3", "articleCount": 21},
        "related": [
            {"title": "Next of 59", "provider": {"articleCount": 21}, "article": {"id": "a060", "provider": {"name": "Provider 4"}}},
            {"title": "Unknown of 59", "provider": None, "article": None},
        ],
    }
    calls_5, _ = count_calls(api, 5)
    # One page read, one URL batch, and at most one provider batch per level that asks for providers
    # (article, related item, related article) -- the same bound for 5 articles as for 100.
    bound = {"find_articles": 1, "get_articles_by_url": 1, "get_providers": 3}
    for calls in (calls_100, calls_5):
        assert set(calls) == set(bound), calls
        assert all(calls[name] <= bound[name] for name in bound), calls
