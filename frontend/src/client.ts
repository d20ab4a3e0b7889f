// The urql client: graphcache normalizes what every query and the live subscription return,
// so a page never asks the server again for what the cache already holds.
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { createClient as createWSClient } from "graphql-ws";
import type { NewArticlesSubscription } from "./generated/graphql";

const endpoint = "/graphql";

function websocketUrl(): string {
  const url = new URL(endpoint, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export function makeClient(): Client {
  const ws = createWSClient({ url: websocketUrl(), lazy: true, retryAttempts: 10 });
  const embedded = () => null;
  return new Client({
    url: endpoint,
    // GET (within the URL length limit) lets the browser revalidate answers by ETag.
    preferGetMethod: "within-url-limit",
    exchanges: [
      cacheExchange({
        keys: {
          Provider: (provider) => provider.domain as string,
          Topic: (topic) => topic.name as string,
          Image: embedded,
          Related: embedded,
          FacetCount: embedded,
          Snippet: embedded,
          TextRange: embedded,
          ArticleFacets: embedded,
          IntStats: embedded,
          DateTimeRange: embedded,
          PageInfo: embedded,
          ArticleConnection: embedded,
          ArticleEdge: embedded,
          StoryConnection: embedded,
          StoryEdge: embedded,
          ProviderConnection: embedded,
          ProviderEdge: embedded,
          ArticleChange: embedded,
        },
        resolvers: {
          // Lookups by key read from the cache first (a full hit needs no request).
          Query: {
            article: (_parent, args) => ({ __typename: "Article", id: args.id as string }),
            provider: (_parent, args) => ({ __typename: "Provider", domain: args.domain as string }),
            topic: (_parent, args) => ({ __typename: "Topic", name: args.name as string }),
          },
        },
        updates: {
          Subscription: {
            articleChanges: (result, _args, cache) => {
              const change = (result as NewArticlesSubscription).articleChanges;
              if (change.kind === "REMOVED") cache.invalidate({ __typename: "Article", id: change.id });
            },
          },
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const dispose = ws.subscribe(input, sink);
              return { unsubscribe: dispose };
            },
          };
        },
      }),
    ],
  });
}
