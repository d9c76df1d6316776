"""Run the event store's Alembic migrations programmatically, idempotently, safe for concurrent starts.

Several processes may start at once (the query service, a recorder, ``sonda up``'s children); each
calls ``upgrade``. In Postgres the whole upgrade runs in one transaction holding an advisory lock, and
Postgres DDL is transactional, so the second process waits and then finds the schema at head. SQLite
takes its one write lock (``BEGIN IMMEDIATE``) for the same effect.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from sonda_events.store.dialects import WRITE_OPTION, take_migration_lock

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Own version table, so read-model migrations of other packages can share the database.
VERSION_TABLE = "sonda_events_alembic_version"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(_alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    async with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        await take_migration_lock(conn)
        await conn.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
