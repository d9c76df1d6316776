"""Rebuild a projection from the event store into shadow tables, verify, and swap them in.

1. Create an empty shadow table (``analyses__rebuild``) and fold every event into it, page by page,
   while the live projector and readers keep using the live table.
2. Build the shadow's indexes (Postgres; SQLite builds them during the swap).
3. In one write transaction: lock the live checkpoint (the live projector waits), bring the live
   table and the shadow to the same store position, compare them if asked, swap the shadow in and
   move the checkpoint (with a new generation, so caches drop what they built from the old table).

Rebuilding only reads the store and writes read-model tables: it publishes nothing, so no
notification goes out and no consumer sees the replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from sonda_events.contract import RecordedEvent
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_query.projection.applier import Applier
from sonda_query.projection.locks import rebuild_lock
from sonda_query.projection.projections import Projection
from sonda_query.projection.swap import create_indexes, drop_table, swap
from sonda_query.projection.verify import Verification, compare
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.schema import ensure_schema, take_ddl_lock, writer
from sonda_query.readmodel.tables import SHADOW_SUFFIX

log = get_logger(__name__)

#: Called with (store position reached, store position the rebuild started at).
ProgressCallback = Callable[[int, int], None]


class RebuildReport(msgspec.Struct, kw_only=True):
    name: str
    events: int
    rows: int
    seconds: float
    events_per_s: float
    #: Store position the swapped-in table (and the checkpoint) stand at.
    position: int
    swapped: bool
    verification: Verification | None = None


class _Fill:
    """Folds store pages into the shadow table, reading the next page while folding this one."""

    def __init__(
        self,
        store: EventStore,
        applier: Applier,
        *,
        page_size: int,
        flush_every: int,
        max_cached: int,
        on_progress: ProgressCallback | None,
        total: int,
    ) -> None:
        self.store = store
        self.applier = applier
        self.page_size = page_size
        self.flush_every = flush_every
        self.max_cached = max_cached
        self.on_progress = on_progress
        self.total = total
        self.position = 0
        self.events = 0

    async def run(self, until: int | None = None, conn: AsyncConnection | None = None) -> None:
        """Fold pages after ``self.position`` until the store has no more (or ``until``).

        With ``conn`` (the swap's transaction) rows are loaded through it and nothing is flushed
        on the way: a second writing transaction would wait for this one forever in SQLite.
        """
        if conn is not None:
            await self._pages(conn, until, flush=False)
            return
        async with self.store.engine.connect() as reader:
            await self._pages(reader, until, flush=True)

    async def _pages(self, conn: AsyncConnection, until: int | None, *, flush: bool) -> None:
        page = asyncio.ensure_future(self._read(self.position, until))
        try:
            while events := await page:
                self.position = events[-1].position
                page = asyncio.ensure_future(self._read(self.position, until))
                await self.applier.apply(conn, events)
                self.events += len(events)
                if flush:
                    await conn.rollback()  # end the read transaction: no snapshot held between pages
                    if self.applier.pending >= self.flush_every:
                        async with writer(self.store.engine).begin() as wconn:
                            await self.applier.flush(
                                wconn, evict=self.applier.cached_rows() > self.max_cached
                            )
                if self.on_progress is not None:
                    self.on_progress(self.position, max(self.total, self.position))
        finally:
            if not page.done():
                page.cancel()

    async def _read(self, after: int, until: int | None) -> list[RecordedEvent]:
        if until is not None and after >= until:
            return []
        events = await self.store.read_all(after_position=after, limit=self.page_size)
        if until is not None:
            events = [e for e in events if e.position <= until]
        return events


async def _advance_live(
    conn: AsyncConnection,
    store: EventStore,
    projection: Projection[Any],
    live: sa.Table,
    *,
    frm: int,
    to: int,
) -> None:
    """Apply (frm, to] to the live table, as the live projector would have (we hold its lock)."""
    applier = Applier(projection, live)
    position = frm
    while position < to:
        events = [e for e in await store.read_all(after_position=position, limit=5000) if e.position <= to]
        if not events:
            break
        await applier.apply(conn, events)
        position = events[-1].position
    await applier.flush(conn)
    await checkpoints.advance(conn, projection.name, to)


async def rebuild(
    store: EventStore,
    projection: Projection[Any],
    *,
    verify: bool = False,
    swap_in: bool = True,
    page_size: int = 5000,
    flush_every: int = 20_000,
    max_cached: int = 200_000,
    on_progress: ProgressCallback | None = None,
) -> RebuildReport:
    """Rebuild ``projection`` from the whole store; see the module docstring.

    Raises:
        RebuildInProgressError: another process is rebuilding the same projection.
    """
    engine = store.engine
    async with rebuild_lock(engine, projection.name):
        await ensure_schema(engine, (projection,))
        metadata = sa.MetaData()
        live = projection.table(metadata)
        shadow = projection.table(metadata, projection.table_name + SHADOW_SUFFIX)
        async with writer(engine).begin() as conn:
            await take_ddl_lock(conn)
            await drop_table(conn, shadow)  # what a crashed rebuild left behind
            await conn.execute(sa.schema.CreateTable(shadow))
        started = time.perf_counter()
        applier = Applier(projection, shadow, known_empty=True)
        fill = _Fill(
            store,
            applier,
            page_size=page_size,
            flush_every=flush_every,
            max_cached=max_cached,
            on_progress=on_progress,
            total=await store.last_position(),
        )
        await fill.run()
        async with writer(engine).begin() as conn:
            await applier.flush(conn, evict=True)
            if conn.dialect.name == "postgresql":
                await create_indexes(conn, shadow)
        async with writer(engine).begin() as conn:
            live_position = (await checkpoints.read(conn, [projection.name], lock=True))[
                projection.name
            ].position
            target = max(live_position, fill.position)
            await fill.run(until=target, conn=conn)
            await applier.flush(conn, evict=True)
            if live_position < target:
                await _advance_live(conn, store, projection, live, frm=live_position, to=target)
            verification = await compare(conn, projection, live, shadow) if verify else None
            rows = await conn.scalar(sa.select(sa.func.count()).select_from(shadow)) or 0
            if swap_in:
                await swap(conn, live, shadow)
                await checkpoints.replace(
                    conn, projection.name, position=target, schema_version=projection.schema_version
                )
            else:
                await drop_table(conn, shadow)
        seconds = time.perf_counter() - started
        report = RebuildReport(
            name=projection.name,
            events=fill.events,
            rows=int(rows),
            seconds=round(seconds, 3),
            events_per_s=round(fill.events / seconds, 1) if seconds > 0 else 0.0,
            position=target,
            swapped=swap_in,
            verification=verification,
        )
        log.info(
            "projection_rebuilt",
            projection=projection.name,
            events=report.events,
            rows=report.rows,
            seconds=report.seconds,
            identical=None if verification is None else verification.ok,
        )
        return report
