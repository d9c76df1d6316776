"""The recorder's one-pass decoding gives exactly what ``codec.decode`` gives, errors included."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sonda_events import codec
from sonda_events.errors import EventValidationError
from sonda_events.recorder.decoding import decode_event

from tests.events.store.conftest import make_events

_EVENTS = make_events(uuid.uuid4(), 3)
_V1_REQUESTED = msgspec.json.encode(
    {
        **{k: v for k, v in codec.to_builtins(_EVENTS[0]).items() if k != "data"},
        "schema_version": 1,
        "data": {"file_key": "uploads/x/a.csv"},
    }
)


@pytest.mark.parametrize(
    "payload",
    [
        codec.encode(_EVENTS[0]),
        codec.encode(_EVENTS[2]),
        _V1_REQUESTED,  # older schema: upcast by the codec
    ],
)
def test_valid_payloads_decode_like_the_codec(payload: bytes) -> None:
    assert decode_event(payload) == codec.decode(payload)


def test_old_schema_is_upcast() -> None:
    event = decode_event(_V1_REQUESTED)
    assert event.schema_version == 2
    assert event.data.requested_by == "anonymous"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b'{"type": "AnalysisExploded"}',
        msgspec.json.encode({**codec.to_builtins(_EVENTS[1]), "data": {"progress": 500, "stage": "x"}}),
        msgspec.json.encode({**codec.to_builtins(_EVENTS[1]), "schema_version": 9}),
        b" " * (codec.MAX_EVENT_BYTES + 1),
    ],
)
def test_invalid_payloads_fail_like_the_codec(payload: bytes) -> None:
    with pytest.raises(EventValidationError) as ours:
        decode_event(payload)
    with pytest.raises(EventValidationError) as theirs:
        codec.decode(payload)
    assert (ours.value.code, str(ours.value)) == (theirs.value.code, str(theirs.value))


def test_bytes_that_are_not_utf8_are_an_invalid_event_for_the_recorder_too() -> None:
    with pytest.raises(EventValidationError):
        decode_event(b'{"type": "AnalysisProgress", "x": "\xff"}')
