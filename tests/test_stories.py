"""Stories on both stores: every DESIGN rule, and a brute-force reference over generated corpora and writes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import article

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
STORY_FIELDS = "id headline articleCount coverageCount firstPublishedDateTime lastPublishedDateTime providers { domain } topics(first: 100) { value count }"
ALL = f"query($after: String) {{ stories(first: 3, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {STORY_FIELDS} }} }} }}"


# ---- the reference: components and summaries computed naively ---------------------------


def _own(doc: dict[str, Any]) -> set[str]:
    return {doc[f] for f in ("originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl") if doc.get(f)}


def _item_urls(item: dict[str, Any]) -> list[str]:
    return [item[f] for f in ("webUrl", "ampWebUrl", "cdnAmpWebUrl") if item.get(f)]


def _rel(doc: dict[str, Any]) -> set[str]:
    return {u for item in doc.get("related") or () for u in _item_urls(item)}


def reference(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stories by pairwise links and a plain BFS, summarized by the rules of DESIGN, in the default order."""
    by_id = {d["id"]: d for d in docs}

    def linked(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return bool(_rel(a) & (_own(b) | _rel(b)) or _rel(b) & _own(a))

    seen: set[str] = set()
    out = []
    for start in sorted(by_id):
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            a = todo.pop()
            for b in by_id:
                if b not in group and linked(by_id[a], by_id[b]):
                    group.add(b)
                    todo.append(b)
        seen |= group
        members = [by_id[i] for i in sorted(group)]
        stored = set().union(*(_own(d) for d in members))
        identifying = set()
        providers: Counter[str] = Counter()
        topics: Counter[str] = Counter()
        for d in members:
            if d.get("provider"):
                providers[d["provider"]["domain"]] += 1
            for t in set(d.get("topics") or ()):
                topics[t] += 1
            for item in d.get("related") or ():
                if item.get("provider"):
                    providers[item["provider"]["domain"]] += 1
                urls = _item_urls(item)
                if urls and not set(urls) & stored:
                    identifying.add(urls[0])
        dates = [d["publishedDateTime"] for d in members if d.get("publishedDateTime")]
        best = sorted(
            members,
            key=lambda d: (d.get("quality") is None, -(d.get("quality") or 0), d.get("publishedDateTime") is None, d.get("publishedDateTime") or "", d["id"]),
        )[0]
        out.append(
            {
                "id": min(group),
                "headline": best["title"],
                "articleCount": len(group),
                "coverageCount": len(group) + len(identifying),
                "firstPublishedDateTime": min(dates) if dates else None,
                "lastPublishedDateTime": max(dates) if dates else None,
                "providers": [{"domain": d} for d, _ in sorted(providers.items(), key=lambda dc: (-dc[1], dc[0]))],
                "topics": [{"value": t, "count": c} for t, c in sorted(topics.items(), key=lambda tc: (-tc[1], tc[0]))],
                "members": sorted(group),
            }
        )
    # Default order: lastPublishedDateTime DESC, nulls last, ties by id ASC.
    out.sort(key=lambda s: s["id"])
    out.sort(key=lambda s: s["lastPublishedDateTime"] or "", reverse=True)
    out.sort(key=lambda s: s["lastPublishedDateTime"] is None)
    return out


def served(api: Any) -> list[dict[str, Any]]:
    """Every story, paged three at a time by cursor."""
    stories, after = [], None
    while True:
        page = api.data(ALL, {"after": after})["stories"]
        stories += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(stories)
            return stories
        after = page["pageInfo"]["endCursor"]


def check(api: Any, docs: list[dict[str, Any]]) -> None:
    expected = reference(docs)
    assert served(api) == [{k: v for k, v in s.items() if k != "members"} for s in expected]
    story_of = {m: s["id"] for s in expected for m in s["members"]}
    ids = sorted(story_of)
    if ids:
        data = api.data("query($ids: [String!]) { articles(first: 100, where: {id: {in: $ids}}) { nodes { id story { id } } } }", {"ids": ids})
        assert {n["id"]: n["story"]["id"] for n in data["articles"]["nodes"]} == story_of


# ---- generated corpora: a small pool of URLs, so links, merges and splits are common ------

URLS = [f"https://x.test/{n}" for n in range(8)]
url = st.sampled_from(URLS)
item = st.fixed_dictionaries(
    {"title": st.just("r")},
    optional={
        "webUrl": url,
        "ampWebUrl": url,
        "cdnAmpWebUrl": url,
        "provider": st.fixed_dictionaries({"domain": st.sampled_from(["a.test", "b.test", "c.test"])}),
    },
)
doc_fields = st.fixed_dictionaries(
    {"title": st.sampled_from(["T1", "T2", "T3"])},
    optional={
        "webUrl": url,
        "ampWebUrl": url,
        "originalUrl": url,
        "related": st.lists(item, max_size=3),
        "quality": st.integers(0, 3),
        "publishedDateTime": st.sampled_from(["2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2020-01-03T00:00:00Z"]),
        "topics": st.lists(st.sampled_from(["AI", "Law", "Vision"]), max_size=2),
        "provider": st.fixed_dictionaries({"domain": st.sampled_from(["a.test", "b.test", "d.test"]), "name": st.just("N")}),
    },
)
IDS = [f"a{n}" for n in range(7)]
corpus = st.dictionaries(st.sampled_from(IDS), doc_fields, max_size=7)
writes = st.lists(st.tuples(corpus, st.sets(st.sampled_from(IDS), max_size=3)), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=writes)
def test_stories_are_the_connected_components_after_every_write(make_store: Any, run: Any, batches: Any) -> None:
    """Several writes (upserts and deletes, which merge and split stories) each leave exactly the reference stories."""
    from conftest import Api

    store = make_store()
    api = Api(store, run)
    docs: dict[str, dict[str, Any]] = {}
    for upserts, deletes in batches:
        new = [article(id=i, **fields) for i, fields in upserts.items()]
        run(store.write(new, sorted(deletes)))
        for i in deletes:
            docs.pop(i, None)
        docs.update((d["id"], d) for d in new)
        check(api, list(docs.values()))


def test_paging_across_a_merge_and_a_split_has_no_duplicates(api_for: Any) -> None:
    singles = [article(id=f"s{n}", title=f"S{n}", webUrl=f"https://x.test/{n}", publishedDateTime=f"2020-01-0{n + 1}") for n in range(6)]
    api = api_for(singles)
    query = "query($after: String) { stories(first: 2, after: $after, orderBy: [{field: ID}]) { edges { cursor node { id articleCount } } pageInfo { hasNextPage } } }"
    first = api.data(query)["stories"]["edges"]
    assert [e["node"]["id"] for e in first] == ["s0", "s1"]
    # s5 now covers s0 and s3: they merge into story s0 (already seen) and s3 disappears.
    merged = article(id="s5", title="S5", related=[{"title": "x", "webUrl": "https://x.test/0"}, {"title": "y", "webUrl": "https://x.test/3"}])
    api.run(api.store.write([merged], []))
    rest = api.data(query, {"after": first[-1]["cursor"]})["stories"]
    assert [e["node"]["id"] for e in rest["edges"]] == ["s2", "s4"]
    assert not rest["pageInfo"]["hasNextPage"]
    # s5 drops its links again: s3 and s5 are stories of their own again, after the cursor.
    api.run(api.store.write([article(id="s5", title="S5")], []))
    again = api.data(query, {"after": rest["edges"][-1]["cursor"]})["stories"]["edges"]
    assert [e["node"]["id"] for e in again] == ["s5"]
    assert api.data('{ story(id: "s3") { id articleCount } }')["story"] == {"id": "s3", "articleCount": 1}


# ---- each rule of DESIGN "Stories, exactly" ------------------------------------------------


def _story_of(api: Any, article_id: str) -> dict[str, Any]:
    return api.data(f'{{ story(id: "{article_id}") {{ {STORY_FIELDS} }} }}')["story"]


def test_urls_compare_across_fields(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", ampWebUrl="https://x.test/1"),
        article(id="b", title="B", related=[{"title": "r", "cdnAmpWebUrl": "https://x.test/1"}]),
    ])
    assert _story_of(api, "b")["id"] == "a"


