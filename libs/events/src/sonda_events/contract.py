"""The event contract: one envelope, seven event types, JSON on the wire.

Every event is a msgspec Struct tagged by ``type`` so any NATS client can publish one as plain JSON.
Schema evolution follows msgspec's rules: a new field always gets a default and a field never changes
type; a change that needs more than a default bumps ``schema_version`` and adds an upcaster in
``codec.py``, the one place old shapes are turned into new ones.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec import Meta

Version = Annotated[int, Meta(ge=1)]
UtcDateTime = Annotated[datetime, Meta(tz=True)]
ShortText = Annotated[str, Meta(max_length=256)]
Text = Annotated[str, Meta(max_length=4096)]
FileKey = Annotated[str, Meta(min_length=1, max_length=1024)]
Percent = Annotated[float, Meta(ge=0, le=100)]
Count = Annotated[int, Meta(ge=0)]

ANALYSIS_TYPES = ("basic_eda",)
AnalysisType = Literal["basic_eda"]
Severity = Literal["info", "warning", "critical"]


class Event(msgspec.Struct, tag_field="type", kw_only=True, frozen=True, forbid_unknown_fields=False):
    """Envelope fields shared by every event."""

    #: Newest schema version of this event type; ``schema_version`` on the wire may be older.
    CURRENT_SCHEMA: ClassVar[int] = 1

    event_id: uuid.UUID
    schema_version: Annotated[int, Meta(ge=1)] = 1
    analysis_id: uuid.UUID
    #: Position of this event in its analysis stream: 1, 2, 3, ... without gaps.
    version: Version
    occurred_at: UtcDateTime
    producer: ShortText
    correlation_id: ShortText
    causation_id: ShortText | None = None

    @property
    def type(self) -> str:
        """The wire tag, e.g. ``AnalysisRequested``."""
        return type(self).__name__


# ---------------------------------------------------------------------------------------------
# Payloads


class RequestedData(msgspec.Struct, kw_only=True, frozen=True):
    """What to analyse and how. ``file_key`` is an object key Sonda issued (``uploads/<uuid>/<name>``)."""

    file_key: FileKey
    analysis_type: AnalysisType = "basic_eda"
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    #: Who asked: an API key id, a service name, or ``anonymous``. Added in schema version 2.
    requested_by: ShortText = "anonymous"
    filename: ShortText | None = None
    file_size: Count | None = None


class StartedData(msgspec.Struct, kw_only=True, frozen=True):
    worker: ShortText
    attempt: Annotated[int, Meta(ge=1)] = 1


class ProgressData(msgspec.Struct, kw_only=True, frozen=True):
    progress: Percent
    stage: ShortText
    message: Text = ""
    rows_done: Count = 0
    bytes_done: Count = 0


class ColumnDigest(msgspec.Struct, kw_only=True, frozen=True):
    name: Text
    type: ShortText
    missing: Count
    distinct: Count
    #: The column holds personal data (its values are never in a summary, masked or not).
    pii: bool = False


class AlertDigest(msgspec.Struct, kw_only=True, frozen=True):
    type: ShortText
    column: Text | None
    severity: Severity
    message: Text


class AnalysisSummary(msgspec.Struct, kw_only=True, frozen=True):
    """The part of a result small enough to travel in an event (claim check: the rest is an object)."""

    rows: Count
    columns: Count
    missing_cells: Count
    duplicate_rows: Count
    file_size: Count | None = None
    format: ShortText | None = None
    encoding: ShortText | None = None
    delimiter: ShortText | None = None
    approximate: bool = False
    #: Digests of the first columns; ``columns_truncated`` says how many were left out.
    column_digests: list[ColumnDigest] = msgspec.field(default_factory=list)
    columns_truncated: Count = 0
    alerts: list[AlertDigest] = msgspec.field(default_factory=list)
    alerts_truncated: Count = 0


class ResultRef(msgspec.Struct, kw_only=True, frozen=True):
    """Where the full result object lives and how to check it."""

    key: FileKey
    sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    size: Count
    content_type: ShortText = "application/json"
    schema_version: Annotated[int, Meta(ge=1)] = 1


class CompletedData(msgspec.Struct, kw_only=True, frozen=True):
    summary: AnalysisSummary
    result: ResultRef
    duration_s: Annotated[float, Meta(ge=0)] = 0.0


class FailedData(msgspec.Struct, kw_only=True, frozen=True):
    error_code: ShortText
    error_message: Text
    retryable: bool = False
    attempt: Annotated[int, Meta(ge=1)] = 1


class DeletedData(msgspec.Struct, kw_only=True, frozen=True):
    reason: Text = ""
    deleted_by: ShortText = "anonymous"


class PurgedData(msgspec.Struct, kw_only=True, frozen=True):
    """The retention clean-up removed the analysis' objects (upload and result); implies deleted."""

    reason: Text = ""
    purged_by: ShortText = "retention"
    #: Object keys removed by the run that published this event.
    objects_deleted: list[FileKey] = msgspec.field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Events


class AnalysisRequested(Event, tag="AnalysisRequested", frozen=True):
    CURRENT_SCHEMA: ClassVar[int] = 2
    data: RequestedData


class AnalysisStarted(Event, tag="AnalysisStarted", frozen=True):
    data: StartedData


class AnalysisProgress(Event, tag="AnalysisProgress", frozen=True):
    data: ProgressData


class AnalysisCompleted(Event, tag="AnalysisCompleted", frozen=True):
    data: CompletedData


class AnalysisFailed(Event, tag="AnalysisFailed", frozen=True):
    data: FailedData


class AnalysisDeleted(Event, tag="AnalysisDeleted", frozen=True):
    data: DeletedData


class AnalysisPurged(Event, tag="AnalysisPurged", frozen=True):
    data: PurgedData


AnyEvent = (
    AnalysisRequested
    | AnalysisStarted
    | AnalysisProgress
    | AnalysisCompleted
    | AnalysisFailed
    | AnalysisDeleted
    | AnalysisPurged
)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        AnalysisRequested,
        AnalysisStarted,
        AnalysisProgress,
        AnalysisCompleted,
        AnalysisFailed,
        AnalysisDeleted,
        AnalysisPurged,
    )
}

E = TypeVar("E", bound=Event)


def new_event(
    cls: type[E],
    *,
    analysis_id: uuid.UUID,
    version: int,
    data: Any,
    producer: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> E:
    """Build an event with a fresh id and the current time, at the type's current schema."""
    return cls(  # type: ignore[call-arg]  # every concrete event type declares ``data``
        event_id=event_id or uuid.uuid4(),
        schema_version=cls.CURRENT_SCHEMA,
        analysis_id=analysis_id,
        version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id or str(analysis_id),
        causation_id=causation_id,
        data=data,
    )


class RecordedEvent(msgspec.Struct, kw_only=True, frozen=True):
    """An event as the store holds it: with its global position and when it was recorded."""

    position: Annotated[int, Meta(ge=1)]
    event: AnyEvent
    recorded_at: UtcDateTime
    #: JetStream stream sequence it arrived with, kept as metadata only (a recreated stream restarts it).
    stream_sequence: int | None = None
