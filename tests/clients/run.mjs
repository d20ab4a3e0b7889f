// Real GraphQL clients against a running newsgraph server; run by tests/test_clients.py.
//
//   node --conditions=development run.mjs http://127.0.0.1:PORT/graphql
//
// Prints one JSON object: what each client got back (the Python test asserts
// on it), Apollo's normalized cache keys, and every warning or error the
// clients logged (console.warn / console.error), which must be none.
// Apollo Client only checks its cache (and warns) in a development build,
// which Node picks with --conditions=development; the control run below, with
// no type policy for Provider, proves those warnings are on and caught.
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { loadDevMessages, loadErrorMessages } from "@apollo/client/dev";
import { ClientError, GraphQLClient } from "graphql-request";
import { format } from "node:util";

loadDevMessages();
loadErrorMessages();

const url = process.argv[2];
if (!url) {
  console.error("usage: node run.mjs GRAPHQL_URL");
  process.exit(2);
}

// Apollo reports cache problems (missing key fields, data loss on merge) with
// console.warn / console.error in development builds: collect them.
const logged = [];
for (const level of ["warn", "error"]) {
  console[level] = (...args) => logged.push(`${level}: ${format(...args)}`);
}

const SEED_ID = "9a7be0820e1ffd4a";
const report = { graphqlRequest: {} };

// ---- graphql-request ---------------------------------------------------------

const client = new GraphQLClient(url);

report.graphqlRequest.variables = await client.request(
  `query ArticleById($id: ID!) {
    article(id: $id) { id title provider { domain name articleCount } }
  }`,
  { id: SEED_ID },
);

const PAGE = `query Page($first: Int!, $after: String) {
  articles(first: $first, after: $after, orderBy: [{ field: TITLE }]) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const pages = [];
let after = null;
for (let guard = 0; guard < 20; guard += 1) {
  const { articles } = await client.request(PAGE, { first: 2, after });
  pages.push(articles.edges.map((edge) => edge.node.id));
  if (!articles.pageInfo.hasNextPage) break;
  after = articles.pageInfo.endCursor;
}
report.graphqlRequest.paging = { pages };

report.graphqlRequest.facets = await client.request(`{
  articles(where: { topics: { has: "Budgets" } }) {
    totalCount
    facets {
      topics { value count }
      providers { value count }
      quality { count min max }
    }
  }
}`);

async function failure(request) {
  try {
    await request();
    return { thrown: false };
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return {
      thrown: true,
      status: error.response.status,
      codes: error.response.errors.map((e) => e.extensions?.code),
      messages: error.response.errors.map((e) => e.message),
    };
  }
}
report.graphqlRequest.errors = {
  badCursor: await failure(() => client.request(PAGE, { first: 2, after: "not-a-cursor" })),
  unknownField: await failure(() => client.request("{ articles { nodes { nosuchfield } } }")),
  badVariable: await failure(() => client.request(PAGE, { first: "two" })),
};
report.graphqlRequest.logged = logged.splice(0);

// ---- Apollo Client -----------------------------------------------------------

const WITH_RELATED = gql`
  query ArticleWithRelated($id: ID!) {
    article(id: $id) {
      id
      title
      provider { domain name }
      images(first: 1) { url width height }
      related(first: 5) {
        title
        provider { domain name }
        article { id title }
      }
    }
  }
`;
// The same article and provider with other fields: merging it into the cache
// is where a provider without identity would lose data.
const PROVIDER_COUNT = gql`
  query ProviderCount($id: ID!) {
    article(id: $id) { id provider { domain articleCount } }
  }
`;
const APOLLO_PAGE = gql(PAGE);
const FACETS = gql`
  query Facets {
    articles(first: 0) {
      totalCount
      facets { topics(first: 3) { value count } histogram(interval: YEAR) { value count } }
    }
    topic(name: "AI") { name articleCount }
  }
`;
const PROVIDER = gql`
  query Provider($domain: String!) {
    provider(domain: $domain) { domain articleCount articles(first: 5) { nodes { id } } }
  }
`;

// Article is identified by id (Apollo's default); Provider and Topic by what the API says is their identity.
const TYPE_POLICIES = { Provider: { keyFields: ["domain"] }, Topic: { keyFields: ["name"] } };

async function apolloRun(typePolicies) {
  const cache = new InMemoryCache({ typePolicies });
  const apollo = new ApolloClient({ link: new HttpLink({ uri: url }), cache });
  const out = {};
  const first = await apollo.query({ query: WITH_RELATED, variables: { id: SEED_ID } });
  // The same query again from the network: replacing cached data must not warn.
  await apollo.query({ query: WITH_RELATED, variables: { id: SEED_ID }, fetchPolicy: "network-only" });
  await apollo.query({ query: PROVIDER_COUNT, variables: { id: SEED_ID } });
  out.variables = first.data;

  const pages = [];
  let after = null;
  for (let guard = 0; guard < 20; guard += 1) {
    const { data } = await apollo.query({ query: APOLLO_PAGE, variables: { first: 2, after } });
    pages.push(data.articles.edges.map((edge) => edge.node.id));
    if (!data.articles.pageInfo.hasNextPage) break;
    after = data.articles.pageInfo.endCursor;
  }
  out.paging = { pages };
  out.facets = (await apollo.query({ query: FACETS })).data;

  // A provider reached directly must be the same cache entry as the one reached through an article.
  await apollo.query({ query: PROVIDER, variables: { domain: "thelensnola.org" } });
  out.providerEntity = cache.readFragment({
    id: cache.identify({ __typename: "Provider", domain: "thelensnola.org" }),
    fragment: gql`
      fragment Merged on Provider { domain name articleCount }
    `,
  });

  try {
    await apollo.query({ query: APOLLO_PAGE, variables: { first: 2, after: "not-a-cursor" } });
    out.error = { thrown: false };
  } catch (error) {
    if (!CombinedGraphQLErrors.is(error)) throw error;
    out.error = { thrown: true, codes: error.errors.map((e) => e.extensions?.code) };
  }

  const snapshot = cache.extract();
  out.cacheKeys = Object.keys(snapshot).sort();
  out.rootArticle = snapshot.ROOT_QUERY[`article({"id":"${SEED_ID}"})`];
  return out;
}

report.apollo = await apolloRun(TYPE_POLICIES);
report.apollo.logged = logged.splice(0);

// Control: without a type policy for Provider, Apollo must warn about lost data.
const control = await apolloRun({});
report.apolloWithoutProviderPolicy = { cacheKeys: control.cacheKeys, logged: logged.splice(0) };

console.log(JSON.stringify(report, null, 2));
