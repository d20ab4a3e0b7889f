"""The reader app as HTTP sees it (graph/reader.py): its page on the app's URLs, the hashed
assets and their caching, the built bundle's budget, NEWSGRAPH_FRONTEND=false, and the page
that says how to build it. The app itself, in a browser: test_reader_browser.py."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from graph.reader import BUNDLE_DIR, IMMUTABLE, OFF_HINT, bundle_manifest, is_reader_path, reader_routes
from live_server import SEED_ARTICLE_ID, live_server, need
from server import threaded_server

ROOT = Path(__file__).resolve().parent.parent
SETUP = "run scripts/setup-frontend.sh"
APP_URLS = ["/", f"/article/{SEED_ARTICLE_ID}", "/story/x", "/provider/thelensnola.org", "/topic/AI",
            "/search?q=facial+recog*&topic=AI", "/topic/Computer%20Vision"]


def built() -> dict:
    manifest = bundle_manifest()
    need(manifest is not None, f"the reader app is not built: {BUNDLE_DIR / 'reader.json'} is missing ({SETUP})")
    assert manifest is not None
    return manifest


def test_the_app_urls_are_its_page_and_every_other_path_is_still_a_404() -> None:
    for path in ("/", "/search", "/article/x", "/story/a/b", "/provider/nola.com", "/topic/AI"):
        assert is_reader_path(path), path
    for path in ("/graphqlx", "/article", "/article/", "/search/x", "/metrics", "/index.html", "/x/y"):
        assert not is_reader_path(path), path


def test_the_reader_is_served_at_its_urls_with_its_assets_cached_for_ever(tmp_path: Path) -> None:
    manifest = built()
    index = (BUNDLE_DIR / "index.html").read_text(encoding="utf-8")
    assets = re.findall(r'(?:src|href)="/(assets/app-[A-Z0-9]+\.(?:js|css))"', index)
    assert sorted(assets) == sorted(f for f in manifest["files"] if f.startswith("assets/"))
    with live_server(tmp_path) as server:
        client = server.client
        for url in APP_URLS:
            page = client.get(url, headers={"accept": "text/html"})
            assert (page.status_code, page.text) == (200, index), url
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert page.headers["cache-control"] == "no-cache"
        # Without asking for HTML (curl, an API client) the app's URLs are the page too.
        assert client.get("/article/x").text == index
        for name in assets:
            plain = client.get(f"/{name}", headers={"accept-encoding": "identity"})
            assert plain.status_code == 200
            assert plain.headers["cache-control"] == IMMUTABLE
            assert plain.content == (BUNDLE_DIR / name).read_bytes()
            zipped = client.get(f"/{name}", headers={"accept-encoding": "gzip"})
            assert (zipped.headers["content-encoding"], zipped.headers["cache-control"]) == ("gzip", IMMUTABLE)
            assert int(zipped.headers["content-length"]) == (BUNDLE_DIR / f"{name}.gz").stat().st_size
            assert zipped.content == plain.content
            again = client.get(f"/{name}", headers={"accept-encoding": "gzip", "if-none-match": zipped.headers["etag"]})
            assert again.status_code == 304
        # Everything else is as before the reader: 404, the API, the health check.
        for path in ("/assets/app-NOPE.js", "/nope", "/article/", "/metrics", "/index.html"):
            missing = client.get(path, headers={"accept": "text/html"})
            assert (missing.status_code, missing.text) == (404, "Not Found"), path
        assert client.post("/", content=b"{}").status_code == 405
        assert client.post("/nope", content=b"{}").status_code == 404
        assert server.data("{ article(id: $id) { id } }".replace("$id", f'"{SEED_ARTICLE_ID}"')) == {
            "article": {"id": SEED_ARTICLE_ID}
        }
        assert client.get("/healthz").json()["status"] == "ok"
        # The two faces link to each other.
        graphiql = client.get("/graphql", headers={"accept": "text/html"}).text
        assert '<a id="newsgraph-reader-link" href="./"' in graphiql
        assert '<a href="/graphql">GraphQL API</a>' in index


@pytest.mark.parametrize("how", ["env", "flag"])
def test_frontend_false_turns_the_reader_off_and_slash_says_so(tmp_path: Path, how: str) -> None:
    args, env = ((), {"NEWSGRAPH_FRONTEND": "false"}) if how == "env" else (("--no-frontend",), {})
    with live_server(tmp_path, *args, env=env) as server:
        client = server.client
        page = client.get("/", headers={"accept": "text/html"})
        assert (page.status_code, page.text) == (404, OFF_HINT)
        assert "NEWSGRAPH_FRONTEND=false" in OFF_HINT and "/graphql" in OFF_HINT
        answer = client.get("/", headers={"accept": "application/json"})
        assert (answer.status_code, answer.json()) == (404, {"error": "not found", "hint": OFF_HINT})
        for path in (f"/article/{SEED_ARTICLE_ID}", "/search?q=x", "/assets/app.js"):
            assert client.get(path, headers={"accept": "text/html"}).status_code == 404, path
        graphiql = client.get("/graphql", headers={"accept": "text/html"})
        assert graphiql.status_code == 200 and "newsgraph-reader-link" not in graphiql.text
        assert server.data("{ topic(name: \"AI\") { articleCount } }") == {"topic": {"articleCount": 1}}


@pytest.fixture
def unbuilt_reader(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn serving the reader's routes over a folder where nothing was built."""
    with threaded_server(Starlette(routes=reader_routes(True, tmp_path / "reader_static"))) as base:
        yield base


