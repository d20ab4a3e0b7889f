// Pieces every page uses: article cards, highlighted snippets, infinite paging, titles.
import { Fragment, type ComponentChildren, type ComponentType, type JSX } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ArticleCardFragment } from "./generated/graphql";
import { Link, paths, takeFocusRequest } from "./router";

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });

export function When({ value }: { value: string | null }) {
  if (!value) return null;
  return <time dateTime={value}>{dateFormat.format(new Date(value))}</time>;
}

export function ArticleCard({
  article,
  children,
  level = 2,
}: {
  article: ArticleCardFragment;
  children?: ComponentChildren;
  level?: 2 | 3;
}) {
  const Heading = level === 2 ? "h2" : "h3";
  return (
    <article class="card" data-id={article.id}>
      <Heading>
        <Link href={paths.article(article.id)}>{article.title}</Link>
      </Heading>
      <p class="meta">
        {article.provider && <Link href={paths.provider(article.provider.domain)}>{article.provider.name}</Link>}
        {article.provider && article.publishedDateTime && " · "}
        <When value={article.publishedDateTime} />
      </p>
      {children ?? (article.excerpt && <p class="excerpt">{article.excerpt}</p>)}
    </article>
  );
}

export type Range = { start: number; end: number };

/** The text with <mark>s at [start, end) offsets counted in Unicode code points, not UTF-16 units. */
export function Highlighted({ text, highlights }: { text: string; highlights: Range[] }) {
  const points = Array.from(text);
  const parts: JSX.Element[] = [];
  let at = 0;
  highlights.forEach((range, n) => {
    if (range.start > at) parts.push(<Fragment key={`t${n}`}>{points.slice(at, range.start).join("")}</Fragment>);
    parts.push(<mark key={`m${n}`}>{points.slice(range.start, range.end).join("")}</mark>);
    at = range.end;
  });
  if (at < points.length) parts.push(<Fragment key="rest">{points.slice(at).join("")}</Fragment>);
  return <>{parts}</>;
}

/** Calls onVisible when it scrolls near the viewport (the next page of an infinite list). */
function Sentinel({ onVisible }: { onVisible: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onVisible(), {
      rootMargin: "400px 0px",
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [onVisible]);
  return <div ref={ref} class="sentinel" aria-hidden="true" />;
}

export type PageProps = { after: string | null; isLast: boolean; more: (cursor: string) => void };

/** Pages of a cursor connection, one query each: a page that was loaded is read from the cache. */
export function InfinitePages<P extends object>({
  page: Page,
  props,
  resetKey,
}: {
  page: ComponentType<PageProps & P>;
  props: P;
  resetKey: string;
}) {
  const [state, setState] = useState<{ key: string; cursors: (string | null)[] }>({ key: resetKey, cursors: [null] });
  const cursors = state.key === resetKey ? state.cursors : [null];
  const more = (cursor: string) =>
    setState((s) => {
      const current = s.key === resetKey ? s.cursors : [null];
      return current.includes(cursor) ? s : { key: resetKey, cursors: [...current, cursor] };
    });
  return (
    <>
      {cursors.map((after, n) => (
        <Page key={`${resetKey}:${after ?? ""}`} {...props} after={after} isLast={n === cursors.length - 1} more={more} />
      ))}
    </>
  );
}

/** The end of a page: loads the next one when scrolled to (or when the button is pressed). */
export function More({ isLast, pageInfo, more }: { isLast: boolean; pageInfo: { hasNextPage: boolean; endCursor: string | null }; more: (cursor: string) => void }) {
  if (!isLast || !pageInfo.hasNextPage || !pageInfo.endCursor) return null;
  const cursor = pageInfo.endCursor;
  const load = () => more(cursor);
  return (
    <div class="more">
      <Sentinel onVisible={load} />
      <button type="button" onClick={load}>
        More articles
      </button>
    </div>
  );
}

export function Status({ fetching, error }: { fetching: boolean; error?: { message: string } }) {
  if (error) return <p class="error" role="alert">Could not load: {error.message}</p>;
  if (fetching) return <p class="loading" aria-live="polite">Loading…</p>;
  return null;
}

export function useTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · newsgraph` : "newsgraph";
  }, [title]);
}

type Connection<T> = { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** One page of an infinite list of articles: its cards, its loading state, and the way to the next. */
export function CardPage<T extends ArticleCardFragment>({
  connection,
  fetching,
  error,
  isLast,
  more,
  label,
  card: Card = ArticleCard,
}: Omit<PageProps, "after"> & {
  connection: Connection<T> | undefined;
  fetching: boolean;
  error?: { message: string };
  label?: string;
  card?: ComponentType<{ article: T }>;
}) {
  return (
    <>
      {connection && (
        <ul class="cards" aria-label={label}>
          {connection.nodes.map((article) => (
            <li key={article.id}>
              <Card article={article} />
            </li>
          ))}
        </ul>
      )}
      <Status fetching={fetching} error={error} />
      {connection && <More isLast={isLast} pageInfo={connection.pageInfo} more={more} />}
    </>
  );
}

/** The page's h1: it takes the focus when it shows after a navigation. */
export function PageHeading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    if (takeFocusRequest()) ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** A page whose data could not be loaded (or is loading): a heading either way. */
export function Unloaded({ what, fetching, error }: { what: string; fetching: boolean; error?: { message: string } }) {
  if (!error) return <Status fetching={fetching} />;
  return (
    <>
      <PageHeading>Could not load this {what}</PageHeading>
      <Status fetching={false} error={error} />
    </>
  );
}
