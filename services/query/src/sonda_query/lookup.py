"""Where an analysis the read model does not know yet may already exist: the store, then JetStream.

Ingest answers 202 once ``AnalysisRequested`` is in JetStream; the recorder and the projector follow
within moments. A status asked for in between is answered from the events themselves (folded with
the projector's own rules), so a client that just started an analysis never sees a 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sonda_events.codec import decode
from sonda_events.contract import RecordedEvent
from sonda_events.errors import SondaError
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME, subject_for

from sonda_query.projection.fold import fold_analysis
from sonda_query.readmodel.rows import AnalysisRow
from sonda_query.views import Source

log = get_logger(__name__)


class StreamLookup:
    def __init__(self, store: EventStore, jetstream: Any | None = None) -> None:
        self._store = store
        self._js = jetstream

    async def find(self, analysis_id: uuid.UUID) -> tuple[AnalysisRow, Source] | None:
        row = await self._from_store(analysis_id)
        if row is not None:
            return row, "event_store"
        row = await self._from_jetstream(analysis_id)
        if row is not None:
            return row, "jetstream"
        return None

    async def _from_store(self, analysis_id: uuid.UUID) -> AnalysisRow | None:
        row: AnalysisRow | None = None
        for recorded in await self._store.read_stream(analysis_id):
            row = fold_analysis(row, recorded) or row
        return row

    async def _from_jetstream(self, analysis_id: uuid.UUID) -> AnalysisRow | None:
        if self._js is None:
            return None
        try:
            msg = await self._js.get_last_msg(STREAM_NAME, subject_for(analysis_id, "AnalysisRequested"))
            event = decode(msg.data or b"")
        except SondaError:
            return None  # not a valid event: the recorder dead-letters it; it is no analysis
        except Exception as exc:  # not found, or NATS unreachable: nothing to say either way
            log.debug("jetstream_lookup_missed", error=type(exc).__name__)
            return None
        if event.analysis_id != analysis_id:
            return None
        recorded = RecordedEvent(position=1, event=event, recorded_at=datetime.now(UTC))
        row = fold_analysis(None, recorded)
        if row is not None:
            row.position = 0  # not in the store yet: no global position
        return row
