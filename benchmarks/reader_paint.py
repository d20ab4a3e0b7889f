"""First contentful paint of the reader app, in Debian's headless Chromium, against a running server.

    python -m benchmarks.reader_paint [--base http://127.0.0.1:8000] [--runs 7] [--path /]

Each run is a fresh browser context (nothing cached): it prints the median and the range of
first-contentful-paint (the page shell) and of the first article card on screen (the data),
both from navigation start. Needs /usr/bin/chromium and playwright (scripts/setup-browser.sh)
and the built reader (scripts/setup-frontend.sh). Not a test: a figure for the README/notes.
"""

from __future__ import annotations

import argparse
import statistics

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CARD_SHOWN = """new Promise((done) => {
  const seen = () => document.querySelector('main .card') && done(performance.now());
  seen() || new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
})"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reader_paint", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="server (default: http://127.0.0.1:8000)")
    parser.add_argument("--runs", type=int, default=7, help="page loads (default: 7)")
    parser.add_argument("--path", default="/", help="reader page to load (default: /)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    paints, cards = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(args.runs):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(args.base + args.path)
            cards.append(page.evaluate(CARD_SHOWN))
            paints.append(page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0].startTime"))
            context.close()
        browser.close()
    for name, values in (("first contentful paint", paints), ("first article card", cards)):
        print(f"{name}: median {statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f}, "
              f"{len(values)} runs)")


if __name__ == "__main__":
    main()