def test_articles_sharing_their_own_url_are_not_linked(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", webUrl="https://x.test/1"),
        article(id="b", title="B", originalUrl="https://x.test/1"),
    ])
    assert [_story_of(api, i)["id"] for i in "ab"] == ["a", "b"]


def test_a_related_item_matching_several_articles_links_them_all(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", webUrl="https://x.test/1"),
        article(id="b", title="B", ampWebUrl="https://x.test/1"),
        article(id="c", title="C", related=[{"title": "r", "webUrl": "https://x.test/1"}]),
    ])
    assert [_story_of(api, i)["articleCount"] for i in "abc"] == [3, 3, 3]


def test_related_items_sharing_a_url_link_their_articles(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", related=[{"title": "r", "webUrl": "https://elsewhere.test/1"}]),
        article(id="b", title="B", related=[{"title": "r", "ampWebUrl": "https://elsewhere.test/1"}]),
    ])
    story = _story_of(api, "b")
    assert (story["id"], story["articleCount"], story["coverageCount"]) == ("a", 2, 3)


def test_coverage_count(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", webUrl="https://x.test/a"),
        article(id="b", title="B", related=[
            {"title": "stored", "webUrl": "https://x.test/a"},  # a stored article: not counted again
            {"title": "one", "webUrl": "https://y.test/1", "ampWebUrl": "https://y.test/1/amp"},
            {"title": "same", "webUrl": "https://y.test/1"},  # the same identifying URL: once
            {"title": "amp only", "ampWebUrl": "https://y.test/1/amp"},  # identified by its ampWebUrl: another
            {"title": "stored by amp", "ampWebUrl": "https://z.test/2", "cdnAmpWebUrl": "https://x.test/a"},
            {"title": "no URL"},  # not counted
        ]),
    ])
    assert _story_of(api, "a")["coverageCount"] == 2 + 2


