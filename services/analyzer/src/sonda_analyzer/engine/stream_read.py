"""Chunked reading for streaming mode: a typed sample first, then batches with those types.

pyarrow's streaming readers infer types from their first block only, so a value that does not fit
later (a decimal in an integer column, a word in a date column) stops the read. The types are
therefore fixed from a sample up front, and a conflict found later widens that column
(:class:`TypeConflict`) and restarts the pass.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from sonda_analyzer.engine.errors import ParseError, TooManyColumnsError
from sonda_analyzer.engine.load import ReadInfo, read_info
from sonda_analyzer.engine.normalize import normalize_table
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.read_csv import (
    CsvPieces,
    CsvState,
    NoPieces,
    _clean,
    _options,
    csv_dialect,
    iter_csv_batches,
    pieces_stream,
)
from sonda_analyzer.engine.read_json import iter_jsonl_batches
from sonda_analyzer.engine.source import CountingReader, Source
from sonda_analyzer.engine.stream_memory import READ_AHEAD, stream_memory
from sonda_analyzer.engine.strings import encode
from sonda_analyzer.engine.text_formats import TextFormat, converts, detect, reported

#: Arrow's streaming reader leaves the row out of the message; its whole-file reader gives it.
_CSV_COLUMN = re.compile(r"CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+)")
_JSON_COLUMN = re.compile(r"Column\(/([^/)]+)[^)]*\) changed from (\w+) to (\w+)")


class FormatFound(Exception):
    """A column empty in the first chunk turned out to hold dates, amounts or yes/no: the plan
    now says so, and the pass restarts to read the column that way from the start."""


class LongLine(Exception):
    """A line longer than the parse block: the pass restarts parsing whole chunks at a time."""


class TypeConflict(Exception):
    """A later chunk holds a value the column's type cannot; restart with ``new_type``."""

    def __init__(self, column: str, new_type: pa.DataType) -> None:
        super().__init__(f"column {column!r} needs {new_type}")
        self.column = column
        self.new_type = new_type


Opened = tuple[Iterator[pa.RecordBatch], CountingReader | CsvPieces | None]


@dataclass(slots=True)
class StreamPlan:
    info: ReadInfo
    #: The first rows, normalised: the types every batch is read with, and the sample rows.
    sample: pa.Table
    types: dict[str, pa.DataType]
    #: Text columns of delimited files every sampled value of which fits a format (numbers in
    #: the file's locale, amounts, dates, yes/no): each chunk is parsed with it.
    text_formats: dict[str, TextFormat] = field(default_factory=dict)
    #: Text columns that stay text but where a share of the values fits a format (reported).
    candidates: dict[str, TextFormat] = field(default_factory=dict)
    #: Columns without a value in the first chunk: their format is decided on their first values.
    undecided: set[str] = field(default_factory=set)
    #: Opens a pass over the file with the given types: its batches and its byte counter.
    open_batches: Callable[[dict[str, pa.DataType]], Opened] = lambda _: (iter(()), None)
    #: Delimited text: counts the malformed lines skipped while reading.
    csv_state: CsvState | None = None
    #: Parquet: rows in the file, for progress (the other formats report bytes).
    total_rows: int | None = None
    #: Bytes of content per chunk (CSV/JSON Lines readers).
    block_bytes: int = 1 << 20


#: Content Arrow's CSV reader parses at a time; a chunk joins as many parsed blocks as it holds.
#: Arrow parses 2M rows in 1.6 s (2.5 s CPU) with 2 MB blocks against 3.2 s (4.4 s CPU) with 30 MB
#: ones: small blocks stay in cache and their buffers are reused instead of mapped afresh.
PARSE_BLOCK = 2 << 20


def _types_of(sample: pa.Table) -> dict[str, pa.DataType]:
    # A column without a value in the sample may hold anything later: read it as text.
    return {f.name: (pa.string() if pa.types.is_null(f.type) else f.type) for f in sample.schema}


def _cut_lines(head: bytes) -> bytes:
    end = head.rfind(b"\n")
    return head[: end + 1] if end >= 0 else head


def plan_stream(source: Source, options: ProfileOptions, budget_bytes: int) -> StreamPlan:
    fmt = source.format
    block = stream_memory(budget_bytes).block_bytes
    info = read_info(source)
    if fmt in ("csv", "tsv"):
        return _plan_csv(source, options, info, block)
    if fmt == "jsonl":
        return _plan_jsonl(source, info, block, options)
    if fmt == "parquet":
        return _plan_parquet(source, info, block, options)
    raise ParseError(f"{fmt} files are not read in chunks")  # planning never sends them here


