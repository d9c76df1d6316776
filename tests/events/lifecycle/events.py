"""Events of one analysis for the lifecycle tests, each at the version given."""

from __future__ import annotations

import hashlib
import uuid

from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisPurged,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    CompletedData,
    DeletedData,
    FailedData,
    ProgressData,
    PurgedData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_events.lifecycle import own_result_key


def requested(aid: uuid.UUID, version: int = 1, file_key: str = "uploads/a/data.csv") -> AnalysisRequested:
    return new_event(
        AnalysisRequested,
        analysis_id=aid,
        version=version,
        data=RequestedData(file_key=file_key),
        producer="t",
    )


def started(aid: uuid.UUID, version: int, attempt: int = 1) -> AnalysisStarted:
    data = StartedData(worker="w", attempt=attempt)
    return new_event(AnalysisStarted, analysis_id=aid, version=version, data=data, producer="t")


def progress(aid: uuid.UUID, version: int, pct: float = 50.0) -> AnalysisProgress:
    data = ProgressData(progress=pct, stage="profiling", message="half")
    return new_event(AnalysisProgress, analysis_id=aid, version=version, data=data, producer="t")


def completed(aid: uuid.UUID, version: int, key: str | None = None) -> AnalysisCompleted:
    ref = ResultRef(key=key or own_result_key(aid), sha256=hashlib.sha256(b"x").hexdigest(), size=1)
    summary = AnalysisSummary(rows=3, columns=2, missing_cells=0, duplicate_rows=0)
    data = CompletedData(summary=summary, result=ref)
    return new_event(AnalysisCompleted, analysis_id=aid, version=version, data=data, producer="t")


def failed(aid: uuid.UUID, version: int) -> AnalysisFailed:
    data = FailedData(error_code="bad_file", error_message="no")
    return new_event(AnalysisFailed, analysis_id=aid, version=version, data=data, producer="t")


def deleted(aid: uuid.UUID, version: int, by: str = "someone") -> AnalysisDeleted:
    data = DeletedData(reason="r", deleted_by=by)
    return new_event(AnalysisDeleted, analysis_id=aid, version=version, data=data, producer="t")


def purged(aid: uuid.UUID, version: int) -> AnalysisPurged:
    return new_event(AnalysisPurged, analysis_id=aid, version=version, data=PurgedData(), producer="t")
