"""Arrow types the profilers do not handle, turned into ones they do, and names made unique.

Every reader's table passes through here (every batch, when streaming), so a Parquet file with
dictionaries, decimals, nested structs or lists looks like any other table to the statistics.
"""

from __future__ import annotations

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.sniff import unique_names


def _json_text(arr: pa.Array) -> pa.Array:
    encode = msgspec.json.encode
    return pa.array([None if v is None else encode(v).decode() for v in arr.to_pylist()], type=pa.string())


def _binary_text(arr: pa.Array) -> pa.Array:
    try:
        return pc.cast(arr, pa.string())
    except pa.ArrowInvalid:  # not UTF-8: show the bytes as hex, which at least counts and compares
        return pa.array([None if v is None else v.hex() for v in arr.to_pylist()], type=pa.string())


def normalize_array(
    arr: pa.Array | pa.ChunkedArray, *, text_dictionaries: bool = False
) -> pa.Array | pa.ChunkedArray:
    """One column in a profilable type: numbers, bool, timestamp/date, string, or null; with
    ``text_dictionaries``, a dictionary of strings too (the exact profile encodes text columns
    as dictionaries, so it takes one as it is)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        if text_dictionaries and pa.types.is_string(t.value_type):
            return arr
        return normalize_array(pc.cast(arr, t.value_type))
    if pa.types.is_decimal(t) or pa.types.is_float16(t):
        return pc.cast(arr, pa.float64())
    if pa.types.is_time(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_duration(t):
        return pc.cast(pc.cast(arr, pa.int64()), pa.float64())
    if pa.types.is_timestamp(t) and t.tz is not None and t.tz.upper() not in ("UTC", "Z", "+00:00"):
        return pc.cast(arr, pa.timestamp(t.unit, "UTC"))
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        if isinstance(arr, pa.ChunkedArray):
            return pa.chunked_array([_binary_text(c) for c in arr.chunks], type=pa.string())
        return _binary_text(arr)
    if pa.types.is_nested(t) or pa.types.is_union(t):
        if isinstance(arr, pa.ChunkedArray):
            return pa.chunked_array([_json_text(c) for c in arr.chunks], type=pa.string())
        return _json_text(arr)
    return arr


def normalize_table(table: pa.Table | pa.RecordBatch, *, text_dictionaries: bool = False) -> pa.Table:
    """Flatten structs into "parent.child" columns, normalise types, make names unique
    (``text_dictionaries``: see :func:`normalize_array`)."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = unique_names([str(n) for n in table.column_names])
    columns = [
        normalize_array(table.column(i), text_dictionaries=text_dictionaries)
        for i in range(table.num_columns)
    ]
    return pa.Table.from_arrays(columns, names=names)
