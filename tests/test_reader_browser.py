"""The reader app (frontend/) in a real browser: Debian's headless Chromium, driven by
Playwright, against a real `newsgraph serve` over a seeded temp TinyDB. Every page is compared
with a GraphQL query of the same server; nothing may be loaded from anywhere but 127.0.0.1.

Needs /usr/bin/chromium, playwright (scripts/setup-browser.sh) and the built reader
(scripts/setup-frontend.sh); skipped without them, failed in CI. Screenshots of each page at
360 and 1440 px wide are kept in build/test-artifacts/reader/.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import SEEDS, newsgraph
from graph.reader import bundle_manifest
from live_server import SEED_ARTICLE_ID, SEED_ARTICLE_TITLE, need
from server import Server, running_server
from test_browser import CHROMIUM, CHROMIUM_FLAGS, WAIT_MS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts" / "reader"
SETUP = "run scripts/setup-browser.sh and scripts/setup-frontend.sh"
DAILY = ("Example Daily", "example-daily.org")  # 25 articles: two pages of 20
HARBOR = ("Harbor Times", "harbortimes.example")
TOPICS = ["Budgets", "Transit", "Schools"]
EMOJI_ID = "rocket-budgets"
EMOJI_TITLE = "🚀 Launch fees: council budgets for the spaceport"
SEED_WEB_URL = "https://thelensnola.org/2020/12/14/city-releases-dozens-of-pages-of-emails-on-police-use-of-facial-recognition/"
CARD_TITLES = "document.querySelectorAll('main .card h2, main .card h3').length"


def article_file(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def generated(n: int) -> str:
    name, domain = DAILY if n <= 25 else HARBOR
    topics = [TOPICS[n % 3]] + (["City Hall"] if n % 5 == 0 else [])
    return (
        "---\n"
        f'title: "Council weighs {TOPICS[n % 3].lower()} for district {n}"\n'
        f'excerpt: "District {n} asks the city council for more."\n'
        f"publishedDateTime: 2021-{1 + n % 6:02d}-{1 + n // 2:02d}T{n % 24:02d}:00:00Z\n"
        f'webUrl: "https://{domain}/district/{n}"\n'
        f"category: {['politics', 'local'][n % 2]}\n"
        f"quality: {n}\n"
        "published: true\n"
        f"provider:\n  name: {name}\n  domain: {domain}\n"
        "topics:\n" + "".join(f"  - {topic}\n" for topic in topics) + "---\n"
        f"The city council met about district {n}. Budgets were discussed at length.\n"
    )


def write_corpus(folder: Path) -> None:
    """45 generated articles by two providers, and one whose text has characters outside the BMP
    (offsets in code points differ from JavaScript's UTF-16 ones) and whose related item is the
    shipped seed article (Related.article; one story)."""
    for n in range(1, 46):
        article_file(folder, f"{n:03d}_district-{n}.md", generated(n))
    article_file(
        folder,
        f"{EMOJI_ID}.md",
        "---\n"
        f'title: "{EMOJI_TITLE}"\n'
        'excerpt: "The 🚀 council budgets 👩‍👩‍👧 for launch fees."\n'
        "publishedDateTime: 2021-06-30T12:00:00Z\n"
        f'webUrl: "https://{HARBOR[1]}/rocket"\n'
        "category: politics\n"
        "quality: 90\n"
        "published: true\n"
        f"provider:\n  name: {HARBOR[0]}\n  domain: {HARBOR[1]}\n"
        "topics:\n  - Budgets\n  - Space\n"
        f'images:\n  - url: "https://{HARBOR[1]}/img/rocket.jpg"\n    width: 1200\n    height: 800\n'
        "related:\n"
        '  - title: "City releases emails on facial recognition"\n'
        f'    webUrl: "{SEED_WEB_URL}"\n'
        "    provider:\n      name: The Lens\n      domain: thelensnola.org\n"
        '  - title: "Spaceport neighbours object"\n'
        '    webUrl: "https://elsewhere.example/spaceport"\n'
        "    provider:\n      name: Elsewhere\n      domain: elsewhere.example\n"
        "---\n"
        "The 🚀 council budgets were set; 👩‍👩‍👧 families asked the council about budgets.\n",
    )


@dataclass
class Browsing:
    """A page of a fresh browser context that records what it asked for and what went wrong."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.locator("main h1").first.wait_for(timeout=WAIT_MS)

    def graphql_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).path == "/graphql"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed ({SETUP})")
    need(importlib.util.find_spec("playwright") is not None, f"playwright is not installed ({SETUP})")
    need(bundle_manifest() is not None, f"the reader app is not built ({SETUP})")
    workdir = tmp_path_factory.mktemp("reader")
    write_corpus(workdir / "corpus")
    db = workdir / "db.json"
    seeded = newsgraph("seed", str(SEEDS), str(workdir / "corpus"), "--db", str(db), "--quiet")
    assert seeded.returncode == 0, seeded.stderr
    with running_server(db) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def browse(browser: Any, server: Server, width: int = 1440) -> Browsing:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    browsing = Browsing(page, server.base)
    local = (server.base + "/", f"ws://127.0.0.1:{server.port}/")

    def route(route: Any) -> None:
        request = route.request
        if request.url.startswith(local):
            route.continue_()
        else:
            browsing.blocked.append((request.resource_type, request.url))
            route.abort()

    context.route("**/*", route)
    page.on("request", lambda request: browsing.requests.append(request.url))
    def console(message: Any) -> None:
        # A blocked publisher's image logs its failed load; assert_clean checks what was blocked.
        blocked_image = ("image", message.location.get("url", "")) in browsing.blocked
        if message.type == "error" and not blocked_image:
            browsing.problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: browsing.problems.append(str(error)))
    return browsing


