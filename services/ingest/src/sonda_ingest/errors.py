"""Ingest's own refusals, each with a stable code (storage and bus errors come from their packages)."""

from __future__ import annotations

from sonda_events.codes import Code
from sonda_events.errors import InvalidAnalysisIdError, SondaError


class IngestError(SondaError):
    code = Code.INGEST_ERROR


class InvalidOptionsError(IngestError):
    code = Code.INVALID_OPTIONS


class UnknownAnalysisTypeError(IngestError):
    code = Code.UNKNOWN_ANALYSIS_TYPE


class AnalysisNotFoundError(IngestError):
    code = Code.ANALYSIS_NOT_FOUND


class InvalidIdempotencyKeyError(IngestError):
    code = Code.INVALID_IDEMPOTENCY_KEY


class IdempotencyKeyReusedError(IngestError):
    """The same Idempotency-Key was sent before with a different request."""

    code = Code.IDEMPOTENCY_KEY_REUSED


class InvalidFilenameError(IngestError):
    code = Code.INVALID_FILENAME


class TooManyActiveAnalysesError(IngestError):
    """The API key has as many analyses in progress as it may (``SONDA_MAX_ACTIVE_ANALYSES_PER_KEY``)."""

    code = Code.TOO_MANY_ACTIVE_ANALYSES


class UploadTooSlowError(IngestError):
    """The upload body stalled or trickled (slow-loris): nothing was stored."""

    code = Code.UPLOAD_TOO_SLOW


class LocalUploadsDisabledError(IngestError):
    """Uploads go straight to S3/R2 in this deployment; ingest does not receive files."""

    code = Code.LOCAL_UPLOADS_DISABLED


class StoreNotConfiguredError(IngestError):
    code = Code.STORE_UNAVAILABLE


# ``InvalidAnalysisIdError`` is shared by every service that takes an analysis id in its path.
__all__ = [
    "AnalysisNotFoundError",
    "IdempotencyKeyReusedError",
    "IngestError",
    "InvalidAnalysisIdError",
    "InvalidFilenameError",
    "InvalidIdempotencyKeyError",
    "InvalidOptionsError",
    "LocalUploadsDisabledError",
    "StoreNotConfiguredError",
    "TooManyActiveAnalysesError",
    "UnknownAnalysisTypeError",
    "UploadTooSlowError",
]
