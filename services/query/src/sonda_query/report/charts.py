"""Inline SVG charts for the report: drawn here, so the file needs nothing from anywhere else."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 320
HEIGHT = 96


def histogram(counts: Sequence[int], labels: tuple[str, str], title: str) -> str:
    """Bars of ``counts`` over the range the two ``labels`` name (first and last edge)."""
    if not counts or max(counts) <= 0:
        return ""
    top = max(counts)
    width = WIDTH / len(counts)
    bars = "".join(
        f'<rect x="{i * width:.1f}" y="{HEIGHT - 14 - (c / top) * (HEIGHT - 18):.1f}" '
        f'width="{max(width - 1, 0.5):.1f}" height="{(c / top) * (HEIGHT - 18):.1f}"><title>{c:,}</title></rect>'
        for i, c in enumerate(counts)
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"{bars}"
        f'<text x="0" y="{HEIGHT - 2}">{escape(labels[0])}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 2}" text-anchor="end">{escape(labels[1])}</text></svg>'
    )


def bars(rows: Sequence[tuple[str, float, str]], title: str, *, scale: float | None = None) -> str:
    """Horizontal bars: (label, value, shown text) each; ``scale`` is the value of a full bar."""
    if not rows:
        return ""
    full = scale if scale is not None else max(value for _, value, _ in rows) or 1.0
    line = 18
    height = line * len(rows)
    drawn = []
    for i, (label, value, shown) in enumerate(rows):
        length = 0.0 if full <= 0 else max(0.0, min(1.0, value / full)) * 150
        y = i * line
        drawn.append(
            f'<text x="0" y="{y + 13}">{escape(label)}</text>'
            f'<rect x="160" y="{y + 3}" width="{length:.1f}" height="12"></rect>'
            f'<text x="{165 + length:.1f}" y="{y + 13}">{escape(shown)}</text>'
        )
    return (
        f'<svg class="bars" viewBox="0 0 {WIDTH + 60} {height}" role="img" aria-label="{escape(title)}">'
        + "".join(drawn)
        + "</svg>"
    )


def scatter(points: Sequence[Sequence[float]], x_name: str, y_name: str) -> str:
    """Dots of ``[x, y]`` points, the axes' ranges written at their ends."""
    pts = [(float(p[0]), float(p[1])) for p in points if len(p) == 2]
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    size, pad = 220, 26

    def sx(v: float) -> float:
        return pad + (0.5 if x1 == x0 else (v - x0) / (x1 - x0)) * (size - pad - 6)

    def sy(v: float) -> float:
        return size - pad - (0.5 if y1 == y0 else (v - y0) / (y1 - y0)) * (size - pad - 6)

    dots = "".join(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="1.8"></circle>' for x, y in pts)
    return (
        f'<svg class="scatter" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{escape(y_name)} against {escape(x_name)}">{dots}'
        f'<text x="{pad}" y="{size - 8}">{escape(_short(x0))}</text>'
        f'<text x="{size - 6}" y="{size - 8}" text-anchor="end">{escape(_short(x1))}</text>'
        f'<text x="2" y="14">{escape(_short(y1))}</text>'
        f'<text x="2" y="{size - pad}">{escape(_short(y0))}</text></svg>'
    )


def _short(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e15 else f"{value:.3e}"


def nullity_matrix(columns: Sequence[str], missing: Sequence[Sequence[int]], rows: Sequence[int]) -> str:
    """missingno's matrix: a band per column, a line per sampled row, a gap where a value is missing.

    ``missing[i]`` lists the column indices missing in row i; ``rows`` are the rows' positions in
    the file (0-based), written at the band's ends. Runs of gaps are drawn as one mark each.
    """
    if not columns or not missing:
        return ""
    width, top, height = 600, 86, 240
    band = width / len(columns)
    line = height / len(missing)
    gaps: list[list[int]] = [[] for _ in columns]
    for r, cols in enumerate(missing):
        for c in cols:
            if 0 <= c < len(columns):
                gaps[c].append(r)
    marks = []
    for c, name in enumerate(columns):
        x = c * band
        marks.append(
            f'<rect class="present" x="{x:.2f}" y="{top}" width="{max(band - 0.6, 0.4):.2f}" '
            f'height="{height}"><title>{escape(name)}</title></rect>'
        )
        for start, stop in _runs(gaps[c]):
            marks.append(
                f'<rect class="gap" x="{x:.2f}" y="{top + start * line:.2f}" '
                f'width="{max(band - 0.6, 0.4):.2f}" height="{max((stop - start) * line, 0.6):.2f}"></rect>'
            )
        label = name if len(name) <= 14 else name[:13] + "…"
        cx = x + band / 2
        marks.append(
            f'<text x="{cx:.2f}" y="{top - 4}" transform="rotate(-50 {cx:.2f} {top - 4})">{escape(label)}</text>'
        )
    first, last = (rows[0] + 1, rows[-1] + 1) if rows else (1, len(missing))
    return (
        f'<svg class="matrix" viewBox="0 -4 {width + 60} {top + height + 8}" role="img" '
        f'aria-label="Missing values in {len(missing):,} sampled rows of {len(columns):,} columns">'
        + "".join(marks)
        + f'<text x="{width + 4}" y="{top + 8}">row {first:,}</text>'
        f'<text x="{width + 4}" y="{top + height}">row {last:,}</text></svg>'
    )


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive row indices as half-open runs: [1, 2, 3, 7] -> [(1, 4), (7, 8)]."""
    runs: list[tuple[int, int]] = []
    for r in sorted(rows):
        if runs and runs[-1][1] == r:
            runs[-1] = (runs[-1][0], r + 1)
        else:
            runs.append((r, r + 1))
    return runs