@pytest.fixture
def browsing(chromium: Any, server: Server) -> Iterator[Browsing]:
    session = browse(chromium, server)
    try:
        yield session
        assert_clean(session, server)
    finally:
        session.page.context.close()


def image_urls(server: Server) -> set[str]:
    data = server.data("{ articles(first: 100) { nodes { images { url } related { images { url } } } } }")
    urls = set()
    for node in data["articles"]["nodes"]:
        urls.update(image["url"] for image in node["images"])
        for item in node["related"]:
            urls.update(image["url"] for image in item["images"])
    return urls


def assert_clean(session: Browsing, server: Server) -> None:
    """No console errors; every request went to this server except article images, which are the
    publishers' (blocked here, as offline); the app's own code, styles and API calls never leave."""
    assert session.problems == []
    assert all(url.startswith((server.base + "/", "ws://127.0.0.1")) or url.startswith("data:")
               for url in session.requests if (("image", url) not in session.blocked)), session.requests
    known = image_urls(server)
    for kind, url in session.blocked:
        assert kind == "image" and url in known, (kind, url)


def texts(session: Browsing, selector: str) -> list[str]:
    return [text.strip() for text in session.page.locator(selector).all_inner_texts()]


def titles(session: Browsing, scope: str = "main") -> list[str]:
    return texts(session, f"{scope} .card h2, {scope} .card h3")


def headings_in_order(session: Browsing) -> None:
    levels = session.page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])")
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels


def wait_for_cards(session: Browsing, count: int) -> None:
    session.page.wait_for_function(f"{CARD_TITLES} >= {count}", timeout=WAIT_MS)


# ---- pages ------------------------------------------------------------------------------------


def test_latest_page_lists_the_newest_articles_and_scrolling_loads_the_next_page(
    browsing: Browsing, server: Server
) -> None:
    expected = server.data("{ articles(first: 40) { totalCount nodes { title } } }")["articles"]
    browsing.goto("/")
    wait_for_cards(browsing, 20)
    assert titles(browsing) == [node["title"] for node in expected["nodes"][:20]]
    assert browsing.page.locator("main .count").first.inner_text() == f"{expected['totalCount']} articles"
    headings_in_order(browsing)
    before = len(browsing.graphql_requests())
    browsing.page.mouse.wheel(0, 100_000)
    wait_for_cards(browsing, 40)
    assert titles(browsing) == [node["title"] for node in expected["nodes"]]
    # Page 2 came by cursor (after: the first page's endCursor), in one more request.
    cursor = server.data("{ articles(first: 20) { pageInfo { endCursor } } }")["articles"]["pageInfo"]["endCursor"]
    later = [parse_qs(urlsplit(url).query) for url in browsing.graphql_requests()[before:]]
    assert any(cursor in query.get("variables", [""])[0] for query in later), later


