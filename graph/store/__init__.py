"""Stores: open_store(settings) picks the backend from the configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.config import Settings
    from graph.store.base import Store


def open_store(settings: Settings) -> Store:
    """The PostgreSQL store when a database URL is set, else the TinyDB file (which must exist)."""
    if settings.database_url:
        from graph.store.postgres.store import PostgresStore

        return PostgresStore(settings.database_url)
    from graph.store.tinydb.store import TinyDBStore

    return TinyDBStore(settings.db, require_file=True)
