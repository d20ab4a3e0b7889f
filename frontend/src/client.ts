// The urql client: graphcache normalizes what every query and the live subscription return,
// so a page never asks the server again for what the cache already holds.
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { cacheExchange, type Resolver } from "@urql/exchange-graphcache";
import { createClient as createWSClient } from "graphql-ws";
import type { NewArticlesSubscription } from "./generated/graphql";

const endpoint = "/graphql";

function websocketUrl(): string {
  const url = new URL(endpoint, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** Query.article(id:) and the like: what the server answered for these arguments (null included),
 * else the entity with that key when a list brought it, else unknown (asked for). */
function byKey(typename: string, argument: string): Resolver {
  return (_parent, args, cache, info) => {
    const answered = cache.resolve(info.parentKey, info.fieldName, args);
    if (answered !== undefined) return answered;
    const key = cache.keyOfEntity({ __typename: typename, [argument]: args[argument] as string });
    return key && cache.resolve(key, "__typename") ? key : undefined;
  };
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
          // Lookups by key read what the cache holds first (a full hit needs no request).
          Query: { article: byKey("Article", "id"), provider: byKey("Provider", "domain"), topic: byKey("Topic", "name") },
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
