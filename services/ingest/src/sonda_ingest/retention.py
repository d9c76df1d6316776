"""Retention: soft-delete analyses older than N days and remove their upload and result objects.

Candidates come from the event store (streams opened before the cutoff with no ``AnalysisPurged``),
and each one's state from the lifecycle (its one stream reader and fold), which also knows the
purges recorded before ``AnalysisPurged`` existed. For each, the objects are removed first and
``AnalysisPurged`` is published after, so a run that stops half-way is finished by the next one and
no analysis is ever marked purged while its objects remain. An analysis a person deleted before still
gets its objects removed, and the purge records that the retention did it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sonda_events.bus import AnalysisWriter, Publisher
from sonda_events.contract import AnalysisPurged, PurgedData
from sonda_events.errors import SondaError
from sonda_events.lifecycle import StreamRead
from sonda_events.logging import get_logger
from sonda_storage import InvalidKeyError, ObjectStorage, result_key, validate_key

from sonda_ingest.commands import PRODUCER
from sonda_ingest.history import AnalysisHistory, store_errors
from sonda_ingest.schemas import CleanedAnalysis, CleanupFailure, CleanupReport

log = get_logger(__name__)

#: ``purged_by`` of the purges this clean-up publishes.
RETENTION = "retention"


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

    async def due(self, cutoff: datetime, limit: int) -> list[tuple[StreamRead, datetime]]:
        """Analyses requested before ``cutoff`` whose objects the retention has not removed yet."""
        found: list[tuple[StreamRead, datetime]] = []
        after = 0
        while len(found) < limit:
            async with store_errors():
                page = await self.history.store.streams_opened_before(
                    cutoff, lacking_type="AnalysisPurged", after_position=after, limit=limit
                )
            for opening in page:
                read = await self.history.read(opening.stream_id)
                if read is not None and not read.state.purged:  # not purged the old way either
                    found.append((read, opening.opened_at))
            if len(page) < limit:
                break
            after = page[-1].position
        return found[:limit]

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
        for read, requested_at in due[: self.batch]:
            analysis_id = read.state.analysis_id
            if stop is not None and stop.is_set():
                more = True
                break
            try:
                cleaned.append(await self._purge(read, requested_at, days_old))
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

    async def _purge(self, read: StreamRead, requested_at: datetime, days_old: int) -> CleanedAnalysis:
        state = read.state
        keys = [result_key(state.analysis_id)]
        if state.request is not None:
            with contextlib.suppress(InvalidKeyError):  # a foreign publisher's odd key: nothing to remove
                keys.insert(0, validate_key(state.request.data.file_key))
        removed = [key for key in keys if await self.storage.delete(key)]
        writer = AnalysisWriter.after(self.publisher, read, producer=PRODUCER, reader=self.history.reader)
        await writer.emit(
            AnalysisPurged,
            PurgedData(
                reason=f"retention: requested more than {days_old} days ago",
                purged_by=RETENTION,
                objects_deleted=removed,
            ),
            deadline=self.publish_deadline,
        )
        return CleanedAnalysis(
            analysis_id=state.analysis_id,
            requested_at=requested_at,
            soft_deleted=not state.deleted,
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
