"""A corpus of hostile and malformed files, each with the outcome Sonda must reach.

Every case ends either in ``AnalysisFailed`` with one of the listed codes, or in a profile whose
figures ``check`` verifies against what the file was built from. Bombs are built from repeated
gzip members (a valid gzip stream), so the corpus takes milliseconds to build.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

Check = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    #: Failure codes accepted; empty when the file must profile.
    fails_with: frozenset[str] = frozenset()
    #: Checks the result object of a completed analysis (None: the analysis must fail).
    check: Check | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def may_complete(self) -> bool:
        return self.check is not None


def _gzip_member(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(1000)), "b": [str(i) for i in range(1000)]}), buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    for row in range(50):
        book.active.append([row, f"n{row}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet(xlsx: bytes, change: Callable[[bytes], bytes]) -> bytes:
    forged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            dst.writestr(item, content)
    return forged.getvalue()


def _zip_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _column(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in result["columns"] if c["name"] == name)
    return found


def _rows(expected: int) -> Check:
    def check(result: dict[str, Any]) -> None:
        assert result["dataset"]["rows"] == expected, result["dataset"]

    return check


def _anything(result: dict[str, Any]) -> None:
    dataset = result["dataset"]
    assert dataset["rows"] >= 0
    assert dataset["columns"] == len(result["columns"])


def _truncated_csv(result: dict[str, Any]) -> None:
    assert result["dataset"]["rows"] == 2
    assert "malformed_rows" in {a["type"] for a in result["alerts"]}, "a dropped row must be reported"


def _brazilian(result: dict[str, Any]) -> None:
    assert result["dataset"]["rows"] == 2
    assert [c["name"] for c in result["columns"]] == ["nome", "valor"]
    assert _column(result, "valor")["stats"]["mean"] == 2.0
    assert "João" in str(result["sample"]["rows"])


def _duplicate_headers(result: dict[str, Any]) -> None:
    names = [c["name"] for c in result["columns"]]
    assert len(names) == 5 and len(set(names)) == 5, names  # every column kept, names made unique
    assert names[0] == "a" and names[3] == "b"
    assert [c["stats"]["mean"] for c in result["columns"]] == [3.5, 4.5, 5.5, 6.5, 7.5]


def _nul(result: dict[str, Any]) -> None:
    assert result["dataset"]["rows"] == 3
    assert result["dataset"]["columns"] == 2


def _bom_crlf(result: dict[str, Any]) -> None:
    assert [c["name"] for c in result["columns"]] == ["a", "b"]
    assert [c["stats"]["sum"] for c in result["columns"]] == [4.0, 6.0]


ROWS_BOMB = 1 << 18  # rows per gzip member
ROWS_BOMB_MEMBERS = 200  # 52 million rows from about 0.5 MB


def corpus(seed: int = 5) -> list[Case]:
    rng = random.Random(seed)
    garbage = bytes(rng.getrandbits(8) for _ in range(200_000))
    parquet, xlsx = _parquet(), _xlsx()
    zeros = _gzip_member(b"\0" * (1 << 20))
    rows = _gzip_member(b"1,2,3\n" * ROWS_BOMB)
    return [
        Case("truncated.csv", b'id,name,amount\n1,"Ana",10.5\n2,"Bruno",20\n3,"Car', check=_truncated_csv),
        Case(
            "garbage.csv",
            garbage,
            frozenset({"parse_error", "encoding_error", "unsupported_format"}),
            _anything,
        ),
        Case(
            "garbage.bin",
            garbage,
            frozenset({"unsupported_format", "parse_error", "encoding_error"}),
            _anything,
        ),
        Case("utf16-no-bom.csv", "nome;valor\nJoão;1,5\nMaria;2,5\n".encode("utf-16-le"), check=_brazilian),
        Case("latin1.csv", "nome;valor\nJoão;1,5\nMaria;2,5\n".encode("latin-1"), check=_brazilian),
        Case(
            "latin1-said-utf8.csv",
            "nome;valor\nJoão;1,5\n".encode("latin-1"),
            frozenset({"encoding_error"}),
            options={"encoding": "utf-8"},
        ),
        Case("nul-bytes.csv", b"a,b\n1,\x002\n\x00\x00,3\n4,5\n", frozenset({"parse_error"}), _nul),
        Case("bom-crlf.csv", b"\xef\xbb\xbfa;b\r\n1;2\r\n3;4\r\n", check=_bom_crlf),
        Case("empty.csv", b"", frozenset({"empty_file"})),
        Case("blank.csv", b"  \n\n \t\n", frozenset({"empty_file"})),
        Case("header-only.csv", b"a,b\n", check=_rows(0)),
        Case("one-10mb-line.csv", b"x" * (10 << 20), frozenset({"parse_error", "file_too_large"})),
        Case(
            "100k-columns.csv",
            (",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n").encode(),
            frozenset({"too_many_columns"}),
        ),
        Case(
            "duplicate-and-empty-headers.csv", b"a,a,,b,\n1,2,3,4,5\n6,7,8,9,10\n", check=_duplicate_headers
        ),
        Case("zeros-bomb.csv.gz", zeros * 1024, frozenset({"parse_error", "file_too_large"})),
        Case(
            "rows-bomb.csv.gz",
            _gzip_member(b"a,b,c\n") + rows * ROWS_BOMB_MEMBERS,
            frozenset({"timeout", "file_too_large", "out_of_memory"}),
            _rows(ROWS_BOMB * ROWS_BOMB_MEMBERS),
        ),
        Case("truncated.json", b'[{"a": 1, "b": "x"}, {"a": 2, "b": ', frozenset({"parse_error"})),
        Case("scalar.json", b"42", frozenset({"parse_error"})),
        Case("deep.json", b"[" * 100_000 + b"]" * 100_000, frozenset({"parse_error"})),
        Case("deep.jsonl", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", frozenset({"parse_error"})),
        Case("truncated.parquet", parquet[: len(parquet) // 2], frozenset({"parse_error"})),
        Case("garbage.parquet", b"PAR1" + garbage[:5000] + b"PAR1", frozenset({"parse_error"})),
        Case("truncated.xlsx", xlsx[: len(xlsx) // 2], frozenset({"parse_error"})),
        Case(
            "broken-sheet.xlsx",
            _with_sheet(xlsx, lambda s: s.replace(b"</sheetData>", b"<row><c><v>1</v></c></sheetData>")),
            frozenset({"parse_error"}),
        ),
        Case(
            "zip-without-workbook.xlsx",
            _zip_of("hello.txt", b"hi"),
            frozenset({"parse_error", "unsupported_format"}),
        ),
        Case(
            "zip-of-garbage.zip",
            _zip_of("data.csv", garbage),
            frozenset({"parse_error", "encoding_error"}),
            _anything,
        ),
    ]
