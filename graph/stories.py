"""Stories: stored articles grouped by the coverage they share.

Two stored articles are linked when a related item of one has a webUrl,
ampWebUrl or cdnAmpWebUrl equal to one of the other's four URLs, or when
related items of both share such a URL; URLs compare as strings across
fields. Two articles that merely share one of their own URLs are not linked.
A story is a connected component of that graph (DESIGN "Stories, exactly").

Every URL that is some related item's URL is a hyperedge joining the articles
with it as a related URL and those with it as an own URL. A write recomputes
only the components it touches (``recompute``): the old stories of the changed
articles, the stories their new versions link into, and nothing else. Both
stores run this one algorithm over their own indexes (a ``LinkSource``), and
both describe a story with ``summarize``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from graph.documents import RELATED_URL_FIELDS, URL_FIELDS
from graph.filters import TRUE, Compare, Filter
from graph.search import SearchQuery
from graph.paging import DEFAULT_STORY_ORDER, OrderKey

STORY_SORT_FIELDS = ("lastPublishedDateTime", "firstPublishedDateTime", "articleCount", "coverageCount", "id")
DEFAULT_TOPICS = 20
# The article field a story scope filters on: the id of the article's story (never in a document).
STORY_FIELD = "story"


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """Stories with at least one article matching filter and search, in order."""

    filter: Filter = TRUE
    search: SearchQuery | None = None
    order: tuple[OrderKey, ...] = DEFAULT_STORY_ORDER


def in_story(story_id: str) -> Filter:
    """The articles of one story, as an article filter every store evaluates natively."""
    return Compare(STORY_FIELD, "eq", story_id)


def own_urls(doc: Mapping[str, Any]) -> set[str]:
    return {url for field in URL_FIELDS if isinstance(url := doc.get(field), str) and url}


def related_urls(doc: Mapping[str, Any]) -> set[str]:
    urls: set[str] = set()
    for item in related_items(doc):
        urls.update(url for field in RELATED_URL_FIELDS if isinstance(url := item.get(field), str) and url)
    return urls


def related_items(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The related items of a document (a damaged document's other values ignored: stories never fail a write)."""
    items = doc.get("related")
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _domain(owner: Any) -> str | None:
    domain = owner.get("domain") if isinstance(owner, Mapping) else None
    return domain if isinstance(domain, str) and domain else None


def _topics(doc: Mapping[str, Any]) -> set[str]:
    topics = doc.get("topics")
    return {t for t in topics if isinstance(t, str)} if isinstance(topics, list) else set()


