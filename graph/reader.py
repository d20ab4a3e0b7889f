"""The reader app served at /: a news reader on the API, built from frontend/.

``scripts/setup-frontend.sh`` builds it into graph/reader_static/ (git-ignored):
index.html, which every reader URL answers with so that deep links work (the
app routes in the browser), and assets/ named by their content's hash, served
with a year of caching (and their gzip copies to clients that accept gzip).
Without the build, / answers a short page that says how to build it; with
``NEWSGRAPH_FRONTEND=false`` the reader is off and / is a 404 that says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from graph.graphiql import BundleFiles

BUNDLE_DIR = Path(__file__).resolve().parent / "reader_static"
"""Where scripts/setup-frontend.sh puts the built reader (git-ignored)."""

MANIFEST = "reader.json"
ASSETS_PATH = "/assets"
IMMUTABLE = "public, max-age=31536000, immutable"
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

NOT_BUILT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsgraph · reader not built</title>
<link rel="icon" href="data:,">
</head>
<body>
<main>
<h1>The reader app is not built</h1>
<p>This server has no built reader to show here. To build it, run <code>make serve</code>,
or <code>scripts/setup-frontend.sh</code> in the newsgraph checkout (it needs Node.js and npm),
then reload this page.</p>
<p>The GraphQL API and GraphiQL are at <a href="graphql">/graphql</a>.</p>
</main>
</body>
</html>
"""

OFF_HINT = (
    "Not Found: the reader app is turned off on this server (NEWSGRAPH_FRONTEND=false); "
    "the GraphQL API is at /graphql"
)


def bundle_manifest(directory: Path | None = None) -> dict[str, Any] | None:
    """The built reader's manifest, or None when it is not (completely) built."""
    directory = directory or BUNDLE_DIR
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not all((directory / name).is_file() for name in manifest.get("files", [])):
        return None
    return manifest


class AssetFiles(BundleFiles):
    """The hashed assets: a file's name changes with its content, so browsers keep it for a year."""

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE
        return response


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def is_reader_path(path: str) -> bool:
    """The URLs the app routes in the browser (frontend/src/main.tsx): /, /search and one page a thing."""
    if path in ("/", "/search"):
        return True
    kind, _, rest = path.lstrip("/").partition("/")
    return kind in PAGES and rest != ""


PAGES = frozenset({"article", "story", "provider", "topic"})


def reader_page(directory: Path) -> Any:
    """The endpoint: index.html for every URL the app routes, so that deep links work; other
    paths stay a plain 404, as before the reader."""

    async def page(request: Request) -> Response:
        if not is_reader_path(request.url.path):
            return PlainTextResponse("Not Found", 404)
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse(f"{request.method} is not allowed here", 405, {"Allow": "GET, HEAD"})
        if bundle_manifest(directory) is None:
            return HTMLResponse(NOT_BUILT, 503, headers={"Cache-Control": "no-store"})
        # Revalidated on every visit: the page names the current assets.
        return HTMLResponse((directory / "index.html").read_bytes(), headers={"Cache-Control": "no-cache"})

    return page


async def reader_off(request: Request) -> Response:
    if wants_html(request) or "application/json" not in request.headers.get("accept", ""):
        return PlainTextResponse(OFF_HINT, 404)
    return JSONResponse({"error": "not found", "hint": OFF_HINT}, 404)


def reader_routes(enabled: bool, directory: Path | None = None) -> list[BaseRoute]:
    """The routes of the reader, to come after every other route (the page answers any path)."""
    if not enabled:
        return [Route("/", reader_off, methods=["GET", "HEAD"])]
    directory = directory or BUNDLE_DIR
    return [
        Mount(ASSETS_PATH, app=AssetFiles(directory=directory / "assets", check_dir=False), name="reader-assets"),
        # Every method: the endpoint answers 404 off the app's URLs (as before the reader), 405 on them.
        Route("/{path:path}", reader_page(directory), methods=ANY_METHOD, name="reader"),
    ]
