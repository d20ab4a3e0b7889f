import { useQuery, useSubscription } from "@urql/preact";
import { useState } from "preact/hooks";
import { LatestDocument, NewArticlesDocument, type ArticleCardFragment, type NewArticlesSubscription } from "../generated/graphql";
import { ArticleCard, CardPage, InfinitePages, useTitle, type PageProps, PageHeading } from "../ui";

export const PAGE_SIZE = 20;

function LatestPage({ after, isLast, more }: PageProps) {
  const [{ data, fetching, error }] = useQuery({ query: LatestDocument, variables: { first: PAGE_SIZE, after } });
  const connection = data?.articles;
  return (
    <>
      {after === null && connection && <p class="count">{connection.totalCount.toLocaleString("en")} articles</p>}
      <CardPage connection={connection} fetching={fetching} error={error} isLast={isLast} more={more} />
    </>
  );
}

type Arrivals = { pending: ArticleCardFragment[]; shown: ArticleCardFragment[] };

function addArrival(state: Arrivals = { pending: [], shown: [] }, event: NewArticlesSubscription): Arrivals {
  const change = event.articleChanges;
  const seen = (list: ArticleCardFragment[]) => list.some((a) => a.id === change.id);
  if (change.kind !== "ADDED" || !change.article || seen(state.pending) || seen(state.shown)) return state;
  return { ...state, pending: [change.article, ...state.pending] };
}

export function Latest() {
  useTitle(null);
  // Articles added since the page opened arrive with the fields a card needs: showing them
  // asks the server for nothing (graphcache holds them too).
  const [{ data: arrivals }] = useSubscription({ query: NewArticlesDocument }, addArrival);
  const [shownUpTo, setShownUpTo] = useState(0);
  const pending = arrivals ? arrivals.pending.slice(0, arrivals.pending.length - shownUpTo) : [];
  const shown = arrivals ? arrivals.pending.slice(arrivals.pending.length - shownUpTo) : [];
  return (
    <>
      <PageHeading>Latest articles</PageHeading>
      <div aria-live="polite">
        {pending.length > 0 && (
          <button type="button" class="new-bar" onClick={() => setShownUpTo(arrivals!.pending.length)}>
            {pending.length === 1 ? "1 new article" : `${pending.length} new articles`}
          </button>
        )}
      </div>
      {shown.length > 0 && (
        <ul class="cards" aria-label="New articles">
          {shown.map((article) => (
            <li key={article.id}>
              <ArticleCard article={article} />
            </li>
          ))}
        </ul>
      )}
      <InfinitePages resetKey="latest" page={LatestPage} props={{}} />
    </>
  );
}
