"""Peers of newsgraph in benchmarks.mix: other GraphQL servers over the same corpus.

    start_peer(name, db, corpus) -> (target, cpu readers)

A target phrases each kind of the mix in its own schema (body), reads the
comparable total from an answer (total), and lists its processes (pids).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PEERS = ("postgraphile", "datasette")


def start_peer(name: str, db: Path, corpus: Any) -> tuple[Any, dict[str, Any]]:
    if name == "postgraphile":
        from benchmarks.peers import postgraphile_peer

        return postgraphile_peer.start(db, corpus)
    if name == "datasette":
        from benchmarks.peers import datasette_peer

        return datasette_peer.start(db, corpus)
    raise ValueError(f"unknown peer {name!r} (known: {', '.join(PEERS)})")


def shutdown(names: list[str]) -> None:
    """Stop what the peers left running between sizes (PostgreSQL)."""
    if "postgraphile" in names:
        from benchmarks.peers import postgraphile_peer

        postgraphile_peer.stop_postgres()
