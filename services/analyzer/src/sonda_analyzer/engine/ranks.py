"""Average ranks over any subset of a column's rows, from one sort of the column (Spearman)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sonda_analyzer.engine.floats import Floats

#: Values that are whole multiples of a step (1, 0.1 or 0.01) spanning fewer steps than this
#: are ordered by radix: numpy's stable sort of uint8/uint16 keys is a counting sort (an age,
#: a count, a price in cents or a temperature in tenths of a degree, 1M rows: 7-10 ms, against
#: 60-90 ms for the comparison sort of the same values as floats).
RADIX_SPAN = 1 << 16
_STEPS_PER_UNIT = (1, 10, 100)
#: Values looked at before the whole column is: most columns of fractions fail on them at once.
_FIRST_LOOK = 1_000


#: Values converted at a time: a block's temporaries stay on the heap (see ``allocator``), where
#: whole-column ones took 16-24 MB beside every numeric column being profiled.
_BLOCK = 1 << 16


def _step_keys(
    values: Floats, lo: float, per_unit: int, kind: type[np.unsignedinteger[Any]]
) -> np.ndarray | None:
    """Each value's number of steps of ``1 / per_unit`` above ``lo``, when every value is a whole
    number of steps: ``k / per_unit`` then rounds to exactly the value, as parsing its decimal
    text does, so the steps order the values exactly as the values themselves."""
    base = round(lo * per_unit)
    head = values[:_FIRST_LOOK]
    if not np.array_equal(np.round(head * per_unit) / per_unit, head):
        return None
    keys = np.empty(len(values), dtype=kind)
    for start in range(0, len(values), _BLOCK):
        part = values[start : start + _BLOCK]
        steps = np.round(part * per_unit)
        if not np.array_equal(steps / per_unit, part):
            return None
        steps -= base
        keys[start : start + _BLOCK] = steps
    return keys


def radix_keys(values: Floats) -> np.ndarray | None:
    """uint8/uint16 keys that order ``values`` (finite, no NaN) exactly as the values, when they
    are whole multiples of a step of 1, 0.1 or 0.01 within ``RADIX_SPAN`` steps; else None."""
    if len(values) < 2:
        return None
    lo, hi = float(values.min()), float(values.max())
    for per_unit in _STEPS_PER_UNIT:
        if (hi - lo) * per_unit >= RADIX_SPAN - 1:
            return None
        keys = _step_keys(values, lo, per_unit, np.uint8 if (hi - lo) * per_unit < 255 else np.uint16)
        if keys is not None:
            return keys
    return None


#: Row positions, int32 or int64.
_Rows = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]


def value_order(values: Floats) -> np.ndarray:
    """The positions of ``values`` (finite, no NaN) in ascending order; ties in any order."""
    keys = radix_keys(values)
    order: np.ndarray = np.argsort(
        values if keys is None else keys, kind="quicksort" if keys is None else "stable"
    )
    return order


class RankBasis:
    """One column sorted once; average ranks over any subset of its rows then cost O(n).

    A pair of columns needs ranks among the rows both have values in. Instead of sorting again
    for every pair, the subset's ranks come from the full order: a cumulative count of kept rows
    gives each tie group its new first rank.
    """

    def __init__(self, order: np.ndarray, starts: np.ndarray | None, sizes: np.ndarray | None) -> None:
        self.order = order  # row indices of the present values, sorted by value
        self.starts = starts  # first sorted position of each group of equal values (None: no ties)
        self.sizes = sizes  # length of each group

    @classmethod
    def of(cls, x: Floats, present: np.ndarray | None = None) -> RankBasis:
        """``x`` (NaN = missing) sorted; ``present``: its mask of present values, when known."""
        return cls.sorting(x, ~np.isnan(x) if present is None else present)[0]

    @classmethod
    def sorting(cls, x: Floats, present: np.ndarray) -> tuple[RankBasis, Floats]:
        """The basis of the values of ``x`` where ``present``, and those values sorted: one sort
        serves a numeric column's order statistics and its Spearman ranks."""
        # Every numeric column of the table keeps one until the pairs are done: row indices as
        # int32 where they fit, and no groups at all for a column without ties (most measures).
        index = np.int32 if len(x) < 2**31 else np.int64
        # The sorted values are read from ``x`` by the narrow sorted rows (np.take reads by int32
        # rows as fast as by intp ones), once the wide order and the gathered values are gone:
        # 8 MB less held at once per 1M rows.
        sorted_rows: _Rows
        if present.all():  # most columns: the order is the rows' order, no indirection
            sorted_rows = value_order(np.ascontiguousarray(x)).astype(index)
        else:
            rows: _Rows = np.flatnonzero(present).astype(index)
            order = value_order(np.take(x, rows))
            sorted_rows = rows[order]
            del order, rows
        ordered = np.take(x, sorted_rows)
        differs = ordered[1:] != ordered[:-1]
        present_count = len(ordered)
        groups = int(np.count_nonzero(differs)) + 1 if present_count else 0
        if groups >= present_count:
            return cls(sorted_rows, None, None), ordered
        starts = np.empty(groups, dtype=index)
        starts[0] = 0
        starts[1:] = np.flatnonzero(differs) + 1
        sizes = np.diff(starts, append=index(present_count))
        return cls(sorted_rows, starts, sizes), ordered

    def doubled_ranks(self, keep: Subset | None, out: np.ndarray) -> None:
        """Writes into ``out``, at each row of ``keep`` (every row when None: the column then has
        no gap), twice its average rank among those rows minus ``n + 1``, and 0 at the other rows.

        The mean of average ranks among ``n`` values is (n + 1) / 2 whatever the ties, so these
        are the ranks centred, as the pair sums below want them, and doubled they are integers
        (a tie group's average is a half at worst): exact in an int32 buffer half the size of a
        float one. The rows outside ``keep`` add nothing to the sums, so the ranks stay at their
        rows (looking up each kept row's place among the kept ones cost a random pass per column).
        """
        if keep is None:
            kept_rows, kept, n = self.order, None, len(self.order)
        else:
            kept = np.take(keep.mask, self.order)
            kept_rows, n = self.order[kept], keep.size
            out[:] = 0
        if self.starts is None or self.sizes is None:  # no ties: a rank is a position
            doubled = np.arange(1 - n, n + 1, 2, dtype=out.dtype)
        else:
            if kept is None:
                before, in_group = self.starts, self.sizes
            else:
                cumulative = np.cumsum(kept, dtype=self.order.dtype)
                before = np.where(self.starts > 0, cumulative[self.starts - 1], 0)
                in_group = cumulative[self.starts + self.sizes - 1] - before
                del cumulative
            # 2 x (before + (in_group + 1) / 2) - (n + 1): per tie group, in int64; per row, in
            # the buffer's width (which holds -n..n)
            average = (2 * before.astype(np.int64) + in_group - n).astype(out.dtype)
            doubled = np.repeat(average, self.sizes)
            if kept is not None:
                doubled = doubled[kept]
        # numpy scatters by an intp index in less than half the time it takes by an int32 one
        # (1.6 ms against 3.5 ms for 1M rows, the conversion included)
        out[kept_rows.astype(np.intp)] = doubled


class Subset:
    """Rows a group of pairs is complete on: the mask and its size."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.size = int(np.count_nonzero(mask))
