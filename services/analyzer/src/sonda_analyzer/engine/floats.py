"""Small helpers that keep every number JSON-safe (finite float or None, plain int)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


class SortedRuns:
    """Sorted data held as its distinct values (ascending) and their counts: what streaming
    mode keeps of a column with few distinct values, read as the sorted column it stands for."""

    def __init__(self, values: Floats, counts: Ints) -> None:
        self.values = values
        self.counts = counts
        self.ends = np.cumsum(counts)  # one past the last position of each value

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def __getitem__(self, i: int) -> float:
        return float(self.values[np.searchsorted(self.ends, i, side="right")])

    def rank(self, x: Floats | float, side: Side) -> Ints:
        """How many values lie below ``x`` ("left") or at or below it ("right")."""
        at = np.searchsorted(self.values, x, side=side)
        before: Ints = np.concatenate(([0], self.ends))[at]
        return before


Side = Literal["left", "right"]
Sorted = Floats | SortedRuns


def rank(sorted_values: Sorted, x: Floats | float, side: Side) -> Ints:
    """How many of the sorted values lie below ``x`` ("left") or at or below it ("right")."""
    if isinstance(sorted_values, SortedRuns):
        return sorted_values.rank(x, side)
    found: Ints = np.searchsorted(sorted_values, x, side=side)
    return found


def fnum(value: float | np.floating | np.integer | None, digits: int | None = None) -> float | None:
    """A finite Python float, or None for NaN/Infinity/None."""
    if value is None:
        return None
    result = float(value)
    if not math.isfinite(result):
        return None
    return round(result, digits) if digits is not None else result


def pct(part: int | float, whole: int | float) -> float:
    """``part / whole`` as a fraction (0–1), 0.0 for an empty whole."""
    return float(part) / float(whole) if whole else 0.0


def lerp_quantiles(sorted_values: Sorted, probs: list[float]) -> list[float]:
    """Quantiles of already sorted data, with numpy's default ("linear") interpolation."""
    n = len(sorted_values)
    if n == 0:
        return [math.nan] * len(probs)
    out: list[float] = []
    for q in probs:
        pos = q * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        t = pos - lo
        a, b = float(sorted_values[lo]), float(sorted_values[hi])
        diff = b - a
        # numpy's _lerp: from the nearer end, so the result stays within [a, b] exactly.
        out.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return out


def median_distance(sorted_values: Sorted, center: float) -> float:
    """``np.median(np.abs(sorted_values - center))`` in O(log n), from the sorted values.

    The distances below ``center``, read backwards, and those from it up are two sorted runs: the
    middle of both together is found by bisecting how many of it the first run gives (a
    partition of a whole-column copy took 17 ms per 1M values). ``a - b`` rounds to exactly
    ``-(b - a)``, so every distance is the one numpy computes.
    """
    n = len(sorted_values)
    if n == 0:
        return math.nan
    split = int(rank(sorted_values, center, "left"))

    def below(i: int) -> float:  # the i-th smallest distance below ``center``
        return center - float(sorted_values[split - 1 - i])

    def above(j: int) -> float:  # the j-th smallest distance from ``center`` up
        return float(sorted_values[split + j]) - center

    def smallest(k: int) -> float:  # the k-th smallest distance (from 0) of both runs
        lo, hi = max(0, k + 1 - (n - split)), min(k + 1, split)
        while lo < hi:  # the fewest taken from below such that the next one there is not needed
            i = (lo + hi) // 2
            if below(i) < above(k - i):
                lo = i + 1
            else:
                hi = i
        taken_above = k + 1 - lo
        last_below = below(lo - 1) if lo > 0 else -math.inf
        last_above = above(taken_above - 1) if taken_above > 0 else -math.inf
        return max(last_below, last_above)

    if n % 2:
        return smallest(n // 2)
    return (smallest(n // 2 - 1) + smallest(n // 2)) / 2


def histogram_edges(lo: float, hi: float, bins: int) -> Floats:
    """``np.histogram_bin_edges`` over ``[lo, hi]``, or one bin ``[lo, hi]`` where it cannot split.
    With the range given, numpy's edges depend on it alone (and on the values' type: float64
    here), so no column is passed, nor copied to be passed.

    numpy widens an empty range to ``lo - 0.5 .. hi + 0.5`` and refuses ranges narrower than the
    spacing of floats there: a column holding one large value (nanosecond timestamps, 20-digit ids)
    would make it raise "Too many bins for data range" and fail the whole profile.
    """
    try:
        edges: Floats = np.histogram_bin_edges(np.array([lo, hi]), bins=bins, range=(lo, hi))
    except ValueError:
        return np.array([lo, hi], dtype=np.float64)
    return edges


def histogram_counts(sorted_values: Sorted, edges: Floats) -> list[int]:
    """np.histogram's counts (last bin closed) from sorted data in O(bins log n)."""
    inner = rank(sorted_values, edges[1:-1], "left")
    bounds = np.concatenate(([0], inner, [len(sorted_values)]))
    return [int(c) for c in np.diff(bounds)]


def skewness(m2: float, m3: float, n: int) -> float:
    """Adjusted Fisher–Pearson skewness (pandas ``skew``, scipy ``bias=False``) from central sums."""
    if n < 3:
        return math.nan
    if m2 <= 0:
        return 0.0
    return float((n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2**1.5))


def kurtosis(m2: float, m4: float, n: int) -> float:
    """Bias-corrected excess kurtosis (pandas ``kurt``, scipy ``bias=False``) from central sums."""
    if n < 4:
        return math.nan
    if m2 <= 0:
        return 0.0
    adj = 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    numerator = n * (n + 1) * (n - 1) * m4
    denominator = (n - 2) * (n - 3) * m2**2
    return numerator / denominator - adj
