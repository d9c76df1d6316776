"""What profiling one column leaves behind for the table-wide steps (duplicates, correlations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sonda_analyzer.engine.result import ColumnProfile

if TYPE_CHECKING:
    from sonda_analyzer.engine.ranks import RankBasis

#: Dense codes or row positions: int64, or int32 where a column keeps them narrow.
Codes = npt.NDArray[np.signedinteger[Any]]


@dataclass(slots=True)
class ColumnWork:
    profile: ColumnProfile
    #: float64 values, NaN where missing or infinite (numeric columns in the correlations).
    values: npt.NDArray[np.float64] | None = None
    #: Dense codes 0..k-1 of the values, missing rows as k; returned with k + 1. Lazy: computed only
    #: when duplicates or associations need it.
    codes: Callable[[], tuple[Codes, int]] | None = None
    #: Codes for Cramér's V / correlation ratio (categorical and boolean columns only).
    categorical: bool = False
    #: The values at the given row positions, from what the profile keeps (the column itself is
    #: freed): the duplicate rows listed show them. Missing rows are null.
    take: Callable[[Codes], pa.Array] | None = None
    #: The values sorted for Spearman, when that was started as soon as the column was profiled
    #: (waits for it to end).
    ranks: Callable[[], RankBasis] | None = None


def narrowest(cardinality: int) -> type[np.signedinteger[Any]]:
    """The narrowest signed integers that hold codes 0..cardinality-1."""
    for kind in (np.int8, np.int16, np.int32):
        if cardinality <= np.iinfo(kind).max + 1:
            return kind
    return np.int64


def narrow(codes: npt.NDArray[np.integer[Any]], cardinality: int) -> Codes:
    """``codes`` (0..cardinality-1) in the narrowest signed integers that hold them: a category
    column's codes are kept until the associations are done, and as int8 they take an eighth of
    the memory (on the 1M-row file, six such columns held 24 MB as int32)."""
    out: Codes = codes.astype(narrowest(cardinality), copy=False)
    return out


def masked(values: npt.NDArray[np.generic], missing: npt.NDArray[np.bool_], kind: pa.DataType) -> pa.Array:
    """An Arrow array of ``values`` with nulls where ``missing``, cast to ``kind``."""
    data = np.ascontiguousarray(values)
    # From the buffers: ``pa.array`` of numpy values imports pandas (see ``arrays.string_array``).
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    array = pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), len(data), [validity, pa.py_buffer(data)])
    return array if array.type == kind else array.cast(kind)


def dense_codes(values: npt.NDArray[np.generic], missing: npt.NDArray[np.bool_] | None) -> tuple[Codes, int]:
    """Codes of ``values`` (sorting once), with missing rows in their own last code."""
    n = len(values)
    if missing is not None and missing.any():
        present = np.flatnonzero(~missing)
        sub = values[present]
        order = np.argsort(sub, kind="quicksort")
        ordered = sub[order]
        step = np.empty(len(ordered), dtype=np.int64)
        if len(ordered):
            step[0] = 0
            np.cumsum(ordered[1:] != ordered[:-1], out=step[1:])
        k = int(step[-1]) + 1 if len(ordered) else 0
        codes = np.full(n, k, dtype=np.int64)
        codes[present[order]] = step
        return codes, k + 1
    order = np.argsort(values, kind="quicksort")
    ordered = values[order]
    step = np.empty(n, dtype=np.int64)
    if n:
        step[0] = 0
        np.cumsum(ordered[1:] != ordered[:-1], out=step[1:])
    codes = np.empty(n, dtype=np.int64)
    codes[order] = step
    return codes, (int(step[-1]) + 1 if n else 0) + 1
