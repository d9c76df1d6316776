"""Create the read-model tables at start, once, even when several instances start together.

Read models are disposable (the event store is the truth), so there are no migrations: a new layout
comes with a new ``schema_version`` and the projection is rebuilt into fresh tables, then swapped in.
Postgres DDL is transactional, so creation runs in one transaction holding an advisory lock; SQLite's
write transaction (``BEGIN IMMEDIATE``) does the same.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sonda_events.store.dialects import WRITE_OPTION
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sonda_query.projection.projections import ALL, Projection
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.checkpoints import Checkpoint

#: Advisory lock serialising read-model DDL (any constant distinct from the store's keys).
DDL_LOCK_KEY = 0x50DA_0E4D


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose transactions write (SQLite: BEGIN IMMEDIATE, see the store's dialects)."""
    return engine.execution_options(**{WRITE_OPTION: True})


async def take_ddl_lock(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": DDL_LOCK_KEY})


def _create(sync_conn: sa.Connection, tables: list[sa.Table]) -> None:
    for table in tables:
        table.create(sync_conn, checkfirst=True)


async def ensure_schema(
    engine: AsyncEngine, projections: tuple[Projection[Any], ...] = ALL
) -> dict[str, Checkpoint]:
    """Create missing tables and checkpoints; return every projection's checkpoint.

    A checkpoint whose ``schema_version`` differs from the code's tells the caller to rebuild.
    """
    metadata = sa.MetaData()
    tables = [checkpoints.checkpoints, *(projection.table(metadata) for projection in projections)]
    async with writer(engine).begin() as conn:
        await take_ddl_lock(conn)
        await conn.run_sync(_create, tables)
        for projection in projections:
            await checkpoints.ensure(conn, projection.name, projection.schema_version)
        return await checkpoints.read(conn, [p.name for p in projections])


def outdated(projections: tuple[Projection[Any], ...], found: dict[str, Checkpoint]) -> list[Projection[Any]]:
    """Projections whose tables were built by other rules than the running code's."""
    return [p for p in projections if p.name in found and found[p.name].schema_version != p.schema_version]
