"""The GraphiQL page served to browsers on GET /graphql, with example queries preloaded.

The page is GraphiQL with the explorer plugin, bundled from npm packages by
``scripts/setup-graphiql.sh`` into graph/static/ and served from there under
STATIC_PATH, so it works on a machine with no internet. When the bundle has not
been built, the page loads GraphiQL from a CDN instead and the server logs why,
once. Either way the first example opens in the first tab and every example
in EXAMPLES has a tab of its own.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import asdict, dataclass
from mimetypes import guess_type
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

log = logging.getLogger("newsgraph")

BUNDLE_DIR = Path(__file__).resolve().parent / "static"
"""Where scripts/setup-graphiql.sh puts the built bundle (git-ignored)."""

MANIFEST = "graphiql.json"
STATIC_PATH = "/graphql/static"
"""Where the app mounts static_files(); the page links it relatively, so a prefix (root_path) still works."""


@dataclass(frozen=True)
class Example:
    """One example operation: a GraphiQL tab of its own."""

    title: str
    query: str
    variables: str = ""


EXAMPLE_QUERY = """# Welcome to newsgraph. Press the run button
# (or Ctrl-Enter). More examples in the other tabs.
query LatestArticles($first: Int = 5) {
  articles(first: $first) {
    totalCount
    facets {
      topics(first: 5) { value count }
    }
    nodes {
      id
      title
      publishedDateTime
      provider { name domain articleCount }
      images(first: 1) { url width height aspectRatio }
      related(first: 3) {
        title
        provider { name domain }
        article { id title }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TRAVERSAL_QUERY = """# A traversal: an article, the providers of its
# related items, and what else they published.
query Traversal($id: ID!) {
  article(id: $id) {
    title
    topics
    provider { name domain articleCount }
    related(first: 5) {
      title
      publishedDateTime
      provider {
        name
        domain
        articles(first: 3) { totalCount nodes { id title } }
      }
      article { id title }
    }
  }
}
"""

FILTER_QUERY = """# Filters: fields and operators are ANDed; AND,
# OR, NOT combine filters; lists use some/every/none.
query Filters {
  articles(
    where: {
      publishedDateTime: { gte: "2020-01-01" }
      topics: { hasSome: ["AI", "Computer Vision"] }
      OR: [{ quality: { gte: 50 } }, { provider: { domain: { endsWith: ".org" } } }]
      images: { some: { width: { gte: 1000 } } }
      related: { some: { provider: { domain: { eq: "nola.com" } } } }
    }
    orderBy: [{ field: QUALITY, direction: DESC }]
  ) {
    totalCount
    nodes { id title quality provider { domain } }
  }
}
"""

SEARCH_QUERY = """# Full-text search: every term must match a word
# (case- and accent-folded); a term ending in *
# matches as a prefix. Ordered by relevance.
query Search($text: String!) {
  articles(search: $text, first: 10) {
    totalCount
    nodes { id title excerpt provider { name } }
  }
}
"""

PAGING_QUERY = """# Cursor paging: run, put pageInfo.endCursor into
# the "after" variable, run again until
# hasNextPage is false.
query Paging($first: Int = 2, $after: String) {
  articles(first: $first, after: $after, orderBy: [{ field: TITLE }]) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FACETS_QUERY = """# Facets: counts and statistics over every
# matching article, ignoring paging.
query Facets {
  articles(first: 0) {
    totalCount
    facets {
      topics(first: 10) { value count }
      providers(first: 10) { value count }
      categories { value count }
      types { value count }
      published { value count }
      quality { count min max avg }
      heat { count min max avg }
      publishedDateTime { min max }
      histogram(interval: MONTH) { value count }
    }
  }
  providers(first: 10) { totalCount nodes { name domain articleCount } }
  topics(first: 10) { name articleCount }
}
"""

STORIES_QUERY = """# Stories: articles grouped by the coverage
# they share, latest first.
query Stories($first: Int = 5) {
  stories(first: $first) {
    totalCount
    nodes {
      id
      headline
      articleCount
      coverageCount
      lastPublishedDateTime
      providers { name domain }
      topics(first: 5) { value count }
      articles(first: 3) { nodes { id title provider { name } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

EXAMPLES: tuple[Example, ...] = (
    Example("Latest articles", EXAMPLE_QUERY),
    Example("Traversal", TRAVERSAL_QUERY, '{\n  "id": "9a7be0820e1ffd4a"\n}\n'),
    Example("Filters", FILTER_QUERY),
    Example("Search", SEARCH_QUERY, '{\n  "text": "facial recog*"\n}\n'),
    Example("Paging", PAGING_QUERY, '{\n  "first": 2,\n  "after": null\n}\n'),
    Example("Facets", FACETS_QUERY),
    Example("Stories", STORIES_QUERY),
)


def bundle_manifest(directory: Path | None = None) -> tuple[dict[str, Any] | None, str]:
    """The built bundle's manifest, or None and why it cannot be used."""
    directory = directory or BUNDLE_DIR
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{path} does not exist (run scripts/setup-graphiql.sh to build it)"
    except (OSError, ValueError) as exc:
        return None, f"{path} cannot be read: {exc}"
    for name in manifest.get("files", []):
        if not (directory / name).is_file():
            return None, f"{directory / name} is missing (run scripts/setup-graphiql.sh to rebuild it)"
    if not isinstance(manifest.get("sha256"), str):
        return None, f"{path} has no sha256"
    return manifest, ""


_fallback_logged: set[Path] = set()
"""Bundle directories whose absence was logged: the reason is logged once, not per page view."""


READER_LINK = (
    '<a id="newsgraph-reader-link" href="./" style="position: fixed; right: 12px; bottom: 8px; z-index: 100; '
    'font: 13px system-ui, sans-serif; padding: 2px 8px; background: #fff; border-radius: 4px">'
    "News reader</a>\n"
)
"""A link from GraphiQL to the reader app at / (relative to /graphql, so a prefix still works)."""


def graphiql_page(directory: Path | None = None, reader_link: bool = False) -> str:
    """The HTML page: the bundled GraphiQL when it is built, else GraphiQL from a CDN; with
    ``reader_link``, a link to the reader app."""
    directory = directory or BUNDLE_DIR
    manifest, problem = bundle_manifest(directory)
    if manifest is not None:
        page = bundled_page(manifest["sha256"][:12])
    else:
        if directory not in _fallback_logged:
            _fallback_logged.add(directory)
            log.warning(
                "GraphiQL is loaded from a CDN (needs internet): the offline bundle cannot be used: %s", problem
            )
        page = cdn_page()
    return page.replace("</body>", READER_LINK + "</body>") if reader_link else page


def _config_json() -> str:
    """The page's configuration, safe inside a <script> element."""
    config = {"examples": [asdict(example) for example in EXAMPLES]}
    text = json.dumps(config, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsgraph · GraphiQL</title>
<link rel="icon" href="data:,">
<style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
"""

_BUNDLED = _HEAD + """<link rel="stylesheet" href="{static}/graphiql.css?v={version}">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="newsgraph-graphiql-config" type="application/json">{config}</script>
<script src="{static}/graphiql.js?v={version}"></script>
</body>
</html>
"""

# Relative to the page (/graphql), so a server mounted under a prefix works too.
_STATIC_HREF = STATIC_PATH.lstrip("/")


def bundled_page(version: str) -> str:
    """The page that loads the bundle from this server (no internet needed)."""
    return _BUNDLED.format(static=_STATIC_HREF, version=version, config=_config_json())


_CDN = _HEAD + """<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="newsgraph-graphiql-config" type="application/json">{config}</script>
<script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
<script>
  const config = JSON.parse(document.getElementById("newsgraph-graphiql-config").textContent);
  const fetcher = GraphiQL.createFetcher({{ url: window.location.pathname }});
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher,
      defaultQuery: config.examples[0].query,
      defaultTabs: config.examples.map(({{ query, variables }}) => ({{ query, variables }})),
    }})
  );
</script>
</body>
</html>
"""


def cdn_page() -> str:
    """The fallback page: GraphiQL from a CDN, without the explorer plugin."""
    return _CDN.format(config=_config_json())


class BundleFiles(StaticFiles):
    """The built bundle as static files: 404 while it is not built, and the
    build's gzip copies (name.gz) to clients that accept gzip."""

    async def check_config(self) -> None:
        # StaticFiles refuses to start without its directory; an unbuilt
        # bundle is a normal state here (the page falls back to the CDN).
        return None

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        request_headers = Headers(scope=scope)
        if "gzip" in request_headers.get("accept-encoding", ""):
            # full_path was checked to lie inside the directory; its .gz sits beside it.
            gzipped = f"{full_path}.gz"
            try:
                gz_stat: os.stat_result | None = os.stat(gzipped)
            except OSError:
                gz_stat = None
            if gz_stat is not None and stat.S_ISREG(gz_stat.st_mode):
                response: Response = FileResponse(
                    gzipped,
                    status_code=status_code,
                    stat_result=gz_stat,
                    media_type=guess_type(str(full_path))[0] or "application/octet-stream",
                    headers={"content-encoding": "gzip", "vary": "accept-encoding"},
                )
                if self.is_not_modified(response.headers, request_headers):
                    return NotModifiedResponse(response.headers)
                return response
        return super().file_response(full_path, stat_result, scope, status_code)


def static_files(directory: Path | None = None) -> BundleFiles:
    """The ASGI app that serves the bundle; the app mounts it at STATIC_PATH."""
    return BundleFiles(directory=directory or BUNDLE_DIR, check_dir=False)
