"""A real `newsgraph serve` (uvicorn on 127.0.0.1, tests/server.py) over a temp
TinyDB seeded from seeds/, for the tests that drive it from outside: a browser
(test_browser.py), real GraphQL clients (test_clients.py), the GraphiQL page
(test_graphiql.py). Besides the shipped seed it writes a few generated
articles, so paging has pages to walk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SEEDS, newsgraph
from server import Server, running_server

SEED_ARTICLE_ID = "9a7be0820e1ffd4a"
SEED_ARTICLE_TITLE = "City releases dozens of pages of emails on police use of facial recognition"
EXTRA_ARTICLES = 5
"""Generated articles: with the seed, 6 articles, 2 of them by thelensnola.org."""


def need(ready: bool, reason: str) -> None:
    """Skip when a tool a test drives is not installed; in CI (CI=true) fail instead,
    so a missing setup step cannot pass as a skipped test."""
    if ready:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the setup scripts must have installed it)", pytrace=False)
    pytest.skip(reason)


def write_extra_articles(folder: Path, count: int = EXTRA_ARTICLES) -> None:
    """Seed files for `count` generated articles: one by the seed's provider, the rest by two others."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        domain, name = ("thelensnola.org", "The Lens") if n == 1 else (f"example{n % 2}.org", f"Example {n % 2}")
        (folder / f"{n:03d}_extra{n}.md").write_text(
            "---\n"
            f'title: "Generated article {n} about city council budgets"\n'
            f'excerpt: "Number {n} of the generated articles."\n'
            f"publishedDateTime: 2021-0{n}-01T12:00:00Z\n"
            f'webUrl: "https://{domain}/extra/{n}"\n'
            "type: article\n"
            f"quality: {10 * n}\n"
            "published: true\n"
            f"provider:\n  name: {name}\n  domain: {domain}\n"
            "topics:\n  - Budgets\n"
            f'images:\n  - url: "https://{domain}/extra/{n}.jpg"\n    width: 800\n    height: 600\n'
            "---\n"
            f"Body of generated article {n}.\n",
            encoding="utf-8",
        )


@contextlib.contextmanager
def live_server(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Seed workdir/db.json from seeds/ plus generated articles, then serve it (tests/server.py)."""
    db = workdir / "db.json"
    extra = workdir / "extra-seeds"
    write_extra_articles(extra)
    seeded = newsgraph("seed", str(SEEDS), str(extra), "--db", str(db), "--quiet")
    assert seeded.returncode == 0, seeded.stderr
    with running_server(db, *args, env=env) as server:
        yield server
