"""Read a whole file into one Arrow table (the exact mode) and say what was detected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from sonda_analyzer.engine.errors import ParseError, TooManyColumnsError
from sonda_analyzer.engine.normalize import normalize_table
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.progress import ProgressReporter
from sonda_analyzer.engine.read_csv import (
    CsvState,
    csv_dialect,
    read_csv_pieces,
    read_csv_table,
    reread_encoding,
)
from sonda_analyzer.engine.read_excel import read_excel
from sonda_analyzer.engine.read_json import read_json_array, read_jsonl
from sonda_analyzer.engine.source import CountingReader, Readable, Source


@dataclass(slots=True)
class ReadInfo:
    """What reading detected (or was told), reported in ``dataset``."""

    format: str
    compression: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    decimal: str | None = None
    header: bool | None = None
    sheet: str | None = None
    malformed_rows: int = 0
    truncated: bool = False
    mixed: set[str] = field(default_factory=set)

    @property
    def text_kinds(self) -> frozenset[str]:
        """What text columns are read as when every value says so (``text_formats``).

        Delimited text holds nothing but text, so numbers, dates and yes/no written in it are
        read; the other formats type their values, but JSON and spreadsheets have no date type
        and Parquet files are often converted from CSV, so their text dates are read too. A table
        handed over in memory keeps its strings.
        """
        if self.format in ("csv", "tsv"):
            return frozenset({"number", "datetime", "boolean"})
        if self.format in ("json", "jsonl", "parquet", "xlsx"):
            return frozenset({"datetime"})
        return frozenset()


def read_info(source: Source) -> ReadInfo:
    return ReadInfo(format=source.format, compression=source.compression)


def load_table(
    source: Source,
    options: ProfileOptions,
    budget_bytes: int,
    reporter: ProgressReporter,
    *,
    content_limit: int | None = None,
) -> tuple[pa.Table, ReadInfo]:
    """The whole table; ``content_limit`` bounds the decompressed bytes read (see ``Source.open``)."""
    info = read_info(source)
    fmt = source.format
    if fmt in ("csv", "tsv"):
        table = _load_csv(source, options, info, reporter, content_limit)
    elif fmt == "xlsx":
        table, info.mixed, info.sheet = read_excel(source, options.sheet, options.header_row, budget_bytes)
    else:
        reader = source.open(content_limit)
        reporter.bytes_source = reader.position
        if fmt == "json":
            table, info.mixed = read_json_array(source, reader, budget_bytes)
        elif fmt == "jsonl":
            table, info.mixed = read_jsonl(source, reader)
        else:
            table = _load_parquet(source, reader)
    reporter.bytes_source = None
    if fmt in ("json", "jsonl", "parquet", "xlsx") and table.num_columns > options.max_columns:
        raise TooManyColumnsError(
            f"the file has {table.num_columns} columns; at most {options.max_columns} can be profiled"
        )
    table = normalize_table(table, text_dictionaries=True)
    # The parser's scratch blocks stay in the allocator's cache; hand them back before profiling
    # (mimalloc and the system allocator do; with jemalloc, as the profiling process runs it,
    # this build's purge leaves them and its 0.1 s decay hands them back).
    pa.default_memory_pool().release_unused()
    if options.max_rows is not None and table.num_rows > options.max_rows:
        table = table.slice(0, options.max_rows)
        info.truncated = True
    return table, info


def _load_csv(
    source: Source,
    options: ProfileOptions,
    info: ReadInfo,
    reporter: ProgressReporter,
    content_limit: int | None,
) -> pa.Table:
    def opener() -> Readable:
        stream, position = source.open_fast(content_limit)
        reporter.bytes_source = position
        return stream

    def counting(position: Callable[[], int]) -> None:
        reporter.bytes_source = position

    dialect = csv_dialect(source, options)
    state = CsvState(dialect=dialect, text_dictionaries=True)
    table = None
    if source.compression is None:
        table = read_csv_pieces(state, source.path, source.file_size, counting)
    if table is None:
        table = read_csv_table(state, opener)
    binary = [f.name for f in table.schema if _bytes(f.type)]
    if binary and options.encoding is None and dialect.encoding.startswith("utf-8"):
        # The first megabyte was UTF-8 but later bytes are not: a Western file after all.
        column = table.column(binary[0])
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        sample = b"".join(v for v in column.drop_null().to_pylist()[:1000] if v)
        state = CsvState(dialect=reread_encoding(dialect, sample), text_dictionaries=True)
        table = read_csv_table(state, opener)
    d = state.dialect
    info.encoding, info.delimiter, info.quotechar = d.encoding, d.delimiter, d.quotechar
    info.decimal, info.header, info.malformed_rows = d.decimal, d.header, state.malformed_rows
    return table


def _bytes(t: pa.DataType) -> bool:
    """Binary values (text that is not UTF-8), plain or as a dictionary's values."""
    return bool(pa.types.is_binary(t) or (pa.types.is_dictionary(t) and pa.types.is_binary(t.value_type)))


def _load_parquet(source: Source, reader: CountingReader) -> pa.Table:
    # Imported here: Parquet's libraries take about 9 MB of memory in every profiling process.
    import pyarrow.parquet as pq

    try:
        if source.compression is None:
            reader.close()
            return pq.read_table(source.path)
        with reader:
            data = reader.read()
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ParseError(f"the Parquet file cannot be read: {exc}") from None
