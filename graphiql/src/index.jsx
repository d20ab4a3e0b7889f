// The GraphiQL page of newsgraph: GraphiQL, the explorer plugin and the example
// tabs, bundled by build.mjs so the page needs nothing from the internet.
// The page (graph/graphiql.py) puts its configuration in a JSON script tag:
// { "examples": [{ "title", "query", "variables" }, ...] }, the first opened.
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { useEffect, useLayoutEffect, useRef } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "graphql-ws";

import "@graphiql/plugin-explorer/style.css";
import "graphiql/style.css";

const config = JSON.parse(document.getElementById("newsgraph-graphiql-config").textContent);
const endpoint = window.location.pathname;

// Queries go over HTTP; subscriptions over GraphQL over WebSocket (the
// graphql-ws client, subprotocol graphql-transport-ws) at the same path, ws://
// or wss:// as the page is http:// or https://. The socket opens on the first
// subscription only. The endpoint answers JSON for every GraphQL outcome, and
// plain text for transport errors (413, 415), which become one GraphQL error.
// Headers typed into GraphiQL's headers editor are sent along.
const socketUrl = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}${endpoint}`;

async function fetchJson(url, init) {
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    JSON.parse(text);
    return new Response(text, { status: response.status, headers: { "content-type": "application/json" } });
  } catch {
    const errors = [{ message: `HTTP ${response.status}: ${text}` }];
    return new Response(JSON.stringify({ errors }), { headers: { "content-type": "application/json" } });
  }
}

const fetcher = createGraphiQLFetcher({
  url: endpoint,
  headers: { accept: "application/json" },
  enableIncrementalDelivery: false,
  fetch: fetchJson,
  wsClient: createClient({ url: socketUrl, lazy: true }),
});

// The explorer (graphiql-explorer) focuses every argument input it mounts
// unless a text area has the focus, meant for an argument just added; on
// opening, with a query that has arguments, the last one wins and the panel
// opens scrolled to it. Focus that no click or key in the panel asked for is
// taken back, and the panel left at its top.
const ASKED_WITHIN_MS = 1000;

function calm(panel, input) {
  if (!(input instanceof HTMLInputElement) || !panel.contains(input)) return;
  input.blur();
  for (let element = input.parentElement; element && element !== document.body; element = element.parentElement) {
    if (element.scrollTop) element.scrollTop = 0;
  }
}

function CalmExplorer({ Explorer }) {
  const panel = useRef(null);
  // Inputs mounted with the panel itself focused themselves before any listener existed.
  useLayoutEffect(() => calm(panel.current, document.activeElement), []);
  useEffect(() => {
    const element = panel.current;
    let askedAt = -Infinity;
    const asked = () => (askedAt = performance.now());
    const focused = (event) => performance.now() - askedAt > ASKED_WITHIN_MS && calm(element, event.target);
    element.addEventListener("pointerdown", asked, true);
    element.addEventListener("keydown", asked, true);
    element.addEventListener("focusin", focused);
    return () => {
      element.removeEventListener("pointerdown", asked, true);
      element.removeEventListener("keydown", asked, true);
      element.removeEventListener("focusin", focused);
    };
  }, []);
  return (
    <div ref={panel} style={{ display: "contents" }}>
      <Explorer />
    </div>
  );
}

const explorer = explorerPlugin({ showAttribution: false });
const ExplorerContent = explorer.content;
explorer.content = () => <CalmExplorer Explorer={ExplorerContent} />;
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
