"""Build the datasette peer's SQLite file from a newsgraph TinyDB file, with sqlite-utils (run in the peer's venv).

    python datasette_build.py DB_JSON OUT_SQLITE

Tables: providers, articles (topics as a JSON array, FTS5 over title, excerpt,
body and search_extra = topics, provider name and related titles, accent-folding
unicode61 tokenizer), images and related (foreign keys to articles and providers),
and the indexes the mix's filters and orderings need.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlite_utils


def build(source: Path, out: Path) -> None:
    docs = sorted(json.loads(source.read_bytes())["articles"].values(), key=lambda d: d["id"])
    tmp = out.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite_utils.Database(tmp)
    providers: dict[str, str] = {}
    for d in docs:
        for p in [d.get("provider")] + [r.get("provider") for r in d.get("related") or []]:
            if p and p.get("domain"):
                providers.setdefault(p["domain"], p.get("name") or p["domain"])
    db["providers"].insert_all(({"domain": k, "name": v} for k, v in providers.items()), pk="domain")

    def article(d: dict) -> dict:
        provider = d.get("provider") or {}
        return {
            "id": d["id"], "title": d["title"], "excerpt": d.get("excerpt"), "body": d.get("body") or "",
            "category": d.get("category"), "type": d.get("type"), "quality": d.get("quality"), "heat": d.get("heat"),
            "published": 1 if d.get("published") else 0, "published_date_time": d.get("publishedDateTime"),
            "original_url": d.get("originalUrl"), "web_url": d.get("webUrl"), "amp_web_url": d.get("ampWebUrl"),
            "cdn_amp_web_url": d.get("cdnAmpWebUrl"), "topics": json.dumps(d.get("topics") or [], ensure_ascii=False),
            "provider_domain": provider.get("domain"),
            "search_extra": " ".join([*(d.get("topics") or []), provider.get("name") or "",
                                      *(r["title"] for r in d.get("related") or [])]),
        }

    db["articles"].insert_all((article(d) for d in docs), pk="id", foreign_keys=[("provider_domain", "providers", "domain")],
                              batch_size=2000)
    db["images"].insert_all(
        ({"article_id": d["id"], "position": n, "url": i["url"], "width": i.get("width"), "height": i.get("height"),
          "is_cached": 1 if i.get("isCached") else 0} for d in docs for n, i in enumerate(d.get("images") or [])),
        pk=("article_id", "position"), foreign_keys=[("article_id", "articles", "id")], batch_size=5000)
    db["related"].insert_all(
        ({"article_id": d["id"], "position": n, "title": r["title"], "excerpt": r.get("excerpt"),
          "published_date_time": r.get("publishedDateTime"), "web_url": r.get("webUrl"), "type": r.get("type"),
          "quality": r.get("quality"), "provider_domain": (r.get("provider") or {}).get("domain")}
         for d in docs for n, r in enumerate(d.get("related") or [])),
        pk=("article_id", "position"),
        foreign_keys=[("article_id", "articles", "id"), ("provider_domain", "providers", "domain")], batch_size=5000)
    articles = db["articles"]
    articles.create_index(["provider_domain", "published_date_time"])
    articles.create_index(["published_date_time"])
    articles.create_index(["quality"])
    articles.create_index(["published", "published_date_time"])
    db["images"].create_index(["article_id"])
    db["related"].create_index(["article_id"])
    articles.enable_fts(["title", "excerpt", "body", "search_extra"], fts_version="FTS5",
                        tokenize="unicode61 remove_diacritics 2")
    db.analyze()
    db.close()
    tmp.replace(out)


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