def test_provider_page_shows_its_articles_and_pages_by_cursor(browsing: Browsing, server: Server) -> None:
    expected = server.data(
        '{ provider(domain: "example-daily.org") { name articleCount articles(first: 40) { nodes { title } } } }'
    )["provider"]
    browsing.goto(f"/provider/{DAILY[1]}")
    browsing.page.locator("main .count").wait_for(timeout=WAIT_MS)
    assert browsing.page.locator("main h1").inner_text() == expected["name"] == DAILY[0]
    assert browsing.page.locator("main .count").inner_text() == f"{DAILY[1]} · 25 articles"
    wait_for_cards(browsing, 20)
    assert titles(browsing) == [n["title"] for n in expected["articles"]["nodes"][:20]]
    browsing.page.mouse.wheel(0, 100_000)
    wait_for_cards(browsing, 25)
    assert titles(browsing) == [n["title"] for n in expected["articles"]["nodes"]]
    assert browsing.page.title() == "Example Daily · newsgraph"
    headings_in_order(browsing)


def test_topic_page_shows_its_articles(browsing: Browsing, server: Server) -> None:
    expected = server.data('{ topic(name: "City Hall") { articleCount articles { nodes { title } } } }')["topic"]
    browsing.goto("/topic/City%20Hall")
    browsing.page.locator("main .count").wait_for(timeout=WAIT_MS)
    assert browsing.page.locator("main h1").inner_text() == "Topic: City Hall"
    assert browsing.page.locator("main .count").inner_text() == f"{expected['articleCount']} articles"
    wait_for_cards(browsing, expected["articleCount"])
    assert titles(browsing) == [n["title"] for n in expected["articles"]["nodes"]]
    headings_in_order(browsing)
    browsing.goto("/topic/No%20such%20topic")
    browsing.page.get_by_text("No article has the topic No such topic.").wait_for(timeout=WAIT_MS)


