// The provider and topic pages: who or what, then their articles, newest first, paged by cursor.
import { useQuery } from "@urql/preact";
import { ProviderPageDocument, TopicPageDocument } from "../generated/graphql";
import { CardPage, InfinitePages, Status, useTitle, type PageProps, PageHeading } from "../ui";
import { PAGE_SIZE } from "./Latest";
import { NotFound } from "./NotFound";

function ProviderArticles({ domain, after, isLast, more }: PageProps & { domain: string }) {
  const [{ data, fetching, error }] = useQuery({ query: ProviderPageDocument, variables: { domain, first: PAGE_SIZE, after } });
  return <CardPage connection={data?.provider?.articles} fetching={fetching} error={error} isLast={isLast} more={more} />;
}

export function Provider({ domain }: { domain: string }) {
  // The same query as the first page of articles below: one request serves both.
  const [{ data, fetching, error }] = useQuery({ query: ProviderPageDocument, variables: { domain, first: PAGE_SIZE, after: null } });
  const provider = data?.provider;
  useTitle(provider?.name ?? domain);
  if (data && !provider) return <NotFound what={`No provider with the domain ${domain}.`} />;
  return (
    <>
      <PageHeading>{provider?.name ?? domain}</PageHeading>
      <Status fetching={fetching && !provider} error={error} />
      {provider && (
        <>
          <p class="count">
            <span class="domain">{provider.domain}</span> · {provider.articleCount.toLocaleString("en")}{" "}
            {provider.articleCount === 1 ? "article" : "articles"}
          </p>
          <InfinitePages resetKey={`provider:${domain}`} page={ProviderArticles} props={{ domain }} />
        </>
      )}
    </>
  );
}

function TopicArticles({ name, after, isLast, more }: PageProps & { name: string }) {
  const [{ data, fetching, error }] = useQuery({ query: TopicPageDocument, variables: { name, first: PAGE_SIZE, after } });
  return <CardPage connection={data?.topic?.articles} fetching={fetching} error={error} isLast={isLast} more={more} />;
}

export function Topic({ name }: { name: string }) {
  const [{ data, fetching, error }] = useQuery({ query: TopicPageDocument, variables: { name, first: PAGE_SIZE, after: null } });
  const topic = data?.topic;
  useTitle(name);
  if (data && !topic) return <NotFound what={`No article has the topic ${name}.`} />;
  return (
    <>
      <PageHeading>Topic: {name}</PageHeading>
      <Status fetching={fetching && !topic} error={error} />
      {topic && (
        <>
          <p class="count">
            {topic.articleCount.toLocaleString("en")} {topic.articleCount === 1 ? "article" : "articles"}
          </p>
          <InfinitePages resetKey={`topic:${name}`} page={TopicArticles} props={{ name }} />
        </>
      )}
    </>
  );
}
