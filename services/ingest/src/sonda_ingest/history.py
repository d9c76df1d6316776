"""What already happened to an analysis, as the commands need it: the lifecycle's one stream reader
(JetStream's window first, the event store behind it) and its fold. Events just published are in
JetStream before the recorder stores them, so a start followed at once by a delete still finds it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nats.aio.client import Client as NatsClient
from sonda_events.contract import AnalysisRequested
from sonda_events.errors import EventStoreError, StoreUnavailableError
from sonda_events.lifecycle import AnalysisStreamReader, StreamRead
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sonda_service import Principal
from sqlalchemy import exc as sa_exc

from sonda_ingest.errors import StoreNotConfiguredError

log = get_logger(__name__)


@asynccontextmanager
async def store_errors() -> AsyncIterator[None]:
    """Store failures reach clients as a short 503; the database's own text stays in the log."""
    try:
        yield
    except (EventStoreError, sa_exc.SQLAlchemyError, OSError) as exc:
        log.warning("event_store_error", error=str(exc)[:500], error_type=type(exc).__name__)
        raise StoreUnavailableError("the event store is unavailable; try again later") from exc


class AnalysisHistory:
    """Read-only lookups used by the commands; never writes."""

    def __init__(self, nc: NatsClient, store: EventStore | None) -> None:
        self._reader = AnalysisStreamReader(nc, store)
        self._store = store

    @property
    def reader(self) -> AnalysisStreamReader:
        return self._reader

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise StoreNotConfiguredError("the event store is not available to ingest")
        return self._store

    async def read(self, analysis_id: uuid.UUID) -> StreamRead | None:
        """The analysis as its events say, or None for an analysis nobody ever requested.

        Raises:
            BusUnavailableError: neither JetStream nor the store could be read.
        """
        read = await self._reader.read(analysis_id)
        return read if read.state.exists else None

    async def read_as(self, analysis_id: uuid.UUID, principal: Principal) -> StreamRead | None:
        """``read`` for a command made by ``principal``: None also when another principal owns the
        analysis (an analysis without a known request belongs to nobody but admins)."""
        read = await self.read(analysis_id)
        if read is None:
            return None
        owner = read.state.request.data.requested_by if read.state.request is not None else None
        if owner is None and not principal.admin:
            return None
        return read if owner is None or principal.may_access(owner) else None

    async def requested(self, analysis_id: uuid.UUID) -> AnalysisRequested | None:
        """The request that opened an analysis, if it exists."""
        read = await self.read(analysis_id)
        return read.state.request if read is not None else None
