// The GraphiQL page of newsgraph: GraphiQL, the explorer plugin and the example
// tabs, bundled by build.mjs so the page needs nothing from the internet.
// The page (graph/graphiql.py) puts its configuration in a JSON script tag:
// { "examples": [{ "title", "query", "variables" }, ...] }, the first opened.
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";

import "@graphiql/plugin-explorer/style.css";
import "graphiql/style.css";

const config = JSON.parse(document.getElementById("newsgraph-graphiql-config").textContent);
const endpoint = window.location.pathname;

// A plain fetch: the endpoint answers JSON for every GraphQL outcome, and
// plain text for transport errors (413, 415), which become one GraphQL error.
// Headers typed into GraphiQL's headers editor are sent along.
async function fetcher(params, options) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...options?.headers },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text}` }] };
  }
}

const explorer = explorerPlugin({ showAttribution: false });
const [first] = config.examples;

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={[explorer]}
    defaultQuery={first.query}
    defaultTabs={config.examples.map(({ query, variables }) => ({ query, variables }))}
    defaultEditorToolsVisibility={Boolean(first.variables)}
  />,
);
