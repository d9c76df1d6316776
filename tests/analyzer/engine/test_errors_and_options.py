"""Unreadable input ends in a typed error with a stable code; options are validated."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sonda_analyzer.engine import (
    EmptyFileError,
    EncodingError,
    FileNotFoundProfileError,
    FileTooLargeError,
    InvalidOptionsError,
    ParseError,
    ProfileError,
    ProfileOptions,
    SheetNotFoundError,
    TooManyColumnsError,
    UnsupportedFormatError,
    parse_options,
    profile_file,
)


def _fails(path: Path, error: type[ProfileError], code: str, **options: object) -> ProfileError:
    with pytest.raises(error) as caught:
        profile_file(path, options or None)
    exc = caught.value
    assert exc.code == code
    assert exc.retryable is False
    assert len(exc.message) > 10
    return exc


def test_empty_inputs(write_text: Callable[..., Path]) -> None:
    _fails(write_text("e.csv", b""), EmptyFileError, "empty_file")
    _fails(write_text("w.csv", "  \n\n \t\n"), EmptyFileError, "empty_file")
    gz_empty = write_text("e.zip", b"")
    _fails(gz_empty, EmptyFileError, "empty_file")


def test_foreign_files(write_text: Callable[..., Path], tmp_path: Path) -> None:
    _fails(
        write_text("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), UnsupportedFormatError, "unsupported_format"
    )
    _fails(write_text("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64), UnsupportedFormatError,
           "unsupported_format")  # fmt: skip
    _fails(write_text("b.bin", bytes(range(256)) * 4), UnsupportedFormatError, "unsupported_format")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "y\n2\n")
    _fails(two, UnsupportedFormatError, "unsupported_format")
    _fails(write_text("broken.zip", b"PK\x03\x04" + b"garbage" * 10), ParseError, "parse_error")
    _fails(write_text("broken.gz", b"\x1f\x8b\x08\x00" + b"garbage" * 10), ParseError, "parse_error")
    _fails(tmp_path / "missing.csv", FileNotFoundProfileError, "file_not_found")


def test_parse_errors(write_text: Callable[..., Path]) -> None:
    _fails(write_text("bad.json", '[{"a": 1}, {"a": '), ParseError, "parse_error")
    _fails(write_text("scalar.json", "[1, 2, 3]"), ParseError, "parse_error")
    _fails(write_text("bad.jsonl", '{"a": 1}\n{"a": oops}\n'), ParseError, "parse_error")
    _fails(write_text("fake.parquet", b"PAR1" + b"\x00" * 100), ParseError, "parse_error")
    _fails(write_text("fake.xlsx", b"PK\x03\x04" + b"\x00" * 100), ParseError, "parse_error")


def test_encoding_error_when_the_forced_encoding_is_wrong(write_text: Callable[..., Path]) -> None:
    path = write_text("l.csv", "nome\nJoão\nConceição\n", encoding="latin-1")
    _fails(path, EncodingError, "encoding_error", encoding="utf-8")


def test_too_many_columns(write_text: Callable[..., Path], tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(30))
    path = write_text("wide.csv", header + "\n" + ",".join("1" * 30) + "\n")
    _fails(path, TooManyColumnsError, "too_many_columns", max_columns=10)
    parquet = tmp_path / "wide.parquet"
    pd.DataFrame({f"c{i}": [1] for i in range(30)}).to_parquet(parquet)
    _fails(parquet, TooManyColumnsError, "too_many_columns", max_columns=10)


def test_missing_sheet(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(path, index=False, sheet_name="only")
    exc = _fails(path, SheetNotFoundError, "sheet_not_found", sheet="other")
    assert "only" in exc.message
    _fails(path, SheetNotFoundError, "sheet_not_found", sheet=3)


def test_json_array_beyond_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + ",".join(['{"a": 1}'] * 800_000) + "]")
    with pytest.raises(FileTooLargeError) as caught:
        profile_file(path, budget_mb=64)
    assert caught.value.code == "file_too_large" and "JSON Lines" in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        {"delimiter": ";;"},
        {"encoding": "klingon-8"},
        {"max_rows": 0},
        {"unknown": 1},
        {"header_row": "sometimes"},
        {"column_types": {"a": "complex"}},
        {"thresholds": {"missing_pct": 2}},
        {"sample_rows": 5000},
        b'{"delimiter": 1}',
        "not json",
    ],
)
def test_invalid_options(raw: object) -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        parse_options(raw)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_options"


def test_valid_options_round_trip() -> None:
    options = parse_options({"delimiter": "tab", "decimal": ",", "header_row": 2, "sheet": "x",
                             "thresholds": {"missing_pct": 0.5}})  # fmt: skip
    assert options.delimiter == "\t" and options.header_row == 2
    assert options.thresholds.missing_pct == 0.5
    assert parse_options(b'{"header_row": "none"}').header_row == "none"
    assert parse_options(None) == ProfileOptions()
    assert parse_options(options) is options


def test_profile_error_codes_are_distinct() -> None:
    codes = {cls.code for cls in [EmptyFileError, EncodingError, FileNotFoundProfileError,
             FileTooLargeError, InvalidOptionsError, ParseError, SheetNotFoundError,
             TooManyColumnsError, UnsupportedFormatError]}  # fmt: skip
    assert len(codes) == 9
