"""Errors as JSON problem bodies (RFC 9457 shape) with a stable ``code`` on every one.

Every error a client can see goes through here: our own ``SondaError`` tree, Litestar's validation
and HTTP exceptions, and anything unexpected (a 500 whose details stay in the log, not the body).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.exceptions import ValidationException as LitestarValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
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
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class ProblemError(SondaError):
    """Raise from a handler to answer with a problem body: ``ProblemError(404, "analysis_not_found", ...)``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail, code=code)
        self.status_code = status


def problem_response(status: int, code: str, detail: str, **extra: Any) -> Response[Problem]:
    headers = extra.pop("headers", None)
    body = Problem(title=_TITLES.get(status, "Error"), status=status, detail=detail, code=code, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _sonda_error(_: Request[Any, Any, Any], exc: SondaError) -> Response[Problem]:
    if exc.status_code >= 500:
        log.warning("request_failed", code=exc.code, error=exc.message)
    headers = {"Retry-After": "5"} if exc.status_code == 503 else None
    return problem_response(exc.status_code, exc.code, exc.message, headers=headers)


def _validation(_: Request[Any, Any, Any], exc: LitestarValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else None
    errors = [e if isinstance(e, dict) else {"message": str(e)} for e in extra] if extra else None
    detail = exc.detail or "the request is not valid"
    if errors:
        first = errors[0]
        detail = f"{detail}: {first.get('message', '')} ({first.get('key', first.get('source', ''))})"
    return problem_response(422, "validation_error", detail, errors=errors)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code = _CODES.get(status, "http_error")
    if status == 400 and (exc.detail or "").startswith(("JSON is malformed", "Input data was truncated")):
        code = "malformed_json"
    return problem_response(status, code, exc.detail or _TITLES.get(status, "error"), headers=exc.headers)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return problem_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error happened")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        SondaError: _sonda_error,
        LitestarValidationException: _validation,
        NotFoundException: _http,
        NotAuthorizedException: _http,
        HTTPException: _http,
        Exception: _unexpected,
    }
