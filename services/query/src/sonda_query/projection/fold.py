"""The pure rules turning events into read-model rows, shared by the live projector and rebuilds.

Each function takes the current row (or None) and one recorded event and returns the new row, or
None when the event changes nothing. An event whose version is not newer than the row's is ignored,
so applying an event twice changes nothing. No wall-clock value is read here: the same events always
give the same rows, which is what lets a rebuild be compared with the live tables.
"""

from __future__ import annotations

import posixpath

import msgspec
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    RecordedEvent,
)

from sonda_query.readmodel.rows import AnalysisRow, ResultRow

TERMINAL = frozenset({"completed", "failed"})


def _filename(file_key: str, given: str | None) -> str | None:
    if given:
        return given
    # Keys Sonda issues end with the uploaded name (uploads/<uuid>/<name>); others may not.
    name = posixpath.basename(file_key)
    return name[:256] or None


def fold_analysis(row: AnalysisRow | None, recorded: RecordedEvent) -> AnalysisRow | None:
    """The ``analyses`` row after ``recorded``; None when it changes nothing."""
    event = recorded.event
    if row is not None and event.version <= row.version:
        return None
    if row is None:
        # Normally version 1 is AnalysisRequested; a stream another system started differently
        # still gets a row (with what is known) rather than being invisible.
        row = AnalysisRow(analysis_id=event.analysis_id, file_key="", created_at=event.occurred_at)
    else:
        row = msgspec.structs.replace(row)
    match event:
        case AnalysisRequested(data=data):
            row.file_key = data.file_key
            row.filename = _filename(data.file_key, data.filename)
            row.analysis_type = data.analysis_type
            row.requested_by = data.requested_by
            row.file_size = data.file_size
            if event.version == 1:
                row.created_at = event.occurred_at
            row.stage = row.stage or "queued"
        case AnalysisStarted(data=data):
            # A retry after a retryable failure starts again: the old error no longer applies.
            row.status = "running"
            row.started_at = event.occurred_at
            row.attempt = data.attempt
            row.stage = "started"
            row.error_code = row.error_message = None
            row.failed_at = None
        case AnalysisProgress(data=data):
            if row.status not in TERMINAL:  # a late progress report never reopens a finished run
                row.status = "running"
                row.progress = data.progress
                row.stage = data.stage
                row.message = data.message or None
        case AnalysisCompleted(data=data):
            summary = data.summary
            row.status = "completed"
            row.progress = 100.0
            row.stage = "completed"
            row.message = None
            row.rows = summary.rows
            row.columns = summary.columns
            row.file_size = summary.file_size if summary.file_size is not None else row.file_size
            row.format = summary.format
            row.completed_at = event.occurred_at
            row.error_code = row.error_message = None
            row.failed_at = None
        case AnalysisFailed(data=data):
            row.status = "failed"
            row.stage = "failed"
            row.error_code = data.error_code
            row.error_message = data.error_message
            row.failed_at = event.occurred_at
            row.attempt = max(row.attempt, data.attempt)
        case AnalysisDeleted(data=data):
            row.deleted = True
            row.deleted_at = event.occurred_at
            row.deleted_by = data.deleted_by
            row.delete_reason = data.reason or None
    row.version = event.version
    row.position = recorded.position
    return row


def fold_result(row: ResultRow | None, recorded: RecordedEvent) -> ResultRow | None:
    """The ``analysis_results`` row after ``recorded``; None when it changes nothing."""
    event = recorded.event
    if not isinstance(event, AnalysisCompleted) or (row is not None and event.version <= row.version):
        return None
    data = event.data
    return ResultRow(
        analysis_id=event.analysis_id,
        # Kept as the Struct: the JSON column's serializer (msgspec) encodes it on write, and
        # converting it to builtins here cost more than the rest of the fold.
        summary=data.summary,
        result_key=data.result.key,
        result_sha256=data.result.sha256,
        result_size=data.result.size,
        result_content_type=data.result.content_type,
        result_schema_version=data.result.schema_version,
        duration_s=data.duration_s,
        completed_at=event.occurred_at,
        version=event.version,
        position=recorded.position,
    )
