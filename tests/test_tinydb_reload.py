"""The TinyDB store serving a file another process writes: what it swaps in, and when."""

from __future__ import annotations

import asyncio

from conftest import article
from graph.store.tinydb.snapshot import SEARCH_PREBUILD_MIN
from graph.store.tinydb.store import TinyDBStore


def test_a_version_another_process_wrote_is_served_with_its_search_index_built(tmp_path, run):
    # Served before its index, every search of the new version would wait for the index (tens of
    # seconds at 100k articles); the previous version answers until the new one is complete.
    path = tmp_path / "db.json"
    writer = TinyDBStore(path, preload=False)  # as the seed command opens it
    run(writer.open())
    run(writer.write([article(id=f"a{n:05d}", title=f"word{n} shared") for n in range(SEARCH_PREBUILD_MIN)], []))
    server = TinyDBStore(path)
    run(server.open())
    before = run(server.reader()).snapshot
    run(writer.write([article(id="a00000", title="renamed")], []))

    async def next_version():
        while True:
            reader = await server.reader()
            if reader.snapshot.version != before.version:
                return reader
            await asyncio.sleep(0.01)

    reader = run(asyncio.wait_for(next_version(), 60))
    assert reader.snapshot.search_ready
    run(server.close())
    run(writer.close())
