"""Datetime columns: range, inferred frequency and a histogram over time (ISO 8601 out)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import distinct_ascending, ints, single, valid_mask
from sonda_analyzer.engine.floats import histogram_counts, histogram_edges, pct
from sonda_analyzer.engine.result import ColumnProfile, DatetimeStats, TimeHistogram
from sonda_analyzer.engine.work import ColumnWork, dense_codes, masked

_SECONDS = {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
#: pandas.infer_freq looks at this many distinct instants (it is exact on regular series only).
_FREQ_SAMPLE = 2_000


def as_timestamps(arr: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, bool]:
    """A timestamp array (dates become midnight), and whether the column held dates only."""
    arr = single(arr)
    if pa.types.is_date(arr.type):
        return pc.cast(arr, pa.timestamp("s")), True
    return arr, False


def iso(value: int, unit: str, *, date_only: bool, tz: str | None) -> str:
    stamp = np.array([int(value)], dtype=f"datetime64[{unit}]")
    if date_only:
        return str(np.datetime_as_string(stamp, unit="D")[0])
    text = str(np.datetime_as_string(stamp)[0])
    return text + "+00:00" if tz else text


_NANOS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: Offset aliases as pandas writes them for a fixed step, largest unit first.
_ALIASES = (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
            ("ms", 10**6), ("us", 10**3), ("ns", 1))  # fmt: skip
_DAY = 86_400 * 10**9


def step_alias(step_nanos: int) -> str:
    """A fixed step as a pandas offset alias: "D", "h", "15min", "7D"."""
    for alias, size in _ALIASES:
        if step_nanos % size == 0:
            n = step_nanos // size
            return alias if n == 1 else f"{n}{alias}"
    return f"{step_nanos}ns"


def frequency(sorted_values: np.ndarray, unit: str) -> str | None:
    """The series' frequency as a pandas offset alias ("D", "h", "MS"), or None when irregular.

    ``sorted_values``: the instants in ascending order, repeats allowed. The steps between
    distinct instants are the non-zero differences of consecutive ones, so the distinct instants
    are never gathered (for 1M instants that and ``np.unique`` of the steps held four 8 MB arrays
    at once beside the column's own, the peak of its profile).
    """
    steps = _steps(sorted_values)
    if len(steps) < 2:  # fewer than three distinct instants
        return None
    steps.sort()
    starts = np.flatnonzero(np.concatenate(([True], steps[1:] != steps[:-1])))
    counts = np.diff(np.append(starts, len(steps)))
    best = int(np.argmax(counts))  # the commonest step; among ties the smallest
    share = counts[best] / len(steps)
    step = int(steps[starts[best]]) * _NANOS[unit]
    del steps, starts
    if share >= 0.9:
        return step_alias(step)
    if any(lo * _DAY <= step <= hi * _DAY for lo, hi in ((28, 31), (89, 92), (365, 366))):
        # Calendar steps (months, quarters, years) vary in length: pandas knows their names.
        import pandas as pd

        head = pd.DatetimeIndex(_first_distinct(sorted_values, _FREQ_SAMPLE).astype(f"datetime64[{unit}]"))
        try:
            inferred = pd.infer_freq(head)
        except (TypeError, ValueError):
            inferred = None
        if inferred is not None:
            return str(inferred)
    return step_alias(step) if share >= 0.5 else None


#: Instants differenced at a time by :func:`_steps`.
_STEP_BLOCK = 1 << 16


def _steps(sorted_values: np.ndarray) -> np.ndarray:
    """The non-zero differences of consecutive ``sorted_values``, a block at a time: a column's
    whole difference took 8 MB per 1M instants even where only a few are distinct."""
    parts = []
    for start in range(0, max(0, len(sorted_values) - 1), _STEP_BLOCK):
        diff = np.diff(sorted_values[start : start + _STEP_BLOCK + 1])
        parts.append(diff[diff != 0])
    steps: np.ndarray = np.concatenate(parts) if parts else np.zeros(0, dtype=sorted_values.dtype)
    return steps


def _first_distinct(sorted_values: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` smallest distinct values of ascending ``sorted_values``, from the shortest prefix
    that holds them (found by quadrupling)."""
    size = n
    while True:
        head = distinct_ascending(sorted_values[:size])
        if len(head) >= n or size >= len(sorted_values):
            return head[:n]
        size *= 4


def profile_datetime(name: str, arr: pa.ChunkedArray, rows: int, bins: int) -> ColumnWork:
    stamps, date_only = as_timestamps(arr)
    unit = stamps.type.unit
    tz = stamps.type.tz
    valid = valid_mask(stamps)
    values = ints(stamps)
    missing_mask = ~valid if valid is not None else np.zeros(len(values), dtype=bool)
    present = values[valid] if valid is not None else values
    count = len(present)
    hints = ["date"] if date_only else []
    stats: DatetimeStats | None = None
    distinct = 0
    if count:
        s = np.sort(present)
        distinct = int(np.count_nonzero(s[1:] != s[:-1])) + 1
        lo, hi = int(s[0]), int(s[-1])
        edges = histogram_edges(float(lo), float(hi), max(1, min(bins, distinct)))
        counts = histogram_counts(s.astype(np.float64), edges)
        stats = DatetimeStats(
            min=iso(lo, unit, date_only=date_only, tz=tz),
            max=iso(hi, unit, date_only=date_only, tz=tz),
            range_seconds=(hi - lo) * _SECONDS[unit],
            frequency=frequency(s, unit),
            histogram=TimeHistogram(
                edges=[iso(round(e), unit, date_only=False, tz=tz) for e in edges], counts=counts
            ),
        )
    profile = ColumnProfile(
        name=name,
        type="datetime",
        dtype=str(arr.type),
        semantic=hints,
        count=count,
        missing=rows - count,
        missing_pct=pct(rows - count, rows),
        distinct=distinct,
        distinct_pct=pct(distinct, count),
        unique=count > 0 and distinct == count,
        memory_bytes=int(arr.nbytes),
        approximate=False,
        datetime=stats,
    )

    def take(rows: np.ndarray) -> pa.Array:
        instants = masked(values[rows], missing_mask[rows], stamps.type)
        return instants.cast(pa.date32()) if date_only else instants

    return ColumnWork(
        profile=profile,
        codes=lambda: dense_codes(values, missing_mask if valid is not None else None),
        take=take,
    )
