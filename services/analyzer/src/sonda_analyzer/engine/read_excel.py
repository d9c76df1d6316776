"""Excel workbooks (.xlsx) through openpyxl's read-only mode, one sheet at a time."""

from __future__ import annotations

import zipfile
import zlib
from typing import Any

import pyarrow as pa

from sonda_analyzer.engine.errors import FileTooLargeError, ParseError, SheetNotFoundError
from sonda_analyzer.engine.records import table_from_columns
from sonda_analyzer.engine.source import Source

#: An .xlsx is zipped XML; its cells as Python objects take many times the file's size.
EXCEL_MEMORY_FACTOR = 40


def read_excel(
    source: Source, sheet: str | int | None, header_row: int | str, budget_bytes: int
) -> tuple[pa.Table, set[str], str]:
    """The chosen sheet as a table; returns the sheet's name too.

    ``header_row`` as in the options: a 0-based row index, "auto" or "none".
    """
    import openpyxl  # imported here: only Excel files pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    if source.compression is not None:
        raise ParseError("a compressed .xlsx file is not supported; upload the workbook itself")
    if source.file_size * EXCEL_MEMORY_FACTOR > budget_bytes:
        raise FileTooLargeError(
            "the workbook is too large to profile within the memory budget; "
            "save the sheet as CSV, which Sonda reads in chunks"
        )
    try:
        book = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ParseError(f"the Excel workbook cannot be opened: {exc}") from None
    try:
        names = book.sheetnames
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int):
            if sheet >= len(names):
                raise SheetNotFoundError(
                    f"sheet {sheet} does not exist; the workbook has {len(names)} sheet(s): "
                    + ", ".join(names)
                )
            chosen = names[sheet]
        elif sheet in names:
            chosen = sheet
        else:
            raise SheetNotFoundError(f"sheet {sheet!r} does not exist; the workbook has: " + ", ".join(names))
        try:
            rows = [list(r) for r in book[chosen].iter_rows(values_only=True)]
        except (SyntaxError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError) as exc:
            # The sheet's XML is read lazily: a damaged or forged member fails only here
            # (xml.etree's ParseError is a SyntaxError).
            raise ParseError(f"the Excel sheet {chosen!r} is damaged: {exc}") from None
    finally:
        book.close()
    if isinstance(header_row, int):
        rows = rows[header_row:]
    rows = _trim(rows)
    if not rows:
        return pa.table({}), set(), chosen
    width = max(len(r) for r in rows)
    first = rows[0]
    auto = header_row == "auto"
    use_header = _looks_like_header(first, rows[1:]) if auto else header_row != "none"
    names_row: list[Any] = list(first) if use_header else []
    body = rows[1:] if use_header else rows
    names_row = names_row + [None] * (width - len(names_row))
    columns = [[r[j] if j < len(r) else None for r in body] for j in range(width)]
    table, mixed = table_from_columns(names_row, columns)
    return table, mixed, chosen


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop fully empty rows at the end and empty columns at the right (formatting leftovers)."""
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = 0
    for r in rows:
        for j in range(len(r) - 1, -1, -1):
            if r[j] is not None:
                width = max(width, j + 1)
                break
    return [r[:width] for r in rows]


def _looks_like_header(first: list[Any], rest: list[list[Any]]) -> bool:
    if not rest:
        return all(isinstance(v, str) or v is None for v in first)
    if not all(isinstance(v, str) or v is None for v in first):
        return False
    # All text on top: a header unless every column below is text as well and repeats it.
    below = {v for r in rest[:50] for v in r if isinstance(v, str)}
    return not any(v in below for v in first if v)
