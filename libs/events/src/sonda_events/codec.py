"""JSON codec for events, with upcasting of old schema versions in one place.

Decoding is two-step only when needed: the raw envelope is read as a dict, upcast if its
``schema_version`` is older than the type's current one, then converted to the typed Struct.
Validation failures become ``EventValidationError`` naming the field (``$.data.progress``) and why;
so does every other way a payload can fail to decode, whatever the exception underneath, so a
consumer that dead-letters ``EventValidationError`` is never stalled by a hostile message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

from sonda_events.contract import EVENT_TYPES, AnyEvent, Event
from sonda_events.errors import EventValidationError, UnknownEventTypeError

#: Events larger than this are refused: NATS messages stay well under the server's max payload, and
#: anything big travels as an object (claim check).
MAX_EVENT_BYTES = 256 * 1024

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)
_raw_decoder = msgspec.json.Decoder(dict[str, Any])
_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>[^`]+)`)?$", re.S)
#: ``\u0000`` not itself escaped (an even run of backslashes before it): a NUL inside a string.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _requested_v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    # v1 (the seed's shape) had no ``requested_by``: events from before API keys were anonymous.
    data = dict(raw.get("data") or {})
    data.setdefault("requested_by", "anonymous")
    return {**raw, "data": data, "schema_version": 2}


#: (event type, from version) -> function returning the event at ``from version + 1``.
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("AnalysisRequested", 1): _requested_v1_to_v2,
}


def encode(event: Event) -> bytes:
    """Serialise an event to JSON bytes."""
    return _encoder.encode(event)


def _validation_error(exc: msgspec.ValidationError | msgspec.DecodeError) -> EventValidationError:
    match = _PATH.match(str(exc))
    reason = match.group("reason") if match else str(exc)
    path = match.group("path") if match else None
    return EventValidationError(reason, field=path)


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw envelope up to its type's current schema version."""
    event_type = raw.get("type")
    cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise UnknownEventTypeError(f"unknown event type {event_type!r}", field="$.type")
    version = raw.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise EventValidationError("schema_version must be a positive integer", field="$.schema_version")
    if version > cls.CURRENT_SCHEMA:
        raise EventValidationError(
            f"schema_version {version} is newer than this Sonda knows ({cls.CURRENT_SCHEMA})",
            field="$.schema_version",
        )
    while version < cls.CURRENT_SCHEMA:
        step = UPCASTERS.get((cls.__name__, version))
        if step is None:
            raise EventValidationError(f"no upcaster for {cls.__name__} v{version}", field="$.schema_version")
        raw = step(raw)
        version = raw["schema_version"]
    return raw


def from_builtins(raw: dict[str, Any]) -> AnyEvent:
    """Validate an already-parsed envelope (e.g. a jsonb row), upcasting it if needed."""
    try:
        event: AnyEvent = msgspec.convert(upcast(raw), AnyEvent)
        return event
    except msgspec.ValidationError as exc:
        raise _validation_error(exc) from exc
    except EventValidationError:
        raise
    except Exception as exc:  # e.g. an upcaster given ``data`` of the wrong shape
        raise EventValidationError(f"the event cannot be read ({type(exc).__name__})") from exc


def screen(payload: bytes) -> None:
    """The checks before parsing: the size limit, and no NUL character in any string.

    JSON may carry a NUL as ``\u0000``, but PostgreSQL can keep none in ``jsonb`` or ``text``: such
    an event could be delivered to every consumer yet never stored, so it is refused as invalid by
    all of them alike.
    """
    if len(payload) > MAX_EVENT_BYTES:
        raise EventValidationError(f"event is {len(payload)} bytes, more than the {MAX_EVENT_BYTES} allowed")
    if b"u0000" in payload and _NUL_ESCAPE.search(payload):
        raise EventValidationError("a string holds a NUL character (\\u0000), which no event may carry")


def decode(payload: bytes | str) -> AnyEvent:
    """Parse and validate one event from JSON; raises ``EventValidationError`` and nothing else."""
    try:
        return _decode(payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload)
    except EventValidationError:
        raise
    except Exception as exc:  # an upcaster or a library tripping on a hostile payload
        raise EventValidationError(f"the message cannot be read ({type(exc).__name__})") from exc


def _decode(payload: bytes) -> AnyEvent:
    screen(payload)
    try:
        raw = _raw_decoder.decode(payload)
    except msgspec.DecodeError as exc:
        raise _validation_error(exc) from exc
    except UnicodeDecodeError as exc:
        # msgspec raises this (not a DecodeError) for bytes that are not UTF-8: without this a
        # message with one such byte would fail its whole batch on every delivery.
        raise EventValidationError(f"not UTF-8 at byte {exc.start}") from exc
    if not isinstance(raw, dict):  # pragma: no cover - the typed decoder guarantees a dict
        raise EventValidationError("an event must be a JSON object")
    if raw.get("type") in EVENT_TYPES:
        cls = EVENT_TYPES[raw["type"]]
        if raw.get("schema_version", 1) == cls.CURRENT_SCHEMA:
            # Fast path: current schema, decode straight into the typed Struct.
            try:
                event: AnyEvent = _decoder.decode(payload)
                return event
            except msgspec.ValidationError as exc:
                raise _validation_error(exc) from exc
    return from_builtins(raw)


def to_builtins(event: Event) -> dict[str, Any]:
    """The event as JSON-compatible builtins (for jsonb columns)."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result
