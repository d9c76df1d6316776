"""Tables from Python values (JSON arrays, Excel rows) that tolerate columns of mixed types.

pyarrow refuses a column holding, say, numbers and words; a person's file often does. Such a column
becomes text (each value written as it would be shown) and is marked ``mixed_types``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.sniff import unique_names

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$")


def iso_timestamps(arr: pa.Array) -> pa.Array:
    """Text that is all ISO 8601 dates/times (no offset) as timestamps, as pyarrow's JSON Lines
    reader does; anything else unchanged."""
    if not pa.types.is_string(arr.type) or arr.null_count == len(arr):
        return arr
    values = [v for v in arr.to_pylist() if v is not None]
    if not all(_ISO.match(v) for v in values):
        return arr
    unit = "us" if any("." in v for v in values) else "s"
    try:
        return pc.cast(arr, pa.timestamp(unit))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return arr


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def build_column(values: list[Any]) -> tuple[pa.Array, bool]:
    """An Arrow array of ``values`` and whether its types were mixed (then it holds text)."""
    kinds = {type(v) for v in values if v is not None}
    if bool in kinds and kinds & {int, float}:
        return pa.array([_as_text(v) for v in values], type=pa.string()), True
    if kinds & {dict, list}:
        mixed = bool(kinds - {dict, list})
        return pa.array([_as_text(v) for v in values], type=pa.string()), mixed
    if dt.time in kinds and len(kinds) == 1:
        return pa.array([_as_text(v) for v in values], type=pa.string()), False
    try:
        return pa.array(values), False
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        texts = [_as_text(v) for v in values]
        numeric = kinds <= {int, float}
        # Ints beyond 64 bits overflow Arrow: as floats they keep their magnitude, not their digits.
        if numeric:
            return pa.array([None if v is None else float(v) for v in values]), False
        return pa.array(texts, type=pa.string()), True


def table_from_columns(
    names: Sequence[Any], columns: list[list[Any]], *, iso_dates: bool = False
) -> tuple[pa.Table, set[str]]:
    """A table from column-wise values; returns the names of columns whose types were mixed.

    ``iso_dates``: JSON has no date type, so ISO 8601 text becomes timestamps (JSON input only).
    """
    clean = unique_names(["" if n is None else str(n) for n in names])
    arrays: list[pa.Array] = []
    mixed: set[str] = set()
    for name, values in zip(clean, columns, strict=True):
        array, was_mixed = build_column(values)
        if iso_dates and not was_mixed:
            array = iso_timestamps(array)
        arrays.append(array)
        if was_mixed:
            mixed.add(name)
    return pa.Table.from_arrays(arrays, names=clean), mixed


def table_from_records(records: list[Any]) -> tuple[pa.Table, set[str]]:
    """A table from a list of JSON objects (keys in order of first appearance)."""
    keys: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            keys.update(dict.fromkeys(record))
    names = list(keys)
    columns = [[r.get(k) if isinstance(r, dict) else None for r in records] for k in names]
    return table_from_columns(names, columns, iso_dates=True)
