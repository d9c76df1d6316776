"""JSON (an array of records) and JSON Lines (one record per line)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from sonda_analyzer.engine.errors import FileTooLargeError, ParseError
from sonda_analyzer.engine.records import table_from_columns, table_from_records
from sonda_analyzer.engine.source import CountingReader, Source

#: Python objects take many times the bytes of their JSON text.
JSON_MEMORY_FACTOR = 12
NESTED_TOO_DEEPLY = "the JSON is nested too deeply to be a table of records"
#: Deeper text is not handed to Arrow's JSON parser (it crashes somewhere past 10,000 levels).
MAX_ARROW_NESTING = 256
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def read_json_array(source: Source, reader: CountingReader, budget_bytes: int) -> tuple[pa.Table, set[str]]:
    if source.content_size * JSON_MEMORY_FACTOR > budget_bytes:
        raise FileTooLargeError(
            "the JSON array is too large to profile within the memory budget; "
            "write it as JSON Lines (one record per line), which Sonda reads in chunks"
        )
    with reader:
        data = reader.read()
    try:
        parsed: Any = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ParseError(f"the file is not valid JSON: {exc}") from None
    except RecursionError:  # msgspec's own guard against hostile nesting ([[[[...]]]])
        raise ParseError(NESTED_TOO_DEEPLY) from None
    if isinstance(parsed, dict):
        # {"data": [...]}: a wrapper object with one list of records inside
        lists = [v for v in parsed.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ParseError("the JSON file must hold an array of records (objects)")
        parsed = lists[0]
    if not isinstance(parsed, list):
        raise ParseError("the JSON file must hold an array of records (objects)")
    if parsed and all(isinstance(r, list) for r in parsed):
        # An array of arrays: the first one names the columns when it is all text.
        first = parsed[0]
        header = all(isinstance(v, str) for v in first)
        body = parsed[1:] if header else parsed
        width = max(len(r) for r in parsed)
        names = list(first) + [""] * (width - len(first)) if header else [""] * width
        columns = [[r[j] if j < len(r) else None for r in body] for j in range(width)]
        return table_from_columns(names, columns, iso_dates=True)
    if parsed and not all(isinstance(r, dict) for r in parsed):
        raise ParseError("the JSON array must hold records (objects), one per row")
    return table_from_records(parsed)


def read_jsonl(source: Source, reader: CountingReader) -> tuple[pa.Table, set[str]]:
    """pyarrow's parser first (fast, threaded); a tolerant line-by-line decode if types conflict.

    Arrow's parser recurses once per nesting level and overflows its stack on hostile input
    (``{"a": [[[[...]]]]}``), killing the whole process; deeply nested text goes to msgspec,
    which refuses it with a clean error.
    """
    with reader:
        data = reader.read()
    if max_nesting(data) <= MAX_ARROW_NESTING:
        try:
            return pajson.read_json(pa.BufferReader(data)), set()
        except pa.ArrowInvalid:
            pass
    return table_from_records(_decode_lines(data))


def max_nesting(data: bytes, chunk: int = 1 << 22) -> int:
    """Deepest bracket nesting (brackets inside strings count too: an upper bound)."""
    deepest = depth = 0
    for start in range(0, len(data), chunk):
        codes = np.frombuffer(data, dtype=np.uint8, count=min(chunk, len(data) - start), offset=start)
        steps = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE).astype(np.int64)
        levels = depth + np.cumsum(steps)
        if len(levels):
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
    return deepest


def _decode_lines(data: bytes) -> list[Any]:
    decoder = msgspec.json.Decoder()
    records: list[Any] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(decoder.decode(line))
        except msgspec.DecodeError as exc:
            raise ParseError(f"line {number} is not valid JSON: {exc}") from None
        except RecursionError:
            raise ParseError(f"line {number}: {NESTED_TOO_DEEPLY}") from None
    return records


def iter_jsonl_batches(
    reader: CountingReader, explicit: pa.Schema | None, block_size: int
) -> Iterator[pa.RecordBatch]:
    parse = pajson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer")
    try:
        stream = pajson.open_json(
            reader, read_options=pajson.ReadOptions(block_size=block_size), parse_options=parse
        )
        yield from stream
    finally:
        reader.close()
