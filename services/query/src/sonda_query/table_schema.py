"""The inferred schema as a Frictionless Tabular Data Resource: a Table Schema (fields with their
type and format, ``missingValues``) and a CSV dialect, so a downstream tool re-reads the file with
the same values Sonda profiled.

Built from the stored result only (columns' ``type``, ``dtype``, ``parsing`` and the dataset's
reading facts). The spellings of missing, yes and no come from :mod:`sonda_events.spellings`, the
list the analyzer reads with. Field names are the result's column names (empty or repeated
headers were renamed ``column_<n>``, ``name.1``), so a reader names the columns from the schema
rather than from the header line.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import msgspec
from sonda_events.spellings import (
    FALSE_VALUES,
    NULL_VALUES,
    TRUE_VALUES,
    YES_NO_GROUPS,
    fold,
    written_forms,
)


class _Parsing(msgspec.Struct, kw_only=True):
    kind: str
    format: str
    stripped: list[str] = msgspec.field(default_factory=list)


class _Column(msgspec.Struct, kw_only=True):
    name: str
    type: str
    dtype: str = ""
    semantic: list[str] = msgspec.field(default_factory=list)
    parsing: _Parsing | None = None


class _Dataset(msgspec.Struct, kw_only=True):
    format: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    decimal: str | None = None
    header: bool | None = None
    compression: str | None = None


class _Result(msgspec.Struct, kw_only=True):
    """The part of a profile result (docs/result-schema.md) the schema needs."""

    dataset: _Dataset
    columns: list[_Column]


class SondaNotes(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What Frictionless cannot say: symbols stripped around numbers (``()`` means an accounting
    negative, ``(12,50)`` is -12.5)."""

    stripped: list[str] = msgspec.field(default_factory=list)


class SchemaField(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    #: Frictionless type: integer, number, boolean, date, datetime, string, any.
    type: str
    #: "default" (ISO 8601 for dates), "any", or a strptime pattern ("%d/%m/%Y").
    format: str = "default"
    decimal_char: str | None = msgspec.field(default=None, name="decimalChar")
    group_char: str | None = msgspec.field(default=None, name="groupChar")
    #: False: currency symbols and "%" around the number are stripped (Frictionless' rule).
    bare_number: bool = msgspec.field(default=True, name="bareNumber")
    true_values: list[str] | None = msgspec.field(default=None, name="trueValues")
    false_values: list[str] | None = msgspec.field(default=None, name="falseValues")
    sonda: SondaNotes | None = None


class TableSchema(msgspec.Struct, kw_only=True):
    fields: list[SchemaField]
    missing_values: list[str] = msgspec.field(name="missingValues")


class CsvDialect(msgspec.Struct, kw_only=True):
    delimiter: str
    quote_char: str = msgspec.field(name="quoteChar")
    double_quote: bool = msgspec.field(default=True, name="doubleQuote")
    header: bool = True


class SchemaView(msgspec.Struct, kw_only=True):
    """A Frictionless Tabular Data Resource (v1) for the analysed file."""

    analysis_id: str
    profile: str = "tabular-data-resource"
    name: str
    path: str
    format: str
    mediatype: str | None
    encoding: str | None
    compression: str | None = None
    #: Delimited text only.
    dialect: CsvDialect | None
    schema: TableSchema


_MEDIATYPES = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/json",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _number(column: _Column, decimal: str) -> SchemaField:
    parsing = column.parsing
    if parsing is not None and parsing.kind == "number":
        # "#.##0,##": the group mark is the second character, the decimal mark the third last.
        text = parsing.format
        stripped = parsing.stripped
        return SchemaField(
            name=column.name,
            type="number",
            decimal_char=text[-3],
            group_char=text[1],
            bare_number=not stripped,
            sonda=SondaNotes(stripped=stripped) if stripped else None,
        )
    integer = column.dtype.startswith(("int", "uint"))
    return SchemaField(
        name=column.name, type="integer" if integer else "number", decimal_char=None if integer else decimal
    )


def _yes_no(spellings: str) -> tuple[list[str], list[str]]:
    """Every form of the group whose words the format ("Sim/Não") was written in."""
    yes, _, no = spellings.partition("/")
    for trues, falses in YES_NO_GROUPS:
        if fold(yes) in {fold(w) for w in trues} and fold(no) in {fold(w) for w in falses}:
            return written_forms(trues), written_forms(falses)
    return [yes], [no]


def _field(column: _Column, decimal: str) -> SchemaField:
    parsing = column.parsing
    if column.type in ("numeric", "identifier") and column.dtype.startswith(
        ("int", "uint", "double", "float")
    ):
        return _number(column, decimal)
    if column.type == "datetime":
        date_only = column.dtype.startswith("date") or "date" in column.semantic
        if parsing is not None and parsing.kind == "datetime":
            return SchemaField(
                name=column.name, type="date" if date_only else "datetime", format=parsing.format
            )
        # The readers took ISO 8601: plain dates ("default"), times in any of its variants.
        if date_only:
            return SchemaField(name=column.name, type="date")
        return SchemaField(name=column.name, type="datetime", format="any")
    if column.type == "boolean":
        if parsing is not None and parsing.kind == "boolean":
            trues, falses = _yes_no(parsing.format)
        else:
            trues, falses = list(TRUE_VALUES), list(FALSE_VALUES)
        return SchemaField(name=column.name, type="boolean", true_values=trues, false_values=falses)
    return SchemaField(name=column.name, type="any" if column.type == "empty" else "string")


def _resource_name(filename: str | None, file_key: str) -> str:
    stem = PurePosixPath(filename or file_key).name.split(".")[0]
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-") or "data"


def table_schema(result: bytes, *, analysis_id: str, filename: str | None, file_key: str) -> SchemaView:
    """The resource for a stored result.

    Raises:
        msgspec.ValidationError, msgspec.DecodeError: the object is not a profile result.
    """
    decoded = msgspec.json.decode(result, type=_Result)
    dataset = decoded.dataset
    decimal = dataset.decimal or "."
    delimited = dataset.format in ("csv", "tsv") and dataset.delimiter is not None
    dialect = None
    if delimited:
        assert dataset.delimiter is not None
        dialect = CsvDialect(
            delimiter=dataset.delimiter,
            quote_char=dataset.quotechar or '"',
            header=dataset.header if dataset.header is not None else True,
        )
    return SchemaView(
        analysis_id=analysis_id,
        name=_resource_name(filename, file_key),
        path=file_key,
        format=dataset.format,
        mediatype=_MEDIATYPES.get(dataset.format),
        encoding=dataset.encoding,
        compression=dataset.compression,
        dialect=dialect,
        schema=TableSchema(
            fields=[_field(c, decimal) for c in decoded.columns],
            missing_values=list(NULL_VALUES) if delimited else [""],
        ),
    )
