"""Run the event store's Alembic migrations programmatically, idempotently, safe for concurrent starts.

Several processes may start at once (the query service, a recorder, ``sonda up``'s children); each
calls ``upgrade``. In Postgres the whole upgrade runs in one transaction holding an advisory lock, and
Postgres DDL is transactional, so the second process waits and then finds the schema at head. SQLite
takes its one write lock (``BEGIN IMMEDIATE``) for the same effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Connection, exc
from sqlalchemy.ext.asyncio import AsyncEngine

from sonda_events.store.dialects import WRITE_OPTION, take_migration_lock

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Own version table, so read-model migrations of other packages can share the database.
VERSION_TABLE = "sonda_events_alembic_version"
#: The newest revision under ``migrations/versions`` (a test keeps the two in step). Knowing it lets a
#: start skip Alembic entirely when the schema is already there.
HEAD = "0001"


def _alembic_config(connection: Connection) -> Config:
    # Imported here: Alembic costs a third of a second at start, and only migrations need it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    if revision == "head" and await _stored_revision(engine) == HEAD:
        return
    async with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        await take_migration_lock(conn)
        await conn.run_sync(_upgrade, revision)


async def _stored_revision(engine: AsyncEngine) -> str | None:
    """The version table's revision without Alembic; None when the table does not exist yet."""
    try:
        async with engine.connect() as conn:
            result = await conn.scalar(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
    except exc.ProgrammingError:  # Postgres: undefined table
        return None
    except exc.OperationalError as error:  # SQLite: "no such table"; anything else is real
        if "no such table" in str(error):
            return None
        raise
    return str(result) if result is not None else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
