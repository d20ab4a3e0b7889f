"""The GraphiQL page served to browsers on GET /graphql, with an example query preloaded."""

from __future__ import annotations

import json

EXAMPLE_QUERY = """# Welcome to newsgraph. Press the run button (or Ctrl-Enter).
query LatestArticles($first: Int = 5) {
  articles(first: $first, where: { title: { contains: "facial" } }) {
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

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsgraph · GraphiQL</title>
<style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({{ url: window.location.pathname }});
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{ fetcher, defaultQuery: {query} }})
  );
</script>
</body>
</html>
"""


def graphiql_page() -> str:
    return _PAGE.format(query=json.dumps(EXAMPLE_QUERY).replace("</", "<\\/"))
