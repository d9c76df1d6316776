"""The analysis as its events say, for reads the projection has not caught up with yet.

The notifier forwards an event the moment JetStream has it; the recorder and the projector follow a
few milliseconds later. A client that reads right after a notification must not see the older
state, so every read compares the projection's version with the newest version JetStream holds for
the analysis (one direct get) and, when the projection is behind, answers from the events
themselves: read with the lifecycle's one stream reader (JetStream's window, the store behind it)
and folded with the projector's own rules, so both answers agree.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import msgspec
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from sonda_events.contract import AnyEvent, RecordedEvent
from sonda_events.errors import BusUnavailableError
from sonda_events.lifecycle import AnalysisStreamReader
from sonda_events.logging import get_logger
from sonda_events.recorder.consumer import RECORDER_CONSUMER
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME

from sonda_query.projection.fold import fold_analysis, fold_result
from sonda_query.projection.projections import ALL
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.rows import AnalysisRow, ResultRow
from sonda_query.views import Source

log = get_logger(__name__)

#: Between two looks at the recorder's and the projector's positions while a listing waits.
_POLL_S = 0.05


class Folded(msgspec.Struct, kw_only=True):
    """Read-model rows folded straight from an analysis' events."""

    row: AnalysisRow
    result: ResultRow | None
    source: Source


class StreamLookup:
    def __init__(self, store: EventStore, nc: NatsClient | None = None) -> None:
        self._store = store
        self._nc = nc
        self._reader = AnalysisStreamReader(nc, store) if nc is not None else None

    async def newest_version(self, analysis_id: uuid.UUID) -> int | None:
        """Version of the analysis' newest event in JetStream; None when unknown or unreachable."""
        if self._reader is None or self._nc is None or not self._nc.is_connected:
            return None  # a NATS outage must not hold reads up: the projection answers alone
        try:
            head = await self._reader.head(analysis_id)
            if head is None:
                return None
            if head.event is not None:
                return head.event.version
            # The newest message is not one of the analysis' events (a foreign publisher): fold.
            return (await self._reader.read(analysis_id)).state.version or None
        except BusUnavailableError as exc:
            log.info("newest_version_unknown", analysis_id=str(analysis_id), error=exc.message)
            return None

    async def until_projected(self, wait_s: float) -> bool:
        """Wait, at most ``wait_s``, until the read model holds every event JetStream held when
        called; False when it did not get there (or NATS cannot tell), and the read goes on.

        A listing cannot fold each analysis from its events as the per-analysis reads do: an
        analysis the projector has not seen at all is in no page. So a listing first waits for
        the recorder's consumer to have stored JetStream's head of this moment (its ack floor,
        or nothing left to deliver), then for the projections to reach the store's head: an
        analysis whose ``analysis_completed`` a client was shown is then listed as completed.
        """
        if self._nc is None or not self._nc.is_connected or wait_s <= 0:
            return False
        deadline = time.monotonic() + wait_s
        js = self._nc.jetstream()
        try:
            async with asyncio.timeout(wait_s):
                target = (await js.stream_info(STREAM_NAME)).state.last_seq
            while True:
                info = await js.consumer_info(STREAM_NAME, RECORDER_CONSUMER, timeout=wait_s)
                floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
                if floor >= target or not (info.num_pending or info.num_ack_pending):
                    break
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(_POLL_S)
        except (NotFoundError, nats.errors.Error, TimeoutError):
            return False  # no stream or recorder yet, or NATS not answering: the page as it is
        head = await self._store.last_position()
        names = [p.name for p in ALL]
        while True:
            async with self._store.engine.connect() as conn:
                found = await checkpoints.read(conn, names)
            if all(found.get(name) is not None and found[name].position >= head for name in names):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_S)

    async def find(self, analysis_id: uuid.UUID) -> Folded | None:
        """The rows the projection will hold once it has applied every event known now."""
        source: Source
        if self._reader is not None and self._nc is not None and self._nc.is_connected:
            try:
                read = await self._reader.read(analysis_id)
            except BusUnavailableError:
                read = None
            if read is not None:
                source = "jetstream" if read.source == "jetstream" else "event_store"
                return self._fold(read.events, source)
        recorded = await self._store.read_stream(analysis_id)
        return self._fold([r.event for r in recorded], "event_store")

    @staticmethod
    def _fold(events: list[AnyEvent], source: Source) -> Folded | None:
        row: AnalysisRow | None = None
        result: ResultRow | None = None
        now = datetime.now(UTC)
        for event in events:
            # Not necessarily stored yet: no global position (0 in the rows).
            recorded = RecordedEvent(position=1, event=event, recorded_at=now)
            row = fold_analysis(row, recorded) or row
            result = fold_result(result, recorded) or result
        if row is None:
            return None
        row.position = 0
        if result is not None:
            result.position = 0
        return Folded(row=row, result=result, source=source)
