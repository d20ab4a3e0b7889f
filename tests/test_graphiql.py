"""The GraphiQL page: its examples, the offline bundle and the CDN fallback, the static files."""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from graph.documents import parse_file
from graph.graphiql import (
    BUNDLE_DIR,
    EXAMPLE_QUERY,
    EXAMPLES,
    STATIC_PATH,
    bundle_manifest,
    cdn_page,
    graphiql_page,
    static_files,
)
from conftest import SEEDS
from live_server import SEED_ARTICLE_ID, SEED_ARTICLE_TITLE, live_server, need, write_extra_articles
from server import threaded_server

CONFIG = re.compile(r'<script id="newsgraph-graphiql-config" type="application/json">(.*?)</script>', re.S)


def page_config(page: str) -> dict[str, Any]:
    match = CONFIG.search(page)
    assert match, page
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def seed_documents(tmp_path: Path) -> list[dict[str, Any]]:
    write_extra_articles(tmp_path / "extra")
    paths = sorted(SEEDS.iterdir()) + sorted((tmp_path / "extra").iterdir())
    return [parse_file(path, path.read_bytes()) for path in paths]


# ---- the examples ---------------------------------------------------------------------


def test_every_example_runs_on_the_shipped_seed(tmp_path: Path, api_for: Any) -> None:
    api = api_for(seed_documents(tmp_path))
    answers = {e.title: api.data(e.query, json.loads(e.variables) if e.variables else None) for e in EXAMPLES}

    # The latest articles, unfiltered: the five generated ones (2021) before the seed (2020).
    latest = answers["Latest articles"]["articles"]
    assert latest["totalCount"] == 6
    assert latest["facets"]["topics"] == [
        {"value": "Budgets", "count": 5}, {"value": "AI", "count": 1}, {"value": "Computer Vision", "count": 1}
    ]
    assert [n["id"] for n in latest["nodes"]] == ["extra5", "extra4", "extra3", "extra2", "extra1"]
    assert latest["pageInfo"]["hasNextPage"] is True
    assert latest["nodes"][4]["provider"] == {"name": "The Lens", "domain": "thelensnola.org", "articleCount": 2}
    assert latest["nodes"][0]["images"][0]["width"] == 800
    # On the shipped seed alone it is the seed article, with everything the query asks for.
    (node,) = api_for([seed_documents(tmp_path)[0]]).data(EXAMPLE_QUERY)["articles"]["nodes"]
    assert (node["id"], node["title"]) == (SEED_ARTICLE_ID, SEED_ARTICLE_TITLE)
    assert node["images"][0]["width"] == 2560
    assert [r["provider"]["domain"] for r in node["related"]] == ["nola.com", "aclu.org"]

    traversal = answers["Traversal"]["article"]
    assert [r["provider"]["articles"]["totalCount"] for r in traversal["related"]] == [0, 0]
    assert traversal["provider"]["articleCount"] == 2

    assert [n["id"] for n in answers["Filters"]["articles"]["nodes"]] == [SEED_ARTICLE_ID]
    assert [n["id"] for n in answers["Search"]["articles"]["nodes"]] == [SEED_ARTICLE_ID]

    paging = answers["Paging"]["articles"]
    assert [e["node"]["id"] for e in paging["edges"]] == [SEED_ARTICLE_ID, "extra1"]
    assert paging["pageInfo"]["hasNextPage"] is True

    facets = answers["Facets"]
    assert facets["articles"]["totalCount"] == 6
    assert facets["articles"]["facets"]["topics"][0] == {"value": "Budgets", "count": 5}
    assert facets["providers"]["totalCount"] == 5

    stories = answers["Stories"]["stories"]
    assert stories["totalCount"] == 6  # no article shares coverage: a story each
    assert [n["articleCount"] for n in stories["nodes"]] == [1] * 5
    assert stories["nodes"][0]["articles"]["nodes"][0]["id"] == stories["nodes"][0]["id"]


