"""Which values go missing together: rows with a gap, the most common sets of missing columns,
the nullity correlation between columns (missingno's heatmap) and the gaps of a row sample
(missingno's matrix).

One accumulator serves both modes: exact mode feeds it the whole table in slices of rows,
streaming mode chunk by chunk. Every figure is a count, so both modes give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.arrays import floats, single, valid_mask
from sonda_analyzer.engine.floats import fnum, pct
from sonda_analyzer.engine.result import Matrix, MissingMatrix, Missingness, MissingPattern

#: Patterns listed in the result, most common first.
TOP_PATTERNS = 10
#: Different patterns counted; rarer ones met after this many are counted apart (``other``).
MAX_PATTERNS = 50_000
#: Columns in the nullity correlation (file order, among those with some but not all missing).
MAX_CORRELATION_COLUMNS = 100
#: Columns drawn in the matrix of a row sample (file order).
MAX_MATRIX_COLUMNS = 100
#: Columns whose co-missing counts are kept (the first met with a gap).
_MAX_TRACKED = 400
#: Rows per slice when exact mode feeds the whole table.
SLICE_ROWS = 1 << 20


def missing_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """True where a value is missing as the profiles count it (NaN too, for floats); None if none.

    A column in several chunks is looked at chunk by chunk: joining it first copied the whole
    column (a text column's every string) to read its validity."""
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks > 1:
        masks = [missing_mask(chunk) for chunk in arr.chunks]
        if all(m is None for m in masks):
            return None
        whole: np.ndarray = np.concatenate(
            [np.zeros(len(c), dtype=bool) if m is None else m for c, m in zip(arr.chunks, masks, strict=True)]
        )
        return whole
    arr = single(arr)
    if pa.types.is_floating(arr.type):
        mask = np.isnan(floats(arr))
        return mask if mask.any() else None
    if pa.types.is_null(arr.type):
        return np.ones(len(arr), dtype=bool)
    valid = valid_mask(arr)
    return None if valid is None else ~valid


@dataclass(slots=True)
class MissingnessAcc:
    names: list[str]
    rows: int = 0
    rows_with_missing: int = 0
    missing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    patterns: dict[tuple[int, ...], int] = field(default_factory=dict)
    #: Rows whose pattern was new after ``MAX_PATTERNS`` patterns.
    other: int = 0
    tracked: dict[int, int] = field(default_factory=dict)
    together: np.ndarray = field(default_factory=lambda: np.zeros((_MAX_TRACKED, _MAX_TRACKED), np.int64))

    def __post_init__(self) -> None:
        self.missing = np.zeros(len(self.names), dtype=np.int64)

    def update(self, masks: list[tuple[int, np.ndarray]], rows: int) -> None:
        """One slice of ``rows`` rows: ``(column index, missing mask)`` of the columns with a gap."""
        self.rows += rows
        if not masks:
            return
        columns = np.array([i for i, _ in masks], dtype=np.int64)
        gaps = np.stack([m for _, m in masks], axis=1)
        self.missing[columns] += gaps.sum(axis=0)
        gapped = gaps[gaps.any(axis=1)]
        self.rows_with_missing += len(gapped)
        self._count_patterns(gapped, columns)
        self._count_together(gaps, columns)

    def _count_patterns(self, gapped: np.ndarray, columns: np.ndarray) -> None:
        if not len(gapped):
            return
        packed = np.ascontiguousarray(np.packbits(gapped, axis=1))
        width = packed.shape[1]
        if width <= 2:
            # up to 16 columns with gaps: a row's pattern is a number below 65,536, counted
            # without sorting (in the same ascending order np.unique gives)
            numbers16 = packed[:, 0].astype(np.intp) << 8
            if width == 2:
                numbers16 |= packed[:, 1]
            tally = np.bincount(numbers16, minlength=1 << 16)
            present = np.flatnonzero(tally)
            counts = tally[present]
            unique = np.stack([(present >> 8).astype(np.uint8), (present & 0xFF).astype(np.uint8)], axis=1)[
                :, :width
            ]
        elif width <= 8:
            # up to 64 columns with gaps: each row's pattern as one big-endian integer, whose
            # order is the bytes' order, sorts much faster than byte strings compared one by one
            padded = np.zeros((len(packed), 8), dtype=np.uint8)
            padded[:, :width] = packed
            numbers = padded.view(">u8").ravel().astype(np.uint64)
            distinct, counts = np.unique(numbers, return_counts=True)
            unique = distinct.astype(">u8").view(np.uint8).reshape(-1, 8)[:, :width]
        else:
            keys = packed.view(np.dtype((np.void, width))).ravel()
            unique, counts = np.unique(keys, return_counts=True)
        k = gapped.shape[1]
        for key, count in zip(unique, counts, strict=True):
            bits = np.unpackbits(np.frombuffer(key.tobytes(), dtype=np.uint8), count=k).astype(bool)
            pattern = tuple(int(c) for c in columns[bits])
            if pattern in self.patterns or len(self.patterns) < MAX_PATTERNS:
                self.patterns[pattern] = self.patterns.get(pattern, 0) + int(count)
            else:
                self.other += int(count)

    def _count_together(self, gaps: np.ndarray, columns: np.ndarray) -> None:
        keep, slots = [], []
        for j, c in enumerate(columns.tolist()):
            slot = self.tracked.get(c)
            if slot is None and len(self.tracked) < _MAX_TRACKED:
                slot = self.tracked[c] = len(self.tracked)
            if slot is not None:
                keep.append(j)
                slots.append(slot)
        if not keep:
            return
        # float32 sums are exact below 2**24 rows, far above a slice or a chunk.
        indicator = gaps[:, keep].astype(np.float32)
        both = (indicator.T @ indicator).round().astype(np.int64)
        self.together[np.ix_(slots, slots)] += both

    def result(self) -> Missingness:
        n = self.rows
        partial = [i for i, m in enumerate(self.missing.tolist()) if 0 < m < n and i in self.tracked]
        chosen = partial[:MAX_CORRELATION_COLUMNS]
        matrix: list[list[float | None]] = []
        for a in chosen:
            row: list[float | None] = []
            for b in chosen:
                na, nb = int(self.missing[a]), int(self.missing[b])
                nab = int(self.together[self.tracked[a], self.tracked[b]])
                # Pearson correlation of two 0/1 indicators (the phi coefficient), from counts.
                denominator = math.sqrt(na * (n - na) * nb * (n - nb))
                row.append(fnum((n * nab - na * nb) / denominator))
            matrix.append(row)
        ranked = sorted(self.patterns.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PATTERNS]
        return Missingness(
            rows_with_missing=self.rows_with_missing,
            rows_with_missing_pct=pct(self.rows_with_missing, n),
            patterns=[
                MissingPattern(columns=[self.names[i] for i in p], count=c, pct=pct(c, n)) for p, c in ranked
            ],
            patterns_distinct=len(self.patterns),
            patterns_other_rows=self.other,
            nullity_correlation=Matrix(columns=[self.names[i] for i in chosen], matrix=matrix),
        )


def missing_matrix(
    names: list[str], row_numbers: np.ndarray, masks: list[np.ndarray | None], rows_total: int
) -> MissingMatrix:
    """The matrix of a row sample: ``masks[i]`` is column i's missing mask over the sampled rows
    (in the order of ``row_numbers``), None when nothing is missing there."""
    shown = names[:MAX_MATRIX_COLUMNS]
    gaps = [(j, m) for j, m in enumerate(masks[: len(shown)]) if m is not None and m.any()]
    missing: list[list[int]] = [[] for _ in range(len(row_numbers))]
    if gaps:
        columns = np.array([j for j, _ in gaps], dtype=np.int64)
        stacked = np.stack([m for _, m in gaps], axis=1)
        for r in np.flatnonzero(stacked.any(axis=1)).tolist():
            missing[r] = columns[stacked[r]].tolist()
    return MissingMatrix(
        columns=list(shown),
        row_numbers=[int(r) for r in row_numbers],
        missing=missing,
        rows_total=rows_total,
    )
