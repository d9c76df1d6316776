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
    AnalysisPurged,
    AnalysisRequested,
    AnalysisStarted,
    RecordedEvent,
)
from sonda_events.lifecycle import (
    AnalysisState,
    EventNotAllowedError,
    Phase,
    VersionGapError,
    evolve,
    is_own_result,
)

from sonda_query.readmodel.rows import AnalysisRow, ResultRow


def _filename(file_key: str, given: str | None) -> str | None:
    if given:
        return given
    # Keys Sonda issues end with the uploaded name (uploads/<uuid>/<name>); others may not.
    name = posixpath.basename(file_key)
    return name[:256] or None


def lifecycle_of(row: AnalysisRow) -> AnalysisState:
    """The lifecycle state a row stands for (the part of it the rules decide on)."""
    return AnalysisState(
        analysis_id=row.analysis_id,
        version=row.version,
        phase=Phase(row.phase),
        status=row.status,  # type: ignore[arg-type]  # written from a lifecycle status
        deleted=row.deleted,
        purged=row.phase == Phase.PURGED,
        attempt=row.attempt,
    )


def fold_analysis(row: AnalysisRow | None, recorded: RecordedEvent) -> AnalysisRow | None:
    """The ``analyses`` row after ``recorded``; None when it changes nothing.

    Status, phase, deletion and which events are allowed come from the lifecycle
    (``sonda_events.lifecycle.evolve``); this adds the columns a listing shows. An event the
    lifecycle refuses (stored before the store applied the rules) only moves the row's version on.
    """
    event = recorded.event
    if row is not None and event.version <= row.version:
        return None
    before = lifecycle_of(row) if row is not None else AnalysisState(analysis_id=event.analysis_id)
    try:
        after = evolve(before, event)
    except (EventNotAllowedError, VersionGapError):
        if row is None:
            return None  # a stream nothing opened: no analysis to show
        return msgspec.structs.replace(row, version=event.version, position=recorded.position)
    if row is None:
        row = AnalysisRow(analysis_id=event.analysis_id, file_key="", created_at=event.occurred_at)
    else:
        row = msgspec.structs.replace(row)
    row.status, row.phase, row.deleted = after.status, after.phase.value, after.deleted
    row.progress, row.stage, row.message, row.attempt = (
        after.progress,
        after.stage,
        after.message,
        after.attempt,
    )
    match event:
        case AnalysisRequested(data=data):
            row.file_key = data.file_key
            row.filename = _filename(data.file_key, data.filename)
            row.analysis_type = data.analysis_type
            row.requested_by = data.requested_by
            row.file_size = data.file_size
            row.created_at = event.occurred_at
        case AnalysisStarted():
            row.started_at = event.occurred_at
        case AnalysisProgress():
            pass
        case AnalysisCompleted(data=data):
            summary = data.summary
            row.rows = summary.rows
            row.columns = summary.columns
            row.file_size = summary.file_size if summary.file_size is not None else row.file_size
            row.format = summary.format
            row.completed_at = event.occurred_at
        case AnalysisFailed(data=data):
            row.error_code = data.error_code
            row.error_message = data.error_message
            row.failed_at = event.occurred_at
        case AnalysisDeleted(data=data):
            row.deleted_at = event.occurred_at
            row.deleted_by = data.deleted_by
            row.delete_reason = data.reason or None
        case AnalysisPurged(data=data):
            row.deleted_at = row.deleted_at or event.occurred_at
            row.deleted_by = row.deleted_by or data.purged_by
            row.delete_reason = row.delete_reason or data.reason or None
    row.version = event.version
    row.position = recorded.position
    return row


def fold_result(row: ResultRow | None, recorded: RecordedEvent) -> ResultRow | None:
    """The ``analysis_results`` row after ``recorded``; None when it changes nothing."""
    event = recorded.event
    # The lifecycle accepts one completion per analysis, pointing at its own result: the first
    # one stays (a store written before the rules were enforced may hold a second).
    if not isinstance(event, AnalysisCompleted) or row is not None:
        return None
    if not is_own_result(event.analysis_id, event.data.result.key):
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