def test_without_the_build_slash_says_how_to_build_it(unbuilt_reader: str) -> None:
    for path in ("/", "/article/x", "/search?q=x"):
        page = httpx.get(unbuilt_reader + path, headers={"accept": "text/html"})
        assert page.status_code == 503, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-store"
        assert "<h1>The reader app is not built</h1>" in page.text
        assert "<code>make serve</code>" in page.text and "<code>scripts/setup-frontend.sh</code>" in page.text
        assert '<a href="graphql">/graphql</a>' in page.text
    assert httpx.get(unbuilt_reader + "/assets/app-X.js").status_code == 404


def test_a_half_built_reader_is_not_served(tmp_path: Path) -> None:
    manifest = built()
    copy = tmp_path / "reader_static"
    copy.mkdir()
    (copy / "reader.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert bundle_manifest(copy) is None  # index.html and the assets are missing
    (copy / "index.html").write_text("<!doctype html>", encoding="utf-8")
    assert bundle_manifest(copy) is None
    (copy / "assets").mkdir()
    for name in manifest["files"][1:]:
        (copy / name).write_bytes(b"")
    assert bundle_manifest(copy) == manifest


def test_the_built_bundle_is_within_its_budget_and_says_what_it_holds() -> None:
    manifest = built()
    pinned = json.loads((ROOT / "frontend" / "package.json").read_text(encoding="utf-8"))
    assert manifest["packages"] == pinned["dependencies"]
    assert set(pinned["dependencies"]) == {"preact", "@urql/core", "@urql/preact", "@urql/exchange-graphcache",
                                          "graphql-ws"}
    names = [f for f in manifest["files"] if f.startswith("assets/")]
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["css", "js"]
    total = 0
    for name in names:
        raw = (BUNDLE_DIR / name).read_bytes()
        zipped = (BUNDLE_DIR / f"{name}.gz").read_bytes()
        assert gzip.decompress(zipped) == raw
        assert manifest["sizes"][name] == {"bytes": len(raw), "gzip": len(zipped)}
        total += len(zipped)
    assert manifest["gzipTotal"] == total
    assert manifest["budget"] == 200 * 1024
    assert total <= 200 * 1024, f"the reader is {total} bytes gzipped, over its 200 KiB budget"
    script = (BUNDLE_DIR / next(n for n in names if n.endswith(".js"))).read_text(encoding="utf-8")
    assert len(script) / (script.count("\n") + 1) > 1000  # minified: long lines
    # No CDN: the bundle names no other origin to load code or styles from.
    assert not re.search(r"https?://(?!127\.0\.0\.1)[\w.-]+/[\w./-]*\.(?:js|css|woff2?)\b", script)
