"""The projection rules, event by event (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from sonda_events.contract import AnyEvent, RecordedEvent
from sonda_query.projection.fold import fold_analysis, fold_result
from sonda_query.readmodel.rows import AnalysisRow, ResultRow

from tests.query.factories import Stream


def recorded(events: list[AnyEvent]) -> list[RecordedEvent]:
    now = datetime.now(UTC)
    return [RecordedEvent(position=i + 1, event=e, recorded_at=now) for i, e in enumerate(events)]


def fold(events: list[AnyEvent]) -> AnalysisRow | None:
    row = None
    for item in recorded(events):
        row = fold_analysis(row, item) or row
    return row


def test_lifecycle_to_completed() -> None:
    s = Stream()
    requested = s.requested(filename="vendas.csv")
    events = [requested, s.started(), s.progress(40, "reading"), s.completed(rows=10, columns=4)]
    row = fold(events)
    assert row is not None
    assert row.status == "completed"
    assert row.progress == 100.0
    assert (row.rows, row.columns, row.format) == (10, 4, "csv")
    assert row.filename == "vendas.csv"
    assert row.created_at == requested.occurred_at
    assert row.started_at == events[1].occurred_at
    assert row.completed_at == events[3].occurred_at
    assert (row.version, row.position) == (4, 4)


def test_a_failure_is_final_a_later_start_reopens_nothing() -> None:
    s = Stream()
    events = [s.requested(), s.started(), s.failed("timeout", "took too long"), s.started(attempt=2)]
    failed = fold(events[:3])
    assert failed is not None
    assert (failed.status, failed.error_code, failed.error_message) == ("failed", "timeout", "took too long")
    after = fold(events)
    assert after is not None
    assert (after.status, after.error_code, after.attempt) == ("failed", "timeout", 1)
    assert after.version == 4  # the refused event moved the row's version on, nothing else


def test_late_progress_never_reopens_a_finished_analysis() -> None:
    s = Stream()
    row = fold([s.requested(), s.started(), s.completed(), s.progress(30)])
    assert row is not None
    assert row.status == "completed"
    assert row.progress == 100.0


def test_delete_keeps_the_lifecycle_and_marks_the_row() -> None:
    s = Stream()
    row = fold([s.requested(), s.started(), s.completed(), s.deleted("old")])
    assert row is not None
    assert row.deleted and row.status == "completed" and row.public_status == "deleted"
    assert row.delete_reason == "old"


def test_applying_an_event_twice_changes_nothing() -> None:
    s = Stream()
    items = recorded([s.requested(), s.started(), s.progress(50)])
    row = None
    for item in items:
        row = fold_analysis(row, item) or row
    assert row is not None
    for item in items:
        assert fold_analysis(row, item) is None


def test_a_stream_without_a_request_is_no_analysis() -> None:
    s = Stream()
    s.version = 0
    assert fold([s.started()]) is None


def test_a_second_completion_or_a_foreign_result_changes_no_result_row() -> None:
    s = Stream()
    opened = [s.requested(), s.started()]
    items = recorded([*opened, s.completed(rows=7, columns=2), s.completed(rows=1, columns=1)])
    result = fold_result(None, items[2])
    assert result is not None
    assert fold_result(result, items[3]) is None
    row = fold([item.event for item in items])
    assert row is not None and (row.rows, row.columns) == (7, 2)


def test_result_row_only_from_completed() -> None:
    s = Stream()
    items = recorded([s.requested(), s.started(), s.completed(rows=7, columns=2)])
    assert fold_result(None, items[0]) is None
    result = fold_result(None, items[2])
    assert isinstance(result, ResultRow)
    assert result.summary.rows == 7
    assert result.result_key == f"results/{s.analysis_id}.json"
    assert fold_result(result, items[2]) is None
