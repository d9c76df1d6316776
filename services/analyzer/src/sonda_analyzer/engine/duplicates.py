"""Duplicate rows: how many, and the most frequent of them with their counts.

Exact mode folds the columns' dense codes into one key per row, so equal rows share a key exactly.
Streaming mode counts 64-bit row hashes (``rowhash.DuplicateCounter``); a row's values are gone
once its chunk is, so after each chunk it keeps the values of the rows ranked highest so far.

Both modes rank the same way: most copies first, then the row whose last copy comes earlier in the
file. That tie rule is the one streaming mode can keep exact: a row's rank so far depends only on
what has been read, and a row among the final top ranks that high from its last copy on, so it is
kept from then to the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.dataset import json_scalar
from sonda_analyzer.engine.result import DuplicateRow, Duplicates, Scalar
from sonda_analyzer.engine.rowhash import U64, DuplicateCounter
from sonda_analyzer.engine.work import ColumnWork

#: Duplicated rows listed, most frequent first.
TOP_DUPLICATES = 10
_KEY_LIMIT = 1 << 62


@dataclass(frozen=True, slots=True)
class Found:
    """The duplicate count, and the listed rows as (row position of a copy, count)."""

    count: int
    top: list[tuple[int, int]] = field(default_factory=list)


def find_duplicates(works: list[ColumnWork], rows: int, top: int = TOP_DUPLICATES) -> Found:
    """Rows equal to an earlier row (missing equals missing), like ``DataFrame.duplicated().sum()``,
    and the ``top`` most frequent duplicated rows.

    Each column's dense codes are folded into one integer key per row; keys are re-numbered when
    they would overflow. Columns with the most distinct values go first, so a column that is
    unique proves "no duplicates" before any other column is touched.
    """
    if rows < 2 or not works:
        return Found(0)
    ordered = sorted(works, key=lambda w: -w.profile.distinct)
    if rules_out_duplicates(ordered[0], rows):
        return Found(0)
    key: np.ndarray | None = None
    key_card = 1
    for work in ordered:
        assert work.codes is not None
        codes, card = work.codes()
        if key is None:
            key, key_card = codes.astype(np.int64, copy=False), card
            continue
        if key_card * card >= _KEY_LIMIT:
            key, key_card = _renumber(key)
            if key_card == rows:
                return Found(0)
        key = key * card + codes
        key_card *= card
    assert key is not None
    _, from_end, counts = np.unique(key[::-1], return_index=True, return_counts=True)
    count = rows - len(counts)
    if count == 0:
        return Found(0)
    repeated = counts >= 2
    last = (rows - 1 - from_end)[repeated]  # each duplicated row's last copy
    copies = counts[repeated]
    order = np.lexsort((last, -copies))[:top]
    return Found(count, [(int(last[i]), int(copies[i])) for i in order])


def rules_out_duplicates(work: ColumnWork, rows: int) -> bool:
    """A column whose every row holds a value of its own: no row can repeat another. Then no
    column's codes are needed for duplicates (:func:`find_duplicates` asks this first)."""
    return work.profile.distinct == rows


def _renumber(key: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.int64, copy=False).reshape(-1), len(uniques)


def listed_duplicates(works: list[ColumnWork], found: Found) -> Duplicates:
    """The listed rows' values, read from what each column's profile kept."""
    names = [w.profile.name for w in works]
    if not found.top:
        return Duplicates(columns=names, rows=[])
    at = np.array([row for row, _ in found.top], dtype=np.int64)
    columns = []
    for work in works:
        assert work.take is not None
        columns.append([json_scalar(v) for v in work.take(at).to_pylist()])
    rows = [
        DuplicateRow(values=[column[i] for column in columns], count=copies)
        for i, (_, copies) in enumerate(found.top)
    ]
    return Duplicates(columns=names, rows=rows)


class FrequentRows:
    """Streaming mode: the values of the ``keep`` rows repeated most so far, ranked as the list is.

    Feed it each chunk with the counter's counts of the chunk's hashes *before* the counter takes
    them. It keeps, per row, its hash, count so far, last copy and values (taken from that copy).
    """

    def __init__(self, keep: int = TOP_DUPLICATES) -> None:
        self.keep = keep
        self._hashes = np.empty(0, dtype=U64)
        self._counts = np.empty(0, dtype=np.int64)
        self._last = np.empty(0, dtype=np.int64)
        self._values: list[list[Scalar]] = []

    def update(
        self,
        table: pa.Table,
        hashes: np.ndarray,
        counter: DuplicateCounter,
        first_row: int,
        sorted_kept: np.ndarray | None = None,
    ) -> None:
        """``hashes``: the chunk's row hashes; ``first_row``: the chunk's first row in the file;
        ``sorted_kept``: the counter's :meth:`~DuplicateCounter.sorted_kept` of them, if known."""
        chunk = counter.sorted_kept(hashes) if sorted_kept is None else sorted_kept
        if not len(chunk):
            return
        starts = np.concatenate(([0], np.flatnonzero(chunk[1:] != chunk[:-1]) + 1))
        unique = chunk[starts]
        in_chunk = np.diff(np.append(starts, len(chunk)))
        totals = counter.counts(unique) + in_chunk
        repeated = totals >= 2
        if not repeated.any():
            return
        found, totals = unique[repeated], totals[repeated]
        # The last copy in this chunk of each repeated hash: its rows, grouped by hash (found is
        # sorted, and a stable sort keeps each group's rows in order).
        rows = np.flatnonzero(np.isin(hashes, found))
        by_hash = rows[np.argsort(hashes[rows], kind="stable")]
        grouped = hashes[by_hash]
        ends = np.append(np.flatnonzero(grouped[1:] != grouped[:-1]), len(grouped) - 1)
        local = by_hash[ends]
        # The kept rows met again take their new count and last copy; the others stay as they were.
        stay = ~np.isin(self._hashes, found)
        hashes_all = np.concatenate([self._hashes[stay], found])
        counts_all = np.concatenate([self._counts[stay], totals])
        last_all = np.concatenate([self._last[stay], first_row + local])
        old = {int(h): v for h, v in zip(self._hashes.tolist(), self._values, strict=True)}
        order = np.lexsort((last_all, -counts_all))[: self.keep]
        values = []
        for i in order.tolist():
            kept = old.get(int(hashes_all[i]))
            if kept is None:
                row = table.slice(int(last_all[i] - first_row), 1)
                kept = [json_scalar(row.column(c)[0].as_py()) for c in range(row.num_columns)]
            values.append(kept)
        self._hashes, self._counts, self._last = hashes_all[order], counts_all[order], last_all[order]
        self._values = values

    def retain(self, counter: DuplicateCounter) -> None:
        """Forget the rows whose hashes the counter stopped keeping (it halved its hash space)."""
        keep = counter.kept(self._hashes)
        if keep.all():
            return
        self._values = [v for v, k in zip(self._values, keep.tolist(), strict=True) if k]
        self._hashes, self._counts, self._last = self._hashes[keep], self._counts[keep], self._last[keep]

    def result(self, names: list[str]) -> Duplicates:
        rows = [
            DuplicateRow(values=v, count=int(c))
            for v, c in zip(self._values, self._counts.tolist(), strict=True)
        ]
        return Duplicates(columns=names, rows=rows)
