// Subscribe with a real client and print each result as one JSON line; run by tests/test_live_clients.py.
//
//   node live.mjs ws|sse GRAPHQL_URL COUNT QUERY [VARIABLES_JSON]
//
// ws: the graphql-ws client (graphql-transport-ws, with the ws package as Node's WebSocket);
// sse: the graphql-sse client in distinct connections mode. Exits after COUNT results, or when
// the server ends the subscription (then prints {"completed": true}); an error is printed as
// {"error": ...}.
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

const [transport, url, count, query, variables] = process.argv.slice(2);
if (!query) {
  console.error("usage: node live.mjs ws|sse GRAPHQL_URL COUNT QUERY [VARIABLES_JSON]");
  process.exit(2);
}
const client =
  transport === "ws"
    ? createWsClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0 })
    : createSseClient({ url, retryAttempts: 0 });

let left = Number(count);
try {
  const results = client.iterate({ query, variables: variables ? JSON.parse(variables) : undefined });
  for await (const result of results) {
    console.log(JSON.stringify(result));
    if (--left <= 0) break;
  }
  if (left > 0) console.log(JSON.stringify({ completed: true }));
} catch (error) {
  const detail = Array.isArray(error) ? error : error instanceof Error ? error.message : error;
  console.log(JSON.stringify({ error: detail?.code && detail?.reason !== undefined ? { code: detail.code, reason: detail.reason } : detail }));
}
await client.dispose();
process.exit(0);
