"""A seed that runs while the server answers queries (DESIGN.md "The seed command"):
no failed request, no torn read, and the new data served without a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from conftest import newsgraph
from server import running_server

CORPORA = {"a": 30, "b": 45, "c": 12}
"""Corpus name -> number of articles; all fit on one page of 100."""
PAGE = "{ articles(first: 100) { totalCount edges { node { id title provider { domain } } } } }"
MAX_REQUESTS = 20_000
WAIT_SECONDS = 30.0


def write_corpus(folder: Path, name: str, count: int) -> set[str]:
    """Seed files for one corpus; returns its article ids."""
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"{n:03d}_{name}{n:03d}.md").write_text(
            "---\n"
            f'title: "Corpus {name} article {n}"\n'
            f"publishedDateTime: 2021-02-{1 + n % 28:02d}T10:00:00Z\n"
            f'webUrl: "https://{name}.example.org/{n}"\n'
            f"provider:\n  name: Provider {name.upper()}\n  domain: {name}.example.org\n"
            f"topics:\n  - corpus {name}\n"
            "---\n"
            f"Body {n} of corpus {name}.\n",
            encoding="utf-8",
        )
    return {f"{name}{n:03d}" for n in range(count)}


def problem(response: httpx.Response, corpora: dict[str, set[str]]) -> tuple[str | None, str | None]:
    """(the corpus a response shows, what is wrong with it): one whole corpus, nothing mixed."""
    if response.status_code != 200:
        return None, f"status {response.status_code}: {response.text[:200]}"
    payload = response.json()
    if "errors" in payload:
        return None, f"errors: {payload['errors']}"
    articles = payload["data"]["articles"]
    ids = {edge["node"]["id"] for edge in articles["edges"]}
    if articles["totalCount"] != len(articles["edges"]):
        return None, f"totalCount {articles['totalCount']} but {len(articles['edges'])} edges"
    matching = [name for name, expected in corpora.items() if ids == expected]
    if not matching:
        return None, f"a torn read: ids {sorted(ids)[:5]}… match no corpus"
    name = matching[0]
    for edge in articles["edges"]:
        node = edge["node"]
        if not node["title"].startswith(f"Corpus {name} ") or node["provider"]["domain"] != f"{name}.example.org":
            return None, f"a torn read: {node} in corpus {name}"
    return name, None


class Poller(threading.Thread):
    """Sends PAGE over and over (bounded) and records every response's corpus or problem."""

    def __init__(self, url: str, corpora: dict[str, set[str]]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.corpora = corpora
        self.stop = threading.Event()
        self.seen: list[str] = []
        self.problems: list[str] = []
        self.changed = threading.Condition()

    def run(self) -> None:
        with httpx.Client(timeout=30.0) as client:
            for _ in range(MAX_REQUESTS):
                if self.stop.is_set():
                    return
                try:
                    response = client.post(self.url, json={"query": PAGE})
                    name, trouble = problem(response, self.corpora)
                except httpx.HTTPError as exc:
                    name, trouble = None, f"request failed: {exc!r}"
                with self.changed:
                    if trouble:
                        self.problems.append(trouble)
                    else:
                        self.seen.append(name)
                    self.changed.notify_all()

    def wait_for(self, name: str) -> bool:
        """Block until the poller has been served corpus ``name`` (bounded)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.seen[-1:] == [name] or not self.is_alive(), WAIT_SECONDS)


def test_seeding_while_serving_fails_no_request_and_tears_no_read(tmp_path):
    corpora = {name: write_corpus(tmp_path / name, name, count) for name, count in CORPORA.items()}
    db = tmp_path / "db.json"
    first = newsgraph("seed", str(tmp_path / "a"), "--db", str(db), "--quiet")
    assert first.returncode == 0, first.stderr

    with running_server(db) as server:
        poller = Poller(server.url, corpora)
        poller.start()
        try:
            assert poller.wait_for("a")
            for name in ("b", "c", "a"):
                seeded = newsgraph("seed", str(tmp_path / name), "--db", str(db), "--prune", "--quiet")
                assert seeded.returncode == 0, seeded.stderr
                # The very next request sees the new data: no restart, no waiting.
                served, trouble = problem(server.post({"query": PAGE}), corpora)
                assert (served, trouble) == (name, None)
                assert poller.wait_for(name), f"the poller never saw corpus {name}"
        finally:
            poller.stop.set()
            poller.join(timeout=WAIT_SECONDS)

    assert poller.problems == []
    # The poller was served every corpus in turn while seeds ran between its requests.
    order = [name for i, name in enumerate(poller.seen) if i == 0 or poller.seen[i - 1] != name]
    assert order == ["a", "b", "c", "a"]
    assert len(poller.seen) > len(order)