def test_providers_count_every_occurrence_ties_by_domain(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", webUrl="https://x.test/a", provider={"domain": "z.test", "name": "Z"}),
        article(id="b", title="B", provider={"domain": "y.test", "name": "Y"}, related=[
            {"title": "1", "webUrl": "https://x.test/a", "provider": {"domain": "z.test"}},
            {"title": "2", "webUrl": "https://q.test/1", "provider": {"domain": "b.test"}},
            {"title": "3", "webUrl": "https://q.test/1", "provider": {"domain": "b.test"}},
        ]),
    ])
    assert [p["domain"] for p in _story_of(api, "a")["providers"]] == ["b.test", "z.test", "y.test"]


def test_headline_dates_and_topics(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="Low", quality=1, webUrl="https://x.test/a", publishedDateTime="2020-01-05", topics=["AI", "Law"]),
        article(id="b", title="Late", quality=9, publishedDateTime="2020-01-09", topics=["Law"], related=[{"title": "r", "webUrl": "https://x.test/a"}]),
        article(id="c", title="Early", quality=9, publishedDateTime="2020-01-02", related=[{"title": "r", "webUrl": "https://x.test/a"}]),
        article(id="d", title="Undated", quality=9, related=[{"title": "r", "webUrl": "https://x.test/a"}]),
    ])
    story = _story_of(api, "d")
    assert story["headline"] == "Early"
    assert (story["firstPublishedDateTime"], story["lastPublishedDateTime"]) == ("2020-01-02T00:00:00Z", "2020-01-09T00:00:00Z")
    assert story["topics"] == [{"value": "Law", "count": 2}, {"value": "AI", "count": 1}]
    assert api.data('{ story(id: "a") { topics(first: 1) { value } } }')["story"]["topics"] == [{"value": "Law"}]


def test_story_by_story_id_or_article_id_else_null(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", webUrl="https://x.test/a"),
        article(id="b", title="B", related=[{"title": "r", "webUrl": "https://x.test/a"}]),
    ])
    data = api.data('{ s: story(id: "a") { id } t: story(id: "b") { id } none: story(id: "zz") { id } }')
    assert data == {"s": {"id": "a"}, "t": {"id": "a"}, "none": None}


def test_stories_where_and_search_need_one_article_matching_both(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="Facial recognition", quality=1, webUrl="https://x.test/a"),
        article(id="b", title="Budget", quality=9, related=[{"title": "r", "webUrl": "https://x.test/a"}]),
        article(id="c", title="Facial hair", quality=1),
    ])
    query = '{ stories(where: {quality: {gte: 5}}, search: "facial") { totalCount nodes { id articleCount } } }'
    assert api.data(query)["stories"] == {"totalCount": 0, "nodes": []}
    query = '{ stories(where: {quality: {lte: 5}}, search: "facial", orderBy: [{field: ID}]) { totalCount nodes { id articleCount headline } } }'
    assert api.data(query)["stories"] == {
        "totalCount": 2,
        "nodes": [{"id": "a", "articleCount": 2, "headline": "Budget"}, {"id": "c", "articleCount": 1, "headline": "Facial hair"}],
    }


