"""What already happened to an analysis: from JetStream's window first, then the event store.

JetStream discards the oldest messages first, so when an analysis' ``AnalysisRequested`` (its first
event) is still in the stream, every later event of it is too and the stream alone answers. Older
analyses are answered by the store, which keeps everything. Events just published are in JetStream
before the recorder stores them, so a start followed at once by a delete still finds the analysis.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sonda_events import codec
from sonda_events.contract import AnalysisDeleted, AnalysisRequested, AnyEvent
from sonda_events.errors import (
    BusUnavailableError,
    EventStoreError,
    EventValidationError,
    StoreUnavailableError,
)
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME, analysis_subjects, subject_for
from sqlalchemy import exc as sa_exc

from sonda_ingest.errors import StoreNotConfiguredError

log = get_logger(__name__)

#: ``deleted_by`` of the deletions the retention clean-up makes.
RETENTION = "retention"


@asynccontextmanager
async def store_errors() -> AsyncIterator[None]:
    """Store failures reach clients as a short 503; the database's own text stays in the log."""
    try:
        yield
    except (EventStoreError, sa_exc.SQLAlchemyError, OSError) as exc:
        log.warning("event_store_error", error=str(exc)[:500], error_type=type(exc).__name__)
        raise StoreUnavailableError("the event store is unavailable; try again later") from exc


@dataclass(frozen=True)
class AnalysisFacts:
    analysis_id: uuid.UUID
    #: The request that started it (None only for streams another system began oddly).
    requested: AnalysisRequested | None
    #: Newest version known (JetStream or store).
    version: int
    deleted: bool
    #: The retention clean-up already removed its objects.
    purged: bool


class AnalysisHistory:
    """Read-only lookups used by the commands; never writes."""

    def __init__(self, js: JetStreamContext, store: EventStore | None, *, timeout: float = 3.0) -> None:
        self._js = js
        self._store = store
        self._timeout = timeout

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise StoreNotConfiguredError("the event store is not available to ingest")
        return self._store

    async def last_on(self, subject: str) -> tuple[AnyEvent, int] | None:
        """Newest event on a subject (wildcards allowed) still in the stream, with its sequence."""
        try:
            raw = await self._js.get_last_msg(STREAM_NAME, subject, direct=True)
        except NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError, ConnectionError) as exc:
            raise BusUnavailableError(f"NATS did not answer a lookup: {type(exc).__name__}") from exc
        if raw.data is None or raw.seq is None:
            return None
        try:
            return codec.decode(raw.data), raw.seq
        except EventValidationError:
            return None  # a foreign message on our subject: it tells us nothing

    async def requested(self, analysis_id: uuid.UUID) -> AnalysisRequested | None:
        """The request of an analysis, if it exists."""
        found = await self.last_on(subject_for(analysis_id, "AnalysisRequested"))
        if found is not None and isinstance(found[0], AnalysisRequested):
            return found[0]
        if self._store is None:
            return None
        async with store_errors():
            recorded = await self.store.read_stream(analysis_id, after_version=0)
        first = recorded[0].event if recorded else None
        return first if isinstance(first, AnalysisRequested) else None

    async def facts(self, analysis_id: uuid.UUID) -> AnalysisFacts | None:
        """Everything a delete needs to know, or None for an analysis nobody ever requested."""
        last = await self.last_on(analysis_subjects(analysis_id))
        requested = await self.last_on(subject_for(analysis_id, "AnalysisRequested"))
        if requested is not None and last is not None and isinstance(requested[0], AnalysisRequested):
            deleted = await self.last_on(subject_for(analysis_id, "AnalysisDeleted"))
            deletion = deleted[0] if deleted else None
            return AnalysisFacts(
                analysis_id=analysis_id,
                requested=requested[0],
                version=last[0].version,
                deleted=deletion is not None,
                purged=isinstance(deletion, AnalysisDeleted) and deletion.data.deleted_by == RETENTION,
            )
        recorded = []
        if self._store is not None:
            async with store_errors():
                recorded = [r.event for r in await self._store.read_stream(analysis_id)]
        if not recorded and last is None:
            return None
        deletions = [e for e in recorded if isinstance(e, AnalysisDeleted)]
        if last is not None and isinstance(last[0], AnalysisDeleted):
            deletions.append(last[0])
        first = recorded[0] if recorded else None
        return AnalysisFacts(
            analysis_id=analysis_id,
            requested=first if isinstance(first, AnalysisRequested) else None,
            version=max([e.version for e in recorded] + ([last[0].version] if last else [])),
            deleted=bool(deletions),
            purged=any(d.data.deleted_by == RETENTION for d in deletions),
        )