def links(doc: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(own URLs, related URLs) of an article."""
    return own_urls(doc), related_urls(doc)


class LinkSource(Protocol):
    """What ``recompute`` reads of a store, as it is after the write (changed articles included)."""

    async def stories_of(self, ids: Sequence[str]) -> dict[str, str]:
        """{article id: its story id before the write} for the ids that had one."""
        ...

    async def members(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        """{story id: its article ids} before the write."""
        ...

    async def links_of(self, ids: Sequence[str]) -> dict[str, tuple[set[str], set[str]]]:
        """{article id: (own URLs, related URLs)} for the ids that exist after the write."""
        ...

    async def mentioning(self, urls: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        """{url: [(article id, as a related URL?)]} for every article after the write mentioning a URL."""
        ...


async def recompute(
    source: LinkSource, changed: Iterable[str], before: Mapping[str, tuple[set[str], set[str]]]
) -> list[list[str]]:
    """The new components (sorted member ids, each list sorted) that replace every story a write touched.

    ``before``: the links of the changed articles that were stored before the write.
    The old stories of the changed articles and of every article their new
    versions link to are regrouped; links among untouched articles are
    unchanged, so no other story can change. When no changed article lost a
    URL (edits of other fields, added coverage, new articles) no link was lost
    either: stories can only merge, and are merged whole, without reading the
    links of their members (a large story stays cheap to update).
    """
    changed = sorted(set(changed))
    present = await source.links_of(changed)
    # Only URLs an article mentions anew can link it to another story: through the URLs it kept,
    # it was linked before the write, so to members of its old story.
    wanted: set[str] = set()
    for article, (own, related) in present.items():
        old_own, old_related = before.get(article, (set(), set()))
        wanted |= (own - old_own) | (related - old_related)
    hyperedges = [
        [article for article, _ in rows]
        for rows in (await source.mentioning(sorted(wanted))).values()
        if any(is_related for _, is_related in rows)  # a URL only owned (never a related item's) links nothing
    ]
    reached = set(present).union(*hyperedges)
    old = await source.stories_of(sorted(reached | set(changed)))
    if all(_kept(before.get(i), present.get(i)) for i in changed):
        groups = components({i: (set(), set()) for i in reached}, hyperedges, old)
        members = await source.members(sorted(set(old.values())))
        merged = []
        for group in groups:
            stories = {old[i] for i in group if i in old}
            merged.append(sorted({i for i in group if i not in old}.union(*(members[s] for s in stories))))
        return sorted(merged)
    affected = reached.union(*(await source.members(sorted(set(old.values())))).values())
    graph = await source.links_of(sorted(affected))
    return components(graph)


def _kept(old: tuple[set[str], set[str]] | None, new: tuple[set[str], set[str]] | None) -> bool:
    """Whether an article kept every URL it had (a new article had none; a deleted one keeps none)."""
    if old is None:
        return new is not None
    return new is not None and old[0] <= new[0] and old[1] <= new[1]


def components(
    graph: Mapping[str, tuple[set[str], set[str]]],
    joined: Iterable[Sequence[str]] = (),
    together: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """Connected components of articles given as {id: (own URLs, related URLs)} (a plain union-find).

    ``joined``: groups of articles known to be linked; ``together``: {article: a key}, articles
    with one key being linked (their old story).
    """
    parent = {article: article for article in graph}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra

    edges: dict[str, str] = {}  # a URL -> the first article seen with it as a related URL
    owners: dict[str, list[str]] = {}
    for article, (own, related) in graph.items():
        for url in related:
            first = edges.setdefault(url, article)
            if first != article:
                union(first, article)
        for url in own:
            owners.setdefault(url, []).append(article)
    for url, first in edges.items():
        for article in owners.get(url, ()):
            union(first, article)
    for group in joined:
        for article in group[1:]:
            union(group[0], article)
    firsts: dict[str, str] = {}
    for article, key in (together or {}).items():
        union(firsts.setdefault(key, article), article)
    groups: dict[str, list[str]] = {}
    for article in graph:
        groups.setdefault(find(article), []).append(article)
    return sorted(sorted(members) for members in groups.values())


def run_sync(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never really awaits (a LinkSource over memory) to its end, here."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a synchronous link source awaited")


def summarize(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a story serves, from all of its articles (any order); DESIGN "Stories, exactly".

    Written for large stories (a write re-summarizes every story it touches):
    one pass, tallies by Counter.update over lists (counted in C).
    """
    stored: set[str] = set()
    domains: list[str] = []
    topics: Counter[str] = Counter()
    dates: list[str] = []
    items: list[Mapping[str, Any]] = []
    for doc in docs:
        get = doc.get
        stored.update(own_urls(doc))
        if domain := _domain(get("provider")):
            domains.append(domain)
        if get("topics"):
            topics.update(_topics(doc))
        if isinstance(date := get("publishedDateTime"), str):
            dates.append(date)
        if get("related"):
            items.extend(related_items(doc))
    coverage: set[str] = set()
    for item in items:
        get = item.get
        if domain := _domain(get("provider")):
            domains.append(domain)
        urls = [url for field in RELATED_URL_FIELDS if isinstance(url := get(field), str) and url]
        if urls and stored.isdisjoint(urls):
            coverage.add(urls[0])
    providers = Counter(domains)
    count = len(docs)
    return {
        "id": min(doc["id"] for doc in docs),
        "headline": (best := min(docs, key=_headline_rank)).get("title"),  # None only for a damaged document
        # The headline article's rank (id, quality, publishedDateTime): lets ``revise`` compare without it.
        "headlineOf": [best["id"], best.get("quality"), best.get("publishedDateTime")],
        "articleCount": count,
        "coverageCount": count + len(coverage),
        "firstPublishedDateTime": min(dates) if dates else None,
        "lastPublishedDateTime": max(dates) if dates else None,
        "providers": [[domain, n] for domain, n in sorted(providers.items(), key=lambda dc: (-dc[1], dc[0]))],
        "topics": [[topic, n] for topic, n in sorted(topics.items(), key=lambda tc: (-tc[1], tc[0]))],
    }


def revise(
    summary: Mapping[str, Any], before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """``summary`` with some of its articles replaced by new versions (``before[n]`` -> ``after[n]``,
    same ids, same story), or None when only ``summarize`` over every article can tell.

    What a story's other articles decide (coverage, dates, the headline when the
    new versions rank lower) cannot change when every new version keeps its URLs,
    its related items' URLs and its date, so the count-like fields are updated by
    difference: a large story costs its changed articles, not all of its articles.
    """
    if not isinstance(summary.get("headlineOf"), list):
        return None
    for old, new in zip(before, after):
        if own_urls(old) != own_urls(new) or _item_urls(old) != _item_urls(new):
            return None
        if old.get("publishedDateTime") != new.get("publishedDateTime"):
            return None
        if new["id"] == summary["headlineOf"][0] and new.get("quality") != old.get("quality"):
            return None
    providers = Counter(dict(summary["providers"]))
    topics = Counter(dict(summary["topics"]))
    providers.subtract(_domains(before))
    providers.update(_domains(after))
    topics.subtract([topic for doc in before for topic in _topics(doc)])
    topics.update([topic for doc in after for topic in _topics(doc)])
    head_id, quality, published = summary["headlineOf"]
    best = {"id": head_id, "quality": quality, "publishedDateTime": published, "title": summary["headline"]}
    for doc in after:
        if doc["id"] == head_id or _headline_rank(doc) < _headline_rank(best):
            best = doc
    return {
        **summary,
        "headline": best.get("title"),
        "headlineOf": [best["id"], best.get("quality"), best.get("publishedDateTime")],
        "providers": [[d, n] for d, n in sorted(providers.items(), key=lambda dc: (-dc[1], dc[0])) if n > 0],
        "topics": [[t, n] for t, n in sorted(topics.items(), key=lambda tc: (-tc[1], tc[0])) if n > 0],
    }


def _item_urls(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(item.get(field) or "") for field in RELATED_URL_FIELDS) for item in related_items(doc))


def _domains(docs: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    for doc in docs:
        for owner in [doc.get("provider"), *(item.get("provider") for item in related_items(doc))]:
            if domain := _domain(owner):
                out.append(domain)
    return out


def provider_domains(summary: Mapping[str, Any]) -> list[str]:
    """Story.providers: the domains, most occurrences first, ties by domain."""
    return [domain for domain, _ in summary["providers"]]


def top_topics(summary: Mapping[str, Any], first: int | None) -> list[tuple[str, int]]:
    """Story.topics(first:): most frequent first, ties by value; default first 20."""
    return [(value, count) for value, count in summary["topics"][: DEFAULT_TOPICS if first is None else first]]


def _headline_rank(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    quality, published = doc.get("quality"), doc.get("publishedDateTime")
    quality = quality if isinstance(quality, int) else None
    published = published if isinstance(published, str) else None
    return (quality is None, -(quality or 0), published is None, published or "", doc["id"])