def test_orders_put_nulls_last_both_ways_ties_by_id(api_for: Any) -> None:
    api = api_for([
        article(id="a", title="A", publishedDateTime="2020-01-01"),
        article(id="b", title="B"),
        article(id="c", title="C", publishedDateTime="2020-01-03"),
        article(id="d", title="D", publishedDateTime="2020-01-03"),
    ])
    ids = lambda order: [n["id"] for n in api.data(f"{{ stories(orderBy: [{order}]) {{ nodes {{ id }} }} }}")["stories"]["nodes"]]  # noqa: E731
    assert [n["id"] for n in api.data("{ stories { nodes { id } } }")["stories"]["nodes"]] == ["c", "d", "a", "b"]
    assert ids("{field: LAST_PUBLISHED_DATE_TIME, direction: ASC}") == ["a", "c", "d", "b"]
    assert ids("{field: FIRST_PUBLISHED_DATE_TIME, direction: DESC}") == ["c", "d", "a", "b"]
    assert ids("{field: ID, direction: DESC}") == ["d", "c", "b", "a"]
    assert ids("{field: ARTICLE_COUNT, direction: DESC}") == ["a", "b", "c", "d"]
    assert ids("{field: COVERAGE_COUNT}") == ["a", "b", "c", "d"]


def test_backward_paging_and_cursors_of_every_order(api_for: Any) -> None:
    api = api_for([article(id=f"a{n}", title="A", publishedDateTime=f"2020-01-0{n % 3 + 1}") for n in range(7)])
    for order in ("{field: LAST_PUBLISHED_DATE_TIME}", "{field: COVERAGE_COUNT, direction: DESC}", "{field: ID}"):
        everything = api.data(f"{{ stories(first: 100, orderBy: [{order}]) {{ edges {{ cursor node {{ id }} }} }} }}")["stories"]["edges"]
        middle = everything[3]["cursor"]
        before = api.data(f'{{ stories(last: 2, before: "{middle}", orderBy: [{order}]) {{ nodes {{ id }} pageInfo {{ hasPreviousPage hasNextPage }} }} }}')["stories"]
        assert [n["id"] for n in before["nodes"]] == [e["node"]["id"] for e in everything[1:3]]
        assert before["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": True}


def test_story_articles_is_an_article_connection_scoped_to_the_story(api_for: Any) -> None:
    members = [article(id=f"m{n}", title=f"M{n}", topics=["AI"] if n % 2 else ["Law"], related=[{"title": "r", "webUrl": "https://x.test/hub"}]) for n in range(5)]
    api = api_for([*members, article(id="other", title="Other", topics=["AI"])])
    query = """query($after: String) { story(id: "m3") { articleCount articles(first: 2, after: $after, orderBy: [{field: ID}], where: {topics: {has: "AI"}}) {
        totalCount edges { cursor node { id story { id } } } facets { topics { value count } } } } }"""
    first = api.data(query)["story"]
    assert first["articleCount"] == 5
    assert first["articles"]["totalCount"] == 2
    assert first["articles"]["facets"]["topics"] == [{"value": "AI", "count": 2}]
    assert [e["node"] for e in first["articles"]["edges"]] == [{"id": "m1", "story": {"id": "m0"}}, {"id": "m3", "story": {"id": "m0"}}]
    later = api.data(query, {"after": first["articles"]["edges"][0]["cursor"]})["story"]["articles"]["edges"]
    assert [e["node"]["id"] for e in later] == ["m3"]


def test_bad_story_arguments_are_user_errors(corpus: Any) -> None:
    assert corpus.error_codes('{ stories(after: "nope") { totalCount } }') == ["BAD_USER_INPUT"]
    assert corpus.error_codes("{ stories(first: 101) { totalCount } }") == ["BAD_USER_INPUT"]
    article_cursor = corpus.data("{ articles(first: 1) { edges { cursor } } }")["articles"]["edges"][0]["cursor"]
    assert corpus.error_codes(f'{{ stories(after: "{article_cursor}") {{ totalCount }} }}') == ["BAD_USER_INPUT"]
    assert corpus.error_codes('{ story(id: "x") { topics(first: -1) { value } } }') == []  # null story: nothing to check
    story = corpus.data("{ stories(first: 1) { nodes { id } } }")["stories"]["nodes"][0]["id"]
    assert corpus.error_codes(f'{{ story(id: "{story}") {{ topics(first: 101) {{ value }} }} }}') == ["BAD_USER_INPUT"]


