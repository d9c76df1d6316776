"""Sonda's EDA engine: a pure library that profiles a tabular file into a versioned result.

Usable without any server::

    from sonda_analyzer.engine import ProfileOptions, profile_file, encode_result
    result = profile_file(Path("data.csv"), ProfileOptions(decimal=","))
    print(encode_result(result).decode())
"""

from sonda_analyzer.engine.digest import Digest, build_digest
from sonda_analyzer.engine.errors import (
    EmptyFileError,
    EncodingError,
    FileNotFoundProfileError,
    FileTooLargeError,
    InvalidOptionsError,
    OutOfMemoryError,
    ParseError,
    ProfileError,
    SheetNotFoundError,
    TooManyColumnsError,
    UnsupportedFormatError,
)
from sonda_analyzer.engine.options import AlertThresholds, ProfileOptions, parse_options
from sonda_analyzer.engine.profile import profile_dataframe, profile_file, profile_table
from sonda_analyzer.engine.progress import ProgressCallback, ProgressUpdate
from sonda_analyzer.engine.result import SCHEMA_VERSION, ProfileResult, decode_result, encode_result

__all__ = [
    "SCHEMA_VERSION",
    "AlertThresholds",
    "Digest",
    "EmptyFileError",
    "EncodingError",
    "FileNotFoundProfileError",
    "FileTooLargeError",
    "InvalidOptionsError",
    "OutOfMemoryError",
    "ParseError",
    "ProfileError",
    "ProfileOptions",
    "ProfileResult",
    "ProgressCallback",
    "ProgressUpdate",
    "SheetNotFoundError",
    "TooManyColumnsError",
    "UnsupportedFormatError",
    "build_digest",
    "decode_result",
    "encode_result",
    "parse_options",
    "profile_dataframe",
    "profile_file",
    "profile_table",
]
