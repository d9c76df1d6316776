"""Errors the query service answers with, each a stable ``code`` in a JSON problem body."""

from __future__ import annotations

from sonda_events.codes import Code
from sonda_events.errors import SondaError


class QueryError(SondaError):
    code = Code.QUERY_ERROR


class AnalysisNotFoundError(QueryError):
    code = Code.ANALYSIS_NOT_FOUND

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"no analysis {analysis_id}")


class AnalysisDeletedError(QueryError):
    """Soft-deleted: the history is kept, the results are no longer served."""

    code = Code.ANALYSIS_DELETED

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"analysis {analysis_id} was deleted")


class AnalysisNotCompletedError(QueryError):
    """Results asked for before the analysis completed (``analysis_failed`` when it failed)."""

    code = Code.ANALYSIS_NOT_COMPLETED

    def __init__(self, analysis_id: object, status: str, detail: str | None = None) -> None:
        message = f"analysis {analysis_id} is {status}; results exist once it is completed"
        failed = Code.ANALYSIS_FAILED if status == "failed" else None
        super().__init__(f"{message}: {detail}" if detail else message, code=failed)
        self.status = status


class ResultNotReadyError(QueryError):
    """Completed, but its result row is not projected yet (moments after the event): retry."""

    code = Code.RESULT_NOT_READY

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"analysis {analysis_id} is completed; its result is still being projected")


class InvalidParameterError(QueryError):
    code = Code.INVALID_PARAMETER

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name


class InvalidCursorError(InvalidParameterError):
    code = Code.INVALID_CURSOR

    def __init__(self, reason: str) -> None:
        super().__init__("cursor", reason)


class ResultUnavailableError(QueryError):
    """The result object is missing or does not match its checksum: the summary is still served."""

    code = Code.RESULT_UNAVAILABLE


class SameAnalysisError(QueryError):
    """A comparison needs two different analyses (two analyses of one file are fine)."""

    code = Code.SAME_ANALYSIS

    def __init__(self, analysis_id: object) -> None:
        super().__init__(f"base and target are the same analysis ({analysis_id}); compare two analyses")