def test_the_shipped_seed_is_a_story_of_one_with_its_coverage(api_for: Any) -> None:
    """The Lens, with NOLA.com and the ACLU covering the same emails (README "Stories")."""
    from graph.documents import parse_file

    docs = [parse_file(p, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))]
    api = api_for(docs)
    data = api.data("{ stories { totalCount nodes { id headline articleCount coverageCount providers { name } } } }")
    assert data["stories"] == {
        "totalCount": 1,
        "nodes": [
            {
                "id": "9a7be0820e1ffd4a",
                "headline": "City releases dozens of pages of emails on police use of facial recognition",
                "articleCount": 1,
                "coverageCount": 3,
                "providers": [{"name": "Aclu.org"}, {"name": "NOLA.com"}, {"name": "The Lens"}],
            }
        ],
    }
    check(api, docs)


def test_story_relations_are_priced_like_other_relations(corpus: Any) -> None:
    from graph.config import Limits
    from graph.execution.limits import price
    from graphql import parse

    from graph.schema import schema

    def cost(query: str) -> int:
        return price(schema._schema, parse(query), None, {}, Limits()).cost

    # A connection counts itself and its page; an object relation one per parent; Story.topics its default 20.
    assert cost("{ stories(first: 10) { nodes { id } } }") == cost("{ providers(first: 10) { nodes { name } } }") == 1 + 10
    assert cost("{ articles(first: 10) { nodes { story { id } } } }") == cost("{ articles(first: 10) { nodes { provider { name } } } }")
    assert cost("{ story(id: \"x\") { topics { value } } }") == 1 + 20
    assert cost("{ story(id: \"x\") { articles(first: 100) { nodes { id } } } }") == cost("{ provider(domain: \"x\") { articles(first: 100) { nodes { id } } } }")
    nested = "{ stories(first: 100) { nodes { articles(first: 100) { nodes { story { articles(first: 100) { nodes { id } } } } } } } }"
    assert corpus.error_codes(nested) == ["QUERY_TOO_COMPLEX"]


def test_a_story_of_ten_thousand_articles_pages_like_any_connection(api_for: Any) -> None:
    hub = [{"title": "hub", "webUrl": "https://x.test/hub"}]
    docs = [article(id=f"m{n:05d}", title=f"M{n}", quality=n % 100, related=hub) for n in range(10_000)]
    api = api_for([*docs, article(id="alone", title="Alone")])
    query = """query($after: String) { story(id: "m04321") { id articleCount
        articles(first: 100, after: $after, orderBy: [{field: QUALITY, direction: DESC}]) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage } } } }"""
    seen: list[str] = []
    after = None
    for _ in range(3):
        story = api.data(query, {"after": after})["story"]
        assert (story["id"], story["articleCount"], story["articles"]["totalCount"]) == ("m00000", 10_000, 10_000)
        edges = story["articles"]["edges"]
        assert len(edges) == 100 and story["articles"]["pageInfo"]["hasNextPage"]
        seen += [e["node"]["id"] for e in edges]
        after = edges[-1]["cursor"]
    expected = sorted((d for d in docs), key=lambda d: (-d["quality"], d["id"]))[:300]
    assert seen == [d["id"] for d in expected]
    assert api.data("{ stories(orderBy: [{field: ARTICLE_COUNT, direction: DESC}]) { totalCount nodes { articleCount } } }")["stories"] == {
        "totalCount": 2,
        "nodes": [{"articleCount": 10_000}, {"articleCount": 1}],
    }


def test_edits_that_keep_a_story_revise_it_exactly(api_for: Any) -> None:
    """Edits inside one story (no URL changes): headline, providers and topics follow, as if summarized anew."""
    hub = [{"title": "hub", "webUrl": "https://x.test/hub", "provider": {"domain": "hub.test"}}]
    docs = {
        f"m{n}": article(id=f"m{n}", title=f"M{n}", quality=n, publishedDateTime=f"2020-01-0{n + 1}", topics=["AI"],
                         provider={"domain": f"p{n % 2}.test", "name": "P"}, related=hub)
        for n in range(4)
    }
    api = api_for(list(docs.values()))
    check(api, list(docs.values()))
    edits = [
        {"id": "m3", "title": "Renamed best"},  # the headline article, same rank: a new headline text
        {"id": "m1", "quality": 9},  # another article outranks it
        {"id": "m1", "quality": 0},  # the headline article falls: summarized anew
        {"id": "m2", "topics": ["Law", "Law"], "provider": {"domain": "new.test", "name": "N"}},
        {"id": "m0", "topics": []},
    ]
    for change in edits:
        old = docs[change["id"]]
        fields = {k: v for k, v in old.items() if k not in ("id", "body", "_seed")} | {k: v for k, v in change.items() if k != "id"}
        docs[change["id"]] = article(id=change["id"], **fields)
        api.run(api.store.write([docs[change["id"]]], []))
        check(api, list(docs.values()))
