"""Projection checkpoints: the last store position applied, committed with the projected rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_query.readmodel.tables import checkpoints_table

checkpoints = checkpoints_table(sa.MetaData())


class Checkpoint(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    position: int
    schema_version: int
    generation: int
    updated_at: datetime


async def read(conn: AsyncConnection, names: Iterable[str], *, lock: bool = False) -> dict[str, Checkpoint]:
    """Checkpoints by name; ``lock`` holds them until the transaction ends (Postgres FOR UPDATE;
    SQLite's write transaction already excludes other writers)."""
    query = sa.select(checkpoints).where(checkpoints.c.name.in_(sorted(names))).order_by(checkpoints.c.name)
    if lock:
        query = query.with_for_update()
    rows = await conn.execute(query)
    return {
        row.name: Checkpoint(
            name=row.name,
            position=row.position,
            schema_version=row.schema_version,
            generation=row.generation,
            updated_at=row.updated_at,
        )
        for row in rows
    }


async def ensure(conn: AsyncConnection, name: str, schema_version: int) -> None:
    """Create the checkpoint of a projection at position 0 unless it exists."""
    exists = await conn.scalar(sa.select(checkpoints.c.name).where(checkpoints.c.name == name))
    if exists is None:
        await conn.execute(
            checkpoints.insert().values(
                name=name, position=0, schema_version=schema_version, generation=0, updated_at=_now()
            )
        )


async def advance(conn: AsyncConnection, name: str, position: int) -> None:
    await conn.execute(
        checkpoints.update().where(checkpoints.c.name == name).values(position=position, updated_at=_now())
    )


async def replace(conn: AsyncConnection, name: str, *, position: int, schema_version: int) -> None:
    """After a swap: the rebuilt tables' position and layout, and a new generation."""
    await conn.execute(
        checkpoints.update()
        .where(checkpoints.c.name == name)
        .values(
            position=position,
            schema_version=schema_version,
            generation=checkpoints.c.generation + 1,
            updated_at=_now(),
        )
    )


def _now() -> datetime:
    # Only for operators (when did it last move); never compared with projected rows.
    return datetime.now(UTC)
