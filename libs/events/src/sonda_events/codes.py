"""The catalog of stable error codes: each code once, with whether trying again later may succeed.

A code is what clients and operators match on: the ``code`` of a problem body, ``error_code`` of
``AnalysisFailed``, the code of a dead-letter record. Error classes take their code from here, and
their ``retryable`` with it (``SondaError.__init_subclass__``); several classes may share a code when
they mean the same thing (``analysis_not_found`` in ingest and in query). The HTTP status of each code
is chosen at the edge, in ``sonda_service.problems``.
"""

from __future__ import annotations

from collections.abc import Mapping

_RETRYABLE: dict[str, bool] = {}


def _code(value: str, *, retryable: bool = False) -> str:
    if value in _RETRYABLE:
        raise ValueError(f"error code {value!r} is defined twice")
    _RETRYABLE[value] = retryable
    return value


class Code:
    """Every stable error code, as plain strings (``Code.ANALYSIS_NOT_FOUND == "analysis_not_found"``)."""

    SONDA_ERROR = _code("sonda_error")
    INVALID_SETTINGS = _code("invalid_settings")
    # events, event store and bus
    INVALID_EVENT = _code("invalid_event")
    UNKNOWN_EVENT_TYPE = _code("unknown_event_type")
    EVENT_STORE_ERROR = _code("event_store_error")
    VERSION_CONFLICT = _code("version_conflict")
    STORE_UNAVAILABLE = _code("store_unavailable", retryable=True)
    BUS_ERROR = _code("bus_error", retryable=True)
    BUS_UNAVAILABLE = _code("bus_unavailable", retryable=True)
    STREAM_VERSION_CONFLICT = _code("stream_version_conflict")
    PROVISIONING_DRIFT = _code("provisioning_drift")
    NATS_UNSUPPORTED = _code("nats_unsupported")
    REJECTED = _code("rejected")
    #: An event the analysis' lifecycle does not allow now.
    EVENT_NOT_ALLOWED = _code("event_not_allowed")
    #: An analysis stream with a missing version; it may be filled in a moment.
    VERSION_GAP = _code("version_gap", retryable=True)
    # analyses, as every service names them
    INVALID_ANALYSIS_ID = _code("invalid_analysis_id")
    ANALYSIS_NOT_FOUND = _code("analysis_not_found")
    ANALYSIS_DELETED = _code("analysis_deleted")
    #: Results asked for before completion: they exist once it completes.
    ANALYSIS_NOT_COMPLETED = _code("analysis_not_completed", retryable=True)
    ANALYSIS_FAILED = _code("analysis_failed")
    # object storage
    STORAGE_ERROR = _code("storage_error")
    INVALID_KEY = _code("invalid_key")
    OBJECT_NOT_FOUND = _code("object_not_found")
    STORAGE_UNAVAILABLE = _code("storage_unavailable", retryable=True)
    UPLOAD_TOO_LARGE = _code("upload_too_large")
    EMPTY_UPLOAD = _code("empty_upload")
    INVALID_SIGNATURE = _code("invalid_signature")
    SIGNATURE_EXPIRED = _code("signature_expired")
    # ingest
    INGEST_ERROR = _code("ingest_error")
    INVALID_OPTIONS = _code("invalid_options")
    UNKNOWN_ANALYSIS_TYPE = _code("unknown_analysis_type")
    INVALID_IDEMPOTENCY_KEY = _code("invalid_idempotency_key")
    IDEMPOTENCY_KEY_REUSED = _code("idempotency_key_reused")
    INVALID_FILENAME = _code("invalid_filename")
    TOO_MANY_ACTIVE_ANALYSES = _code("too_many_active_analyses", retryable=True)
    UPLOAD_TOO_SLOW = _code("upload_too_slow")
    LOCAL_UPLOADS_DISABLED = _code("local_uploads_disabled")
    # analyzer and its engine (``AnalysisFailed.error_code``; docs/result-schema.md lists them)
    PROFILE_ERROR = _code("profile_error")
    UNSUPPORTED_FORMAT = _code("unsupported_format")
    EMPTY_FILE = _code("empty_file")
    PARSE_ERROR = _code("parse_error")
    ENCODING_ERROR = _code("encoding_error")
    TOO_MANY_COLUMNS = _code("too_many_columns")
    FILE_TOO_LARGE = _code("file_too_large")
    SHEET_NOT_FOUND = _code("sheet_not_found")
    FILE_NOT_FOUND = _code("file_not_found")
    INVALID_FILE_KEY = _code("invalid_file_key")
    #: Out of memory, or above this analyzer's limit: a less busy (or larger) analyzer may succeed.
    OUT_OF_MEMORY = _code("out_of_memory", retryable=True)
    TIMEOUT = _code("timeout")
    ENGINE_ERROR = _code("engine_error")
    ENGINE_CRASHED = _code("engine_crashed", retryable=True)
    WORKER_STOPPING = _code("worker_stopping", retryable=True)
    # query and notifier
    QUERY_ERROR = _code("query_error")
    #: Completed, but the result row is not projected yet (moments after the event).
    RESULT_NOT_READY = _code("result_not_ready", retryable=True)
    INVALID_PARAMETER = _code("invalid_parameter")
    INVALID_CURSOR = _code("invalid_cursor")
    RESULT_UNAVAILABLE = _code("result_unavailable")
    REBUILD_IN_PROGRESS = _code("rebuild_in_progress", retryable=True)
    HISTORY_UNAVAILABLE = _code("history_unavailable", retryable=True)
    #: A comparison of an analysis with itself (``base`` and ``target`` are the same id).
    SAME_ANALYSIS = _code("same_analysis")
    # the HTTP edge itself (Litestar's own refusals)
    BAD_REQUEST = _code("bad_request")
    MALFORMED_JSON = _code("malformed_json")
    UNAUTHORIZED = _code("unauthorized")
    FORBIDDEN = _code("forbidden")
    NOT_FOUND = _code("not_found")
    METHOD_NOT_ALLOWED = _code("method_not_allowed")
    CONFLICT = _code("conflict")
    GONE = _code("gone")
    PAYLOAD_TOO_LARGE = _code("payload_too_large")
    UNSUPPORTED_MEDIA_TYPE = _code("unsupported_media_type")
    #: A ``Host`` this Sonda does not serve (no API keys: loopback names and the public URL only).
    MISDIRECTED_REQUEST = _code("misdirected_request")
    VALIDATION_ERROR = _code("validation_error")
    TOO_MANY_REQUESTS = _code("too_many_requests", retryable=True)
    UNAVAILABLE = _code("unavailable", retryable=True)
    HTTP_ERROR = _code("http_error")
    INTERNAL_ERROR = _code("internal_error")


#: Every catalogued code and whether the same request may succeed later.
CATALOG: Mapping[str, bool] = _RETRYABLE


def retryable(code: str) -> bool:
    """Whether a request refused with ``code`` may succeed later (False for an uncatalogued code)."""
    return _RETRYABLE.get(code, False)
