"""Publishing events to JetStream: deduplicated, acknowledged, and ordered per analysis.

Every publish carries ``Nats-Msg-Id: <event_id>`` so a re-publish inside the stream's duplicate window
is dropped by the server, and the publisher retries until it gets a PubAck (or its deadline passes,
so an HTTP handler can answer 503 instead of hanging). ``AnalysisWriter`` adds optimistic concurrency
per analysis with ``Nats-Expected-Last-Subject-Sequence`` on the analysis' wildcard subject: a stale
worker can never publish over a newer one. That header needs nats-server >= 2.11 (older servers
ignore its ``...-Subject`` companion): a "wrong last sequence" answer is only taken as a conflict once
the stream shows that another event did arrive; otherwise the server is refused as unsupported.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, TypeVar

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from sonda_events import codec
from sonda_events.bus.server import NEEDS, WHY, server_support
from sonda_events.contract import AnyEvent, Event, new_event
from sonda_events.errors import BusUnavailableError, NatsUnsupportedError, StreamVersionConflictError
from sonda_events.lifecycle import AnalysisStreamReader, StreamRead
from sonda_events.logging import get_logger
from sonda_events.subjects import STREAM_NAME, analysis_subjects, subject_for

log = get_logger(__name__)

CORRELATION_HEADER = "Sonda-Correlation-Id"
WRONG_LAST_SEQUENCE = 10071
_TRANSIENT = (
    nats.errors.TimeoutError,
    NoStreamResponseError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.Error,  # after APIError is handled: connection-level failures of any kind
    TimeoutError,
    ConnectionError,  # nats-py lets a socket reset escape while the connection is being lost
)

E = TypeVar("E", bound=Event)
#: Times a writer re-reads past messages the lifecycle skips before it gives up on one event.
REPOSITION_ATTEMPTS = 5


class Publisher:
    """Publishes events; one instance per NATS connection.

    Give it the connection: it then publishes only while connected (nats-py would otherwise buffer a
    publish during a reconnect and send it after the caller gave up) and can name the server's
    version when it refuses one. A ``JetStreamContext`` alone is accepted too, without either.
    """

    def __init__(
        self,
        bus: NatsClient | JetStreamContext,
        *,
        request_timeout: float = 2.0,
        deadline: float = 30.0,
    ) -> None:
        self._nc: NatsClient | None
        if isinstance(bus, JetStreamContext):
            self._nc, self._js = None, bus
        else:
            self._nc, self._js = bus, bus.jetstream()
        self._request_timeout = request_timeout
        self._deadline = deadline

    @staticmethod
    def headers_for(event: Event, expected_last_seq: int | None = None) -> dict[str, str]:
        headers = {"Nats-Msg-Id": str(event.event_id), CORRELATION_HEADER: event.correlation_id}
        if expected_last_seq is not None:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_last_seq)
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = analysis_subjects(event.analysis_id)
        return headers

    async def publish(
        self,
        event: Event,
        *,
        expected_last_seq: int | None = None,
        deadline: float | None = None,
    ) -> PubAck:
        """Publish one event and wait for its PubAck, retrying transient failures.

        Raises:
            StreamVersionConflictError: another event was published to this analysis first.
            NatsUnsupportedError: the server refused ``expected_last_seq`` although no other event
                arrived (it ignores ``Nats-Expected-Last-Subject-Sequence-Subject``: older than 2.11).
            BusUnavailableError: no PubAck before the deadline.
        """
        payload = codec.encode(event)
        subject = subject_for(event.analysis_id, event.type)
        headers = self.headers_for(event, expected_last_seq)
        give_up = time.monotonic() + (self._deadline if deadline is None else deadline)
        delay = 0.05
        attempt = 0
        while True:
            attempt += 1
            try:
                if not self._connected():
                    # nats-py would buffer the message while it reconnects and send it later,
                    # possibly after this call gave up: a caller told "503" whose event still
                    # lands. Publish only on a live connection; wait for it until the deadline.
                    raise nats.errors.ConnectionReconnectingError()
                return await self._js.publish(
                    subject, payload, timeout=self._request_timeout, headers=dict(headers)
                )
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    raise BusUnavailableError(f"JetStream refused the event: {exc}") from exc
                return await self._settle_conflict(event, expected_last_seq, retried=attempt > 1, exc=exc)
            except _TRANSIENT as exc:
                if time.monotonic() + delay > give_up:
                    raise BusUnavailableError(
                        f"no acknowledgement from NATS after {attempt} attempts: {type(exc).__name__}"
                    ) from exc
                log.warning(
                    "publish_retry", attempt=attempt, error=type(exc).__name__, event_id=str(event.event_id)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _connected(self) -> bool:
        return self._nc is None or bool(self._nc.is_connected)

    async def _settle_conflict(
        self, event: Event, expected_last_seq: int | None, *, retried: bool, exc: APIError
    ) -> PubAck:
        """A "wrong last sequence" answer, checked against the stream before anyone calls it a conflict.

        Our own earlier attempt stored (its PubAck lost) is a duplicate; another event newer than
        the one we expected is a conflict; no such event means the server compared something else.
        """
        try:
            last = await self._newest(event.analysis_id)
        except (*_TRANSIENT, APIError) as read_exc:
            raise BusUnavailableError(
                f'analysis {event.analysis_id}: JetStream answered "wrong last sequence" and the stream '
                f"could not be read to confirm another writer: {type(read_exc).__name__}"
            ) from exc
        if retried and last is not None and last[0] == codec.encode(event):
            return PubAck(stream=STREAM_NAME, seq=last[1], duplicate=True)
        newest = last[1] if last is not None else 0
        if expected_last_seq is not None and newest == expected_last_seq:
            raise self._ignored_subject_header(event, newest) from exc
        raise StreamVersionConflictError(
            f"analysis {event.analysis_id}: expected last sequence {expected_last_seq}, "
            f"but another event was published first ({exc.description})"
        ) from exc

    def _ignored_subject_header(self, event: Event, newest: int) -> NatsUnsupportedError:
        if self._nc is not None:
            support = server_support(self._nc)
            if not support.supported:
                return support.error()
            server = f"nats-server {support.version} at {support.server}"
        else:
            server = "the nats-server"
        return NatsUnsupportedError(
            f'{server} refused an event of analysis {event.analysis_id} as "wrong last sequence" '
            f"although the analysis' newest event is still at sequence {newest}: it ignores "
            f"Nats-Expected-Last-Subject-Sequence-Subject; Sonda needs nats-server {NEEDS} ({WHY})"
        )

    async def publish_many(self, events: list[AnyEvent], *, deadline: float | None = None) -> int:
        """Pipeline many events (no per-analysis concurrency check); returns how many were new.

        Used by bulk producers and benchmarks; each event still carries its ``Nats-Msg-Id``.
        """
        futures = []
        for event in events:
            futures.append(
                await self._js.publish_async(
                    subject_for(event.analysis_id, event.type),
                    codec.encode(event),
                    headers=self.headers_for(event),
                )
            )
        acks = await asyncio.wait_for(
            asyncio.gather(*futures), self._deadline if deadline is None else deadline
        )
        return sum(1 for ack in acks if not ack.duplicate)

    async def last_message(self, analysis_id: uuid.UUID) -> tuple[AnyEvent, int] | None:
        """The newest event of an analysis still in the stream's window, with its stream sequence."""
        newest = await self._newest(analysis_id)
        if newest is None:
            return None
        return codec.decode(newest[0]), newest[1]

    async def _newest(self, analysis_id: uuid.UUID) -> tuple[bytes, int] | None:
        """The newest message on the analysis' subjects, whatever it holds, with its sequence."""
        try:
            raw = await self._js.get_last_msg(STREAM_NAME, analysis_subjects(analysis_id), direct=True)
        except NotFoundError:
            return None
        if raw.seq is None:
            return None
        return raw.data or b"", raw.seq


