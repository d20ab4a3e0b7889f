// Client-side routing on real URLs: links push history entries, back/forward re-render,
// and every route is also a URL the server answers with the app (deep links work).
import type { AnchorHTMLAttributes, ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();
let focusRequested = false;

/** After a navigation the new page's heading takes the focus (so keyboard and screen-reader users
 * start there); until it shows, main holds it. True once per navigation, for whoever takes it. */
export function takeFocusRequest(): boolean {
  const requested = focusRequested;
  focusRequested = false;
  return requested;
}

export function focusRequestPending(): boolean {
  return focusRequested;
}

/** Go to href; focus: false keeps the focus where it is (a control that changed the URL). */
export function navigate(href: string, { replace = false, focus = true }: { replace?: boolean; focus?: boolean } = {}): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  focusRequested = focus;
  listeners.forEach((listener) => listener());
}

export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(window.location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(window.location.href));
    const back = () => {
      focusRequested = true;
      update();
    };
    listeners.add(update);
    window.addEventListener("popstate", back);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", back);
    };
  }, []);
  return url;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children: ComponentChildren };

export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
    window.scrollTo(0, 0);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

export const paths = {
  article: (id: string) => `/article/${encodeURIComponent(id)}`,
  story: (id: string) => `/story/${encodeURIComponent(id)}`,
  provider: (domain: string) => `/provider/${encodeURIComponent(domain)}`,
  topic: (name: string) => `/topic/${encodeURIComponent(name)}`,
};
