import { Provider as UrqlProvider } from "@urql/preact";
import { Fragment, render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { makeClient } from "./client";
import { Article } from "./pages/Article";
import { Latest } from "./pages/Latest";
import { Provider, Topic } from "./pages/Lists";
import { NotFound } from "./pages/NotFound";
import { Search, readSelection, searchHref } from "./pages/Search";
import { Story } from "./pages/Story";
import { Link, focusRequestPending, navigate, useLocation } from "./router";
import "./styles.css";

function route(url: URL) {
  const [, kind, ...rest] = url.pathname.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : "";
  if (url.pathname === "/") return <Latest />;
  if (kind === "search" && !arg) return <Search url={url} />;
  if (!arg) return <NotFound />;
  if (kind === "article") return <Article id={arg} />;
  if (kind === "story") return <Story id={arg} />;
  if (kind === "provider") return <Provider domain={arg} />;
  if (kind === "topic") return <Topic name={arg} />;
  return <NotFound />;
}

function SearchForm({ url }: { url: URL }) {
  const current = url.pathname === "/search" ? readSelection(url).q : "";
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const q = new FormData(event.currentTarget as HTMLFormElement).get("q");
    navigate(searchHref({ q: String(q ?? ""), topic: [], provider: [], category: [], month: null }));
  };
  return (
    <form role="search" class="search" action="/search" method="get" onSubmit={onSubmit}>
      <label for="q">Search articles</label>
      <input id="q" name="q" type="search" key={current} defaultValue={current} placeholder='city "facial recognition" -police' />
      <button type="submit">Search</button>
    </form>
  );
}

function App() {
  const url = useLocation();
  const main = useRef<HTMLElement>(null);
  // A navigation whose page heading has not shown yet (its data is loading): main holds the focus.
  useEffect(() => {
    if (focusRequestPending()) main.current?.focus({ preventScroll: true });
  }, [url.href]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="site">
        <Link href="/" class="brand">
          newsgraph
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href="/" aria-current={url.pathname === "/" ? "page" : undefined}>
                Latest
              </Link>
            </li>
            <li>
              <a href="/graphql">GraphQL API</a>
            </li>
          </ul>
        </nav>
        <SearchForm url={url} />
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {/* A new path is a new page (its heading mounts and takes the focus); a new query is not. */}
        <Fragment key={url.pathname}>{route(url)}</Fragment>
      </main>
      <footer class="site">
        Served by newsgraph · <a href="/graphql">GraphiQL</a>
      </footer>
    </>
  );
}

const root = document.getElementById("app")!;
root.textContent = "";
const client = makeClient();
render(
  <UrqlProvider value={client}>
    <App />
  </UrqlProvider>,
  root,
);
