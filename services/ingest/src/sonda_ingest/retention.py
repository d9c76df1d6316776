"""Retention: soft-delete analyses older than N days and remove their upload and result objects.

Candidates come from the event store (``AnalysisRequested`` older than the cutoff, not yet purged
by a previous run). For each, the objects are removed first and ``AnalysisDeleted`` (deleted_by
``retention``) is published after, so a run that stops half-way is finished by the next one and no
analysis is ever marked purged while its objects remain. An analysis a person deleted before still
gets its objects removed, and a second ``AnalysisDeleted`` records that the retention did it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sonda_events.bus import AnalysisWriter, Publisher
from sonda_events.contract import AnalysisDeleted, DeletedData
from sonda_events.errors import SondaError
from sonda_events.logging import get_logger
from sonda_events.store.rows import utc
from sonda_events.store.schema import events
from sonda_storage import InvalidKeyError, ObjectStorage, result_key, validate_key

from sonda_ingest.commands import PRODUCER
from sonda_ingest.history import RETENTION, AnalysisHistory, store_errors
from sonda_ingest.schemas import CleanedAnalysis, CleanupFailure, CleanupReport

log = get_logger(__name__)


class Retention:
    def __init__(
        self,
        *,
        storage: ObjectStorage,
        publisher: Publisher,
        history: AnalysisHistory,
        publish_deadline: float,
        batch: int = 500,
    ) -> None:
        self.storage = storage
        self.publisher = publisher
        self.history = history
        self.publish_deadline = publish_deadline
        self.batch = batch

    async def due(self, cutoff: datetime, limit: int) -> list[tuple[uuid.UUID, datetime]]:
        """Analyses requested before ``cutoff`` whose objects the retention has not removed yet."""
        store = self.history.store
        purged = sa.select(events.c.stream_id).where(
            events.c.type == "AnalysisDeleted",
            events.c.data["deleted_by"].as_string() == RETENTION,
        )
        async with store_errors(), store.engine.connect() as conn:
            # SQLite keeps UTC wall-clock digits without an offset; compare like with like.
            bound = cutoff.replace(tzinfo=None) if conn.dialect.name == "sqlite" else cutoff
            query = (
                sa.select(events.c.stream_id, events.c.occurred_at)
                .where(
                    events.c.type == "AnalysisRequested",
                    events.c.occurred_at < bound,
                    events.c.stream_id.not_in(purged),
                )
                .order_by(events.c.position)
                .limit(limit)
            )
            rows = (await conn.execute(query)).all()
        return [(row.stream_id, utc(row.occurred_at)) for row in rows]

    async def cleanup(
        self, days_old: int, *, now: datetime | None = None, stop: asyncio.Event | None = None
    ) -> CleanupReport:
        """One run: at most ``batch`` analyses; ``more`` says whether others are due.

        ``stop``, once set, ends the run after the analysis in hand (the rest count as ``more``).
        """
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days_old)
        due = await self.due(cutoff, self.batch + 1)
        more = len(due) > self.batch
        cleaned: list[CleanedAnalysis] = []
        failures: list[CleanupFailure] = []
        for analysis_id, requested_at in due[: self.batch]:
            if stop is not None and stop.is_set():
                more = True
                break
            try:
                cleaned.append(await self._purge(analysis_id, requested_at, days_old))
            except SondaError as exc:
                log.warning("cleanup_failed", analysis_id=str(analysis_id), code=exc.code, error=exc.message)
                failures.append(CleanupFailure(analysis_id=analysis_id, code=exc.code, error=exc.message))
        report = CleanupReport(
            days_old=days_old,
            cutoff=cutoff,
            analyses=cleaned,
            analyses_deleted=sum(1 for c in cleaned if c.soft_deleted),
            objects_deleted=sum(len(c.objects_deleted) for c in cleaned),
            failures=failures,
            more=more,
        )
        log.info(
            "cleanup_done",
            days_old=days_old,
            analyses=len(cleaned),
            objects_deleted=report.objects_deleted,
            failures=len(failures),
        )
        return report

    async def _purge(self, analysis_id: uuid.UUID, requested_at: datetime, days_old: int) -> CleanedAnalysis:
        facts = await self.history.facts(analysis_id)
        keys = [result_key(analysis_id)]
        if facts is not None and facts.requested is not None:
            with contextlib.suppress(InvalidKeyError):  # a foreign publisher's odd key: nothing to remove
                keys.insert(0, validate_key(facts.requested.data.file_key))
        removed = [key for key in keys if await self.storage.delete(key)]
        if facts is not None and facts.purged:  # published by a run whose event is not stored yet
            return CleanedAnalysis(
                analysis_id=analysis_id,
                requested_at=requested_at,
                soft_deleted=False,
                objects_deleted=removed,
            )
        writer = await AnalysisWriter.resume(
            self.publisher, analysis_id, producer=PRODUCER, fallback_version=facts.version if facts else 0
        )
        await writer.emit(
            AnalysisDeleted,
            DeletedData(reason=f"retention: requested more than {days_old} days ago", deleted_by=RETENTION),
            deadline=self.publish_deadline,
        )
        return CleanedAnalysis(
            analysis_id=analysis_id,
            requested_at=requested_at,
            soft_deleted=not (facts is not None and facts.deleted),
            objects_deleted=removed,
        )


#: Seconds a stopping process gives a running clean-up to finish the analysis it is on.
STOP_GRACE_S = 15.0


@contextlib.asynccontextmanager
async def scheduled(retention: Retention, days: int | None, interval_s: float) -> AsyncIterator[None]:
    """Run ``cleanup(days)`` every ``interval_s`` while the block runs (nothing when ``days`` is None).

    Stopping does not cancel a run in the middle of a database call or a publish (a cancelled
    aiosqlite/SQLAlchemy call can leave the pool unable to close): the run is asked to stop after
    the analysis it is on, and only cancelled if that takes longer than ``STOP_GRACE_S``.
    """
    if days is None:
        yield
        return
    stop = asyncio.Event()

    async def loop() -> None:
        delay = min(interval_s, 60.0)  # soon after start, then every interval
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
                return
            delay = interval_s
            try:
                await retention.cleanup(days, stop=stop)
            except Exception as exc:  # a store or bus outage: try again next time
                log.warning("scheduled_cleanup_failed", error=str(exc)[:300], error_type=type(exc).__name__)

    task = asyncio.create_task(loop(), name="sonda-retention")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_GRACE_S)
        except TimeoutError:
            log.warning("scheduled_cleanup_cancelled", grace_s=STOP_GRACE_S)