def _plan_csv(source: Source, options: ProfileOptions, info: ReadInfo, block: int) -> StreamPlan:
    dialect = csv_dialect(source, options)
    parse_block = min(block, PARSE_BLOCK)
    # A chunk is a whole number of parse blocks, so that chunks times the chunk size is the
    # content profiled, which holds the reader's read-ahead to its window.
    block -= block % parse_block
    state = CsvState(dialect=dialect, block_size=parse_block, skip_malformed=True)
    head = _cut_lines(source.head(min(block, 16 << 20)))
    read, parse, convert = _options(state, None)
    read.block_size = block  # the head in one block, so its types come from all of it
    try:
        raw = pacsv.read_csv(io.BytesIO(head), read, parse, convert)
    except pa.ArrowInvalid as exc:
        raise ParseError(f"the file is not valid delimited text: {_clean(exc)}") from None
    sample = normalize_table(raw)
    info.encoding, info.delimiter, info.quotechar = (
        dialect.encoding, dialect.delimiter, dialect.quotechar,
    )  # fmt: skip
    info.decimal, info.header = dialect.decimal, dialect.header
    formats, candidates = _text_formats(sample, dialect.decimal, options, info.text_kinds)

    def open_batches(types: dict[str, pa.DataType]) -> Opened:
        state.malformed_rows = 0
        if pieces_stream(source, state, block):
            pieces = CsvPieces(source, state, types, block, READ_AHEAD)
            return _csv_batches(state, pieces.batches(), types, block), pieces
        reader = source.open()
        per_chunk = block // state.block_size
        batches = iter_csv_batches(source, state, reader, types)
        return _gathered(_csv_batches(state, batches, types, block), per_chunk), reader

    plan = StreamPlan(
        info=info,
        sample=sample,
        types=_types_of(raw),
        text_formats=formats,
        candidates=candidates,
        csv_state=state,
        block_bytes=block,
    )
    plan.open_batches = open_batches
    plan.undecided = _undecided(plan.sample, options, info)
    return plan


def _text_formats(
    sample: pa.Table, decimal: str, options: ProfileOptions, kinds: frozenset[str]
) -> tuple[dict[str, TextFormat], dict[str, TextFormat]]:
    """Per text column of the sample: the format to parse it with, or the one to report."""
    formats: dict[str, TextFormat] = {}
    candidates: dict[str, TextFormat] = {}
    for f in sample.schema:
        if not pa.types.is_string(f.type) or f.name in options.column_types:
            continue
        encoded = encode(sample.column(f.name))
        detected = detect(encoded.values, encoded.counts, decimal, kinds)
        if converts(detected):
            assert detected is not None
            formats[f.name] = detected.format
        elif (partial := reported(detected, options.thresholds)) is not None:
            candidates[f.name] = partial.format
    return formats, candidates


def _undecided(sample: pa.Table, options: ProfileOptions, info: ReadInfo) -> set[str]:
    if not info.text_kinds:
        return set()
    return {
        name
        for name in sample.column_names
        if sample.column(name).null_count == sample.num_rows and name not in options.column_types
    }


def decide_late(table: pa.Table, plan: StreamPlan, options: ProfileOptions, skip: set[str]) -> None:
    """Decide the format of columns that were empty in the first chunk, on their first values.

    Raises:
        FormatFound: one of them holds values of a format; the pass must restart.
    """
    for name in sorted(plan.undecided):
        if name in skip or name not in table.column_names:
            continue
        column = table.column(name)
        if column.null_count == len(column) or not pa.types.is_string(column.type):
            continue
        plan.undecided.discard(name)
        encoded = encode(column)
        detected = detect(encoded.values, encoded.counts, plan.info.decimal or ".", plan.info.text_kinds)
        if converts(detected):
            assert detected is not None
            plan.text_formats[name] = detected.format
            raise FormatFound(name)
        if (partial := reported(detected, options.thresholds)) is not None:
            plan.candidates[name] = partial.format
            raise FormatFound(name)


