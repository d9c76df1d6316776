"""Errors the query service answers with, each a stable ``code`` in a JSON problem body."""

from __future__ import annotations

from sonda_events.errors import SondaError


class QueryError(SondaError):
    code = "query_error"
    status_code = 500


class AnalysisNotFoundError(QueryError):
    code = "analysis_not_found"
    status_code = 404

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"no analysis {analysis_id}")


class AnalysisDeletedError(QueryError):
    """Soft-deleted: the history is kept, the results are no longer served."""

    code = "analysis_deleted"
    status_code = 410

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"analysis {analysis_id} was deleted")


class AnalysisNotCompletedError(QueryError):
    """Results asked for before the analysis completed (``analysis_failed`` when it failed)."""

    code = "analysis_not_completed"
    status_code = 409

    def __init__(self, analysis_id: object, status: str, detail: str | None = None) -> None:
        message = f"analysis {analysis_id} is {status}; results exist once it is completed"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.status = status
        if status == "failed":
            self.code = "analysis_failed"


class ResultNotReadyError(QueryError):
    """Completed, but its result row is not projected yet (moments after the event): retry."""

    code = "result_not_ready"
    status_code = 409

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"analysis {analysis_id} is completed; its result is still being projected")


class InvalidParameterError(QueryError):
    code = "invalid_parameter"
    status_code = 422

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name


class InvalidCursorError(InvalidParameterError):
    code = "invalid_cursor"

    def __init__(self, reason: str) -> None:
        super().__init__("cursor", reason)


class ResultUnavailableError(QueryError):
    """The result object is missing or does not match its checksum: the summary is still served."""

    code = "result_unavailable"
    status_code = 502
