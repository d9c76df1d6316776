"""An analysis' past events for a connection: the lifecycle's one stream reader, as the sessions
need it (only what follows the version a client already has)."""

from __future__ import annotations

import uuid

from nats.aio.client import Client as NatsClient
from sonda_events.codes import Code
from sonda_events.contract import AnyEvent
from sonda_events.errors import BusUnavailableError, SondaError
from sonda_events.lifecycle import AnalysisState, AnalysisStreamReader
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME


class HistoryUnavailableError(SondaError):
    """Neither JetStream nor the event store could be read; the client should retry later."""

    code = Code.HISTORY_UNAVAILABLE


class History:
    """Reads past events of one analysis; safe to share between connections."""

    def __init__(
        self,
        nc: NatsClient,
        store: EventStore | None = None,
        *,
        stream: str = STREAM_NAME,
        page: int = 256,
        timeout: float = 2.0,
    ) -> None:
        self._reader = AnalysisStreamReader(nc, store, stream=stream, page=page, timeout=timeout)

    async def read(
        self, analysis_id: uuid.UUID, *, after_version: int = 0
    ) -> tuple[AnalysisState, list[AnyEvent]]:
        """The analysis' state now, and its accepted events above ``after_version`` in version order.

        Raises:
            HistoryUnavailableError: nothing could be read (saying "nothing happened" could turn an
                outage into "unknown analysis").
        """
        try:
            read = await self._reader.read(analysis_id)
        except BusUnavailableError as exc:
            raise HistoryUnavailableError("the analysis history cannot be read right now") from exc
        return read.state, [event for event in read.events if event.version > after_version]
