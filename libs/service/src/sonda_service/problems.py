"""Errors as JSON problem bodies (RFC 9457 shape) with a stable ``code`` on every one.

Every error a client can see goes through here: our own ``SondaError`` tree, Litestar's validation
and HTTP exceptions, and anything unexpected (a 500 whose details stay in the log, not the body).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.exceptions import ValidationException as LitestarValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sonda_events.codes import Code
from sonda_events.errors import SondaError
from sonda_events.logging import get_logger

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    421: "Misdirected request",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
#: The HTTP status of every catalogued code: the one place a code meets HTTP.
HTTP_STATUS: Mapping[str, int] = {
    Code.SONDA_ERROR: 500,
    Code.INVALID_SETTINGS: 500,
    Code.INVALID_EVENT: 422,
    Code.UNKNOWN_EVENT_TYPE: 422,
    Code.EVENT_STORE_ERROR: 503,
    Code.VERSION_CONFLICT: 409,
    Code.STORE_UNAVAILABLE: 503,
    Code.BUS_ERROR: 503,
    Code.BUS_UNAVAILABLE: 503,
    Code.STREAM_VERSION_CONFLICT: 409,
    Code.PROVISIONING_DRIFT: 503,
    Code.NATS_UNSUPPORTED: 503,
    Code.REJECTED: 422,
    Code.EVENT_NOT_ALLOWED: 409,
    Code.VERSION_GAP: 409,
    Code.INVALID_ANALYSIS_ID: 400,
    Code.ANALYSIS_NOT_FOUND: 404,
    Code.ANALYSIS_DELETED: 410,
    Code.ANALYSIS_NOT_COMPLETED: 409,
    Code.ANALYSIS_FAILED: 409,
    Code.STORAGE_ERROR: 500,
    Code.INVALID_KEY: 400,
    Code.OBJECT_NOT_FOUND: 404,
    Code.STORAGE_UNAVAILABLE: 503,
    Code.UPLOAD_TOO_LARGE: 413,
    Code.EMPTY_UPLOAD: 400,
    Code.INVALID_SIGNATURE: 403,
    Code.SIGNATURE_EXPIRED: 403,
    Code.INGEST_ERROR: 400,
    Code.INVALID_OPTIONS: 422,
    Code.UNKNOWN_ANALYSIS_TYPE: 422,
    Code.INVALID_IDEMPOTENCY_KEY: 400,
    Code.IDEMPOTENCY_KEY_REUSED: 409,
    Code.INVALID_FILENAME: 400,
    Code.TOO_MANY_ACTIVE_ANALYSES: 429,
    Code.UPLOAD_TOO_SLOW: 408,
    Code.LOCAL_UPLOADS_DISABLED: 404,
    Code.PROFILE_ERROR: 422,
    Code.UNSUPPORTED_FORMAT: 422,
    Code.EMPTY_FILE: 422,
    Code.PARSE_ERROR: 422,
    Code.ENCODING_ERROR: 422,
    Code.TOO_MANY_COLUMNS: 422,
    Code.FILE_TOO_LARGE: 422,
    Code.SHEET_NOT_FOUND: 422,
    Code.FILE_NOT_FOUND: 404,
    Code.INVALID_FILE_KEY: 422,
    Code.OUT_OF_MEMORY: 503,
    Code.TIMEOUT: 422,
    Code.ENGINE_ERROR: 500,
    Code.ENGINE_CRASHED: 500,
    Code.WORKER_STOPPING: 503,
    Code.QUERY_ERROR: 500,
    Code.RESULT_NOT_READY: 409,
    Code.INVALID_PARAMETER: 422,
    Code.INVALID_CURSOR: 422,
    Code.RESULT_UNAVAILABLE: 502,
    Code.REBUILD_IN_PROGRESS: 409,
    Code.HISTORY_UNAVAILABLE: 503,
    Code.SAME_ANALYSIS: 422,
    Code.BAD_REQUEST: 400,
    Code.MALFORMED_JSON: 400,
    Code.UNAUTHORIZED: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.CONFLICT: 409,
    Code.GONE: 410,
    Code.PAYLOAD_TOO_LARGE: 413,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.MISDIRECTED_REQUEST: 421,
    Code.VALIDATION_ERROR: 422,
    Code.TOO_MANY_REQUESTS: 429,
    Code.UNAVAILABLE: 503,
    Code.HTTP_ERROR: 400,
    Code.INTERNAL_ERROR: 500,
}
#: The code of a refusal Litestar raises itself, by its status.
_HTTP_CODES = {
    400: Code.BAD_REQUEST,
    401: Code.UNAUTHORIZED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    409: Code.CONFLICT,
    410: Code.GONE,
    413: Code.PAYLOAD_TOO_LARGE,
    415: Code.UNSUPPORTED_MEDIA_TYPE,
    422: Code.VALIDATION_ERROR,
    429: Code.TOO_MANY_REQUESTS,
    503: Code.UNAVAILABLE,
}


def status_for(code: str) -> int:
    """The HTTP status a ``SondaError`` with ``code`` is answered with (500 for an uncatalogued one)."""
    return HTTP_STATUS.get(code, HTTP_500_INTERNAL_SERVER_ERROR)


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class ProblemError(SondaError):
    """Raise from a handler to answer with a problem body: ``ProblemError(404, "analysis_not_found", ...)``.

    The status is given here, at the edge; any other ``SondaError`` is answered by ``HTTP_STATUS``.
    """

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail, code=code)
        self.status = status


def problem_response(status: int, code: str, detail: str, **extra: Any) -> Response[Problem]:
    headers = extra.pop("headers", None)
    body = Problem(title=_TITLES.get(status, "Error"), status=status, detail=detail, code=code, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _sonda_error(_: Request[Any, Any, Any], exc: SondaError) -> Response[Problem]:
    status = exc.status if isinstance(exc, ProblemError) else status_for(exc.code)
    if status >= 500:
        log.warning("request_failed", code=exc.code, error=exc.message)
    headers = {"Retry-After": "5"} if status == 503 else None
    return problem_response(status, exc.code, exc.message, headers=headers)


def _validation(_: Request[Any, Any, Any], exc: LitestarValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else None
    errors = [e if isinstance(e, dict) else {"message": str(e)} for e in extra] if extra else None
    detail = exc.detail or "the request is not valid"
    if errors:
        first = errors[0]
        detail = f"{detail}: {first.get('message', '')} ({first.get('key', first.get('source', ''))})"
    return problem_response(422, Code.VALIDATION_ERROR, detail, errors=errors)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, Code.HTTP_ERROR)
    if status == 400 and (exc.detail or "").startswith(("JSON is malformed", "Input data was truncated")):
        code = Code.MALFORMED_JSON
    return problem_response(status, code, exc.detail or _TITLES.get(status, "error"), headers=exc.headers)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, Code.INTERNAL_ERROR, "an unexpected error happened"
    )


def exception_handlers() -> ExceptionHandlersMap:
    return {
        SondaError: _sonda_error,
        LitestarValidationException: _validation,
        NotFoundException: _http,
        NotAuthorizedException: _http,
        HTTPException: _http,
        Exception: _unexpected,
    }
