"""Stores: open_store(settings) picks the backend from the configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.config import Settings
    from graph.store.base import Store


def open_store(settings: Settings, writing: bool = False) -> Store:
    """The PostgreSQL store when a database URL is set, else the TinyDB file.

    For serving, the TinyDB file must exist; for ``writing`` (seeds) it is
    created as needed and the read snapshot is never built, since a seed does
    not read it.
    """
    if settings.database_url:
        from graph.store.postgres.store import PostgresStore

        return PostgresStore(settings.database_url)
    from graph.store.tinydb.store import TinyDBStore

    if writing:
        return TinyDBStore(settings.db, preload=False)
    return TinyDBStore(settings.db, require_file=True)


async def migrate(settings: Settings, rebuild: bool = False) -> str:
    """Bring the configured PostgreSQL database's schema up to date; one line that says what was done."""
    from graph.store.postgres.store import describe_url, migrate_database

    assert settings.database_url, "only a PostgreSQL store has a schema to migrate"
    report = await migrate_database(settings.database_url, rebuild=rebuild)
    return f"{describe_url(settings.database_url)}: {report.summary()}"
