"""numpy views of Arrow arrays that never import pandas.

pyarrow's ``to_numpy`` goes through its pandas shim, which imports pandas (about a second on a
cold start); these helpers read the Arrow buffers directly instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_DTYPES: dict[pa.DataType, np.dtype] = {
    pa.int8(): np.dtype(np.int8),
    pa.int16(): np.dtype(np.int16),
    pa.int32(): np.dtype(np.int32),
    pa.int64(): np.dtype(np.int64),
    pa.uint8(): np.dtype(np.uint8),
    pa.uint16(): np.dtype(np.uint16),
    pa.uint32(): np.dtype(np.uint32),
    pa.uint64(): np.dtype(np.uint64),
    pa.float32(): np.dtype(np.float32),
    pa.float64(): np.dtype(np.float64),
}


def single(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (chunks concatenated only when there are several)."""
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 1:
            return arr.chunk(0)
        if arr.num_chunks == 0:
            return pa.nulls(0, arr.type)
        return arr.combine_chunks()
    return arr


def take_sorted(arr: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """The values at the ascending positions ``rows``, taken chunk by chunk: Arrow's ``take``
    over many chunks joins them first (on the 1M-row file, a copy of the whole column to pick a
    few hundred rows)."""
    if not isinstance(arr, pa.ChunkedArray):
        return arr.take(index_array(rows))
    if arr.num_chunks == 0:
        return pa.nulls(0, arr.type)
    starts = np.cumsum([0, *(len(c) for c in arr.chunks)], dtype=np.int64)
    # The rows ascend: each chunk's are one run of them, found by bisection (on the 1M-row file a
    # mask of all the rows per chunk took 250 passes over 20,000 rows).
    bounds = np.searchsorted(rows, starts).tolist()
    parts = [
        arr.chunk(k).take(index_array(rows[lo:hi] - starts[k]))
        for k, (lo, hi) in enumerate(itertools.pairwise(bounds))
        if hi > lo
    ]
    return pa.concat_arrays(parts) if parts else pa.nulls(0, arr.type)


def string_offsets(values: pa.Array) -> np.ndarray:
    """A numpy view of a string array's int32 offsets: ``len(values) + 1`` positions in its data
    buffer, the array's own offset applied (a slice reads the same bytes as its parent)."""
    buffer = values.buffers()[1]
    assert buffer is not None
    offsets: np.ndarray = np.frombuffer(
        buffer, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    return offsets


#: Bytes looked at first for one of a non-ASCII character: text with accents (names, addresses,
#: most Brazilian text) shows one early, and goes to Arrow's count at once.
_ASCII_LOOK = 1 << 16


def char_lengths(values: pa.Array) -> np.ndarray:
    """The characters of each string of a string array (as Arrow's ``utf8_length``, int32 for a
    ``string`` array). Text without nulls and all of ASCII, told from one pass over its bytes,
    has a character per byte: its lengths are the differences of its offsets, where Arrow's count
    of each string's UTF-8 characters took 23 ms for 1M UUIDs against 4.5 ms (12 against 3 ms
    for 1M e-mail addresses). Any other array is Arrow's to count."""
    if pa.types.is_string(values.type) and len(values) and not values.null_count:
        data = values.buffers()[2]
        offsets = string_offsets(values)
        first, end = int(offsets[0]), int(offsets[-1])
        if data is None or end == first:
            return np.zeros(len(values), dtype=np.int32)
        text = np.frombuffer(data, dtype=np.uint8, count=end - first, offset=first)
        if int(text[:_ASCII_LOOK].max()) < 0x80 and int(text.max()) < 0x80:
            return np.diff(offsets)
    return primitive(pc.utf8_length(values))


def spread_rows(rows: int, size: int) -> np.ndarray:
    """Up to ``size`` row positions evenly spread over ``rows`` rows, ascending, first and last
    included."""
    return distinct_ascending(np.linspace(0, max(rows - 1, 0), min(rows, size)).astype(np.int64))


def distinct_ascending(values: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending integer array, in order, as ``np.unique`` gives them
    (not for floats: NaNs would each stay).

    numpy 2.3's ``np.unique`` of integers, asked for no counts or positions, puts them in a hash
    table rather than sorting them, and a large table is slow: 1M distinct int64 in 0.8 s
    against 12 ms sorted (20,000 row positions: 14 ms). This and :func:`distinct` sort instead.
    """
    if len(values) < 2:
        return values.copy()
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    kept: np.ndarray = values[keep]
    return kept


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a one-dimensional integer array, by sorting (see
    :func:`distinct_ascending`)."""
    return distinct_ascending(np.sort(values))


#: The ASCII bytes that are white space, as Arrow's UTF-8 functions and Python's ``isspace`` see it.
ASCII_SPACE = np.array([chr(b).isspace() for b in range(256)], dtype=bool)


def trim_whitespace(values: pa.Array) -> pa.Array:
    """``pc.utf8_trim_whitespace(values)``, or ``values`` itself (no copy) when no value can
    begin or end with white space: its first and last bytes are neither ASCII blanks nor part
    of a longer character (which might be a blank such as U+00A0). Trimming copies every value:
    for 1M UUIDs 28 ms, where looking at the bytes takes about 3 ms."""
    offsets_buffer, data = values.buffers()[1], values.buffers()[2]
    if not pa.types.is_string(values.type) or offsets_buffer is None or data is None or len(values) == 0:
        return pc.utf8_trim_whitespace(values)
    offsets = string_offsets(values)
    filled = np.diff(offsets) > 0
    bytes_ = np.frombuffer(data, dtype=np.uint8)
    ends = np.concatenate((bytes_[offsets[:-1][filled]], bytes_[offsets[1:][filled] - 1]))
    if ends.size and (int(ends.max()) >= 0x80 or bool(ASCII_SPACE[ends].any())):
        return pc.utf8_trim_whitespace(values)
    return values


def primitive(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy view of a null-free fixed-width array (numbers, timestamps, dates, booleans)."""
    arr = single(arr)
    t = arr.type
    if pa.types.is_boolean(t):
        return primitive(pc.cast(arr, pa.uint8())).astype(bool)
    dtype: np.dtype[np.generic]
    if pa.types.is_timestamp(t) or pa.types.is_date64(t) or pa.types.is_duration(t):
        dtype = np.dtype(np.int64)
    elif pa.types.is_date32(t):
        dtype = np.dtype(np.int32)
    else:
        dtype = _DTYPES[t]
    buffer = arr.buffers()[1]
    if buffer is None or len(arr) == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(buffer, dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def valid_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """True where a value is present; None when nothing is missing.

    A chunked column is read chunk by chunk: joining its chunks first copied all its data (a
    column of text too) for the sake of its validity bits.
    """
    if arr.null_count == 0:
        return None
    if isinstance(arr, pa.ChunkedArray):
        joined: np.ndarray = np.concatenate([_present(c) for c in arr.chunks])
        return joined
    return _present(arr)


def _present(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    if pa.types.is_null(arr.type):
        return np.zeros(len(arr), dtype=bool)
    bitmap = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    bits = np.unpackbits(bitmap, bitorder="little", count=arr.offset + len(arr))
    return bits[arr.offset :].astype(bool)


def bool_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as numpy bools (nulls as False)."""
    arr = single(arr)
    values = primitive(arr)
    valid = valid_mask(arr)
    return values & valid if valid is not None else values


def floats(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """float64 values with NaN for missing ones."""
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks > 1:
        # chunk by chunk into one array: joining the chunks first made a second copy
        out = np.empty(len(arr))
        at = 0
        for chunk in arr.chunks:
            out[at : at + len(chunk)] = floats(chunk)
            at += len(chunk)
        return out
    arr = single(arr)
    if arr.type != pa.float64():
        # Integers beyond 2**53 lose their last digits as floats, which statistics can bear.
        arr = pc.cast(arr, pa.float64(), safe=False)
    values = primitive(arr)
    valid = valid_mask(arr)
    if valid is None:
        return values
    out = values.copy()
    out[~valid] = np.nan
    return out


def ints(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """int64 values (timestamps as their count of units); missing ones as 0."""
    arr = single(arr)
    if pa.types.is_date32(arr.type):
        values = primitive(arr).astype(np.int64)
    else:
        if arr.type != pa.int64() and not pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.int64())
        values = primitive(arr)
    valid = valid_mask(arr)
    if valid is None:
        return values
    out = values.copy()
    out[~valid] = 0
    return out


def index_array(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """An Arrow int64 array over numpy indices, for ``take`` (null where ``missing``, so ``take``
    gives null there)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    validity = None
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(missing, dtype=bool), bitorder="little"))
    return pa.Array.from_buffers(pa.int64(), len(data), [validity, pa.py_buffer(data)])


def number_array(values: np.ndarray) -> pa.Array:
    """An Arrow array over a numpy array of numbers (no nulls), without a copy or the pandas
    import (see :func:`string_array`)."""
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), len(data), [None, pa.py_buffer(data)])


def bool_array(values: np.ndarray) -> pa.Array:
    """An Arrow boolean array from numpy bools, for ``filter``."""
    packed = np.packbits(np.ascontiguousarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])


def string_array(texts: Sequence[str]) -> pa.Array:
    """An Arrow string array of Python strings. ``pa.array`` and ``pa.scalar`` (and pyarrow's
    implicit conversion of a Python value passed to a compute function) ask its pandas shim first,
    which imports pandas: a third of a second and 50 MB in a fresh analysis process that otherwise
    never needs it. These builders go through the buffers instead."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = b"".join(encoded)
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def string_scalar(text: str) -> pa.Scalar:
    """An Arrow string scalar, without the pandas import (see :func:`string_array`)."""
    return string_array([text])[0]


def bool_scalar(value: bool) -> pa.Scalar:
    """An Arrow boolean scalar, without the pandas import (see :func:`string_array`)."""
    return bool_array(np.array([value]))[0]


def int_scalar(value: int) -> pa.Scalar:
    """An Arrow int64 scalar, without the pandas import (see :func:`string_array`)."""
    return index_array(np.array([value]))[0]


def null_scalar(type_: pa.DataType) -> pa.Scalar:
    """A null Arrow scalar of ``type_``, without the pandas import (see :func:`string_array`)."""
    return pa.nulls(1, type_)[0]


def filled_codes(indices: pa.Array, fill: int, kind: type[np.signedinteger[Any]] = np.int64) -> np.ndarray:
    """Dictionary indices as ``kind`` (which holds them and ``fill``), ``fill`` where missing."""
    codes = primitive(indices).astype(kind)
    valid = valid_mask(indices)
    return codes if valid is None else np.where(valid, codes, kind(fill))
