"""Apply events to one projection's table through a write-back cache of its rows.

The live projector uses one ``Applier`` per transaction; a rebuild keeps one for the whole run and
flushes it every few thousand events, so each analysis is read and written once per flush rather than
once per event. Both go through the same fold, so they give the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sonda_events.contract import RecordedEvent
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_query.projection.projections import Projection
from sonda_query.readmodel.bulk import copy_rows
from sonda_query.readmodel.rows import from_db, to_db

#: Ids per SELECT when loading rows (keeps SQLite under its bound-parameter limit).
_LOAD_CHUNK = 500


def key_in(conn: AsyncConnection, column: sa.ColumnElement[Any], values: list[uuid.UUID]) -> Any:
    """``column IN values``; one array parameter in Postgres keeps the statement short and cached."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(sa.Uuid())))
    return column.in_(values)


def upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT (analysis_id) DO UPDATE SET every other column."""
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    columns = {c.name: insert.excluded[c.name] for c in table.columns if c.name != "analysis_id"}
    return insert.on_conflict_do_update(index_elements=["analysis_id"], set_=columns)


async def load_rows(
    conn: AsyncConnection, projection: Projection[Any], table: sa.Table, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    wanted = list(ids)
    found: dict[uuid.UUID, Any] = {}
    for start in range(0, len(wanted), _LOAD_CHUNK):
        chunk = wanted[start : start + _LOAD_CHUNK]
        query = sa.select(table).where(key_in(conn, table.c.analysis_id, chunk))
        for row in await conn.execute(query):
            found[row.analysis_id] = from_db(projection.row_type, row._mapping)
    return found


class Applier:
    """Folds events into cached rows; ``flush`` writes the changed ones.

    Rows are keyed by ``analysis_id.int`` internally: hashing an int is done in C, hashing a
    ``uuid.UUID`` calls Python code, and a rebuild hashes keys millions of times.
    """

    def __init__(self, projection: Projection[Any], table: sa.Table, *, known_empty: bool = False) -> None:
        self.projection = projection
        self.table = table
        self._rows: dict[int, Any] = {}
        self._dirty: set[int] = set()
        #: For a table that started empty (a rebuild): keys ever written, so others need no SELECT.
        self._written: set[int] | None = set() if known_empty else None
        self._changed: set[int] = set()

    @property
    def pending(self) -> int:
        return len(self._dirty)

    @property
    def changed(self) -> set[uuid.UUID]:
        """Ids whose row changed since the applier was created (for cache invalidation)."""
        return {uuid.UUID(int=key) for key in self._changed | self._dirty}

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> int:
        """Fold ``events`` (in position order); returns how many changed a row."""
        wanted = self.projection.event_types
        if wanted is not None:
            events = [recorded for recorded in events if type(recorded.event) in wanted]
        keys = [recorded.event.analysis_id.int for recorded in events]
        await self._load_missing(conn, set(keys))
        fold = self.projection.fold
        rows = self._rows
        dirty = self._dirty
        applied = 0
        for key, recorded in zip(keys, events, strict=True):
            new = fold(rows.get(key), recorded)
            if new is not None:
                rows[key] = new
                dirty.add(key)
                applied += 1
        return applied

    async def _load_missing(self, conn: AsyncConnection, keys: set[int]) -> None:
        missing = keys.difference(self._rows)
        if self._written is not None:
            missing &= self._written
        if missing:
            loaded = await load_rows(conn, self.projection, self.table, [uuid.UUID(int=k) for k in missing])
            self._rows.update((analysis_id.int, row) for analysis_id, row in loaded.items())

    async def flush(self, conn: AsyncConnection, *, evict: bool = False) -> int:
        """Write the changed rows; with ``evict`` also forget every cached row (bounded memory)."""
        dirty = self._dirty
        rows = self._rows
        if self._written is not None and conn.dialect.name == "postgresql":
            # A rebuild's table holds only what this applier wrote: new rows can be copied in.
            written = self._written
            new = [rows[key] for key in dirty if key not in written]
            if new:
                await copy_rows(conn, self.table, new)
            updated = sorted(key for key in dirty if key in written)
        else:
            updated = sorted(dirty)  # a fixed order: concurrent writers never deadlock on rows
        if updated:
            await conn.execute(upsert(conn, self.table), [to_db(rows[key]) for key in updated])
        if self._written is not None:
            self._written |= dirty
        self._changed |= dirty
        count = len(dirty)
        dirty.clear()
        if evict:
            rows.clear()
        return count

    def cached_rows(self) -> int:
        return len(self._rows)
