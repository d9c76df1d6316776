"""Rows to look at beyond the first ones: the last rows, a uniform random sample, and scatter points
for the most related numeric pairs — over one table or chunk after chunk, in bounded memory.

The random sample gives each row a random key and keeps the rows with the smallest keys (a bottom-k
sample): uniform, mergeable chunk by chunk, and any prefix of it by key is itself a uniform sample,
so the few rows shown and the few hundred scatter points come from the same draw. The seed is fixed:
the same file gives the same sample.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.arrays import floats, index_array, take_sorted
from sonda_analyzer.engine.dataset import json_scalar
from sonda_analyzer.engine.result import ColumnProfile, Matrix, Sample, ScatterPlot

#: Rows kept for the scatter plots (and the random rows shown, a prefix of them).
KEEP_ROWS = 400
#: The most related numeric pairs that get a scatter plot.
SCATTER_PAIRS = 6
#: Pairs weaker than this have no shape worth drawing.
SCATTER_MIN_R = 0.3
SEED = 20_240_101


def take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """The rows at the ascending positions ``rows``, each column taken chunk by chunk (see
    :func:`~sonda_analyzer.engine.arrays.take_sorted`)."""
    return pa.Table.from_arrays([take_sorted(c, rows) for c in table.columns], schema=table.schema)


def _concat(tables: list[pa.Table]) -> pa.Table:
    # Chunks of one file can differ in a column's type (int64 then double): promote, never fail.
    return pa.concat_tables(tables, promote_options="permissive")


class RowSampler:
    """Feed it every row (``update`` per table or chunk); ``finish`` gives the samples."""

    def __init__(self, shown: int, keep: int = KEEP_ROWS, seed: int = SEED) -> None:
        self.shown = shown
        self.keep = max(keep, shown)
        self._rng = np.random.default_rng(seed)
        self._seen = 0
        self._tail: pa.Table | None = None
        self._tail_first = 0
        self._pool: pa.Table | None = None
        self._keys = np.empty(0)
        self._rows = np.empty(0, dtype=np.int64)

    def update(self, table: pa.Table) -> None:
        n = table.num_rows
        if n == 0:
            return
        # The last rows: a copy of at most ``shown`` rows, never a view that would pin the chunk.
        joined = table if self._tail is None else _concat([self._tail, table])
        start = max(0, joined.num_rows - self.shown)
        self._tail_first = self._seen + n - (joined.num_rows - start)
        view = joined.slice(start)
        self._tail = view.take(index_array(np.arange(view.num_rows)))
        keys = self._rng.random(n)
        both = np.concatenate([self._keys, keys])
        if len(both) > self.keep:
            chosen = np.sort(np.argpartition(both, self.keep - 1)[: self.keep])
        else:
            chosen = np.arange(len(both))
        old = chosen[chosen < len(self._keys)]
        new = chosen[chosen >= len(self._keys)] - len(self._keys)
        parts = []
        if self._pool is not None and len(old):
            parts.append(self._pool.take(index_array(old)))
        if len(new):
            parts.append(take_rows(table, new))
        if parts:
            self._pool = _concat(parts) if len(parts) > 1 else parts[0]
        self._keys = both[chosen]
        self._rows = np.concatenate([self._rows[old], self._seen + new])
        self._seen += n

    def drawn(self) -> tuple[pa.Table | None, np.ndarray]:
        """Every kept row and its position in the file, in file order."""
        order = np.argsort(self._rows, kind="stable")
        if self._pool is None:
            return None, self._rows[order]
        return self._pool.take(index_array(order)), self._rows[order]

    def row_numbers(self) -> np.ndarray:
        """The positions of the kept rows in the file, ascending."""
        return np.sort(self._rows)

    def tail(self) -> Sample | None:
        if self._tail is None:
            return None
        return _sample(self._tail, list(range(self._tail_first, self._tail_first + self._tail.num_rows)))

    def random(self) -> Sample | None:
        """``shown`` rows drawn uniformly from the whole table, in file order."""
        if self._pool is None:
            return None
        first = np.argsort(self._keys, kind="stable")[: self.shown]
        first = first[np.argsort(self._rows[first], kind="stable")]
        return _sample(self._pool.take(index_array(first)), [int(r) for r in self._rows[first]])

    def scatter(self, columns: list[ColumnProfile], pearson: Matrix) -> list[ScatterPlot]:
        """Points of the most related numeric pairs (by Pearson's r) from the kept rows."""
        if self._pool is None or len(pearson.columns) < 2:
            return []
        # x is the pair's column that comes first in the table, whatever the matrix order.
        position = {c.name: i for i, c in enumerate(columns) if c.type == "numeric"}
        names = pearson.columns
        pairs: list[tuple[float, str, str]] = []
        for i, row in enumerate(pearson.matrix):
            for j in range(i + 1, len(row)):
                r = row[j]
                if (
                    r is not None
                    and abs(r) >= SCATTER_MIN_R
                    and names[i] in position
                    and names[j] in position
                ):
                    x_name, y_name = sorted((names[i], names[j]), key=position.__getitem__)
                    pairs.append((r, x_name, y_name))
        pairs.sort(key=lambda p: (-abs(p[0]), p[1], p[2]))
        plots = []
        # Only columns stored as numbers: a column read as text and parsed later (amounts written
        # "R$ 1.234,56") keeps its text in the sampled rows, and text is not drawn.
        present = {
            f.name for f in self._pool.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        }
        for r, x_name, y_name in pairs[:SCATTER_PAIRS]:
            if x_name not in present or y_name not in present:
                continue
            x = floats(self._pool.column(x_name))
            y = floats(self._pool.column(y_name))
            both = np.isfinite(x) & np.isfinite(y)
            order = np.argsort(self._rows[both], kind="stable")
            points = [[float(a), float(b)] for a, b in zip(x[both][order], y[both][order], strict=True)]
            plots.append(ScatterPlot(x=x_name, y=y_name, pearson=r, rows_sampled=len(points), points=points))
        return plots


def _sample(table: pa.Table, row_numbers: list[int]) -> Sample:
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [[json_scalar(col[r]) for col in data] for r in range(table.num_rows)]
    return Sample(columns=list(table.column_names), rows=rows, row_numbers=row_numbers)
