"""Live changes in process, on both stores: graph.live following a real store's writes.

Each test subscribes through the Hub (as the transports do), writes through
the store and reads what the connection's outbox received. Every write is
followed by a sentinel write that a catch-all subscription on the same
connection sees: a write's events for every subscription are queued before
the next write's, so what arrived before the sentinel's event is exactly what
the write produced. The property test compares that with a brute-force
reference over the documents (graph.filters.matches and plain set logic).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import article
from graph import filters
from graph.config import Limits
from graph.execution.executor import Executor, Outcome
from graph.live import Connection, Feed, Hub
from graph.schema import schema
from graph.store.base import Store
from graph.store.changes import changed_ids, classify
from graph.store.tinydb.snapshot import Snapshot

CATCH_ALL = "subscription { articleChanges { kind id } }"
WATCHED = "subscription Watch($where: ArticleFilter, $search: String) { articleChanges(where: $where, search: $search) { kind id version article { id title } } }"
SENTINEL = "zzzz-sentinel"


class Live:
    """A hub following one store, and one connection with a catch-all subscription."""

    def __init__(self, store: Store, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.hub = Hub(Executor(schema._schema, self.limits), self.limits)
        self.connection: Connection | None = None
        self._sentinels = itertools.count()

    async def __aenter__(self) -> Live:
        await self.hub.start(self.store)
        self.connection = self.hub.connect()
        await self.subscribe("all", CATCH_ALL)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.connection is not None
        self.hub.disconnect(self.connection)
        await self.hub.stop()

    async def prepare(self, query: str, variables: dict[str, Any] | None = None) -> Feed | Outcome | None:
        return await self.hub.prepare(query, variables, None, await self.store.reader())

    async def subscribe(self, name: str, query: str, variables: dict[str, Any] | None = None) -> None:
        feed = await self.prepare(query, variables)
        assert isinstance(feed, Feed), feed
        assert self.connection is not None
        self.hub.attach(feed, self.connection, name, lambda result: orjson.dumps([name, orjson.loads(result)]).decode())

    async def write(self, upserts: list[dict[str, Any]], deletes: list[str] = ()) -> dict[str, list[dict[str, Any]]]:  # type: ignore[assignment]
        """Write, then a sentinel; what each subscription received for the write (catch-all included)."""
        result = await self.store.write(upserts, list(deletes))
        sentinel = f"{SENTINEL}-{next(self._sentinels)}"
        await self.store.write([article(id=sentinel, title="sentinel")], [])
        received: dict[str, list[dict[str, Any]]] = {}
        assert self.connection is not None
        while True:
            name, payload = orjson.loads(await asyncio.wait_for(self.connection.outbox.get(), 60))
            event = payload["data"]["articleChanges"]
            if name == "all" and event["id"] == sentinel:
                break
            if event["id"].startswith(SENTINEL):  # a sentinel's, this one's or (for other feeds) the last one's
                continue
            if "version" in event:
                assert event["version"] == result.version
            received.setdefault(name, []).append(event)
        return received


def test_events_follow_writes_with_kinds_in_id_order(make_store: Callable[[], Store], run: Any) -> None:
    store = make_store()
    run(store.write([article(id="b", title="Zebra crossing", category="city"), article(id="c", title="Cats")], []))

    async def scenario() -> None:
        async with Live(store) as live:
            await live.subscribe("city", WATCHED, {"where": {"category": {"eq": "city"}}})
            await live.subscribe("zebra", WATCHED, {"search": "zebr*"})
            got = await live.write(
                [article(id="d", title="Zebras escape", category="city"), article(id="a", title="Another", category="city"),
                 article(id="b", title="Zebra crossing", category="sports")],
                ["c"],
            )
            assert [(e["kind"], e["id"]) for e in got["all"]] == [
                ("ADDED", "a"), ("UPDATED", "b"), ("REMOVED", "c"), ("ADDED", "d")
            ]
            # b left the city category: UPDATED is sent (it matched before), with the article as it is now.
            assert [(e["kind"], e["id"], (e["article"] or {}).get("title")) for e in got["city"]] == [
                ("ADDED", "a", "Another"), ("UPDATED", "b", "Zebra crossing"), ("ADDED", "d", "Zebras escape")
            ]
            assert [(e["kind"], e["id"]) for e in got["zebra"]] == [("UPDATED", "b"), ("ADDED", "d")]
            got = await live.write([], ["b", "nope"])
            assert [(e["kind"], e["id"], e["article"]) for e in got["zebra"]] == [("REMOVED", "b", None)]
            assert "city" not in got  # b was no longer in the city when it was removed
            # Writing an equal document changes nothing: no event at all.
            got = await live.write([article(id="a", title="Another", category="city")])
            assert got == {}

    run(scenario())


def test_identical_subscriptions_share_one_feed(make_store: Callable[[], Store], run: Any) -> None:
    store = make_store()

    async def scenario() -> None:
        async with Live(store) as live:
            await live.subscribe("one", WATCHED, {"search": "x"})
            await live.subscribe("two", WATCHED, {"search": "x"})
            await live.subscribe("three", WATCHED, {"search": "y"})
            assert len(live.hub.feeds) == 3  # the catch-all, x (twice) and y
            got = await live.write([article(id="p", title="x y")])
            assert got["one"] == got["two"] == got["three"]

    run(scenario())


def test_feeds_share_an_event_s_payload_only_when_their_selections_read_no_variable(
    make_store: Callable[[], Store], run: Any
) -> None:
    store = make_store()
    images = [{"url": f"https://img.test/{n}"} for n in range(3)]
    # The selection reads $n: each feed's payload is its own, though the article and the event are the same.
    sized = (
        "subscription Sized($where: ArticleFilter, $n: Int) "
        "{ articleChanges(where: $where) { kind id article { images(first: $n) { url } } } }"
    )

    async def scenario() -> None:
        async with Live(store) as live:
            await live.subscribe("city", WATCHED, {"where": {"category": {"eq": "city"}}})
            await live.subscribe("z", WATCHED, {"search": "zebra"})
            await live.subscribe("one", sized, {"where": {"category": {"eq": "city"}}, "n": 1})
            await live.subscribe("two", sized, {"search": "zebra", "n": 2})
            feeds = {feed.key[2]: feed for feed in live.hub.feeds.values()}
            assert len({feed.payload_key for feed in feeds.values() if feed.key[0] == WATCHED}) == 1
            assert len({feed.payload_key for feed in feeds.values() if feed.key[0] == sized}) == 2
            got = await live.write([article(id="a", title="Zebra", category="city", images=images)])
            assert got["city"] == got["z"] == [
                {"kind": "ADDED", "id": "a", "version": got["city"][0]["version"], "article": {"id": "a", "title": "Zebra"}}
            ]
            assert [len(e["article"]["images"]) for e in got["one"]] == [1]
            assert [len(e["article"]["images"]) for e in got["two"]] == [2]

    run(scenario())


def test_bad_arguments_and_limits_are_request_errors(make_store: Callable[[], Store], run: Any) -> None:
    store = make_store()

    async def scenario() -> None:
        async with Live(store, Limits(max_depth=3)) as live:
            bad = await live.prepare(WATCHED, {"where": {"publishedDateTime": {"gt": "soon"}}})
            assert isinstance(bad, Outcome)
            assert bad.payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert "publishedDateTime" in bad.payload["errors"][0]["message"]
            deep = await live.prepare("subscription { articleChanges { article { provider { articles { nodes { id } } } } } }")
            assert isinstance(deep, Outcome)
            assert deep.payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            typo = await live.prepare("subscription { articleChanges { nope } }")
            assert isinstance(typo, Outcome)
            assert typo.payload["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert await live.prepare("{ articles { totalCount } }") is None  # a query: run as one

    run(scenario())


# ---- against a reference -------------------------------------------------------------------------

IDS = ["a1", "a2", "a3", "a4", "a5"]
WHERES = [
    None,
    {"category": {"eq": "x"}},
    {"quality": {"gt": 1}},
    {"topics": {"has": "AI"}},
    {"NOT": {"category": {"eq": "x"}}},
    {"OR": [{"quality": {"lte": 0}}, {"title": {"contains": "zeb"}}]},
    {"category": {"isNull": True}},
]
documents = st.builds(
    lambda i, title, category, quality, topics: article(
        id=i, title=title, **({"category": category} if category else {}),
        **({"quality": quality} if quality is not None else {}), topics=topics
    ),
    st.sampled_from(IDS),
    st.sampled_from(["Zebra", "zebu", "Lion", "Ant"]),
    st.sampled_from([None, "x", "y"]),
    st.sampled_from([None, 0, 1, 2]),
    st.lists(st.sampled_from(["AI", "ai", "Art"]), max_size=2, unique=True),
)
writes = st.lists(
    st.tuples(st.lists(documents, max_size=4), st.lists(st.sampled_from(IDS), max_size=2, unique=True)),
    min_size=1,
    max_size=3,
)


def reference(before: dict[str, Any], after: dict[str, Any], upserted: set[str], where: Any) -> list[tuple[str, str]]:
    f = filters.build("article", where)

    def hit(doc: dict[str, Any]) -> bool:
        return filters.matches(f, doc, "article", lambda domain: None)

    events = []
    for i in sorted(set(before) | set(after)):
        if i not in before and i in after and hit(after[i]):
            events.append(("ADDED", i))
        elif i in before and i not in after and hit(before[i]):
            events.append(("REMOVED", i))
        elif i in before and i in after and i in upserted and before[i] != after[i] and (hit(before[i]) or hit(after[i])):
            events.append(("UPDATED", i))
    return events


@settings(max_examples=12, deadline=None, phases=[Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=writes)
def test_events_equal_the_reference(make_store: Callable[[], Store], run: Any, batches: Any) -> None:
    store = make_store()

    async def scenario() -> None:
        state: dict[str, Any] = {}
        async with Live(store) as live:
            for n, where in enumerate(WHERES):
                await live.subscribe(f"w{n}", WATCHED, {"where": where})
            for upserts, deletes in batches:
                latest = {doc["id"]: doc for doc in upserts}
                after = {i: d for i, d in state.items() if i not in deletes}
                after.update(latest)
                got = await live.write(list(upserts), deletes)
                for n, where in enumerate(WHERES):
                    expected = reference(state, after, set(latest), where)
                    assert [(e["kind"], e["id"]) for e in got.get(f"w{n}", [])] == expected, (where, upserts, deletes)
                state = after

    run(scenario())


@settings(max_examples=50, deadline=None)
@given(old=st.lists(documents, max_size=5), new=st.lists(documents, max_size=5))
def test_comparing_snapshots_finds_what_a_write_records(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """The TinyDB store's fallback (two snapshots compared per id) equals graph.store.changes.classify."""
    before = {doc["id"]: doc for doc in old}
    after = {doc["id"]: doc for doc in new}
    a, b = Snapshot.build(before.values(), "v1"), Snapshot.build(after.values(), "v2")
    touched = {i: before.get(i) for i in set(before) | set(after)}
    assert changed_ids(a.by_id, b.by_id, a.docs, b.docs) == classify(touched, after.get)
