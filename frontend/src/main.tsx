import { Provider as UrqlProvider } from "@urql/preact";
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { makeClient } from "./client";
import { Article } from "./pages/Article";
import { Latest } from "./pages/Latest";
import { Provider, Topic } from "./pages/Lists";
import { NotFound } from "./pages/NotFound";
import { Search, readSelection, searchHref } from "./pages/Search";
import { Story } from "./pages/Story";
import { Link, navigate, useLocation } from "./router";
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
  const first = useRef(true);
  // After a navigation, focus goes to the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = main.current?.querySelector<HTMLElement>("h1");
    (heading ?? main.current)?.focus({ preventScroll: true });
  }, [url.pathname]);
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
        {route(url)}
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
