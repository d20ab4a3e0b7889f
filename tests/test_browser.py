"""GraphiQL in a real browser: Debian's headless Chromium, driven by Playwright,
against a real `newsgraph serve`, with nothing loaded from outside the server.

Needs /usr/bin/chromium, the playwright package and the built bundle
(scripts/setup-browser.sh does all three); skipped without them, failed in CI.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import newsgraph
from graph.graphiql import EXAMPLES, bundle_manifest
from live_server import live_server, need

CHROMIUM = Path("/usr/bin/chromium")
# As root, in a sandbox with no network: no sandbox, no GPU, and none of the
# background connections Chromium makes at start (they would all be refused).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETUP = "run scripts/setup-browser.sh"
NEWEST_TITLE = "Generated article 5 about city council budgets"  # live_server's newest article
# Elements of the explorer panel that are scrolled away from their top.
SCROLLED = """[...document.querySelectorAll('.graphiql-plugin, .graphiql-plugin *')]
    .filter((element) => element.scrollTop > 0).map((element) => element.className)"""
WAIT_MS = 30_000
"""How long a step may wait for the page (a bound, not a measurement)."""


def need_browser() -> None:
    need(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed ({SETUP})")
    need(importlib.util.find_spec("playwright") is not None, f"playwright is not installed ({SETUP})")
    manifest, problem = bundle_manifest()
    need(manifest is not None, f"the GraphiQL bundle is not built: {problem}")


def launch(playwright: Any, profile: Path) -> Any:
    """Chromium with a fresh profile (a persistent context is Playwright's way to pass --user-data-dir)."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1600, "height": 1000},
    )


