"""The one reader of an analysis' stream: JetStream's window first, the event store behind it.

JetStream holds everything published within its retention window and is always ahead of the store
(the recorder writes asynchronously), so it is read first, with batched direct gets
(``next_by_subj`` on ``eda.analysis.<id>.*``: one request per page, no consumer to create). JetStream
discards the oldest messages first, so when the analysis' version 1 is still there every later
event is too; otherwise the store supplies the prefix that aged out. Messages are folded with the
lifecycle's rules, so every service sees the same state: a message that is not a valid event, is
filed under another analysis' or event's subject, or is refused by the rules, is skipped (the
recorder dead-letters it).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Literal

import msgspec
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from sonda_events import codec
from sonda_events.contract import AnyEvent
from sonda_events.errors import BusUnavailableError, EventValidationError, SondaError
from sonda_events.lifecycle.state import AnalysisState, evolve
from sonda_events.logging import get_logger
from sonda_events.subjects import STREAM_NAME, analysis_subjects, event_token, parse_subject

if TYPE_CHECKING:  # the store's planning imports the rules: no import cycle at run time
    from sonda_events.store import EventStore

log = get_logger(__name__)

_STATUS = "Status"
Source = Literal["jetstream", "event_store", "none"]


class StreamRead(msgspec.Struct, kw_only=True, frozen=True):
    """What one read found."""

    state: AnalysisState
    #: The accepted events, in version order.
    events: list[AnyEvent]
    #: Stream sequence of the analysis' newest message of any kind (0: none in the window). A
    #: writer expects it: JetStream compares it with every message on the analysis' subjects.
    last_seq: int
    #: Where the newest accepted event came from.
    source: Source
    #: Stream sequence of the request that opened the analysis, while it is in the window: the
    #: same request published twice (no message id) is two messages, and only this one owns it.
    request_seq: int | None = None


class StreamHead(msgspec.Struct, kw_only=True, frozen=True):
    """The analysis' newest message in JetStream: its sequence, and the event if it is a valid one."""

    seq: int
    event: AnyEvent | None


class _Raw(msgspec.Struct, frozen=True):
    seq: int
    subject: str
    data: bytes


class AnalysisStreamReader:
    """Reads one analysis' events; safe to share between tasks."""

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
        self._js = nc.jetstream()
        self._store = store
        self._stream = stream
        self._page = page
        self._timeout = timeout

    @property
    def store(self) -> EventStore | None:
        return self._store

    async def head(self, analysis_id: uuid.UUID) -> StreamHead | None:
        """The newest message on the analysis' subjects (one direct get), None when there is none.

        Raises:
            BusUnavailableError: NATS did not answer.
        """
        try:
            raw = await self._js.get_last_msg(self._stream, analysis_subjects(analysis_id), direct=True)
        except NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError, ConnectionError) as exc:
            raise BusUnavailableError(f"NATS did not answer a lookup: {type(exc).__name__}") from exc
        if raw.seq is None:
            return None
        event = self._own(analysis_id, raw.subject or "", raw.data or b"")
        return StreamHead(seq=raw.seq, event=event)

    async def read(self, analysis_id: uuid.UUID) -> StreamRead:
        """Every accepted event of the analysis and the state they fold to.

        Raises:
            BusUnavailableError: JetStream could not be read and the store has nothing either
                (saying "nothing happened" could turn an outage into "unknown analysis").
        """
        jetstream_error: Exception | None = None
        try:
            raws = await self._window(analysis_id)
        except (nats.errors.Error, TimeoutError, ConnectionError) as exc:
            jetstream_error, raws = exc, []
            log.warning(
                "stream_read_jetstream_failed", analysis_id=str(analysis_id), error=type(exc).__name__
            )
        window = [
            (e, raw.seq) for raw in raws if (e := self._own(analysis_id, raw.subject, raw.data)) is not None
        ]
        state = AnalysisState(analysis_id=analysis_id)
        accepted: list[AnyEvent] = []
        source: Source = "none"
        store_error: Exception | None = None
        request_seq: int | None = None
        if self._store is not None and not any(e.version == 1 for e, _ in window):
            try:
                stored = await self._store.read_stream(analysis_id)
            except Exception as exc:  # a database blip: what JetStream holds may still answer
                store_error, stored = exc, []
                log.warning("stream_read_store_failed", analysis_id=str(analysis_id), error=str(exc)[:200])
            for recorded in stored:
                state = self._apply(state, recorded.event, accepted)
                source = "event_store"
        for event, seq in window:
            before = state.version
            state = self._apply(state, event, accepted)
            if state.version > before:
                source = "jetstream"
                if event.version == 1:
                    request_seq = seq
        failure = jetstream_error or store_error
        if failure is not None and not accepted:
            raise BusUnavailableError("the analysis' events cannot be read right now") from failure
        return StreamRead(
            state=state,
            events=accepted,
            last_seq=max((r.seq for r in raws), default=0),
            source=source,
            request_seq=request_seq,
        )

    @staticmethod
    def _apply(state: AnalysisState, event: AnyEvent, accepted: list[AnyEvent]) -> AnalysisState:
        try:
            after = evolve(state, event)
        except SondaError as exc:
            log.info(
                "stream_event_skipped",
                analysis_id=str(state.analysis_id),
                event_id=str(event.event_id),
                code=exc.code,
                reason=exc.message[:300],
            )
            return state
        if after is not state:
            accepted.append(event)
        return after

    @staticmethod
    def _own(analysis_id: uuid.UUID, subject: str, data: bytes) -> AnyEvent | None:
        """The message as an event of this analysis filed under its own subject, else None.

        Other systems publish on our subjects too: garbage, or a valid event of another analysis
        or type. Such a message must not finish, version or own an analysis it does not belong to.
        """
        try:
            event = codec.decode(data)
        except Exception as exc:  # ``codec`` raises EventValidationError; anything else is one too
            log.info(
                "stream_message_skipped",
                analysis_id=str(analysis_id),
                subject=subject[:200],
                code=exc.code if isinstance(exc, EventValidationError) else "invalid_event",
                reason=str(exc)[:300],
            )
            return None
        parsed = parse_subject(subject)
        if (
            parsed is None
            or event.analysis_id != analysis_id
            or parsed != (analysis_id, event_token(event.type))
        ):
            return None
        return event

    async def _window(self, analysis_id: uuid.UUID) -> list[_Raw]:
        """Every message of the analysis still in the stream, in stream order."""
        subject = analysis_subjects(analysis_id)
        found: list[_Raw] = []
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
                    found.append(_Raw(last_seq, headers.get("Nats-Subject", ""), msg.data))
                    if "Nats-Num-Pending" not in headers:  # a server without batched direct gets
                        pending = 1
                        break
                    pending = int(headers["Nats-Num-Pending"])
                if last_seq is None or pending == 0:
                    return found
                start = last_seq + 1
        finally:
            await sub.unsubscribe()