def test_the_first_example_is_the_welcome_query_with_the_latest_articles_and_a_facet() -> None:
    assert EXAMPLES[0].query == EXAMPLE_QUERY
    for part in ("provider {", "images(", "related(", "facets {"):
        assert part in EXAMPLE_QUERY
    assert "where:" not in EXAMPLE_QUERY and "search:" not in EXAMPLE_QUERY  # the latest articles, whatever they are
    assert [e.title for e in EXAMPLES] == ["Latest articles", "Traversal", "Filters", "Search", "Paging", "Facets", "Stories"]
    # Each tab is named by its operation, so every example names one, and differently.
    names = [re.search(r"^query (\w+)", e.query, re.M) for e in EXAMPLES]
    assert all(names) and len({n.group(1) for n in names if n}) == len(EXAMPLES)
    # The comment lines fit the editor without scrolling.
    assert max(len(line) for e in EXAMPLES for line in e.query.splitlines() if line.startswith("#")) <= 56


# ---- the page: bundle or CDN -----------------------------------------------------------


def fake_bundle(directory: Path) -> dict[str, Any]:
    """A bundle directory shaped like scripts/setup-graphiql.sh's output (small made-up files)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = b"console.log('graphiql');\n" * 200
    (directory / "graphiql.js").write_bytes(script)
    (directory / "graphiql.js.gz").write_bytes(gzip.compress(script))
    (directory / "graphiql.css").write_bytes(b"body { margin: 0 }\n")
    manifest = {"files": ["graphiql.js", "graphiql.css"], "sha256": "0123456789abcdef" * 4}
    (directory / "graphiql.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def test_the_bundled_page_loads_only_from_this_server(tmp_path: Path) -> None:
    fake_bundle(tmp_path)
    page = graphiql_page(tmp_path)
    assert '<link rel="stylesheet" href="graphql/static/graphiql.css?v=0123456789ab">' in page
    assert '<script src="graphql/static/graphiql.js?v=0123456789ab"></script>' in page
    assert "https://" not in page
    config = page_config(page)
    assert config == {"examples": [{"title": e.title, "query": e.query, "variables": e.variables} for e in EXAMPLES]}


def test_without_the_bundle_the_page_falls_back_to_the_cdn_and_says_why_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="newsgraph"):
        first = graphiql_page(tmp_path)
        second = graphiql_page(tmp_path)
    assert first == second == cdn_page()
    assert "https://unpkg.com/graphiql@3.8.3/graphiql.min.js" in first
    assert page_config(first)["examples"][0]["query"] == EXAMPLE_QUERY
    assert [r.getMessage() for r in caplog.records] == [
        "GraphiQL is loaded from a CDN (needs internet): the offline bundle cannot be used: "
        f"{tmp_path / 'graphiql.json'} does not exist (run scripts/setup-graphiql.sh to build it)"
    ]


def test_a_broken_bundle_is_not_used_and_the_reason_names_the_file(tmp_path: Path) -> None:
    fake_bundle(tmp_path)
    (tmp_path / "graphiql.css").unlink()
    assert bundle_manifest(tmp_path) == (
        None,
        f"{tmp_path / 'graphiql.css'} is missing (run scripts/setup-graphiql.sh to rebuild it)",
    )
    (tmp_path / "graphiql.json").write_text("{not json", encoding="utf-8")
    manifest, problem = bundle_manifest(tmp_path)
    assert manifest is None
    assert problem.startswith(f"{tmp_path / 'graphiql.json'} cannot be read: ")


def test_the_config_cannot_close_its_script_element() -> None:
    page = cdn_page()
    script = CONFIG.search(page)
    assert script and "<" not in script.group(1) and "&" not in script.group(1)


# ---- the static files over HTTP ------------------------------------------------------------


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real uvicorn on 127.0.0.1 serving static_files(tmp dir) at STATIC_PATH, in a thread."""
    directory = tmp_path / "static"
    with threaded_server(Starlette(routes=[Mount(STATIC_PATH, app=static_files(directory))])) as base:
        yield f"{base}{STATIC_PATH}", directory


