"""The smallest and largest values of a numeric column, with how often each occurs.

Exact in both modes: a value among the ``k`` smallest distinct values of the whole column is also
among the ``k`` smallest of every chunk holding it (fewer than ``k`` distinct values lie below it
anywhere), so merging each chunk's ``k`` smallest, counts added, gives the exact answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sonda_analyzer.engine.floats import Floats
from sonda_analyzer.engine.result import Extremes, ValueCount

#: How many distinct values each end lists (ydata-profiling shows 5 too).
K = 5


def _ends(s: Floats, k: int, *, from_top: bool) -> list[tuple[float, int]]:
    """The ``k`` distinct values at one end of the sorted array ``s``, with their counts."""
    found: list[tuple[float, int]] = []
    if from_top:
        j = len(s)
        while j > 0 and len(found) < k:
            value = s[j - 1]
            i = int(np.searchsorted(s, value, side="left"))
            found.append((float(value), j - i))
            j = i
    else:
        i = 0
        while i < len(s) and len(found) < k:
            value = s[i]
            j = int(np.searchsorted(s, value, side="right"))
            found.append((float(value), j - i))
            i = j
    return found


def _chunk_ends(x: Floats, k: int) -> list[tuple[float, int]]:
    """The ``k`` smallest distinct values of an unsorted chunk with their counts, without sorting
    it: a partial partition finds candidates, one comparison pass keeps what lies at or below them."""
    if len(x) == 0:
        return []
    m = min(len(x), 8 * k)
    candidates = np.unique(np.partition(x, m - 1)[:m])
    if len(candidates) < k and m < len(x):  # the smallest values repeat a lot: look at all of them
        candidates = np.unique(x)
    cut = candidates[min(k, len(candidates)) - 1]
    values, counts = np.unique(x[x <= cut], return_counts=True)
    return [(float(v), int(c)) for v, c in zip(values[:k], counts[:k], strict=True)]


def extremes_of_sorted(s: Floats, k: int = K) -> Extremes:
    """From the finite values, already sorted (the exact profile sorts them anyway)."""
    return _result(_ends(s, k, from_top=False), _ends(s, k, from_top=True))


def extremes_of_runs(values: Floats, counts: np.ndarray, k: int = K) -> Extremes | None:
    """From the distinct finite values, ascending, and their counts (streaming's exact counts)."""
    if len(values) == 0:
        return None
    pairs = [(float(v), int(c)) for v, c in zip(values.tolist(), counts.tolist(), strict=True)]
    return _result(pairs[:k], pairs[::-1][:k])


def _result(smallest: list[tuple[float, int]], largest: list[tuple[float, int]]) -> Extremes:
    return Extremes(
        smallest=[ValueCount(value=v, count=c) for v, c in smallest],
        largest=[ValueCount(value=v, count=c) for v, c in largest],
    )


@dataclass(slots=True)
class ExtremesAcc:
    """The same figure over chunks (streaming mode): each chunk's ends, merged as they come."""

    k: int = K
    low: dict[float, int] = field(default_factory=dict)
    high: dict[float, int] = field(default_factory=dict)

    def update(self, finite: Floats) -> None:
        if len(finite) == 0:
            return
        # Once an end holds k values, nothing beyond its k-th can enter it any more: only the
        # chunk's values up to that cut are looked at, one comparison pass (they are usually few).
        low = finite if len(self.low) < self.k else finite[finite <= max(self.low)]
        for value, count in _chunk_ends(low, self.k):
            self.low[value] = self.low.get(value, 0) + count
        high = finite if len(self.high) < self.k else finite[finite >= min(self.high)]
        for value, count in _chunk_ends(-high, self.k):
            self.high[-value] = self.high.get(-value, 0) + count
        self._keep_ends()

    def add_counts(self, values: Floats, counts: np.ndarray) -> None:
        """Distinct values, ascending, with how often each occurs (the exact counts given up)."""
        for value, count in zip(values[: self.k].tolist(), counts[: self.k].tolist(), strict=True):
            self.low[value] = self.low.get(value, 0) + count
        for value, count in zip(values[-self.k :].tolist(), counts[-self.k :].tolist(), strict=True):
            self.high[value] = self.high.get(value, 0) + count
        self._keep_ends()

    def _keep_ends(self) -> None:
        """Keep only what can still be among the ends: the state stays k values per end."""
        self.low = dict(sorted(self.low.items())[: self.k])
        self.high = dict(sorted(self.high.items(), reverse=True)[: self.k])

    def finish(self) -> Extremes | None:
        if not self.low:
            return None
        return _result(sorted(self.low.items()), sorted(self.high.items(), reverse=True))
