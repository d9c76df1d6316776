"""The event decoder against arbitrary input: it answers an event or ``EventValidationError``, never
any other exception, so a consumer that dead-letters that one error cannot be stalled by a message.

Both decoders are fuzzed (``codec.decode``, which every consumer uses, and the recorder's one-pass
``decode_event``), with arbitrary bytes, arbitrary JSON, and envelopes of every event type at every
schema version whose fields hold arbitrary JSON (the upcasters see shapes they never expected).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sonda_events import codec
from sonda_events.contract import EVENT_TYPES
from sonda_events.errors import EventValidationError
from sonda_events.recorder.decoding import decode_event

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ENVELOPE_FIELDS = (
    "event_id",
    "type",
    "schema_version",
    "analysis_id",
    "version",
    "occurred_at",
    "producer",
    "correlation_id",
    "data",
)
VALID_REQUEST = {
    "event_id": "0b7e6a2c-6d0e-4b61-9c53-1f4f3a7e9d10",
    "type": "AnalysisRequested",
    "schema_version": 1,
    "analysis_id": "6f1d3c2a-8b7e-4c5d-9e0f-1a2b3c4d5e6f",
    "version": 1,
    "occurred_at": "2026-01-02T03:04:05Z",
    "producer": "other",
    "correlation_id": "c",
    "data": {"file_key": "uploads/6f1d3c2a-8b7e-4c5d-9e0f-1a2b3c4d5e6f/a.csv"},
}


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """A request-like envelope of any type and version, some fields replaced by arbitrary JSON."""
    raw: dict[str, Any] = dict(VALID_REQUEST)
    raw["type"] = draw(st.sampled_from([*EVENT_TYPES, "AnalysisExploded"]))
    raw["schema_version"] = draw(st.sampled_from([1, 2, 3, 0, -1, "1", None]))
    for name in draw(st.lists(st.sampled_from(ENVELOPE_FIELDS), max_size=3, unique=True)):
        raw[name] = draw(JSON)
    return msgspec.json.encode(raw)


def _decodes_or_refuses(payload: bytes) -> None:
    for decoder in (codec.decode, decode_event):
        outcome: object
        try:
            outcome = decoder(payload)
        except EventValidationError as exc:  # the one error a consumer dead-letters
            outcome = exc
        if isinstance(outcome, EventValidationError):
            assert outcome.code in ("invalid_event", "unknown_event_type")
        else:
            assert type(outcome).__name__ in EVENT_TYPES


@FUZZ
@given(st.binary(max_size=2048))
@example(b'{"type": "AnalysisRequested", "x": "\xff"}')
@example(b'{"type":"AnalysisRequested","schema_version":1,"data":[1]}')
@example(b'{"type":"AnalysisRequested","schema_version":1,"data":"ab"}')
def test_arbitrary_bytes_decode_or_are_refused(payload: bytes) -> None:
    _decodes_or_refuses(payload)


@FUZZ
@given(JSON)
def test_arbitrary_json_decodes_or_is_refused(value: object) -> None:
    _decodes_or_refuses(msgspec.json.encode(value))


@FUZZ
@given(envelopes())
def test_envelopes_with_arbitrary_fields_decode_or_are_refused(payload: bytes) -> None:
    _decodes_or_refuses(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type":"AnalysisRequested","schema_version":1,"data":[1]}',
        b'{"type":"AnalysisRequested","schema_version":1,"data":[[1,2,3]]}',
        b'{"type":"AnalysisRequested","schema_version":1,"data":"xy"}',
    ],
)
def test_an_upcaster_given_the_wrong_shape_is_an_invalid_event(payload: bytes) -> None:
    with pytest.raises(EventValidationError):
        codec.decode(payload)


def test_a_nul_character_in_any_string_is_refused_by_every_decoder() -> None:
    good = msgspec.json.encode(VALID_REQUEST)
    with_nul = good.replace(b'"producer":"other"', b'"producer":"ot\\u0000her"')
    escaped_backslash = good.replace(b'"producer":"other"', b'"producer":"ot\\\\u0000her"')
    for decoder in (codec.decode, decode_event):
        with pytest.raises(EventValidationError, match="NUL"):
            decoder(with_nul)
        # ``\\u0000`` is a backslash and the text "u0000", not a NUL: accepted.
        assert decoder(escaped_backslash).producer == "ot\\u0000her"
