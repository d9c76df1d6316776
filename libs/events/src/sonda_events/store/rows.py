"""Events to table rows and back. The whole envelope is kept, so a read returns what was written.

Reading goes through ``codec.from_builtins``: an event stored at an older ``schema_version`` comes back
upcast to its type's current shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from sonda_events.codec import from_builtins
from sonda_events.contract import AnyEvent, RecordedEvent
from sonda_events.store.models import DeadLetter


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the store writes is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_row(
    event: AnyEvent, *, position: int, stream_sequence: int | None, recorded_at: datetime
) -> dict[str, Any]:
    return {
        "position": position,
        "event_id": event.event_id,
        "stream_id": event.analysis_id,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,  # a Struct: the engine's JSON serializer (msgspec) encodes it
        "metadata": {
            "producer": event.producer,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "stream_sequence": stream_sequence,
        },
        # SQLite stores the wall-clock digits only, so normalise to UTC before writing.
        "occurred_at": utc(event.occurred_at),
        "recorded_at": recorded_at,
    }


def recorded_event(row: Row[Any]) -> RecordedEvent:
    values = row._mapping
    metadata: dict[str, Any] = values["metadata"]
    envelope = {
        "type": values["type"],
        "event_id": values["event_id"],
        "schema_version": values["schema_version"],
        "analysis_id": values["stream_id"],
        "version": values["version"],
        "occurred_at": utc(values["occurred_at"]),
        "producer": metadata["producer"],
        "correlation_id": metadata["correlation_id"],
        "causation_id": metadata.get("causation_id"),
        "data": values["data"],
    }
    return RecordedEvent(
        position=values["position"],
        event=from_builtins(envelope),
        recorded_at=utc(values["recorded_at"]),
        stream_sequence=metadata.get("stream_sequence"),
    )


def dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        consumer=row.consumer,
        subject=row.subject,
        payload=bytes(row.payload),
        error_code=row.error_code,
        reason=row.reason,
        stream_sequence=row.stream_sequence,
        recorded_at=utc(row.recorded_at),
    )
