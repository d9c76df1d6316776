"""The event contract on the wire: round trips, upcasting of stored v1 events, validation errors."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from sonda_events import codec
from sonda_events.contract import (
    EVENT_TYPES,
    AlertDigest,
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    ColumnDigest,
    CompletedData,
    DeletedData,
    FailedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_events.errors import EventValidationError, UnknownEventTypeError
from sonda_events.subjects import parse_subject, subject_for

FIXTURES = Path(__file__).parent / "fixtures"
AID = uuid.UUID("6f1d3c2a-8b7e-4c5d-9e0f-1a2b3c4d5e6f")


def one_of_each() -> list[object]:
    summary = AnalysisSummary(
        rows=10,
        columns=2,
        missing_cells=1,
        duplicate_rows=0,
        column_digests=[ColumnDigest(name="a", type="numeric", missing=1, distinct=9)],
        alerts=[AlertDigest(type="missing", column="a", severity="warning", message="10% missing")],
    )
    payloads = [
        (AnalysisRequested, RequestedData(file_key="uploads/x/a.csv", options={"delimiter": ";"})),
        (AnalysisStarted, StartedData(worker="w1")),
        (AnalysisProgress, ProgressData(progress=50.0, stage="statistics", rows_done=5)),
        (
            AnalysisCompleted,
            CompletedData(summary=summary, result=ResultRef(key="results/x.json", sha256="a" * 64, size=10)),
        ),
        (AnalysisFailed, FailedData(error_code="parse_error", error_message="bad")),
        (AnalysisDeleted, DeletedData(reason="cleanup")),
    ]
    return [
        new_event(cls, analysis_id=AID, version=i + 1, data=data, producer="test")  # type: ignore[arg-type]
        for i, (cls, data) in enumerate(payloads)
    ]


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: type(e).__name__)
def test_every_event_type_round_trips_as_plain_json(event: object) -> None:
    wire = codec.encode(event)  # type: ignore[arg-type]
    as_json = json.loads(wire)
    assert as_json["type"] == type(event).__name__
    assert codec.decode(wire) == event
    assert codec.from_builtins(as_json) == event


def test_all_seven_types_are_in_the_contract() -> None:
    assert set(EVENT_TYPES) == {
        "AnalysisRequested",
        "AnalysisStarted",
        "AnalysisProgress",
        "AnalysisCompleted",
        "AnalysisFailed",
        "AnalysisDeleted",
        "AnalysisPurged",
    }


def test_stored_v1_fixture_decodes_after_requested_by_was_added() -> None:
    event = codec.decode((FIXTURES / "analysis_requested_v1.json").read_bytes())
    assert isinstance(event, AnalysisRequested)
    assert event.schema_version == AnalysisRequested.CURRENT_SCHEMA == 2
    assert event.data.requested_by == "anonymous"
    assert event.data.options == {"delimiter": ";"}
    assert event.occurred_at == datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_a_schema_newer_than_known_is_refused_not_misread() -> None:
    raw = json.loads((FIXTURES / "analysis_requested_v1.json").read_text())
    raw["schema_version"] = 99
    with pytest.raises(EventValidationError) as info:
        codec.decode(json.dumps(raw))
    assert info.value.field == "$.schema_version"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.update(version=0), "$.version"),
        (lambda r: r.update(analysis_id="../../etc"), "$.analysis_id"),
        (lambda r: r["data"].update(progress=140), "$.data.progress"),
        (lambda r: r["data"].pop("stage"), "$.data"),
        (lambda r: r.update(occurred_at="2025-01-01T00:00:00"), "$.occurred_at"),
    ],
)
def test_validation_error_names_the_field(mutate: object, field: str) -> None:
    progress = one_of_each()[2]
    raw = msgspec.to_builtins(progress)
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(EventValidationError) as info:
        codec.decode(json.dumps(raw))
    assert info.value.field == field
    assert info.value.reason


def test_unknown_type_and_garbage_are_typed_errors() -> None:
    with pytest.raises(UnknownEventTypeError):
        codec.decode(b'{"type": "DropTables"}')
    with pytest.raises(EventValidationError):
        codec.decode(b"\x00\xff not json")
    with pytest.raises(EventValidationError):
        codec.decode(b"[1, 2, 3]")
    with pytest.raises(EventValidationError):
        codec.decode(b'{"type": "AnalysisProgress", "pad": "' + b"x" * codec.MAX_EVENT_BYTES + b'"}')


def test_subjects_round_trip_and_refuse_foreign_shapes() -> None:
    subject = subject_for(AID, "AnalysisRequested")
    assert subject == f"eda.analysis.{AID}.requested"
    assert parse_subject(subject) == (AID, "requested")
    assert parse_subject("eda.analysis.not-a-uuid.requested") is None
    assert parse_subject("eda.analysis.x") is None


@pytest.mark.parametrize("payload", [b'{"type": "AnalysisRequested", "x": "\xff"}', b"\xff\xfe{}", b'"\xc3"'])
def test_bytes_that_are_not_utf8_are_an_invalid_event(payload: bytes) -> None:
    with pytest.raises(EventValidationError):
        codec.decode(payload)
