"""Ingest's own refusals, each with a stable code (storage and bus errors come from their packages)."""

from __future__ import annotations

from sonda_events.errors import SondaError


class IngestError(SondaError):
    code = "ingest_error"
    status_code = 400


class InvalidOptionsError(IngestError):
    code = "invalid_options"
    status_code = 422


class UnknownAnalysisTypeError(IngestError):
    code = "unknown_analysis_type"
    status_code = 422


class InvalidAnalysisIdError(IngestError):
    code = "invalid_analysis_id"
    status_code = 400


class AnalysisNotFoundError(IngestError):
    code = "analysis_not_found"
    status_code = 404


class InvalidIdempotencyKeyError(IngestError):
    code = "invalid_idempotency_key"
    status_code = 400


class IdempotencyKeyReusedError(IngestError):
    """The same Idempotency-Key was sent before with a different request."""

    code = "idempotency_key_reused"
    status_code = 409


class InvalidFilenameError(IngestError):
    code = "invalid_filename"
    status_code = 400


class TooManyActiveAnalysesError(IngestError):
    """The API key has as many analyses in progress as it may (``SONDA_MAX_ACTIVE_ANALYSES_PER_KEY``)."""

    code = "too_many_active_analyses"
    status_code = 429


class UploadTooSlowError(IngestError):
    """The upload body stalled or trickled (slow-loris): nothing was stored."""

    code = "upload_too_slow"
    status_code = 408


class LocalUploadsDisabledError(IngestError):
    """Uploads go straight to S3/R2 in this deployment; ingest does not receive files."""

    code = "local_uploads_disabled"
    status_code = 404


class StoreNotConfiguredError(IngestError):
    code = "store_unavailable"
    status_code = 503
    retryable = True
