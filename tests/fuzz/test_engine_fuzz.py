"""The profiling engine on arbitrary input: a typed ``ProfileError`` or a correct profile, nothing else.

Random bytes under every extension the engine reads, CSV-like text in several encodings, and
well-formed CSVs whose statistics are checked against numpy. Hypothesis shrinks any input that
raises something other than a ``ProfileError`` to a minimal reproducer.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sonda_analyzer.engine import ProfileError, ProfileResult, encode_result, profile_file

EXTENSIONS = ("csv", "tsv", "txt", "json", "jsonl", "parquet", "xlsx", "csv.gz", "zip", "")
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _profile(data: bytes, name: str, options: dict[str, Any] | None = None) -> ProfileResult | ProfileError:
    with tempfile.TemporaryDirectory(prefix="sonda-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return profile_file(path, options or {}, budget_mb=256)
        except ProfileError as error:
            return error


def _check_profile(result: ProfileResult) -> dict[str, Any]:
    """What every profile must satisfy, whatever the input: consistent counts, finite JSON."""
    dataset = result.dataset
    assert dataset.rows >= 0
    assert dataset.columns == len(result.columns)
    assert 0 <= dataset.missing_cells <= dataset.rows * dataset.columns
    assert 0 <= dataset.duplicate_rows <= dataset.rows
    for column in result.columns:
        assert 0 <= column.missing <= dataset.rows
        assert column.distinct <= dataset.rows
    encoded = encode_result(result)  # msgspec refuses NaN/inf only if present; check explicitly
    decoded = msgspec.json.decode(encoded)
    _assert_finite(decoded)
    return dict(decoded)


def _assert_finite(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value), value
    elif isinstance(value, dict):
        for item in value.values():
            _assert_finite(item)
    elif isinstance(value, list):
        for item in value:
            _assert_finite(item)


def _check_error(error: ProfileError) -> None:
    assert error.code and error.code != "profile_error", error
    assert error.message and "Traceback" not in error.message
    assert len(error.message) < 4000


def _outcome(result: ProfileResult | ProfileError) -> None:
    if isinstance(result, ProfileError):
        _check_error(result)
    else:
        _check_profile(result)


@FUZZ
@given(data=st.binary(max_size=2048), extension=st.sampled_from(EXTENSIONS))
@example(data=b"", extension="csv")
@example(data=b"\x00\x00\x00", extension="csv")
@example(data=b"PK\x03\x04garbage", extension="xlsx")
@example(data=b"PAR1\x00\x00PAR1", extension="parquet")
@example(data=b"\x1f\x8b\x08\x00broken", extension="csv.gz")
@example(data=b"[{", extension="json")
@example(data=b'{"a": 1}\n{"a": ', extension="jsonl")
def test_random_bytes_end_in_a_typed_error_or_a_profile(data: bytes, extension: str) -> None:
    _outcome(_profile(data, f"input.{extension}" if extension else "input"))


CSV_CHARS = st.sampled_from([*list("abc;,\t|\"'\n\r 0123456789.-eE"), "ã", "ç", "\x00", "€", "\ufeff"])


@FUZZ
@given(
    text=st.text(alphabet=CSV_CHARS, max_size=600),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]),
    options=st.sampled_from(
        [{}, {"delimiter": ";", "decimal": ","}, {"header_row": "none"}, {"encoding": "ascii"}]
    ),
)
def test_csv_like_text_in_any_encoding(text: str, encoding: str, options: dict[str, Any]) -> None:
    data = text.encode(encoding, errors="replace")
    _outcome(_profile(data, "dados.csv", options))


@FUZZ
@given(
    values=st.lists(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False, width=32),
        min_size=1,
        max_size=200,
    ),
    labels=st.lists(st.sampled_from(["norte", "sul", "leste", "oeste", ""]), min_size=1, max_size=200),
    decimal_comma=st.booleans(),
)
def test_well_formed_csv_statistics_match_numpy(
    values: list[float], labels: list[str], decimal_comma: bool
) -> None:
    rows = min(len(values), len(labels))
    values, labels = values[:rows], labels[:rows]
    separator, decimal = (";", ",") if decimal_comma else (",", ".")
    lines = ["valor" + separator + "regiao"]
    for value, label in zip(values, labels, strict=True):
        lines.append(repr(float(value)).replace(".", decimal) + separator + label)
    outcome = _profile(("\n".join(lines) + "\n").encode(), "dados.csv")
    assert not isinstance(outcome, ProfileError), outcome
    result = _check_profile(outcome)
    assert result["dataset"]["rows"] == rows
    column = next(c for c in result["columns"] if c["name"] == "valor")
    assert column["type"] == "numeric", column["type"]
    expected = np.array(values, dtype=np.float64)
    assert column["stats"]["mean"] == pytest.approx(float(expected.mean()), rel=1e-9, abs=1e-6)
    assert column["stats"]["min"] == pytest.approx(float(expected.min()))
    assert column["stats"]["max"] == pytest.approx(float(expected.max()))
    assert column["missing"] == 0
    region = next(c for c in result["columns"] if c["name"] == "regiao")
    assert region["missing"] == labels.count("")


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        "big\n12345678901234567890\n12345678901234567890\n",  # one value too large to widen by 0.5
        "big\n1e20\n",
        "n\n10000000000000000\n10000000000000002\n",  # two values closer than the float spacing allows bins
        "quando\n2024-01-02 10:00:00.123456789\n2024-01-02 10:00:00.123456789\n",  # nanoseconds, constant
    ],
)
def test_degenerate_ranges_get_one_histogram_bin(text: str, streaming: bool) -> None:
    """Found by the fuzzer: numpy cannot split these ranges, which used to fail the whole profile."""
    outcome = _profile(text.encode(), "dados.csv", {"streaming": streaming})
    assert not isinstance(outcome, ProfileError), outcome
    result = _check_profile(outcome)
    column = result["columns"][0]
    assert result["dataset"]["rows"] == text.count("\n") - 1
    if column.get("histogram"):
        assert sum(column["histogram"]["counts"]) == result["dataset"]["rows"] - column["missing"]


def _xlsx_with_broken_sheet() -> bytes:
    import io
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    for row in range(20):
        book.active.append([row, f"n{row}"])
    original = io.BytesIO()
    book.save(original)
    forged = io.BytesIO()
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b"<row><c><v>1</v></c></sheetData>")
            dst.writestr(item, content)
    return forged.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        ("deep.jsonl", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
        ("deep_second_line.jsonl", b'{"a": 1}\n{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
        ("broken_sheet.xlsx", _xlsx_with_broken_sheet()),
    ],
)
def test_hostile_structures_are_parse_errors(name: str, data: bytes) -> None:
    """Found by the corpus: these raised RecursionError or xml's ParseError, and a one-line JSON
    Lines file nested 100,000 deep crashed the process inside Arrow's parser (stack overflow)."""
    outcome = _profile(data, name)
    assert isinstance(outcome, ProfileError), outcome
    assert outcome.code == "parse_error"
    assert "nested too deeply" in outcome.message or "damaged" in outcome.message


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("nome;valor\nJoão;1,5\nMaria;2,5\n", "latin-1"),
        ("nome;valor\nAção;1,5\nConceição;2,5\n", "cp1252"),
        ("nome;valor\nJoão;1,5\nMaria;2,5\n", "utf-16-le"),
    ],
)
def test_short_brazilian_files_decode_as_written(text: str, encoding: str) -> None:
    """Found by the corpus: a few accented letters in Latin-1 were detected as Big5 ("Jo緌")."""
    outcome = _profile(text.encode(encoding), "dados.csv")
    assert not isinstance(outcome, ProfileError), outcome
    names = [line.split(";")[0] for line in text.splitlines()[1:]]
    assert [row[0] for row in outcome.sample.rows] == names
