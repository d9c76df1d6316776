"""Column types forced by the options (``column_types``): values that do not fit become missing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sonda_events.spellings import FALSE_VALUES, TRUE_VALUES, fold

from sonda_analyzer.engine.options import ColumnTypeName
from sonda_analyzer.engine.patterns import FLOAT
from sonda_analyzer.engine.result import ColumnType
from sonda_analyzer.engine.text_booleans import GROUPS
from sonda_analyzer.engine.text_booleans import fold as fold_values
from sonda_analyzer.engine.text_formats import dates_written
from sonda_analyzer.engine.text_numbers import parse_numbers

#: Any yes or no the reader or the text columns know, compared without case or accents.
_TRUE = sorted({fold(v) for v in TRUE_VALUES} | {w for yes, _ in GROUPS for w in yes})
_FALSE = sorted({fold(v) for v in FALSE_VALUES} | {w for _, no in GROUPS for w in no})


def _combined(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _strings_to_numbers(arr: pa.Array, decimal: str) -> pa.Array:
    encoded = pc.dictionary_encode(arr)
    values = encoded.dictionary
    # Numbers as people write them in the file's locale ("1.234,56", "R$ 10,00", "12,5%"), and
    # plain ones in another notation ("1e5", ".5").
    written = pc.cast(parse_numbers(values, decimal), pa.float64())
    plain = pc.and_(pc.is_null(written), pc.match_substring_regex(values, FLOAT))
    other = pc.cast(pc.if_else(plain, pc.utf8_trim_whitespace(values), None), pa.float64())
    numbers = pc.coalesce(written, other)
    return numbers.take(encoded.indices)


def _strings_to_datetimes(arr: pa.Array, decimal: str) -> pa.Array:
    import pandas as pd  # only this rare path needs it; importing it costs a second of start-up

    encoded = pc.dictionary_encode(arr)
    values = encoded.dictionary
    # The format most values are written in (18/03/2023, 2012/01/01) reads them exactly; pandas
    # takes the rest, day first where decimal commas are written (25/12/2024).
    parsed = pd.to_datetime(values.to_pandas(), errors="coerce", dayfirst=decimal == ",", format="mixed")
    stamps = pa.array(parsed.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"))
    written = dates_written(values)
    if written is not None:
        stamps = pc.coalesce(pc.cast(written, pa.timestamp("ns")), stamps)
    return stamps.take(encoded.indices)


def _numbers_to_datetimes(arr: pa.Array) -> pa.Array:
    seconds = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    finite = seconds[np.isfinite(seconds)]
    # Epoch seconds up to the year 5000, else milliseconds.
    scale = 1e9 if (len(finite) == 0 or np.abs(finite).max() < 1e11) else 1e6
    nanos = np.where(np.isfinite(seconds), seconds * scale, np.nan)
    mask = np.isnan(nanos)
    return pa.array(np.nan_to_num(nanos).astype(np.int64), type=pa.timestamp("ns"), mask=mask)


def coerce(
    arr: pa.Array | pa.ChunkedArray, target: ColumnTypeName, decimal: str
) -> tuple[pa.Array, ColumnType | None, int]:
    """The column in ``target``'s storage type; the profile type it must keep (or None to infer);
    and how many values did not fit and became missing."""
    a = _combined(arr)
    before = len(a) - a.null_count
    t = a.type
    forced: ColumnType | None = None
    if target in ("numeric", "integer", "float"):
        if pa.types.is_string(t):
            a = _strings_to_numbers(a, decimal)
        elif pa.types.is_boolean(t) or pa.types.is_timestamp(t) or pa.types.is_date(t):
            a = pc.cast(pc.cast(a, pa.int64()), pa.float64())
        if target == "integer" and not pa.types.is_integer(a.type):
            rounded = pc.round(a)
            if bool(pc.all(pc.equal(pc.fill_null(rounded, 0), pc.fill_null(a, 0))).as_py()):
                a = pc.cast(a, pa.int64())
        elif target == "float":
            a = pc.cast(a, pa.float64())
        forced = "numeric"
    elif target == "boolean":
        if pa.types.is_string(t):
            folded = fold_values(a)
            yes = pc.is_in(folded, pa.array(_TRUE))
            no = pc.is_in(folded, pa.array(_FALSE))
            a = pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            a = pc.not_equal(a, 0)
    elif target == "datetime":
        if pa.types.is_string(t):
            a = _strings_to_datetimes(a, decimal)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            a = _numbers_to_datetimes(a)
    else:
        if not pa.types.is_string(t):
            a = _to_text(a)
        forced = "text" if target == "text" else "identifier" if target == "identifier" else "categorical"
    return a, forced, before - (len(a) - a.null_count)


def _to_text(a: pa.Array) -> pa.Array:
    if pa.types.is_floating(a.type):
        # 3.0 → "3": an identifier read as float keeps the digits a person typed.
        whole = pc.equal(pc.floor(a), a)
        ints = pc.cast(pc.if_else(whole, a, 0), pa.int64(), safe=False)
        return pc.if_else(whole, pc.cast(ints, pa.string()), pc.cast(a, pa.string()))
    return pc.cast(a, pa.string())
