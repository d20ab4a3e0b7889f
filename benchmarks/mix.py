"""The frontend mix: what a news site's pages ask, with variables never repeated within a run.

    python -m benchmarks.mix [--sizes 10000,100000] [--duration 5] [--connections 32,1]
                             [--peers postgraphile,datasette] [--kinds a,b,...]

Eight kinds of request, each a row driven by wrk (one thread, POST /graphql)
through a file of pre-generated request bodies, one body a request, all
distinct within the run (more bodies than the row can send; a row that wraps
around is flagged ``WRAPPED``):

  (a) article by id with provider, images and related items;
  (b) a provider's articles newest first, pages 1 to 5 by cursor (each chain
      starts before its own moment; the cursor of page k+1 is the end cursor
      of page k, computed the way graph/paging.py encodes cursors and
      checked against the server on a sample of chains before the row);
  (c) a topic and a quality range, 20 articles with provider, images,
      related and totalCount;
  (d) a 30-day window ordered by QUALITY DESC, with totalCount;
  (e) title contains a word (or a part of one) drawn from titles;
  (f) a search of 1-3 words, the last one a prefix (``wor*``), 10 results
      with totalCount;
  (g) the same kind of search with facets;
  (h) a broad filter (published, a minimum quality, a 1-2 year window) with
      every facet;
  (i) the stories with an article in a 30-day window (headline, providers,
      coverageCount), 20 + totalCount;
  (j) the search of (f) with two snippets per result;
  (k) that search with one of an article's topics picked and a sidebar of
      disjunctive facets (topics, providers with names, categories, months).
  (i)-(k) use fields of the next contract that no peer has: newsgraph alone.

newsgraph runs with the response cache off (NEWSGRAPH_RESPONSE_CACHE=0) and
/metrics on; beside every row the hit rate of each server cache during that
row (from /metrics before and after), and the CPU seconds every server process
used during it (/proc/PID/stat, children included; for PostgreSQL every
process of the cluster). Peers (``--peers``) run the same kinds on the same
corpus, see benchmarks/peers/.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.http_bench import WORK, WRK_DONE, Result, Server, newsgraph_server, post_raw, prepare, run_wrk
from graph.paging import encode_cursor
from graph.paging import OrderKey

WARM_SECONDS = 1.0  # of each kind, with bodies of its own, before a server's rows (JITs, plan caches, pools)
CHECKED = 5  # bodies of each kind sent before the rows: checked for errors, totalCount compared across servers
CHAIN_PAGES = 5
PAGE_ORDER = (OrderKey("publishedDateTime", True), OrderKey("id"))
# Bodies per row and second of --duration: above what each kind reached on this machine, so no row wraps.
BODIES_PER_SECOND = {"a": 9000, "b": 6000, "c": 4000, "d": 3000, "e": 2000, "f": 3000, "g": 2000, "h": 1000,
                     "i": 2000, "j": 2000, "k": 2000}
CACHES = ("response", "persisted_queries", "parsed_documents", "plan", "match", "facet", "provider_match",
          "decoded_documents")
CACHE_SHORT = {"response": "resp", "persisted_queries": "apq", "parsed_documents": "parse", "plan": "plan",
               "match": "match", "facet": "facet", "provider_match": "prov", "decoded_documents": "docs"}

ARTICLE_BY_ID = """query ArticleById($id: ID!, $related: Int!) {
  article(id: $id) {
    id title excerpt publishedDateTime quality topics
    provider { name domain }
    images { url width height }
    related(first: $related) { title webUrl publishedDateTime provider { name domain } }
  }
}"""
PROVIDER_PAGE = """query ProviderPage($domain: String!, $before: DateTime!, $after: String) {
  articles(where: {provider: {domain: {eq: $domain}}, publishedDateTime: {lt: $before}}, first: 20, after: $after) {
    edges { cursor node { id title publishedDateTime images(first: 1) { url } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TOPIC_QUALITY = """query TopicQuality($topic: String!, $gte: Int!, $lte: Int!) {
  articles(where: {topics: {has: $topic}, quality: {gte: $gte, lte: $lte}}, first: 20) {
    totalCount
    nodes {
      id title publishedDateTime quality
      provider { name domain }
      images { url width height }
      related { title webUrl provider { name } }
    }
  }
}"""
WINDOW_BY_QUALITY = """query WindowByQuality($from: DateTime!, $to: DateTime!) {
  articles(where: {publishedDateTime: {gte: $from, lt: $to}}, orderBy: [{field: QUALITY, direction: DESC}], first: 20) {
    totalCount
    nodes { id title quality publishedDateTime provider { name } }
  }
}"""
TITLE_CONTAINS = """query TitleContains($text: String!) {
  articles(where: {title: {contains: $text}}, first: 20) { totalCount nodes { id title publishedDateTime } }
}"""
SEARCH = """query Search($q: String!) {
  articles(search: $q, first: 10) { totalCount nodes { id title excerpt publishedDateTime provider { name } } }
}"""
SEARCH_FACETS = """query SearchFacets($q: String!) {
  articles(search: $q, first: 10) {
    totalCount
    nodes { id title }
    facets {
      topics(first: 10) { value count } providers(first: 10) { value count }
      quality { count min max avg } histogram(interval: MONTH) { value count }
    }
  }
}"""
BROAD_FACETS = """query BroadFacets($from: DateTime!, $to: DateTime!, $quality: Int!) {
  articles(where: {published: {eq: true}, quality: {gte: $quality}, publishedDateTime: {gte: $from, lt: $to}}, first: 20) {
    totalCount
    nodes { id title }
    facets {
      topics { value count } providers { value count } categories { value count } types { value count }
      published { value count } quality { count min max avg } heat { count min max avg }
      publishedDateTime { min max } histogram(interval: MONTH) { value count }
    }
  }
}"""

# The kinds of the next contract (issue 15): the peers have no such fields, so newsgraph alone runs them.
STORIES_PAGE = """query StoriesPage($from: DateTime!, $to: DateTime!) {
  stories(where: {publishedDateTime: {gte: $from, lt: $to}}, first: 20) {
    totalCount
    nodes { id headline articleCount coverageCount providers { name } lastPublishedDateTime }
  }
}"""
SEARCH_SNIPPETS = """query SearchSnippets($q: String!) {
  articles(search: $q, first: 10) {
    totalCount
    nodes { id title snippets(search: $q, first: 2) { field text highlights { start end } } }
  }
}"""
SEARCH_SIDEBAR = """query SearchSidebar($q: String!, $topic: String!) {
  articles(search: $q, where: {topics: {has: $topic}}, first: 10) {
    totalCount
    nodes { id title }
    disjunctiveFacets {
      topics(first: 10) { value count } providers(first: 10) { value count provider { name } }
      categories { value count } histogram(interval: MONTH) { value count }
    }
  }
}"""


@dataclass(frozen=True)
class Kind:
    key: str
    name: str
    query: str
    search: bool = False  # peers' search semantics differ (said beside the checks)
    newsgraph_only: bool = False  # fields of the next contract, which no peer has


KINDS = (
    Kind("a", "(a) article by id", ARTICLE_BY_ID),
    Kind("b", "(b) provider pages 1-5", PROVIDER_PAGE),
    Kind("c", "(c) topic + quality", TOPIC_QUALITY),
    Kind("d", "(d) 30 days by quality", WINDOW_BY_QUALITY),
    Kind("e", "(e) title contains", TITLE_CONTAINS),
    Kind("f", "(f) search 1-3 words", SEARCH, search=True),
    Kind("g", "(g) search + facets", SEARCH_FACETS, search=True),
    Kind("h", "(h) broad + all facets", BROAD_FACETS),
    Kind("i", "(i) stories, 30 days", STORIES_PAGE, newsgraph_only=True),
    Kind("j", "(j) search + snippets", SEARCH_SNIPPETS, search=True, newsgraph_only=True),
    Kind("k", "(k) search + disj. facets", SEARCH_SIDEBAR, search=True, newsgraph_only=True),
)


# ---- the corpus and the variables drawn from it --------------------------------------------------


@dataclass
class Corpus:
    docs: list[dict[str, Any]]
    by_provider: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # domain -> [(date, id)] newest first
    # domain -> the dates of by_provider negated as epoch seconds (ascending, for bisect)
    sort_keys: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Path, whole: bool = True) -> Corpus:
        """The database's articles by id. ``whole=False`` keeps only the fields the variables are drawn
        from (DRAWN): at 1M articles whole documents take ~15 GB, beside a server of ~8 GB; the peers
        load whole documents into their own stores."""
        docs = sorted(stored_articles(db, None if whole else DRAWN), key=lambda d: d["id"])
        corpus = cls(docs)
        for d in docs:
            if d.get("provider") and d.get("publishedDateTime"):
                corpus.by_provider.setdefault(d["provider"]["domain"], []).append((d["publishedDateTime"], d["id"]))
        for items in corpus.by_provider.values():
            # newest first, ties by id ascending (PAGE_ORDER)
            items.sort(key=lambda item: item[1])
            items.sort(key=lambda item: item[0], reverse=True)
        corpus.sort_keys = {domain: [-_epoch(d) for d, _ in items] for domain, items in corpus.by_provider.items()}
        return corpus


# The fields variables() draws from.
DRAWN = ("id", "title", "excerpt", "topics", "provider", "publishedDateTime")
CHUNK_CHARS = 1 << 24


def stored_articles(db: Path, fields: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
    """The documents of a TinyDB file's "articles" table one at a time (only ``fields`` of each when
    given), read in chunks: decoding the whole file at once holds the file and every document
    together (~20 GB at 1M articles)."""
    decoder = json.JSONDecoder()
    with open(db, encoding="utf-8") as handle:
        text, at = "", 0

        def value() -> Any:  # the JSON value at `at`, reading on while it is cut off by the chunk's end
            nonlocal text, at
            while True:
                try:
                    found, at = decoder.raw_decode(text, at)
                    return found
                except json.JSONDecodeError:
                    more = handle.read(CHUNK_CHARS)
                    if not more:
                        raise
                    text, at = text[at:] + more, 0

        def punctuation() -> str:  # the next character that is not white space, consumed
            nonlocal text, at
            while True:
                while at < len(text) and text[at].isspace():
                    at += 1
                if at < len(text):
                    at += 1
                    return text[at - 1]
                text, at = handle.read(CHUNK_CHARS), 0
                if not text:
                    raise ValueError(f"{db}: the file ends inside its JSON")

        if punctuation() != "{":
            raise ValueError(f"{db}: not a TinyDB file")
        while (mark := punctuation()) != "}":
            at -= mark != ","  # the key's opening quote was consumed as punctuation
            table = value()
            punctuation()  # ':'
            if table != "articles":
                value()
                continue
            if punctuation() != "{":
                raise ValueError(f"{db}: the articles table is not an object")
            while (mark := punctuation()) != "}":
                at -= mark != ","
                value()  # the document's TinyDB number
                punctuation()
                doc = value()
                yield doc if fields is None else {k: doc[k] for k in fields if k in doc}
            return


START = datetime(2019, 1, 1, tzinfo=timezone.utc)
SPAN_MINUTES = 3 * 365 * 24 * 60
WORD = re.compile(r"[^\W\d_]{3,}")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(rng: random.Random) -> datetime:
    return START + timedelta(minutes=rng.randrange(SPAN_MINUTES))


def _distinct(make: Callable[[], Any], n: int, tries: int = 20) -> list[Any]:
    """Up to n distinct values of make() (fewer when the supply runs out)."""
    seen: set[str] = set()
    out: list[Any] = []
    misses = 0
    while len(out) < n and misses < tries * n + 1000:
        value = make()
        if value is None:
            misses += 1
            continue
        key = json.dumps(value, sort_keys=True)
        if key in seen:
            misses += 1
            continue
        seen.add(key)
        out.append(value)
    return out


def variables(kind: str, corpus: Corpus, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n distinct variable sets for a kind (for kind b: chains of CHAIN_PAGES pages, flattened)."""
    docs = corpus.docs
    if kind == "a":
        order = list(range(len(docs)))
        rng.shuffle(order)
        out = []
        for related in (10, 5, 3, 8, 1, 2, 4, 6, 7, 9):
            for i in order:
                out.append({"id": docs[i]["id"], "related": related})
                if len(out) == n:
                    return out
        return out
    if kind == "b":
        domains = sorted(corpus.by_provider, key=lambda d: -len(corpus.by_provider[d]))
        weights = [len(corpus.by_provider[d]) for d in domains]

        def chain_start() -> dict[str, Any]:
            return {"domain": rng.choices(domains, weights)[0], "before": _stamp(_moment(rng) + timedelta(days=30))}

        out = []
        for start in _distinct(chain_start, n // CHAIN_PAGES + 1):
            out += chain(corpus, start["domain"], start["before"])
            if len(out) >= n:
                break
        return out[:n]
    if kind == "c":
        topics = sorted({t for d in docs[:: max(1, len(docs) // 2000)] for t in d.get("topics") or []})

        def topic_range() -> dict[str, Any]:
            low = rng.randrange(0, 90)
            return {"topic": rng.choice(topics), "gte": low, "lte": min(100, low + rng.randrange(5, 40))}

        return _distinct(topic_range, n)
    if kind in ("d", "i"):

        def window() -> dict[str, Any]:
            start = _moment(rng)
            return {"from": _stamp(start), "to": _stamp(start + timedelta(days=30))}

        return _distinct(window, n)
    if kind == "e":

        def title_part() -> dict[str, Any] | None:
            words = WORD.findall(rng.choice(docs)["title"])
            if not words:
                return None
            word = rng.choice(words).lower()
            if len(word) > 4 and rng.random() < 0.5:
                cut = rng.randrange(4, len(word))
                word = word[:cut] if rng.random() < 0.5 else word[len(word) - cut:]
            return {"text": word}

        return _distinct(title_part, n)
    if kind in ("f", "g", "j", "k"):

        def search() -> dict[str, Any] | None:
            doc = rng.choice(docs)
            words = WORD.findall(doc["title"] + " " + (doc.get("excerpt") or ""))
            if not words or (kind == "k" and not doc.get("topics")):
                return None
            picked = rng.sample(words, min(len(words), rng.randint(1, 3)))
            last = picked[-1]
            picked[-1] = last[: rng.randint(3, max(3, len(last) - 1))] + "*"
            if kind == "k":  # a sidebar with one of the article's topics picked
                return {"q": " ".join(picked), "topic": rng.choice(doc["topics"])}
            return {"q": " ".join(picked)}

        return _distinct(search, n)
    if kind == "h":

        def broad() -> dict[str, Any]:
            start = _moment(rng) - timedelta(days=365)
            return {"from": _stamp(start), "to": _stamp(start + timedelta(days=rng.randint(365, 730))),
                    "quality": rng.randrange(0, 50)}

        return _distinct(broad, n)
    raise ValueError(kind)


def chain(corpus: Corpus, domain: str, before: str) -> list[dict[str, Any]]:
    """The variables of pages 1..CHAIN_PAGES of a provider's articles before a moment (fewer if it runs out)."""
    items = corpus.by_provider[domain]
    start = bisect.bisect_right(corpus.sort_keys[domain], -_epoch(before))  # first item strictly older than before
    pages = []
    after = None
    for page in range(CHAIN_PAGES):
        pages.append({"domain": domain, "before": before, "after": after, "page": page + 1})
        end = start + 20 * (page + 1)
        if end >= len(items):
            break
        after = list(items[end - 1])  # [date, id] of the page's last item: each server makes its cursor of it
    return pages


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


# ---- servers ---------------------------------------------------------------------------------------


class Target:
    """A server under test: how to phrase each kind for it, and what it exposes about itself."""

    name = "newsgraph"
    search_note = ""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url

    def body(self, kind: Kind, values: dict[str, Any]) -> bytes:
        values = {k: v for k, v in values.items() if k != "page"}
        if values.get("after"):
            values["after"] = encode_cursor(PAGE_ORDER, values["after"])
        return json.dumps({"query": kind.query, "variables": values}, ensure_ascii=False).encode()

    def end_cursor(self, payload: dict[str, Any]) -> str | None:
        return payload["data"]["articles"]["pageInfo"]["endCursor"]

    def total(self, kind: Kind, payload: dict[str, Any]) -> int | None:
        if kind.key == "a":
            return 1 if payload["data"]["article"] else 0
        if kind.key == "b":
            return len(payload["data"]["articles"]["edges"])
        if kind.key == "i":
            return payload["data"]["stories"]["totalCount"]
        return payload["data"]["articles"]["totalCount"]

    def pids(self) -> list[int]:
        return [self.server.process.pid]

    def caches(self) -> dict[str, tuple[float, float]] | None:
        with urllib.request.urlopen(self.url.replace("/graphql", "/metrics"), timeout=30) as response:
            text = response.read().decode()
        found: dict[str, list[float]] = {}
        for m in re.finditer(r'^newsgraph_cache_(hits|misses)_total\{cache="([^"]+)"\} (\S+)$', text, re.M):
            found.setdefault(m.group(2), [0.0, 0.0])[m.group(1) == "misses"] = float(m.group(3))
        return {name: (h, m) for name, (h, m) in found.items()}

    def stop(self) -> None:
        self.server.stop()


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of each process and of its reaped children (cutime + cstime), and of living descendants."""
    ticks = 0
    every = _all_stats()
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in every:
            continue
        seen.add(pid)
        fields = every[pid]
        ticks += sum(int(x) for x in fields[11:15])
        todo += [child for child, f in every.items() if int(f[1]) == pid]
    return ticks / os.sysconf("SC_CLK_TCK")


def _all_stats() -> dict[int, list[str]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            out[int(entry)] = text.rsplit(")", 1)[1].split()
    return out


# ---- rows ------------------------------------------------------------------------------------------


@dataclass
class Row:
    target: str
    kind: Kind
    connections: int
    result: Result
    bodies: int
    cpu: dict[str, float]
    hit_rates: dict[str, str]


def write_script(bodies_path: Path) -> str:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    with script:
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        script.write(f"bodies = {{}}\nfor line in io.lines({json.dumps(str(bodies_path))}) do bodies[#bodies + 1] = line end\n")
        script.write("i = 0\nrequest = function()\n  i = i % #bodies + 1\n")
        script.write("  return wrk.format(nil, nil, nil, bodies[i])\nend\n")
        script.write(WRK_DONE)
    return script.name


def hit_rates(before: dict[str, tuple[float, float]] | None, after: dict[str, tuple[float, float]] | None) -> dict[str, str]:
    if before is None or after is None:
        return {}
    rates = {}
    for name in CACHES:
        h0, m0 = before.get(name, (0.0, 0.0))
        h1, m1 = after.get(name, (0.0, 0.0))
        lookups = (h1 - h0) + (m1 - m0)
        rates[name] = f"{(h1 - h0) / lookups:.0%}" if lookups else "-"
    return rates


def run_row(target: Target, extra_cpu: dict[str, Callable[[], float]], kind: Kind, bodies_path: Path, count: int,
            duration: float, connections: int) -> Row:
    caches_before = target.caches()
    cpu_before = {name: read() for name, read in extra_cpu.items()}
    result = run_wrk(target.url, write_script(bodies_path), duration, connections)
    cpu = {name: read() - cpu_before[name] for name, read in extra_cpu.items()}
    return Row(target.name, kind, connections, result, count, cpu, hit_rates(caches_before, target.caches()))


def check(target: Target, kind: Kind, checked: list[dict[str, Any]]) -> list[int | None]:
    """Send the check bodies; every answer must have data and no errors. Their totals, for comparison."""
    totals = []
    for values in checked:
        try:
            raw = post_raw(target.url, target.body(kind, values))
        except urllib.error.HTTPError as exc:
            time.sleep(5)  # a server still busy with what the last row left in flight: once more
            try:
                raw = post_raw(target.url, target.body(kind, values))
            except urllib.error.HTTPError as again:
                raise RuntimeError(f"{target.name} {kind.name}: HTTP {again.code}: {again.read()[:300]!r}") from exc
        payload = json.loads(raw)
        if payload.get("errors") or payload.get("data") is None:
            raise RuntimeError(f"{target.name} {kind.name}: {raw[:500]!r} for {values}")
        totals.append(target.total(kind, payload))
    return totals


def check_cursors(target: Target, kind: Kind, chains: list[dict[str, Any]]) -> None:
    """The precomputed cursors of a few chains are the end cursors the server gives for the previous page."""
    for values in chains:
        if values.get("page", 1) >= CHAIN_PAGES:
            continue
        end_cursor = target.end_cursor(json.loads(post_raw(target.url, target.body(kind, values))))
        following = [c for c in chains if c["domain"] == values["domain"] and c["before"] == values["before"]
                     and c["page"] == values["page"] + 1]
        if following:
            ours = json.loads(target.body(kind, following[0]))["variables"]["after"]
            if ours != end_cursor:
                raise RuntimeError(f"{target.name}: precomputed cursor differs from the server's: {ours} != {end_cursor}")


def run_size(count: int, duration: float, connection_counts: list[int], kinds: list[Kind], peers: list[str],
             stores: tuple[str, ...] = ("tinydb",), pg_database: str | None = None, loop: str = "asyncio") -> dict[str, Any]:
    db = prepare(count)
    corpus = Corpus.load(db, whole=bool(peers))
    rng = random.Random(f"mix-{count}")
    rows_dir = WORK / f"mix-{count}"
    rows_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pools: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind in kinds:
        per_row = int(BODIES_PER_SECOND[kind.key] * duration)
        warm = int(BODIES_PER_SECOND[kind.key] * WARM_SECONDS)
        wanted = CHECKED * (CHAIN_PAGES if kind.key == "b" else 1) + warm + per_row * len(connection_counts)
        values = variables(kind.key, corpus, wanted, rng)
        rng.shuffle(values) if kind.key not in ("a", "b") else None
        checked_n = CHECKED * (CHAIN_PAGES if kind.key == "b" else 1)
        pool = {"check": values[:checked_n], "warm": values[checked_n : checked_n + warm]}
        rest = values[checked_n + warm :]
        share = len(rest) // len(connection_counts)
        for n, c in enumerate(connection_counts):
            pool[f"c{c}"] = rest[n * share : (n + 1) * share]
        pools[kind.key] = pool
    print(f"[{count:,}] request variables drawn in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {sum(len(v) for v in p.values()):,}" for k, p in pools.items()), flush=True)

    out: dict[str, Any] = {"count": count, "rows": [], "totals": {}, "notes": {}}
    targets: list[tuple[Callable[[], tuple[Target, dict[str, Callable[[], float]]]], str]] = []
    if "tinydb" in stores:
        targets.append((lambda: _newsgraph(db, count, loop), "newsgraph"))
    if "postgres" in stores:
        targets.append((lambda: _newsgraph_postgres(count, pg_database), NEWSGRAPH_PG))
    for peer in peers:
        from benchmarks.peers import start_peer

        targets.append((lambda peer=peer: start_peer(peer, db, corpus), peer))
    for start, name in targets:
        try:
            target, extra_cpu = start()
        except Exception as exc:  # noqa: BLE001 - a peer that cannot start is reported, not fatal
            out["notes"][name] = f"not measured: {exc}"
            print(f"[{count:,}] {name}: not measured: {exc}", file=sys.stderr, flush=True)
            continue
        try:
            if target.search_note:
                out["notes"][name] = target.search_note
            for kind in kinds:
                pool = pools[kind.key]
                if kind.newsgraph_only and not target.name.startswith("newsgraph"):
                    continue
                try:
                    if kind.key == "b":
                        check_cursors(target, kind, pool["check"])
                    out["totals"][(target.name, kind.key)] = check(target, kind, pool["check"])
                except RuntimeError as exc:
                    out["notes"][f"{target.name} {kind.name}"] = f"not measured: {exc}"
                    print(f"[{count:,}] {exc}", file=sys.stderr, flush=True)
                    continue
                warm_path = rows_dir / f"{target.name}-{kind.key}-warm.jsonl"
                warm_path.write_bytes(b"".join(target.body(kind, values) + b"\n" for values in pool["warm"]))
                run_wrk(target.url, write_script(warm_path), WARM_SECONDS, max(connection_counts))
                for c in connection_counts:
                    path = rows_dir / f"{target.name}-{kind.key}-c{c}.jsonl"
                    with open(path, "wb") as f:
                        for values in pool[f"c{c}"]:
                            f.write(target.body(kind, values) + b"\n")
                    row = run_row(target, extra_cpu, kind, path, len(pool[f"c{c}"]), duration, c)
                    out["rows"].append(row)
                    print_row(count, row, flush=True)
        finally:
            target.stop()
    return out


def _newsgraph(db: Path, count: int, loop: str = "asyncio") -> tuple[Target, dict[str, Callable[[], float]]]:
    server = newsgraph_server(db, cache=False, loop=loop, metrics=True)
    server.ready("/healthz")
    server.warm(timeout=max(300.0, count * WARM_SECONDS_PER_ARTICLE))
    target = Target(server)
    return target, {"newsgraph": lambda: cpu_seconds(target.pids())}


# Building the search index takes ~0.6 ms of a core an article (100k: ~60 s); a loaded machine, more.
WARM_SECONDS_PER_ARTICLE = 0.003

NEWSGRAPH_PG = "newsgraph-pg"


class PostgresTarget(Target):
    """newsgraph served from the PostgreSQL store, on the cluster PostGraphile uses."""

    name = NEWSGRAPH_PG


def _newsgraph_postgres(count: int, database: str | None) -> tuple[Target, dict[str, Callable[[], float]]]:
    """newsgraph over a PostgreSQL database of the corpus, on the peers' cluster (NEWSGRAPH_PG_PORT,
    NEWSGRAPH_PG_DIR): `database` as it is, or `ng_<count>`, seeded with the real CLI when it does not
    hold the corpus yet (kept between runs), then vacuumed and analyzed as autovacuum would."""
    import subprocess

    import psycopg

    from benchmarks.http_bench import ROOT
    from benchmarks.peers import postgraphile_peer

    base = postgraphile_peer.start_postgres()
    name = database or f"ng_{count}"
    url = f"{base}/{name}"
    if database is None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                admin.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(url, autocommit=True) as conn:
            try:
                stored = conn.execute("SELECT article_count FROM ng_state").fetchone()[0]
            except psycopg.Error:
                stored = None
        if stored != count:
            corpus = prepare(count).parent / f"corpus-{count}-v{_generator_version()}"
            subprocess.run([sys.executable, "-m", "graph", "seed", str(corpus), "--database-url", url, "--quiet"],
                           check=True, cwd=ROOT)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
    server = newsgraph_server(Path("/nonexistent"), cache=False, metrics=True, database_url=url)
    server.ready("/healthz")
    target = PostgresTarget(server)
    return target, {NEWSGRAPH_PG: lambda: cpu_seconds(target.pids()),
                    "postgres": lambda: cpu_seconds([postgraphile_peer.postmaster_pid()])}


def _generator_version() -> int:
    from benchmarks.generate import GENERATOR_VERSION

    return GENERATOR_VERSION


# ---- report ----------------------------------------------------------------------------------------

HEADER = (f"{'':<9}{'server':<13}{'kind':<25}{'conns':>5}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'err':>5}"
          f"{'cpu ms/req':>11}  {'cpu s':<30}caches hit rate")


def print_row(count: int, row: Row, flush: bool = False) -> None:
    r = row.result
    cpu = " ".join(f"{name} {seconds:.1f}" for name, seconds in row.cpu.items())
    per_request = 1000 * sum(row.cpu.values()) / r.requests if r.requests else 0.0
    rates = " ".join(f"{CACHE_SHORT[name]} {rate}" for name, rate in row.hit_rates.items())
    wrapped = "  WRAPPED" if r.requests > row.bodies else ""
    print(f"[{count:,}] {row.target:<13}{row.kind.name:<25}{row.connections:>5}{r.rps:>8.0f}{r.p50_ms:>9.1f}"
          f"{r.p99_ms:>9.1f}{r.errors:>5}{per_request:>11.2f}  {cpu:<30}{rates}{wrapped}", flush=flush)


def report(results: list[dict[str, Any]]) -> None:
    for result in results:
        n = result["count"]
        print(f"\n== frontend mix, {n:,} articles (variables never repeated; newsgraph response cache off)")
        print(HEADER)
        order = list(dict.fromkeys(r.target for r in result["rows"]))  # newsgraph first, then peers as asked
        most = max(x.connections for x in result["rows"])
        for row in sorted(result["rows"], key=lambda r: (r.connections != most, r.kind.key, order.index(r.target))):
            print_row(n, row)
        print("cache names: resp = response, apq = persisted queries, parse = parsed documents, plan = compiled plans,\n"
              "match = match lists, facet = facets, prov = provider lists, docs = decoded documents ('-': not used)")
        names = list(dict.fromkeys(t for t, _ in result["totals"]))  # newsgraph first
        if len(names) > 1:
            print("\ncheck: totalCount (for (a) found or not, for (b) items on the page) of the first requests of each kind")
            for kind in KINDS:
                per = {t: result["totals"].get((t, kind.key)) for t in names if (t, kind.key) in result["totals"]}
                if len(per) < 2:
                    continue
                reference = per.get("newsgraph", per.get(NEWSGRAPH_PG))
                same = all(v == reference for v in per.values())
                verdict = "same" if same else ("DIFFERENT (search semantics differ, see notes)" if kind.search else "DIFFERENT")
                print(f"  {kind.name:<25}{verdict}: " + "; ".join(f"{t} {v}" for t, v in per.items()))
        for name, note in result["notes"].items():
            print(f"note: {name}: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes, e.g. 10000,100000,1000000 (default: 10000,100000)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per row (default: 5)")
    parser.add_argument("--connections", default="32", help="connection counts, e.g. 32,1 (default: 32)")
    parser.add_argument("--kinds", default="abcdefghijk",
                        help="which kinds to run (default: abcdefghijk; i-k are newsgraph's alone)")
    parser.add_argument("--loop", default="asyncio", choices=("asyncio", "uvloop"),
                        help="newsgraph's event loop (uvicorn --loop; uvloop is not a dependency: pip install it) (default: asyncio)")
    parser.add_argument("--peers", default="", help="peers to run beside newsgraph: postgraphile,datasette (default: none)")
    parser.add_argument("--stores", default="tinydb",
                        help="newsgraph's stores to run: tinydb,postgres (default: tinydb); postgres runs on the "
                             "peers' PostgreSQL cluster (NEWSGRAPH_PG_PORT, NEWSGRAPH_PG_DIR), database ng_<size>")
    parser.add_argument("--pg-database", help="serve newsgraph-pg from this existing database instead of ng_<size>")
    parser.add_argument("--keep-postgres", action="store_true",
                        help="leave the PostgreSQL cluster running (and its databases) at the end")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("benchmarks.mix needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in KINDS if k.key in args.kinds.replace(",", "")]
    connections = [int(c) for c in args.connections.split(",") if c]
    peers = [p for p in args.peers.split(",") if p]
    stores = tuple(s for s in args.stores.split(",") if s)
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",") if s):
            results.append(run_size(size, args.duration, connections, kinds, peers, stores, args.pg_database, args.loop))
    finally:
        if (peers or "postgres" in stores) and not args.keep_postgres:
            peers = peers if "postgres" not in stores or "postgraphile" in peers else [*peers, "postgraphile"]
            from benchmarks.peers import shutdown

            shutdown(peers)
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
