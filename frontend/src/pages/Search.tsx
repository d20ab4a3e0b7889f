// Search with web search syntax; results with highlighted snippets; a facet sidebar whose
// selections live in the URL (?q=…&topic=…&provider=…&category=…&month=YYYY-MM). Facets are
// disjunctive: picking a topic keeps the other topics' counts.
import { useQuery } from "@urql/preact";
import { SearchDocument, SearchFacetsDocument, type ArticleFilter, type SearchQuery } from "../generated/graphql";
import { navigate } from "../router";
import { ArticleCard, CardPage, Highlighted, InfinitePages, Status, useTitle, type PageProps, PageHeading } from "../ui";
import { PAGE_SIZE } from "./Latest";

type Selection = { q: string; topic: string[]; provider: string[]; category: string[]; month: string | null };
const MULTI = ["topic", "provider", "category"] as const;

export function readSelection(url: URL): Selection {
  const params = url.searchParams;
  return {
    q: params.get("q") ?? "",
    topic: params.getAll("topic"),
    provider: params.getAll("provider"),
    category: params.getAll("category"),
    month: params.get("month"),
  };
}

export function searchHref(selection: Selection): string {
  const params = new URLSearchParams();
  params.set("q", selection.q);
  for (const key of MULTI) for (const value of selection[key]) params.append(key, value);
  if (selection.month) params.set("month", selection.month);
  return `/search?${params}`;
}

function nextMonth(month: string): string {
  const [year, number] = month.split("-").map(Number);
  return number === 12 ? `${year + 1}-01-01` : `${year}-${String(number + 1).padStart(2, "0")}-01`;
}

/** Only top-level keys, so that each facet drops its own condition (disjunctive facets). */
function filterOf(selection: Selection): ArticleFilter | null {
  const where: ArticleFilter = {};
  if (selection.topic.length) where.topics = { hasSome: selection.topic };
  if (selection.provider.length) where.provider = { domain: { in: selection.provider } };
  if (selection.category.length) where.category = { in: selection.category };
  if (selection.month && /^\d{4}-\d{2}$/.test(selection.month)) {
    where.publishedDateTime = { gte: `${selection.month}-01`, lt: nextMonth(selection.month) };
  }
  return Object.keys(where).length ? where : null;
}

type Result = SearchQuery["articles"]["nodes"][number];

function ResultCard({ article }: { article: Result }) {
  return (
    <ArticleCard article={article} level={3}>
      {article.snippets.length > 0 ? (
        article.snippets.map((snippet, n) => (
          <p class="snippet" key={n} data-field={snippet.field}>
            <Highlighted text={snippet.text} highlights={snippet.highlights} />
          </p>
        ))
      ) : article.excerpt ? (
        <p class="excerpt">{article.excerpt}</p>
      ) : null}
    </ArticleCard>
  );
}

function ResultsPage({ search, where, after, isLast, more }: PageProps & { search: string; where: ArticleFilter | null }) {
  const [{ data, fetching, error }] = useQuery({ query: SearchDocument, variables: { search, where, first: PAGE_SIZE, after } });
  return <CardPage connection={data?.articles} fetching={fetching} error={error} isLast={isLast} more={more} card={ResultCard} />;
}

type Option = { value: string; label: string; count: number };

function FacetGroup({ legend, name, options, selected, onToggle }: { legend: string; name: string; options: Option[]; selected: string[]; onToggle: (value: string) => void }) {
  // Selected values stay listed even when the current facet answer has no count for them.
  const shown = [...options, ...selected.filter((v) => !options.some((o) => o.value === v)).map((v) => ({ value: v, label: v, count: 0 }))];
  if (!shown.length) return null;
  return (
    <fieldset class="facet">
      <legend>{legend}</legend>
      {shown.map((option) => {
        const id = `${name}-${option.value}`;
        return (
          <div class="option" key={option.value}>
            <input type="checkbox" id={id} name={name} value={option.value} checked={selected.includes(option.value)} onChange={() => onToggle(option.value)} />
            <label for={id}>
              {option.label} <span class="n">{option.count}</span>
            </label>
          </div>
        );
      })}
    </fieldset>
  );
}

function Histogram({ buckets, selected, onPick }: { buckets: { value: string; count: number }[]; selected: string | null; onPick: (month: string | null) => void }) {
  if (!buckets.length) return null;
  const top = Math.max(...buckets.map((b) => b.count));
  return (
    <fieldset class="facet histogram">
      <legend>Published</legend>
      <div class="option">
        <input type="radio" id="month-any" name="month" checked={!selected} onChange={() => onPick(null)} />
        <label for="month-any">Any time</label>
      </div>
      {buckets.map((bucket) => {
        const month = bucket.value.slice(0, 7);
        return (
          <div class="option" key={month}>
            <input type="radio" id={`month-${month}`} name="month" value={month} checked={selected === month} onChange={() => onPick(month)} />
            <label for={`month-${month}`}>
              {month} <span class="n">{bucket.count}</span>
              <span class="bar" style={{ width: `${Math.max(4, (100 * bucket.count) / top)}%` }} />
            </label>
          </div>
        );
      })}
    </fieldset>
  );
}

export function Search({ url }: { url: URL }) {
  const selection = readSelection(url);
  const where = filterOf(selection);
  useTitle(selection.q ? `Search: ${selection.q}` : "Search");
  const [{ data, error }] = useQuery({ query: SearchFacetsDocument, variables: { search: selection.q, where } });
  const facets = data?.articles.disjunctiveFacets;
  const update = (change: Partial<Selection>) => navigate(searchHref({ ...selection, ...change }), { focus: false });
  const toggle = (key: (typeof MULTI)[number]) => (value: string) => {
    const current = selection[key];
    update({ [key]: current.includes(value) ? current.filter((v) => v !== value) : [...current, value] });
  };
  const plain = (list: { value: string; count: number }[] | undefined) => (list ?? []).map((f) => ({ ...f, label: f.value }));
  return (
    <>
      <PageHeading>{selection.q ? `Search: ${selection.q}` : "Search"}</PageHeading>
      <p class="hint">
        Words must all match; <code>"a phrase"</code>, <code>a OR b</code>, <code>-exclude</code> and <code>prefix*</code> work too.
      </p>
      <div class="search-layout">
        <aside class="facets" aria-label="Refine the results">
          <h2>Refine</h2>
          {error && <Status fetching={false} error={error} />}
          {facets && (
            <form onSubmit={(e) => e.preventDefault()}>
              <FacetGroup legend="Topics" name="topic" options={plain(facets.topics)} selected={selection.topic} onToggle={toggle("topic")} />
              <FacetGroup
                legend="Providers"
                name="provider"
                options={facets.providers.map((f) => ({ value: f.value, count: f.count, label: f.provider?.name ?? f.value }))}
                selected={selection.provider}
                onToggle={toggle("provider")}
              />
              <FacetGroup legend="Categories" name="category" options={plain(facets.categories)} selected={selection.category} onToggle={toggle("category")} />
              <Histogram buckets={facets.histogram} selected={selection.month} onPick={(month) => update({ month })} />
            </form>
          )}
        </aside>
        <section class="results" aria-labelledby="results-heading">
          <h2 id="results-heading" class="count">
            {data ? `${data.articles.totalCount.toLocaleString("en")} ${data.articles.totalCount === 1 ? "result" : "results"}` : "Results"}
          </h2>
          <InfinitePages resetKey={url.search} page={ResultsPage} props={{ search: selection.q, where }} />
        </section>
      </div>
    </>
  );
}