def test_article_page_shows_provider_images_and_related_coverage(browsing: Browsing, server: Server) -> None:
    query = """query ($id: ID!) { article(id: $id) { title topics provider { name domain }
        images { url width height } related { title webUrl article { id } } } }"""
    expected = server.data(query, {"id": EMOJI_ID})["article"]
    browsing.goto(f"/article/{EMOJI_ID}")
    page = browsing.page
    assert page.locator("main h1").inner_text() == EMOJI_TITLE
    provider = page.locator("main .meta a").first
    assert (provider.inner_text(), provider.get_attribute("href")) == (HARBOR[0], f"/provider/{HARBOR[1]}")
    assert texts(browsing, "main .topics a") == expected["topics"] == ["Budgets", "Space"]
    image = page.locator("main img.picture")
    assert image.count() == len(expected["images"]) == 1
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("1200", "800")
    related = page.locator("main .related li a")
    assert related.all_inner_texts() == [item["title"] for item in expected["related"]]
    # Related.article: the stored article is linked in the reader, the other item at its source.
    assert [related.nth(n).get_attribute("href") for n in range(2)] == [
        f"/article/{SEED_ARTICLE_ID}", "https://elsewhere.example/spaceport"
    ]
    related.first.click()
    page.wait_for_url(f"**/article/{SEED_ARTICLE_ID}")
    page.locator("main h1", has_text=SEED_ARTICLE_TITLE).wait_for(timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moves to the new page
    headings_in_order(browsing)


def test_images_reserve_their_space_before_they_load(browsing: Browsing) -> None:
    # The publishers' images are blocked (offline): the box is the image's shape all the same.
    browsing.goto(f"/article/{SEED_ARTICLE_ID}")
    image = browsing.page.locator("main img.picture")
    image.wait_for(timeout=WAIT_MS)
    box = image.bounding_box()
    assert box is not None and box["width"] > 300
    assert abs(box["height"] - box["width"] * 1709 / 2560) <= 1, box
    assert image.evaluate("(img) => img.naturalWidth") == 0


def test_story_page_shows_headline_providers_coverage_and_articles_oldest_first(
    browsing: Browsing, server: Server
) -> None:
    query = """query ($id: ID!) { story(id: $id) { id headline articleCount coverageCount providers { name }
        articles(first: 100, orderBy: [{ field: PUBLISHED_DATE_TIME, direction: ASC }]) { nodes { title } } } }"""
    story = server.data(query, {"id": EMOJI_ID})["story"]
    assert story["articleCount"] == 2  # the seed article and the one whose related item it is
    browsing.goto(f"/article/{EMOJI_ID}")
    link = browsing.page.locator("main .story-box a")
    link.wait_for(timeout=WAIT_MS)
    assert link.inner_text() == story["headline"]
    link.click()
    browsing.page.wait_for_url(f"**/story/{story['id']}")
    browsing.page.locator("main h1", has_text=story["headline"]).wait_for(timeout=WAIT_MS)
    facts = texts(browsing, "main .facts dd")
    assert facts[:2] == [str(story["articleCount"]), str(story["coverageCount"])]
    assert texts(browsing, "main .providers a") == [p["name"] for p in story["providers"]]
    assert titles(browsing) == [n["title"] for n in story["articles"]["nodes"]] == [SEED_ARTICLE_TITLE, EMOJI_TITLE]
    headings_in_order(browsing)


def marks_by_title(session: Browsing) -> dict[str, list[str]]:
    return session.page.evaluate(
        """Object.fromEntries([...document.querySelectorAll('main .card')].map((card) => [
            card.querySelector('h3').innerText, [...card.querySelectorAll('mark')].map((m) => m.textContent)]))"""
    )


SEARCH = """query ($q: String!, $where: ArticleFilter) {
  articles(search: $q, where: $where, first: 20) {
    totalCount
    nodes { title snippets(search: $q, first: 2, length: 220) { text highlights { start end } } }
    disjunctiveFacets { topics(first: 15) { value count } }
  }
}"""


def highlighted(node: dict[str, Any]) -> list[str]:
    # Python strings index by code point, as the API's offsets count.
    return [s["text"][h["start"]:h["end"]] for s in node["snippets"] for h in s["highlights"]]


def test_search_with_a_phrase_and_an_exclusion_highlights_and_facets_in_the_url(
    browsing: Browsing, server: Server
) -> None:
    q = '"city council" OR "council budgets" -transit'
    expected = server.data(SEARCH, {"q": q})["articles"]
    assert EMOJI_TITLE in [n["title"] for n in expected["nodes"]]
    page = browsing.page
    browsing.goto("/")
    page.get_by_label("Search articles").fill(q)
    page.get_by_label("Search articles").press("Enter")
    page.wait_for_url("**/search?*")
    assert parse_qs(urlsplit(page.url).query) == {"q": [q]}
    wait_for_cards(browsing, min(20, expected["totalCount"]))
    assert titles(browsing) == [n["title"] for n in expected["nodes"]]
    marks = marks_by_title(browsing)
    for node in expected["nodes"]:
        assert marks[node["title"]] == highlighted(node), node["title"]
    assert marks[EMOJI_TITLE] and set(marks[EMOJI_TITLE]) <= {"council", "budgets", "Council", "Budgets"}
    assert all(input_.evaluate("(i) => i.labels.length > 0") for input_ in page.locator("input").all())
    headings_in_order(browsing)

    # Two topics: the URL keeps them, the results match, and the topics' counts stay (disjunctive).
    counts_before = texts(browsing, "fieldset:has(legend:text-is('Topics')) label")
    page.get_by_role("checkbox", name=re.compile(r"^Budgets ")).check()
    page.wait_for_url(re.compile(r"topic=Budgets"))
    page.get_by_role("checkbox", name=re.compile(r"^City Hall ")).check()
    page.wait_for_url(re.compile(r"topic=Budgets&topic=City\+Hall"))
    where = {"topics": {"hasSome": ["Budgets", "City Hall"]}}
    picked = server.data(SEARCH, {"q": q, "where": where})["articles"]
    page.locator("main .results h2", has_text=f"{picked['totalCount']} result").wait_for(timeout=WAIT_MS)
    wait_for_cards(browsing, min(20, picked["totalCount"]))
    assert titles(browsing) == [n["title"] for n in picked["nodes"]]
    assert texts(browsing, "fieldset:has(legend:text-is('Topics')) label") == counts_before
    assert [f"{f['value']} {f['count']}" for f in picked["disjunctiveFacets"]["topics"]] == counts_before
    # The URL is the state: opening it anew shows the same.
    page.goto(page.url)
    wait_for_cards(browsing, min(20, picked["totalCount"]))
    assert titles(browsing) == [n["title"] for n in picked["nodes"]]
    assert page.get_by_role("checkbox", name=re.compile(r"^City Hall ")).is_checked()


def test_providers_facet_shows_names_and_filters_by_domain(browsing: Browsing, server: Server) -> None:
    browsing.goto("/search?q=council")
    page = browsing.page
    box = page.get_by_role("checkbox", name=re.compile(rf"^{HARBOR[0]} "))
    box.check()
    page.wait_for_url(re.compile(rf"provider={re.escape(HARBOR[1])}"))
    expected = server.data(
        'query ($d: [String!]) { articles(search: "council", where: { provider: { domain: { in: $d } } }) '
        "{ totalCount nodes { title } } }",
        {"d": [HARBOR[1]]},
    )["articles"]
    page.locator("main .results h2", has_text=f"{expected['totalCount']} results").wait_for(timeout=WAIT_MS)
    wait_for_cards(browsing, min(20, expected["totalCount"]))
    assert titles(browsing) == [n["title"] for n in expected["nodes"]]


def test_keyboard_alone_reaches_an_article(browsing: Browsing) -> None:
    page = browsing.page
    browsing.goto("/topic/Space")
    wait_for_cards(browsing, 1)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # The focus is visible.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('.card h2')"):
            break
    assert page.evaluate("document.activeElement.textContent") == EMOJI_TITLE
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/article/{EMOJI_ID}")
    page.locator("main h1", has_text=EMOJI_TITLE).wait_for(timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.tagName") == "H1"


PAGES = {
    "latest": "/",
    "search": "/search?q=council+budgets&topic=Budgets",
    "article": f"/article/{EMOJI_ID}",
    "story": f"/story/{SEED_ARTICLE_ID}",
    "provider": f"/provider/{DAILY[1]}",
    "topic": "/topic/Budgets",
}


@pytest.mark.parametrize("width", [360, 1440])
def test_every_page_fits_the_width_without_horizontal_scroll(
    chromium: Any, server: Server, width: int
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    session = browse(chromium, server, width)
    try:
        for name, path in PAGES.items():
            session.goto(path)
            session.page.wait_for_load_state("networkidle")
            session.page.wait_for_function("!document.querySelector('main .loading')", timeout=WAIT_MS)
            overflow = session.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, width, overflow)
            headings_in_order(session)
            session.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        assert_clean(session, server)
    finally:
        session.page.context.close()


def test_new_articles_appear_live_in_a_bar_without_refetching(chromium: Any, tmp_path: Path) -> None:
    need(bundle_manifest() is not None, f"the reader app is not built ({SETUP})")
    db = tmp_path / "db.json"
    assert newsgraph("seed", str(SEEDS), "--db", str(db), "--quiet").returncode == 0
    with running_server(db) as server:
        session = browse(chromium, server)
        try:
            page = session.page
            session.goto("/")
            wait_for_cards(session, 1)
            page.wait_for_load_state("networkidle")
            # A seed in a second process: the server sends the new article over the subscription.
            fresh = tmp_path / "fresh"
            article_file(fresh, "late-news.md", generated(7).replace("district 7", "district 7, late edition"))
            seeded = newsgraph("seed", str(fresh), "--db", str(db), "--quiet")
            assert seeded.returncode == 0, seeded.stderr
            bar = page.get_by_role("button", name="1 new article")
            bar.wait_for(timeout=WAIT_MS)
            before = len(session.graphql_requests())
            bar.click()
            new = page.locator("main ul[aria-label='New articles'] .card h2")
            new.wait_for(timeout=WAIT_MS)
            assert new.all_inner_texts() == ["Council weighs transit for district 7, late edition"]
            assert page.get_by_role("button", name=re.compile("new article")).count() == 0
            # What the subscription delivered is shown as it is: no request for it.
            assert session.graphql_requests()[before:] == []
            assert_clean(session, server)
        finally:
            page.context.close()
