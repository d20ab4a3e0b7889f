"""Stories kept current by the real seed command, across database files and schemas written before stories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from conftest import Api, newsgraph, opened_snapshot

from graph.store.tinydb.store import TinyDBStore

FRONT = """---
title: {title}
webUrl: https://x.test/{name}
publishedDateTime: 2020-01-0{day}T00:00:00Z
{related}---
Body.
"""


def _write(folder: Path, name: str, day: int, links: tuple[str, ...] = ()) -> None:
    related = "related:\n" + "".join(f"  - title: About {n}\n    webUrl: https://x.test/{n}\n" for n in links) if links else ""
    (folder / f"{name}.md").write_text(FRONT.format(title=name.upper(), name=name, day=day, related=related), encoding="utf-8")


def _stories(db: Path) -> dict[str, list[str]]:
    snapshot = opened_snapshot(db)
    groups: dict[str, list[str]] = {}
    for article_id, story in zip(snapshot.columns["id"], snapshot.columns["story"]):
        groups.setdefault(story, []).append(article_id)
    return groups


def test_seed_merges_and_splits_stories_in_a_running_database(tmp_path: Path) -> None:
    seeds, db = tmp_path / "seeds", tmp_path / "db" / "newsgraph.json"
    seeds.mkdir()
    for day, name in enumerate("abcd", 1):
        _write(seeds, name, day)
    assert newsgraph("seed", str(seeds), "--db", str(db), "--quiet").returncode == 0
    assert _stories(db) == {"a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]}
    _write(seeds, "d", 4, ("a", "c"))  # d covers a and c: one story
    assert newsgraph("seed", str(seeds), "--db", str(db), "--quiet").returncode == 0
    assert _stories(db) == {"a": ["a", "c", "d"], "b": ["b"]}
    (seeds / "d.md").unlink()  # pruned: a and c fall apart again
    assert newsgraph("seed", str(seeds), "--db", str(db), "--quiet", "--prune").returncode == 0
    assert _stories(db) == {"a": ["a"], "b": ["b"], "c": ["c"]}
    # The server's snapshot from the side file and one decoded from the database agree.
    (db.parent / f".{db.name}.snapshot").unlink()
    assert _stories(db) == {"a": ["a"], "b": ["b"], "c": ["c"]}


def test_a_database_written_before_stories_is_grouped_whole(tmp_path: Path, run: Any) -> None:
    db = tmp_path / "db" / "newsgraph.json"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _write(seeds, "a", 1)
    _write(seeds, "b", 2, ("a",))
    assert newsgraph("seed", str(seeds), "--db", str(db), "--quiet").returncode == 0
    data = orjson.loads(db.read_bytes())
    del data["stories"]  # as an older newsgraph wrote it
    db.write_bytes(orjson.dumps(data))
    _write(seeds, "c", 3)
    assert newsgraph("seed", str(seeds), "--db", str(db), "--quiet").returncode == 0
    assert _stories(db) == {"a": ["a", "b"], "c": ["c"]}
    store = TinyDBStore(db)
    run(store.open())
    try:
        data = Api(store, run).data('{ story(id: "b") { id articleCount coverageCount } }')
    finally:
        run(store.close())
    assert data == {"story": {"id": "a", "articleCount": 2, "coverageCount": 2}}


def test_the_stories_migration_groups_the_articles_already_stored(pg_url: str, run: Any) -> None:
    import pg
    import psycopg

    from conftest import article
    from graph.store.postgres.store import PostgresStore

    with pg.fresh_schema(pg_url) as url:
        store = PostgresStore(url, max_size=2)
        run(store.open())
        run(store.write([article(id="a", title="A", webUrl="https://x.test/a"), article(id="b", title="B", related=[{"title": "r", "webUrl": "https://x.test/a"}])], []))
        run(store.close())
        with psycopg.connect(url, autocommit=True) as conn:  # back to the schema before stories
            conn.execute("DROP TABLE ng_story_links, ng_story_articles, ng_stories")
            conn.execute("DELETE FROM ng_migrations WHERE version = 4")
        store = PostgresStore(url, max_size=2)
        run(store.open())
        try:
            data = Api(store, run).data('{ stories { nodes { id articleCount } } story(id: "b") { id } }')
        finally:
            run(store.close())
    assert data == {"stories": {"nodes": [{"id": "a", "articleCount": 2}]}, "story": {"id": "a"}}
