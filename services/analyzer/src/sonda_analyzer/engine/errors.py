"""Typed errors of the profiling engine.

Every failure to read or profile a file is a :class:`ProfileError` with a stable ``code`` (the worker
copies it into ``AnalysisFailed.error_code``), a message a person understands, and ``retryable``:
True only when trying the same file again later may succeed (e.g. the machine ran out of memory).
"""

from __future__ import annotations

from sonda_events.codes import Code
from sonda_events.errors import SondaError


class ProfileError(SondaError):
    """Base of every error the engine raises on purpose."""

    code = Code.PROFILE_ERROR


class InvalidOptionsError(ProfileError):
    """The profile options are not valid (unknown field, wrong type, out of range)."""

    code = Code.INVALID_OPTIONS


class UnsupportedFormatError(ProfileError):
    """The file is not one of the tabular formats Sonda reads."""

    code = Code.UNSUPPORTED_FORMAT


class EmptyFileError(ProfileError):
    """The file holds no bytes (or only whitespace), so there is nothing to profile."""

    code = Code.EMPTY_FILE


class ParseError(ProfileError):
    """The file claims a format but its content does not follow it."""

    code = Code.PARSE_ERROR


class EncodingError(ProfileError):
    """The text cannot be decoded with the detected or requested encoding."""

    code = Code.ENCODING_ERROR


class TooManyColumnsError(ProfileError):
    """More columns than the engine profiles in one analysis."""

    code = Code.TOO_MANY_COLUMNS


class FileTooLargeError(ProfileError):
    """The file cannot be profiled within the memory budget in its format."""

    code = Code.FILE_TOO_LARGE


class SheetNotFoundError(ProfileError):
    """The requested Excel sheet does not exist in the workbook."""

    code = Code.SHEET_NOT_FOUND


class FileNotFoundProfileError(ProfileError):
    """The path given to the engine does not exist (the upload is missing)."""

    code = Code.FILE_NOT_FOUND


class OutOfMemoryError(ProfileError):
    """The process ran out of memory; another attempt, on a less busy worker, may succeed."""

    code = Code.OUT_OF_MEMORY
