"""Rebuild projections from the event store into shadow tables, verify, and swap them in.

1. Create an empty shadow table per projection (``analyses__rebuild``) and fold every event into
   them in one pass over the store, page by page, while the live projector and readers keep using
   the live tables.
2. Build the shadows' indexes (Postgres; SQLite builds them during the swap).
3. In one write transaction: lock the live checkpoints (the live projector waits), bring the live
   tables and the shadows to the same store position, compare them if asked, swap the shadows in and
   move the checkpoints (with a new generation, so caches drop what they built from the old tables).

Rebuilding only reads the store and writes read-model tables: it publishes nothing, so no
notification goes out and no consumer sees the replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
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
    #: Seconds spent folding the store, writing and indexing, and in the locked swap (with verify).
    phases: dict[str, float] = msgspec.field(default_factory=dict)


class _Target:
    """One projection being rebuilt: its live and shadow tables and the applier filling the shadow."""

    def __init__(self, projection: Projection[Any]) -> None:
        metadata = sa.MetaData()
        self.projection = projection
        self.live = projection.table(metadata)
        self.shadow = projection.table(metadata, projection.table_name + SHADOW_SUFFIX)
        self.applier = Applier(projection, self.shadow, known_empty=True)


class _Fill:
    """Folds store pages into every shadow, reading the next page while folding this one."""

    def __init__(
        self,
        store: EventStore,
        targets: list[_Target],
        *,
        page_size: int,
        flush_every: int,
        max_cached: int,
        on_progress: ProgressCallback | None,
        total: int,
    ) -> None:
        self.store = store
        self.targets = targets
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
                for target in self.targets:
                    await target.applier.apply(conn, events)
                self.events += len(events)
                if flush:
                    await conn.rollback()  # end the read transaction: no snapshot held between pages
                    await self._flush_full()
                if self.on_progress is not None:
                    self.on_progress(self.position, max(self.total, self.position))
        finally:
            if not page.done():
                page.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await page

    async def _flush_full(self) -> None:
        for target in self.targets:
            applier = target.applier
            if applier.pending >= self.flush_every:
                async with writer(self.store.engine).begin() as wconn:
                    await applier.flush(wconn, evict=applier.cached_rows() > self.max_cached)

    async def _read(self, after: int, until: int | None) -> list[RecordedEvent]:
        if until is not None and after >= until:
            return []
        events = await self.store.read_all(after_position=after, limit=self.page_size)
        if until is not None:
            events = [e for e in events if e.position <= until]
        return events


async def _advance_live(
    conn: AsyncConnection, store: EventStore, target: _Target, *, frm: int, to: int
) -> None:
    """Apply (frm, to] to a live table, as the live projector would have (we hold its lock)."""
    applier = Applier(target.projection, target.live)
    position = frm
    while position < to:
        events = [e for e in await store.read_all(after_position=position, limit=5000) if e.position <= to]
        if not events:
            break
        await applier.apply(conn, events)
        position = events[-1].position
    await applier.flush(conn)
    await checkpoints.advance(conn, target.projection.name, to)


async def rebuild_all(
    store: EventStore,
    projections: Sequence[Projection[Any]],
    *,
    verify: bool = False,
    swap_in: bool = True,
    page_size: int = 5000,
    flush_every: int = 20_000,
    max_cached: int = 200_000,
    on_progress: ProgressCallback | None = None,
) -> list[RebuildReport]:
    """Rebuild ``projections`` in one pass over the store; see the module docstring.

    Raises:
        RebuildInProgressError: another process is rebuilding one of them.
    """
    engine = store.engine
    targets = [_Target(p) for p in sorted(projections, key=lambda p: p.name)]
    names = [t.projection.name for t in targets]
    async with contextlib.AsyncExitStack() as locks:
        for name in names:
            await locks.enter_async_context(rebuild_lock(engine, name))
        await ensure_schema(engine, tuple(t.projection for t in targets))
        async with writer(engine).begin() as conn:
            await take_ddl_lock(conn)
            for target in targets:
                await drop_table(conn, target.shadow)  # what a crashed rebuild left behind
                await conn.execute(sa.schema.CreateTable(target.shadow))
        started = time.perf_counter()
        fill = _Fill(
            store,
            targets,
            page_size=page_size,
            flush_every=flush_every,
            max_cached=max_cached,
            on_progress=on_progress,
            total=await store.last_position(),
        )
        await fill.run()
        filled = time.perf_counter()
        async with writer(engine).begin() as conn:
            for target in targets:
                await target.applier.flush(conn, evict=True)
                if conn.dialect.name == "postgresql":
                    await create_indexes(conn, target.shadow)
                    # Fresh statistics, so the first queries after the swap get the index plans.
                    await conn.execute(
                        sa.text(f"ANALYZE {conn.dialect.identifier_preparer.quote(target.shadow.name)}")
                    )
        indexed = time.perf_counter()
        verifications: dict[str, Verification | None] = {}
        rows: dict[str, int] = {}
        async with writer(engine).begin() as conn:
            live = await checkpoints.read(conn, names, lock=True)
            target_position = max([fill.position, *(c.position for c in live.values())])
            await fill.run(until=target_position, conn=conn)
            for target in targets:
                name = target.projection.name
                await target.applier.flush(conn, evict=True)
                if verify and live[name].position < target_position:
                    # Compare at one position. Without --verify the live table lagging behind (a
                    # stopped service) needs no catching up: the swap replaces it.
                    await _advance_live(conn, store, target, frm=live[name].position, to=target_position)
                verifications[name] = (
                    await compare(conn, target.projection, target.live, target.shadow) if verify else None
                )
                rows[name] = int(
                    await conn.scalar(sa.select(sa.func.count()).select_from(target.shadow)) or 0
                )
                if swap_in:
                    await swap(conn, target.live, target.shadow)
                    await checkpoints.replace(
                        conn, name, position=target_position, schema_version=target.projection.schema_version
                    )
                else:
                    await drop_table(conn, target.shadow)
        seconds = time.perf_counter() - started
        phases = {
            "fill": round(filled - started, 3),
            "indexes": round(indexed - filled, 3),
            "swap": round(started + seconds - indexed, 3),
        }
    reports = []
    for name in names:
        report = RebuildReport(
            name=name,
            events=fill.events,
            rows=rows[name],
            seconds=round(seconds, 3),
            events_per_s=round(fill.events / seconds, 1) if seconds > 0 else 0.0,
            position=target_position,
            swapped=swap_in,
            verification=verifications[name],
            phases=phases,
        )
        check = report.verification
        log.info(
            "projection_rebuilt",
            projection=name,
            events=report.events,
            rows=report.rows,
            seconds=report.seconds,
            phases=phases,
            identical=None if check is None else check.ok,
        )
        reports.append(report)
    return reports


async def rebuild(store: EventStore, projection: Projection[Any], **options: Any) -> RebuildReport:
    """Rebuild one projection (see ``rebuild_all`` for the options)."""
    return (await rebuild_all(store, [projection], **options))[0]
