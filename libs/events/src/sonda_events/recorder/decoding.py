"""``codec.decode`` with one JSON pass instead of two for the common case.

``codec.decode`` first parses a message into a dict to read its type and schema version, then
parses it again into the typed event. The recorder decodes every event of the system, so it tries
the typed parse first and keeps the result when the event is at its type's current schema, which is
exactly when ``codec.decode`` would return the same thing. Everything else (an older schema to
upcast, an invalid message and its error) goes through ``codec.decode`` unchanged.
"""

from __future__ import annotations

import msgspec

from sonda_events import codec
from sonda_events.contract import AnyEvent

_typed = msgspec.json.Decoder(AnyEvent)


def decode_event(payload: bytes) -> AnyEvent:
    """Same result and errors as ``codec.decode``."""
    if len(payload) <= codec.MAX_EVENT_BYTES and b"u0000" not in payload:
        try:
            event: AnyEvent = _typed.decode(payload)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            pass  # codec.decode below says why
        else:
            if event.schema_version == type(event).CURRENT_SCHEMA:
                return event
    return codec.decode(payload)
