"""Average ranks over any subset of a column's rows, from one sort of the column, or from the
count of each of its values where they are whole steps in a narrow span (Spearman)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sonda_analyzer.engine.floats import Floats

#: Values that are whole multiples of a step (1, 0.1 or 0.01) spanning fewer steps than this
#: are counted per uint8/uint16 key instead of sorted (an age, a count, a price in cents or a
#: temperature in tenths of a degree: see :meth:`RankBasis.counting`; the comparison sort of the
#: same values as floats takes 20-90 ms per 1M rows).
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


class Steps(NamedTuple):
    """Values as whole steps: value ``i`` is exactly ``(keys[i] + base) / per_unit``."""

    keys: np.ndarray  # uint8 or uint16, 0 for the smallest value
    base: int
    per_unit: int

    def values_of_keys(self, size: int) -> Floats:
        """The value of each key ``0..size-1`` (the same floats the values are)."""
        out: Floats = (np.arange(size, dtype=np.float64) + self.base) / self.per_unit
        return out


def radix_steps(values: Floats) -> Steps | None:
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
            return Steps(keys, round(lo * per_unit), per_unit)
    return None


def ascending(values: Floats) -> bool:
    """Whether ``values`` (no NaN) never decrease: told from the first ``_FIRST_LOOK`` of them
    alone for most columns, which are not in order."""
    head = values[: _FIRST_LOOK + 1]
    if not bool((head[1:] >= head[:-1]).all()):
        return False
    for start in range(_FIRST_LOOK, len(values) - 1, _BLOCK):
        part = values[start : start + _BLOCK + 1]
        if not bool((part[1:] >= part[:-1]).all()):
            return False
    return True


#: Row positions, int32 or int64.
_Rows = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]


class RankBasis:
    """One column sorted once; average ranks over any subset of its rows then cost O(n).

    A pair of columns needs ranks among the rows both have values in. Instead of sorting again
    for every pair, the subset's ranks come from the full order: a cumulative count of kept rows
    gives each tie group its new first rank.

    A column whose values are whole steps in a narrow span (see :func:`radix_steps`) is not
    sorted at all: its rows' keys and the count of each key give the sorted values and every
    rank (see :meth:`counting`).
    """

    def __init__(
        self,
        order: np.ndarray | None,
        starts: np.ndarray | None,
        sizes: np.ndarray | None,
        counted: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.order = order  # row indices of the present values, sorted by value
        self.starts = starts  # first sorted position of each group of equal values (None: no ties)
        self.sizes = sizes  # length of each group
        #: Instead of an order: each row's key (any key at a row without a value) and the number
        #: of present values with each key.
        self.counted = counted

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
        complete = bool(present.all())
        rows: _Rows | None = None if complete else np.flatnonzero(present).astype(index)
        values = np.ascontiguousarray(x) if rows is None else np.take(x, rows)
        steps = radix_steps(values)
        if steps is not None:
            return cls.counting(steps, values, len(x), rows)
        sorted_rows: _Rows
        if ascending(values):
            # A column already in order (a row number, an id, a series' times) is its own sort,
            # with equal values in row order as a stable sort leaves them: no order to find and
            # no gathered copy (16 MB fewer per 1M rows, made while the whole table is held; the
            # 1M-row benchmark file's ids in 7.6 ms against 14.4 ms).
            sorted_rows = np.arange(len(x), dtype=index) if rows is None else rows
            ordered = values
        else:
            order = np.argsort(values, kind="quicksort")
            del values
            # The sorted values are read from ``x`` by the narrow sorted rows (np.take reads by
            # int32 rows as fast as by intp ones), once the wide order and the gathered values
            # are gone: 8 MB less held at once per 1M rows.
            sorted_rows = order.astype(index) if rows is None else rows[order]
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

    @classmethod
    def counting(
        cls, steps: Steps, values: Floats, rows: int, at: np.ndarray | None
    ) -> tuple[RankBasis, Floats]:
        """The basis and the sorted values of ``values``, given as ``steps``, at the rows ``at``
        of ``rows`` (None: every row), without sorting: the count of each key says how many
        times its value comes in the sorted values, and where its tie group starts in them. A
        counting sort of the keys and a gather of the values by it took 13-17 ms per 1M rows (an
        age, a price in cents); this takes 2-3 ms, and each row's key is held (1-2 MB) instead of
        its sorted position (4 MB)."""
        counts = np.bincount(steps.keys)
        ordered = np.repeat(steps.values_of_keys(len(counts)), counts)
        zero = -steps.base  # the key of 0.0, where the values hold zeros
        if 0 <= zero < len(counts) and counts[zero]:
            # A key gives 0.0 back for -0.0 too: the zeros are the values' own, in row order, as
            # a stable sort leaves equal values.
            end = int(counts[: zero + 1].sum())
            ordered[end - int(counts[zero]) : end] = values[values == 0.0]
        keys = steps.keys
        if at is not None:
            keys = np.zeros(rows, dtype=steps.keys.dtype)
            keys[at] = steps.keys
        return cls(None, None, None, counted=(keys, counts)), ordered

    def doubled_ranks(self, keep: Subset | None, out: np.ndarray) -> None:
        """Writes into ``out``, at each row of ``keep`` (every row when None: the column then has
        no gap), twice its average rank among those rows minus ``n + 1``, and 0 at the other rows.

        The mean of average ranks among ``n`` values is (n + 1) / 2 whatever the ties, so these
        are the ranks centred, as the pair sums below want them, and doubled they are integers
        (a tie group's average is a half at worst): exact in an int32 buffer half the size of a
        float one. The rows outside ``keep`` add nothing to the sums, so the ranks stay at their
        rows (looking up each kept row's place among the kept ones cost a random pass per column).
        """
        if self.counted is not None:
            self._counted_ranks(keep, out)
            return
        assert self.order is not None
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

    def _counted_ranks(self, keep: Subset | None, out: np.ndarray) -> None:
        """:meth:`doubled_ranks` from the keys: a tie group is a key, its size the key's count
        among the kept rows, and each row's rank is read from its key's (a table of at most
        65,536 entries) in row order, where the sorted path scatters by a random order."""
        assert self.counted is not None
        keys, counts = self.counted
        if keep is None:
            n = len(keys)
        else:  # the kept rows all have values (the subset is where this column has them too)
            counts = np.bincount(keys[keep.mask], minlength=len(counts))
            n = keep.size
        before = np.cumsum(counts) - counts
        average = (2 * before + counts - n).astype(out.dtype)
        np.take(average, keys, out=out)
        if keep is not None:
            out[~keep.mask] = 0


class Subset:
    """Rows a group of pairs is complete on: the mask and its size."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.size = int(np.count_nonzero(mask))
