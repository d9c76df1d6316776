"""Events to table rows and back. The whole envelope is kept, so a read returns what was written.

Reading goes through ``codec.from_builtins``: an event stored at an older ``schema_version`` comes back
upcast to its type's current shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, get_type_hints

import msgspec
import sqlalchemy as sa
from sqlalchemy import Row

from sonda_events.codec import from_builtins
from sonda_events.contract import EVENT_TYPES, AnyEvent, RecordedEvent
from sonda_events.errors import EventValidationError
from sonda_events.store.models import DeadLetter
from sonda_events.store.schema import events


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the store writes is UTC."""
    if value.tzinfo is UTC:
        return value
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


#: The columns ``recorded_event`` reads, in this order.
EVENT_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    # As text: decoded straight into the event's typed payload below, one msgspec pass.
    sa.cast(events.c.data, sa.Text),
    sa.cast(events.c.metadata, sa.Text),
    events.c.occurred_at,
    events.c.recorded_at,
)


def _data_decoders() -> dict[str, msgspec.json.Decoder[Any]]:
    return {name: msgspec.json.Decoder(get_type_hints(cls)["data"]) for name, cls in EVENT_TYPES.items()}


_DATA_DECODERS = _data_decoders()


class _Metadata(msgspec.Struct):
    """The ``metadata`` column (unknown keys are ignored, so it can grow)."""

    producer: str
    correlation_id: str
    causation_id: str | None = None
    stream_sequence: int | None = None


_metadata = msgspec.json.Decoder(_Metadata)


def recorded_event(row: Sequence[Any]) -> RecordedEvent:
    """A row selected as ``EVENT_COLUMNS`` back into the event it was, upcast if it is older.

    Envelope fields come from typed columns written from a validated event, so only the payload is
    decoded (and validated) here; an event of an older schema goes through the codec's upcasters.
    """
    position, event_id, stream_id, version, type_, schema_version, data, meta_json, occurred, recorded = row
    metadata = _metadata.decode(meta_json)
    envelope: dict[str, Any] = {
        "event_id": event_id,
        "schema_version": schema_version,
        "analysis_id": stream_id,
        "version": version,
        "occurred_at": utc(occurred),
        "producer": metadata.producer,
        "correlation_id": metadata.correlation_id,
        "causation_id": metadata.causation_id,
    }
    cls = EVENT_TYPES.get(type_)
    event: AnyEvent
    if cls is not None and schema_version == cls.CURRENT_SCHEMA:
        try:
            payload = _DATA_DECODERS[type_].decode(data)
        except msgspec.ValidationError as exc:
            raise EventValidationError(str(exc), field="$.data") from exc
        event = cls(**envelope, data=payload)  # type: ignore[call-arg,assignment]
    else:
        event = from_builtins({"type": type_, **envelope, "data": msgspec.json.decode(data)})
    return RecordedEvent(
        position=position,
        event=event,
        recorded_at=utc(recorded),
        stream_sequence=metadata.stream_sequence,
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
