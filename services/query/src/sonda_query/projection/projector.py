"""The live projector: tails the event store by global position and keeps the read models current.

Per batch: read the checkpoints, read the next events from the store, then in ONE write transaction
lock the checkpoints again, check nobody moved them meanwhile (another instance, or a rebuild's swap),
apply the events to every projection still behind them, and advance the checkpoints. A crash before
the commit leaves rows and checkpoints as they were; after it, both moved together. Several instances
may run a projector on the same database: the checkpoint lock makes their batches take turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from sonda_events.contract import RecordedEvent
from sonda_events.logging import get_logger
from sonda_events.store import EventStore

from sonda_query.projection.applier import Applier
from sonda_query.projection.projections import ALL, Projection
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.schema import writer

log = get_logger(__name__)

#: Called after each commit with the ids whose rows changed, and the projections' generation.
ChangeListener = Callable[[set[uuid.UUID], int], Awaitable[None]]


class _Moved(Exception):
    """A checkpoint moved between reading it and locking it: the batch is abandoned."""


class ProjectorStats(msgspec.Struct, kw_only=True):
    """Counters since start (health endpoints, tests, benchmarks)."""

    batches: int = 0
    events: int = 0
    conflicts: int = 0
    failures: int = 0
    #: Lowest checkpoint of the projections (every event up to it is applied everywhere).
    position: int = 0
    #: Sum of the projections' generations; changes when a rebuild swaps tables in.
    generation: int = 0
    #: Monotonic time of the last batch that moved a checkpoint (or of the start).
    last_moved: float = msgspec.field(default_factory=time.monotonic)
    running: bool = False
    last_error: str | None = None


class Projector:
    """See the module docstring. ``step`` applies one batch; ``run`` loops until stopped."""

    def __init__(
        self,
        store: EventStore,
        projections: tuple[Projection[Any], ...] = ALL,
        *,
        batch_size: int = 1000,
        poll_s: float = 0.1,
        on_change: ChangeListener | None = None,
    ) -> None:
        self._store = store
        self._projections = projections
        self._names = [p.name for p in projections]
        metadata = sa.MetaData()
        self._tables = {p.name: p.table(metadata) for p in projections}
        self._batch_size = batch_size
        self._poll_s = poll_s
        self._on_change = on_change
        self.stats = ProjectorStats()

    async def step(self) -> int:
        """Apply the next batch; returns the number of events read (0 when caught up)."""
        async with self._store.engine.connect() as conn:
            seen = await checkpoints.read(conn, self._names)
        self._note_generation(seen)
        start = min((seen[name].position for name in self._names if name in seen), default=0)
        self.stats.position = start
        events = await self._store.read_all(after_position=start, limit=self._batch_size)
        if not events:
            return 0
        changed: set[uuid.UUID] = set()
        try:
            changed = await self._apply(seen, events)
        except _Moved:
            # Another projector or a rebuild's swap got there first: start over from theirs.
            self.stats.conflicts += 1
            return len(events)
        self.stats.batches += 1
        self.stats.events += len(events)
        self.stats.position = events[-1].position
        self.stats.last_moved = time.monotonic()
        if self._on_change is not None and changed:
            await self._on_change(changed, self.stats.generation)
        return len(events)

    async def _apply(
        self, seen: dict[str, checkpoints.Checkpoint], events: list[RecordedEvent]
    ) -> set[uuid.UUID]:
        changed: set[uuid.UUID] = set()
        async with writer(self._store.engine).begin() as conn:
            locked = await checkpoints.read(conn, self._names, lock=True)
            if any(locked[n].position != seen[n].position for n in self._names):
                raise _Moved
            for projection in self._projections:
                after = locked[projection.name].position
                todo = [recorded for recorded in events if recorded.position > after]
                if not todo:
                    continue
                applier = Applier(projection, self._tables[projection.name])
                await applier.apply(conn, todo)
                await applier.flush(conn)
                changed |= applier.changed
                await checkpoints.advance(conn, projection.name, events[-1].position)
        return changed

    def _note_generation(self, seen: dict[str, checkpoints.Checkpoint]) -> None:
        generation = sum(c.generation for c in seen.values())
        if generation != self.stats.generation:
            log.info("projection_generation_changed", generation=generation)
            self.stats.generation = generation

    async def catch_up(self) -> int:
        """Apply batches until the store has nothing newer; returns events read."""
        total = 0
        while (count := await self.step()) > 0:
            total += count
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Project until ``stop`` is set; a failing database is retried with a growing pause."""
        self.stats.running = True
        failures = 0
        try:
            while not stop.is_set():
                try:
                    count = await self.step()
                    failures = 0
                    self.stats.last_error = None
                except Exception as exc:  # never let a database blip end the projector
                    failures += 1
                    self.stats.failures += 1
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                    log.warning("projector_batch_failed", error=self.stats.last_error)
                    count = 0
                if count < self._batch_size:
                    pause = self._poll_s if failures == 0 else min(5.0, 0.2 * 2**failures)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
        finally:
            self.stats.running = False

    @property
    def generation(self) -> int:
        return self.stats.generation
