"""What a WebSocket client receives: one JSON object per message, tagged by ``type``.

The shapes keep the seed's names (``connection_established``, ``analysis_status`` with ``progress`` and
``message``, ``analysis_completed`` with ``summary``, ``analysis_error`` with ``error_message``) and add
``version``: the event's version in its analysis stream. A client passes it back as ``?since=`` to
resume, and as ``min_version`` to the query service to read at least what it was told
(``position`` is the same number, kept for clients of the first release). ``status`` is the
lifecycle's (``sonda_events.lifecycle.STATUS_AFTER``), the same the REST status shows.
``analysis_status`` covers AnalysisRequested (``pending``), AnalysisStarted and AnalysisProgress
(``running``); it is the only kind that may be coalesced (a later one supersedes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import msgspec
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisPurged,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    AnyEvent,
    ResultRef,
)
from sonda_events.lifecycle import STATUS_AFTER, Status, is_purge


class CloseCode:
    """WebSocket close codes the notifier uses (4000-4999 are the application's own)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    INTERNAL_ERROR = 1011
    #: The history cannot be read right now (NATS and the store unreachable): reconnect later.
    TRY_AGAIN_LATER = 1013
    #: ``since`` or the analysis id is not well formed.
    MALFORMED = 4400
    #: Nothing is known about the analysis (neither in JetStream nor in the event store).
    UNKNOWN_ANALYSIS = 4404
    #: Reserved: no longer sent. Dead clients are found by protocol pings (uvicorn closes with 1011).
    HEARTBEAT_TIMEOUT = 4408
    #: The client does not read fast enough (mirrors 1008, policy violation).
    SLOW_CLIENT = 4008
    #: The client already holds as many connections as it may (mirrors HTTP 429).
    TOO_MANY_CONNECTIONS = 4429


class Message(msgspec.Struct, tag_field="type", kw_only=True):
    """Base of every message."""


class ConnectionEstablished(Message, tag="connection_established", kw_only=True):
    analysis_id: str
    #: Version of the newest event known when the connection was set up (the current state).
    position: int
    #: The ``since`` the client asked for; None means "send me the current state".
    since: int | None
    instance_id: str
    ping_interval: float


class EventMessage(Message, kw_only=True):
    """A message that reflects one event of the analysis."""

    analysis_id: str
    #: The event's version in the analysis stream (resume with ``since``, read with ``min_version``).
    version: int
    #: The same number as ``version`` (the name of the first release).
    position: int


class AnalysisStatus(EventMessage, tag="analysis_status", kw_only=True):
    status: Status
    progress: float
    stage: str
    message: str
    rows_done: int = 0
    bytes_done: int = 0
    occurred_at: datetime


class AnalysisCompletedMessage(EventMessage, tag="analysis_completed", kw_only=True):
    status: Literal["completed"] = "completed"
    progress: float = 100.0
    summary: AnalysisSummary
    result: ResultRef
    duration_s: float
    occurred_at: datetime


class AnalysisErrorMessage(EventMessage, tag="analysis_error", kw_only=True):
    status: Literal["failed"] = "failed"
    error_code: str
    error_message: str
    retryable: bool
    occurred_at: datetime


class AnalysisDeletedMessage(EventMessage, tag="analysis_deleted", kw_only=True):
    status: Literal["deleted"] = "deleted"
    reason: str
    #: The retention clean-up also removed its objects.
    purged: bool = False
    occurred_at: datetime


class Ping(Message, tag="ping", kw_only=True):
    pass


_encoder = msgspec.json.Encoder()


def encode(message: Message) -> str:
    return _encoder.encode(message).decode()


def is_status(event: AnyEvent) -> bool:
    """True for the events shown as ``analysis_status``: a later one supersedes an earlier one."""
    return isinstance(event, AnalysisRequested | AnalysisStarted | AnalysisProgress)


def message_for(event: AnyEvent) -> Message:
    """The client message for one event."""
    aid, position = str(event.analysis_id), event.version
    match event:
        case AnalysisRequested():
            return AnalysisStatus(
                analysis_id=aid,
                version=position,
                position=position,
                status=STATUS_AFTER[event.type],
                progress=0.0,
                stage="queued",
                message="waiting for an analyzer",
                occurred_at=event.occurred_at,
            )
        case AnalysisStarted(data=data):
            return AnalysisStatus(
                analysis_id=aid,
                version=position,
                position=position,
                status=STATUS_AFTER[event.type],
                progress=0.0,
                stage="started",
                message=f"analysis started (attempt {data.attempt})",
                occurred_at=event.occurred_at,
            )
        case AnalysisProgress(data=data):
            return AnalysisStatus(
                analysis_id=aid,
                version=position,
                position=position,
                status=STATUS_AFTER[event.type],
                progress=data.progress,
                stage=data.stage,
                message=data.message,
                rows_done=data.rows_done,
                bytes_done=data.bytes_done,
                occurred_at=event.occurred_at,
            )
        case AnalysisCompleted(data=data):
            return AnalysisCompletedMessage(
                analysis_id=aid,
                version=position,
                position=position,
                summary=data.summary,
                result=data.result,
                duration_s=data.duration_s,
                occurred_at=event.occurred_at,
            )
        case AnalysisFailed(data=data):
            return AnalysisErrorMessage(
                analysis_id=aid,
                version=position,
                position=position,
                error_code=data.error_code,
                error_message=data.error_message,
                retryable=data.retryable,
                occurred_at=event.occurred_at,
            )
        case AnalysisDeleted(data=data):
            return AnalysisDeletedMessage(
                analysis_id=aid,
                version=position,
                position=position,
                reason=data.reason,
                purged=is_purge(event),
                occurred_at=event.occurred_at,
            )
        case AnalysisPurged(data=data):
            return AnalysisDeletedMessage(
                analysis_id=aid,
                version=position,
                position=position,
                reason=data.reason,
                purged=True,
                occurred_at=event.occurred_at,
            )
    raise TypeError(f"no client message for {type(event).__name__}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One encoded message, shared by every connection it goes to."""

    text: str
    #: The event version it carries; None for pings and connection messages.
    position: int | None = None
    #: A later status message may replace this one in a slow client's queue.
    coalescable: bool = False

    @classmethod
    def of_event(cls, event: AnyEvent) -> Outgoing:
        return cls(encode(message_for(event)), event.version, is_status(event))


PING = Outgoing(encode(Ping()))


def current_state(events: list[AnyEvent]) -> list[AnyEvent]:
    """The events a client needs to show the current state: each run of status events collapsed
    to its last one (progress history is dropped; terminal and deleted events are kept)."""
    kept: list[AnyEvent] = []
    for event in events:
        if kept and is_status(event) and is_status(kept[-1]):
            kept[-1] = event
        else:
            kept.append(event)
    return kept