def test_static_files_are_404_while_the_bundle_is_not_built(static_server: tuple[str, Path]) -> None:
    url, _ = static_server
    response = httpx.get(f"{url}/graphiql.js")
    assert (response.status_code, response.text) == (404, "Not Found")


def test_static_files_serve_the_gzip_copy_to_clients_that_accept_it(static_server: tuple[str, Path]) -> None:
    url, directory = static_server
    fake_bundle(directory)
    plain = (directory / "graphiql.js").read_bytes()
    with httpx.Client() as client:
        zipped = client.get(f"{url}/graphiql.js", headers={"accept-encoding": "gzip"})
        assert zipped.status_code == 200
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["content-type"] == "text/javascript; charset=utf-8"
        assert zipped.headers["vary"] == "accept-encoding"
        assert int(zipped.headers["content-length"]) == (directory / "graphiql.js.gz").stat().st_size
        assert zipped.content == plain  # httpx decodes it
        revalidate = {"accept-encoding": "gzip", "if-none-match": zipped.headers["etag"]}
        again = client.get(f"{url}/graphiql.js", headers=revalidate)
        assert again.status_code == 304

        identity = client.get(f"{url}/graphiql.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in identity.headers
        assert identity.content == plain
        css = client.get(f"{url}/graphiql.css", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in css.headers  # no .gz beside it
        assert css.text == "body { margin: 0 }\n"
        assert client.get(f"{url}/../graphiql.py").status_code == 404


# ---- the app, as served ----------------------------------------------------------------------


def test_the_served_page_uses_the_built_bundle(tmp_path: Path) -> None:
    manifest, problem = bundle_manifest()
    need(manifest is not None, f"the GraphiQL bundle is not built: {problem}")
    assert manifest is not None
    with live_server(tmp_path) as server:
        client = server.client
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        version = manifest["sha256"][:12]
        assert f'src="graphql/static/graphiql.js?v={version}"' in page.text
        script = client.get(f"/graphql/static/graphiql.js?v={version}", headers={"accept-encoding": "gzip"})
        assert script.headers["content-encoding"] == "gzip"
        assert script.content == (BUNDLE_DIR / "graphiql.js").read_bytes()
        css = client.get("/graphql/static/graphiql.css")
        fonts = re.findall(r"url\((fonts/[0-9a-f]{16}\.woff2)\)", css.text)
        assert fonts and "data:font" not in css.text
        font = client.get(f"/graphql/static/{fonts[0]}")
        assert (font.status_code, font.headers["content-type"]) == (200, "font/woff2")
    assert "GraphiQL is loaded from a CDN" not in server.log()


def test_the_built_bundle_is_small_and_says_what_it_holds() -> None:
    manifest, problem = bundle_manifest()
    need(manifest is not None, f"the GraphiQL bundle is not built: {problem}")
    assert manifest is not None
    assert set(manifest["packages"]) == {
        "graphiql", "@graphiql/plugin-explorer", "@graphiql/toolkit", "graphql-ws", "react", "react-dom", "graphql"
    }
    pinned = json.loads((Path(__file__).resolve().parent.parent / "graphiql" / "package.json").read_text())
    assert manifest["packages"] == pinned["dependencies"]
    # A production build: minified, no development React, within a budget worth noticing when broken.
    assert manifest["sizes"]["graphiql.js"]["gzip"] < 600 * 1024
    assert manifest["sizes"]["graphiql.css"]["gzip"] < 40 * 1024  # fonts are files of their own
    script = (BUNDLE_DIR / "graphiql.js").read_text(encoding="utf-8")
    assert "Minified React error" in script  # React's production build
    assert len(script) / (script.count("\n") + 1) > 1000  # minified: long lines