def _csv_batches(
    state: CsvState, batches: Iterator[pa.RecordBatch], types: dict[str, pa.DataType], block: int
) -> Iterator[pa.RecordBatch]:
    names = state.dialect.names
    try:
        yield from batches
    except NoPieces:
        state.pieces = False  # the one-stream reader takes the file from the start
        raise LongLine() from None
    except pa.ArrowInvalid as exc:
        if "straddl" in str(exc) and state.block_size < block:
            # a line longer than a parse block; one longer than a chunk fails below, as before
            state.block_size = block
            raise LongLine() from None
        match = _CSV_COLUMN.search(str(exc))
        if match is None:
            raise ParseError(f"the file is not valid delimited text: {_clean(exc)}") from None
        name = names[int(match.group(1))]
        old = types.get(name, pa.string())
        widened = pa.float64() if pa.types.is_integer(old) else pa.string()
        raise TypeConflict(name, widened) from None


def _gathered(batches: Iterator[pa.RecordBatch], per_chunk: int) -> Iterator[pa.RecordBatch]:
    """Parsed blocks joined ``per_chunk`` at a time: the profile's steps per chunk cost the same
    whatever its size, so it takes big chunks while Arrow parses small blocks."""
    group: list[pa.RecordBatch] = []
    for batch in batches:
        group.append(batch)
        if len(group) == per_chunk:
            yield _joined(group)
            group = []
    if group:
        yield _joined(group)


def _joined(group: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(group) == 1:
        return group[0]
    columns = [pa.concat_arrays([b.column(i) for b in group]) for i in range(group[0].num_columns)]
    return pa.RecordBatch.from_arrays(columns, schema=group[0].schema)


def _plan_jsonl(source: Source, info: ReadInfo, block: int, options: ProfileOptions) -> StreamPlan:
    head = _cut_lines(source.head(min(block, 16 << 20)))
    try:
        raw = pajson.read_json(io.BytesIO(head))
    except pa.ArrowInvalid as exc:
        raise ParseError(f"the start of the file is not JSON Lines Sonda can read in chunks: {exc}") from None
    types = _types_of(raw)

    def open_batches(given: dict[str, pa.DataType]) -> Opened:
        reader = source.open()
        schema = pa.schema([pa.field(n, t) for n, t in given.items()])
        return _json_batches(reader, schema, block), reader

    sample = normalize_table(raw)
    formats, candidates = _text_formats(sample, ".", options, info.text_kinds)
    plan = StreamPlan(
        info=info, sample=sample, types=types, block_bytes=block, text_formats=formats, candidates=candidates
    )
    plan.open_batches = open_batches
    plan.undecided = _undecided(plan.sample, options, info)
    return plan


def _json_batches(reader: CountingReader, schema: pa.Schema, block: int) -> Iterator[pa.RecordBatch]:
    try:
        yield from iter_jsonl_batches(reader, schema, block)
    except pa.ArrowInvalid as exc:
        match = _JSON_COLUMN.search(str(exc))
        if match is None:
            raise ParseError(f"the file is not valid JSON Lines: {exc}") from None
        name = match.group(1)
        old = schema.field(name).type if name in schema.names else pa.string()
        to_number = match.group(2) == "number" and match.group(3) == "number"
        widened = pa.float64() if pa.types.is_integer(old) and to_number else pa.string()
        raise TypeConflict(name, widened) from None


def _plan_parquet(source: Source, info: ReadInfo, block: int, options: ProfileOptions) -> StreamPlan:
    if source.compression is not None:
        raise ParseError("a compressed Parquet file this large is not supported; upload it as is")
    import pyarrow.parquet as pq  # only for Parquet files (about 9 MB of libraries)

    try:
        parquet = pq.ParquetFile(source.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ParseError(f"the Parquet file cannot be read: {exc}") from None
    meta = parquet.metadata
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    rows_per_batch = max(1024, int(block / max(1.0, total / max(1, meta.num_rows))))
    first = next(parquet.iter_batches(batch_size=min(rows_per_batch, 10_000)), None)
    sample = pa.Table.from_batches([first]) if first is not None else parquet.schema_arrow.empty_table()

    def open_batches(_: dict[str, pa.DataType]) -> Opened:
        return parquet.iter_batches(batch_size=rows_per_batch), None

    normalized = normalize_table(sample)
    formats, candidates = _text_formats(normalized, ".", options, info.text_kinds)
    plan = StreamPlan(
        info=info,
        sample=normalized,
        types=_types_of(sample),
        total_rows=meta.num_rows,
        text_formats=formats,
        candidates=candidates,
    )
    plan.open_batches = open_batches
    plan.undecided = _undecided(plan.sample, options, info)
    return plan


def check_width(plan: StreamPlan, options: ProfileOptions) -> None:
    if plan.sample.num_columns > options.max_columns:
        raise TooManyColumnsError(
            f"the file has {plan.sample.num_columns} columns; at most {options.max_columns} can be profiled"
        )
