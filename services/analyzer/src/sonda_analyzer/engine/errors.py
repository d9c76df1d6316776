"""Typed errors of the profiling engine.

Every failure to read or profile a file is a :class:`ProfileError` with a stable ``code`` (the worker
copies it into ``AnalysisFailed.error_code``), a message a person understands, and ``retryable``:
True only when trying the same file again later may succeed (e.g. the machine ran out of memory).
"""

from __future__ import annotations

from sonda_events.errors import SondaError


class ProfileError(SondaError):
    """Base of every error the engine raises on purpose."""

    code = "profile_error"
    status_code = 422


class InvalidOptionsError(ProfileError):
    """The profile options are not valid (unknown field, wrong type, out of range)."""

    code = "invalid_options"


class UnsupportedFormatError(ProfileError):
    """The file is not one of the tabular formats Sonda reads."""

    code = "unsupported_format"


class EmptyFileError(ProfileError):
    """The file holds no bytes (or only whitespace), so there is nothing to profile."""

    code = "empty_file"


class ParseError(ProfileError):
    """The file claims a format but its content does not follow it."""

    code = "parse_error"


class EncodingError(ProfileError):
    """The text cannot be decoded with the detected or requested encoding."""

    code = "encoding_error"


class TooManyColumnsError(ProfileError):
    """More columns than the engine profiles in one analysis."""

    code = "too_many_columns"


class FileTooLargeError(ProfileError):
    """The file cannot be profiled within the memory budget in its format."""

    code = "file_too_large"


class SheetNotFoundError(ProfileError):
    """The requested Excel sheet does not exist in the workbook."""

    code = "sheet_not_found"


class FileNotFoundProfileError(ProfileError):
    """The path given to the engine does not exist (the upload is missing)."""

    code = "file_not_found"
    status_code = 404


class OutOfMemoryError(ProfileError):
    """The process ran out of memory; another attempt, on a less busy worker, may succeed."""

    code = "out_of_memory"
    status_code = 503
    retryable = True