def test_graphiql_runs_the_example_and_shows_the_docs_in_chromium(tmp_path: Path) -> None:
    need_browser()

    from playwright.sync_api import sync_playwright

    with live_server(tmp_path) as server, sync_playwright() as playwright:
        browser = launch(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()
            requested: list[str] = []
            problems: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(server.url)
            tabs = page.locator(".graphiql-tab")
            tabs.first.wait_for(timeout=WAIT_MS)
            # One tab per example, named by its operation.
            assert tabs.all_inner_texts() == [re.search(r"query (\w+)", e.query).group(1) for e in EXAMPLES]
            assert tabs.all_inner_texts()[0] == "LatestArticles"

            # The preloaded example runs and its answer shows the latest articles, the newest first.
            page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
            result = page.locator(".result-window")
            result.get_by_text(NEWEST_TITLE).wait_for(timeout=WAIT_MS)
            assert '"totalCount": 6' in result.inner_text()

            # The explorer plugin shows the query's fields, checked; it opens at its top, and
            # none of its argument inputs takes the focus by itself (graphiql-explorer's do).
            page.get_by_role("button", name="Show GraphiQL Explorer").click()
            plugin = page.locator(".graphiql-plugin")
            plugin.get_by_text("articleByUrl", exact=True).wait_for(timeout=WAIT_MS)
            plugin.get_by_text("images", exact=True).first.wait_for(timeout=WAIT_MS)
            page.wait_for_timeout(500)  # a bound for late mounts, not a measurement
            assert "Explorer" in plugin.inner_text()
            assert page.evaluate("document.activeElement === document.body")
            assert page.evaluate(SCROLLED) == []
            heading = plugin.get_by_text("Explorer", exact=True).bounding_box()
            assert heading is not None and 0 <= heading["y"] < 100
            # Another tab re-renders the explorer: still nothing focused, still at the top.
            tabs.nth(1).click()
            page.wait_for_function(
                "[...document.querySelectorAll('.graphiql-plugin input')].some((i) => i.value === 'Traversal')",
                timeout=WAIT_MS,
            )
            page.wait_for_timeout(500)
            assert page.evaluate("document.activeElement.tagName") != "INPUT"
            assert page.evaluate(SCROLLED) == []
            tabs.first.click()

            # The docs explorer lists the schema's types; Article opens with its fields.
            page.get_by_role("button", name="Show Documentation Explorer").click()
            docs = page.locator(".graphiql-doc-explorer")
            docs.get_by_text("All Schema Types").wait_for(timeout=WAIT_MS)
            docs.get_by_role("link", name="Article", exact=True).first.click()
            title = page.locator(".graphiql-doc-explorer-title")
            title.get_by_text("Article", exact=True).wait_for(timeout=WAIT_MS)
            assert title.inner_text() == "Article"
            assert docs.get_by_text("publishedDateTime", exact=True).count() >= 1
            title.scroll_into_view_if_needed()

            screenshot = tmp_path / "graphiql.png"
            page.screenshot(path=str(screenshot))
            assert screenshot.stat().st_size > 10_000

            # Offline: every request went to this server; nothing failed on the page.
            assert requested and all(url.startswith(server.base + "/") for url in requested), requested
            assert any("/graphql/static/graphiql.js" in url for url in requested)
            assert problems == []
        finally:
            browser.close()
    assert "GraphiQL is loaded from a CDN" not in server.log()


SUBSCRIPTION = "subscription { articleChanges { kind id version } }"
SEED_TRIES = 5
"""Seeds until an event shows (a subscription has no acknowledgement to wait for: the first seed
may land before the server registered it, and events are not replayed)."""


def test_graphiql_streams_a_subscription_that_a_seed_in_another_process_feeds(tmp_path: Path) -> None:
    need_browser()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with live_server(tmp_path) as server, sync_playwright() as playwright:
        served = server.data("{ __schema { subscriptionType { fields { name } } } }")["__schema"]["subscriptionType"]
        if served is None or "articleChanges" not in [f["name"] for f in served["fields"]]:
            pytest.fail(
                "the server does not serve Subscription.articleChanges (issue #16 item 1: subscriptions over "
                "graphql-transport-ws at /graphql); this test of GraphiQL's subscription support needs it",
                pytrace=False,
            )
        browser = launch(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()
            sockets: list[str] = []
            page.on("websocket", lambda socket: sockets.append(socket.url))
            page.goto(server.url)
            editor = page.locator(".graphiql-query-editor .CodeMirror").first
            editor.wait_for(timeout=WAIT_MS)
            page.evaluate("(query) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query)", SUBSCRIPTION)
            # GraphiQL reads the editor 100 ms after a change (a debounce): then the active tab takes the
            # unnamed operation's title, and only from then on does Execute send it as a subscription.
            page.locator(".graphiql-tab-active").get_by_text("<untitled>").wait_for(timeout=WAIT_MS)
            page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
            result = page.locator(".result-window")

            shown = ""
            for n in range(1, SEED_TRIES + 1):
                # A seed in a second process: a new article, so an ADDED event.
                (tmp_path / "live").mkdir(exist_ok=True)
                (tmp_path / "live" / f"live{n}.md").write_text(f"---\ntitle: Live article {n}\n---\n", encoding="utf-8")
                seeded = newsgraph("seed", str(tmp_path / "live"), "--db", str(tmp_path / "db.json"), "--quiet")
                assert seeded.returncode == 0, seeded.stderr
                try:
                    result.get_by_text(f'"live{n}"').wait_for(timeout=WAIT_MS // SEED_TRIES)
                except PlaywrightTimeout:
                    shown = result.inner_text()
                    continue
                shown = result.inner_text()
                break
            else:
                pytest.fail(
                    f"no event appeared in GraphiQL's result pane after {SEED_TRIES} seeds; it shows:\n{shown}\n"
                    f"(websockets opened: {sockets})",
                    pytrace=False,
                )
            assert '"kind": "ADDED"' in shown and '"version": "' in shown, shown
            assert sockets == [server.base.replace("http://", "ws://") + "/graphql"], sockets
        finally:
            browser.close()