class AnalysisWriter:
    """Appends the next events of one analysis, with its version and the stream's last sequence.

    ``resume`` reads where the analysis stands; each ``emit`` publishes version+1 expecting the last
    sequence it knows, so two workers racing on the same analysis cannot both succeed.
    """

    def __init__(
        self,
        publisher: Publisher,
        analysis_id: uuid.UUID,
        *,
        producer: str,
        correlation_id: str,
        version: int,
        last_seq: int,
        causation_id: str | None = None,
        reader: AnalysisStreamReader | None = None,
    ) -> None:
        self.publisher = publisher
        #: With a reader, a conflict caused only by messages the lifecycle skips (a duplicate
        #: request, a foreign or refused message) is not a lost race: the writer re-reads and goes on.
        self.reader = reader
        self.analysis_id = analysis_id
        self.producer = producer
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self.version = version
        self.last_seq = last_seq

    @classmethod
    def after(
        cls,
        publisher: Publisher,
        read: StreamRead,
        *,
        producer: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        reader: AnalysisStreamReader | None = None,
    ) -> AnalysisWriter:
        """A writer positioned after what the lifecycle's reader found: its version (refused and
        foreign messages take none) and the newest stream sequence (which they do take).

        ``reader`` (the one that read ``read``) lets the writer tell a lost race from a message the
        lifecycle skips; see ``emit``.
        """
        state = read.state
        return cls(
            publisher,
            state.analysis_id,
            producer=producer,
            correlation_id=correlation_id or state.correlation_id,
            version=state.version,
            last_seq=read.last_seq,
            causation_id=causation_id,
            reader=reader,
        )

    @classmethod
    async def resume(
        cls,
        publisher: Publisher,
        analysis_id: uuid.UUID,
        *,
        producer: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        fallback_version: int = 0,
    ) -> AnalysisWriter:
        """Start after the newest message in the stream (``fallback_version`` if it aged out).

        For tools and tests that know the stream holds only valid events; services position their
        writers with ``after`` from the lifecycle's read, which skips what the rules refuse.
        """
        last = await publisher.last_message(analysis_id)
        version, seq = (last[0].version, last[1]) if last else (fallback_version, 0)
        return cls(
            publisher,
            analysis_id,
            producer=producer,
            correlation_id=correlation_id or (last[0].correlation_id if last else str(analysis_id)),
            version=version,
            last_seq=seq,
            causation_id=causation_id,
        )

    async def emit(self, cls: type[E], data: Any, *, deadline: float | None = None) -> E:
        """Publish the analysis' next event; raises ``StreamVersionConflictError`` if we are stale.

        JetStream's check compares the newest message on the analysis' subjects, whatever it is. When
        it fails and the lifecycle's read shows no event accepted since ours (only a duplicate request,
        a foreign or a refused message arrived), the same event is published again after that message.
        """
        event = new_event(
            cls,
            analysis_id=self.analysis_id,
            version=self.version + 1,
            data=data,
            producer=self.producer,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )
        for attempt in range(1, REPOSITION_ATTEMPTS + 1):
            try:
                ack = await self.publisher.publish(event, expected_last_seq=self.last_seq, deadline=deadline)
                break
            except StreamVersionConflictError:
                if self.reader is None or attempt == REPOSITION_ATTEMPTS:
                    raise
                read = await self.reader.read(self.analysis_id)
                if read.state.version != self.version or read.last_seq == self.last_seq:
                    raise  # another writer's event was accepted: we lost the race
                log.info("writer_repositioned", analysis_id=str(self.analysis_id), last_seq=read.last_seq)
                self.last_seq = read.last_seq
        self.version = event.version
        if ack.seq:
            self.last_seq = ack.seq
        else:  # a confirmed duplicate: read the sequence it was stored under
            last = await self.publisher.last_message(self.analysis_id)
            self.last_seq = last[1] if last else self.last_seq
        return event
