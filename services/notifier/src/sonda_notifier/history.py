"""An analysis' past events: JetStream first, the event store for what aged out of it.

JetStream holds everything published within its retention window and is always ahead of the event
store (the recorder writes asynchronously), so it is read first, with batched direct gets
(``next_by_subj`` on ``eda.analysis.<id>.*``: one request per page of up to ``page`` messages, no
consumer to create and delete per client). Servers older than 2.11 answer a batch request with one
message and no ``Nats-Num-Pending``; the reader then continues one message per request. Only when the
oldest version JetStream still has is not the next one the caller needs is the store asked for the
missing prefix.

Messages that are not valid events are skipped with a log line (the recorder dead-letters them).
"""

from __future__ import annotations

import uuid

import msgspec
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sonda_events import codec
from sonda_events.contract import AnyEvent
from sonda_events.errors import EventValidationError, SondaError
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME, analysis_subjects

log = get_logger(__name__)

_STATUS = "Status"


class HistoryUnavailableError(SondaError):
    """Neither JetStream nor the event store could be read; the client should retry later."""

    code = "history_unavailable"
    status_code = 503
    retryable = True


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
        self._nc = nc
        self._store = store
        self._stream = stream
        self._page = page
        self._timeout = timeout

    async def read(self, analysis_id: uuid.UUID, *, after_version: int = 0) -> list[AnyEvent]:
        """Events with a version above ``after_version``, in version order, one per version."""
        by_version: dict[int, AnyEvent] = {}
        jetstream_failed = False
        try:
            for event in await self.from_jetstream(analysis_id):
                # An event filed under another analysis' subject is not this analysis' history.
                if event.version > after_version and event.analysis_id == analysis_id:
                    by_version.setdefault(event.version, event)
        except (nats.errors.Error, TimeoutError) as exc:
            jetstream_failed = True
            log.warning("history_jetstream_failed", analysis_id=str(analysis_id), error=type(exc).__name__)
        oldest = min(by_version, default=None)
        if self._store is not None and (oldest is None or oldest > after_version + 1):
            for event in await self.from_store(analysis_id, after_version):
                if oldest is None or event.version < oldest:  # JetStream wins where both have it
                    by_version.setdefault(event.version, event)
        if jetstream_failed and not by_version:
            # Saying "nothing happened" here could turn a NATS outage into "unknown analysis".
            raise HistoryUnavailableError("the analysis history cannot be read right now")
        return [by_version[v] for v in sorted(by_version)]

    async def from_store(self, analysis_id: uuid.UUID, after_version: int) -> list[AnyEvent]:
        assert self._store is not None
        try:
            return [r.event for r in await self._store.read_stream(analysis_id, after_version=after_version)]
        except Exception as exc:  # a missing schema or a database blip: JetStream is all we have
            log.warning("history_store_failed", analysis_id=str(analysis_id), error=str(exc)[:200])
            return []

    async def from_jetstream(self, analysis_id: uuid.UUID) -> list[AnyEvent]:
        """Every valid event of the analysis still in the stream, in stream order."""
        subject = analysis_subjects(analysis_id)
        events: list[AnyEvent] = []
        start = 1
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox)
        try:
            while True:
                request = {"seq": start, "next_by_subj": subject, "batch": self._page}
                await self._nc.publish(
                    f"$JS.API.DIRECT.GET.{self._stream}", msgspec.json.encode(request), reply=inbox
                )
                last_seq, pending = None, 0
                while True:
                    msg = await sub.next_msg(timeout=self._timeout)
                    headers = msg.headers or {}
                    if headers.get(_STATUS):  # 204 end of batch, 404 nothing (more) to read
                        break
                    last_seq = int(headers.get("Nats-Sequence", start))
                    self._decode_into(events, msg)
                    if "Nats-Num-Pending" not in headers:  # a server without batched direct gets
                        pending = 1
                        break
                    pending = int(headers["Nats-Num-Pending"])
                if last_seq is None or pending == 0:
                    return events
                start = last_seq + 1
        finally:
            await sub.unsubscribe()

    @staticmethod
    def _decode_into(events: list[AnyEvent], msg: Msg) -> None:
        try:
            events.append(codec.decode(msg.data))
        except EventValidationError as exc:
            subject = (msg.headers or {}).get("Nats-Subject", "")
            log.info("history_invalid_event_skipped", subject=subject, error=str(exc)[:200])
