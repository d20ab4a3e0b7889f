"""datasette + datasette-graphql over SQLite, as a peer in benchmarks.mix.

datasette, datasette-graphql and sqlite-utils are pip-installed into their own
venv, benchmarks/.work/datasette-venv (not project dependencies);
datasette_build.py builds the SQLite file from the same stored documents
newsgraph serves (FTS5 for search). datasette-graphql has no facets and one
sort column (ties by primary key), so (g) and (h) ask for totalCount and nodes
only here (said in the output).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.http_bench import WORK, Server, free_port, post_raw

HERE = Path(__file__).resolve().parent
VENV = WORK / "datasette-venv"
PYTHON = VENV / "bin" / "python"
PACKAGES = ("datasette==0.65.5", "datasette-graphql==2.2", "sqlite-utils==4.2.1")

ARTICLE_BY_ID = """query ArticleById($id: String!, $related: Int!) {
  articles_row(id: $id) {
    id title excerpt published_date_time quality topics
    provider_domain { name domain }
    images_list(first: 100) { nodes { url width height } }
    related_list(first: $related) { nodes { title web_url published_date_time provider_domain { name domain } } }
  }
}"""
PROVIDER_PAGE = """query ProviderPage($domain: String!, $before: String!, $after: String) {
  articles(filter: [{provider_domain: {eq: $domain}}, {published_date_time: {lt: $before}}],
           sort_desc: published_date_time, first: 20, after: $after) {
    edges { cursor node { id title published_date_time images_list(first: 1) { nodes { url } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TOPIC_QUALITY = """query TopicQuality($topic: String!, $gte: Int!, $lte: Int!) {
  articles(filter: [{topics: {arraycontains: $topic}}, {quality: {gte: $gte, lte: $lte}}],
           sort_desc: published_date_time, first: 20) {
    totalCount
    nodes {
      id title published_date_time quality
      provider_domain { name domain }
      images_list(first: 100) { nodes { url width height } }
      related_list(first: 10) { nodes { title web_url provider_domain { name } } }
    }
  }
}"""
WINDOW_BY_QUALITY = """query WindowByQuality($from: String!, $to: String!) {
  articles(filter: [{published_date_time: {gte: $from, lt: $to}}], sort_desc: quality, first: 20) {
    totalCount
    nodes { id title quality published_date_time provider_domain { name } }
  }
}"""
TITLE_CONTAINS = """query TitleContains($text: String!) {
  articles(filter: [{title: {contains: $text}}], sort_desc: published_date_time, first: 20) {
    totalCount nodes { id title published_date_time }
  }
}"""
SEARCH = """query Search($q: String!) {
  articles(search: $q, first: 10) {
    totalCount nodes { id title excerpt published_date_time provider_domain { name } }
  }
}"""
SEARCH_NO_FACETS = """query SearchFacets($q: String!) {
  articles(search: $q, first: 10) { totalCount nodes { id title } }
}"""
BROAD_NO_FACETS = """query BroadFacets($from: String!, $to: String!, $quality: Int!) {
  articles(filter: [{published: {eq: 1}}, {quality: {gte: $quality}}, {published_date_time: {gte: $from, lt: $to}}],
           sort_desc: published_date_time, first: 20) {
    totalCount nodes { id title }
  }
}"""
QUERIES = {"a": ARTICLE_BY_ID, "b": PROVIDER_PAGE, "c": TOPIC_QUALITY, "d": WINDOW_BY_QUALITY, "e": TITLE_CONTAINS,
           "f": SEARCH, "g": SEARCH_NO_FACETS, "h": BROAD_NO_FACETS}
NOTE = (
    "search is SQLite FTS5 (unicode61, accents folded) over title, excerpt, body, topics, provider name and related "
    "titles, terms ANDed, the last a prefix (raw FTS5 syntax); its tokenizer differs from newsgraph's on digits, "
    "hyphens and apostrophes, so search totals may differ; datasette-graphql has NO facets: (g) and (h) ask for "
    "totalCount and 20 nodes only here, so they are not the same work as newsgraph's rows; title contains is "
    "SQLite LIKE (case-insensitive for ASCII only)"
)


def setup() -> None:
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = subprocess.run([str(PYTHON), "-c", "import datasette, datasette_graphql, sqlite_utils"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *PACKAGES], check=True)


def build(db: Path) -> Path:
    # A plain name: datasette-graphql's internal requests break on a database name with "." or "-".
    out = WORK / f"datasette_{re.sub(r'[^0-9A-Za-z]', '_', db.stem)}.db"
    if not out.exists() or out.stat().st_mtime < db.stat().st_mtime:
        subprocess.run([str(PYTHON), str(HERE / "datasette_build.py"), str(db), str(out)], check=True)
    return out


def tilde(value: str) -> str:
    """datasette's tilde encoding of a cursor component (datasette.utils.tilde_encode)."""
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return "".join(chr(b) if b in safe else "+" if b == 32 else f"~{b:02X}" for b in value.encode())


class DatasetteTarget:
    name = "datasette"
    search_note = NOTE

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url

    def body(self, kind: Any, values: dict[str, Any]) -> bytes:
        values = {k: v for k, v in values.items() if k != "page"}
        if kind.key == "b" and values.get("after"):
            date, article_id = values["after"]
            values["after"] = f"{tilde(date)},{tilde(article_id)}"
        return json.dumps({"query": QUERIES[kind.key], "variables": values}, ensure_ascii=False).encode()

    def end_cursor(self, payload: dict[str, Any]) -> str | None:
        return payload["data"]["articles"]["pageInfo"]["endCursor"]

    def total(self, kind: Any, payload: dict[str, Any]) -> int | None:
        data = payload["data"]
        if kind.key == "a":
            return 1 if data["articles_row"] else 0
        if kind.key == "b":
            return len(data["articles"]["edges"])
        return data["articles"]["totalCount"]

    def pids(self) -> list[int]:
        return [self.server.process.pid]

    def caches(self) -> None:
        return None

    def stop(self) -> None:
        self.server.stop()


def start(db: Path, corpus: Any) -> tuple[Any, dict[str, Any]]:
    from benchmarks.mix import cpu_seconds

    setup()
    sqlite = build(db)
    metadata = WORK / "datasette-metadata.json"
    name = sqlite.stem
    metadata.write_text(json.dumps({"databases": {name: {"tables": {"articles": {
        "searchmode": "raw", "plugins": {"datasette-graphql": {"json_columns": ["topics"]}}}}}}}))
    port = free_port()
    argv = [str(VENV / "bin" / "datasette"), "serve", "-i", str(sqlite), "--host", "127.0.0.1", "--port", str(port),
            "--metadata", str(metadata), "--setting", "sql_time_limit_ms", "10000",
            "--setting", "default_page_size", "20", "--setting", "max_returned_rows", "1000"]
    server = Server(argv, {}, port)
    server.url = f"http://127.0.0.1:{port}/graphql/{name}"
    started = time.monotonic()
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"datasette exited: {server.process.stderr.read(2000).decode()}")
        try:
            post_raw(server.url, b'{"query": "{ __typename }"}')
            break
        except OSError:
            if time.monotonic() - started > 120:
                server.stop()
                raise RuntimeError("datasette did not answer in 120 s") from None
            time.sleep(0.1)
    target = DatasetteTarget(server)
    return target, {"datasette": lambda: cpu_seconds(target.pids())}
