// Inline SVG charts. They scale with their container through viewBox, carry a <title>
// per mark for hover text, and an aria-label that says what they show.

import { num, s } from "./dom.js";

const W = 320;
const H = 140;
const PAD = { top: 8, right: 8, bottom: 22, left: 8 };

/**
 * Histogram of edges (n+1) and counts (n). labelOf(edge) formats an edge for the axis.
 * Returns null when the data cannot make a chart.
 */
export function histogram(hist, { label = "Histogram", labelOf = num } = {}) {
  if (!hist || !Array.isArray(hist.counts) || !Array.isArray(hist.edges)) return null;
  const counts = hist.counts.map((c) => (typeof c === "number" && c > 0 ? c : 0));
  const n = counts.length;
  if (n === 0 || hist.edges.length < n + 1) return null;
  const max = Math.max(...counts, 1);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const bw = innerW / n;
  const svg = s("svg", {
    class: "chart chart-histogram",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": `${label}: ${n} bins from ${labelOf(hist.edges[0])} to ${labelOf(hist.edges[n])}`,
    preserveAspectRatio: "none",
  });
  counts.forEach((count, i) => {
    const bh = (count / max) * innerH;
    svg.append(
      s(
        "rect",
        {
          class: "bar",
          x: (PAD.left + i * bw + 0.5).toFixed(2),
          y: (PAD.top + innerH - bh).toFixed(2),
          width: Math.max(bw - 1, 0.5).toFixed(2),
          height: bh.toFixed(2),
        },
        s("title", {}, `${labelOf(hist.edges[i])} – ${labelOf(hist.edges[i + 1])}: ${num(count)}`),
      ),
    );
  });
  const axisY = PAD.top + innerH;
  svg.append(s("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: axisY, y2: axisY }));
  svg.append(
    s("text", { class: "tick", x: PAD.left, y: H - 6, "text-anchor": "start" }, labelOf(hist.edges[0])),
    s("text", { class: "tick", x: W - PAD.right, y: H - 6, "text-anchor": "end" }, labelOf(hist.edges[n])),
  );
  return svg;
}

/** Horizontal bars for the most frequent values [{value, count, pct}]. */
export function topValues(items, { label = "Most frequent values", limit = 8 } = {}) {
  if (!Array.isArray(items) || items.length === 0) return null;
  const rows = items.slice(0, limit);
  const rowH = 22;
  const labelW = 118;
  const valueW = 58;
  const height = rows.length * rowH + 4;
  const max = Math.max(...rows.map((r) => (typeof r.count === "number" ? r.count : 0)), 1);
  const barSpace = W - labelW - valueW;
  const svg = s("svg", {
    class: "chart chart-bars",
    viewBox: `0 0 ${W} ${height}`,
    role: "img",
    "aria-label": `${label}: ${rows.length} values`,
  });
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const text = r.value === null || r.value === undefined ? "(missing)" : String(r.value);
    const short = text.length > 15 ? `${text.slice(0, 14)}…` : text;
    const count = typeof r.count === "number" ? r.count : 0;
    const bw = Math.max((count / max) * barSpace, 1);
    const share = typeof r.pct === "number" ? ` (${Number(r.pct.toPrecision(3))}%)` : "";
    svg.append(
      s(
        "g",
        {},
        s("title", {}, `${text}: ${num(count)}${share}`),
        s("text", { class: "bar-label", x: labelW - 5, y: y + 14, "text-anchor": "end" }, short),
        s("rect", { class: "bar", x: labelW, y: y + 3, width: bw.toFixed(2), height: rowH - 7 }),
        s("text", { class: "bar-value", x: labelW + bw + 4, y: y + 14 }, num(count)),
      ),
    );
  });
  return svg;
}

/** Bars for a boolean column: {true, false, missing}. */
export function booleanBars(b) {
  if (!b) return null;
  return topValues(
    [
      { value: "true", count: b.true ?? 0 },
      { value: "false", count: b.false ?? 0 },
      { value: "(missing)", count: b.missing ?? 0 },
    ],
    { label: "True, false and missing" },
  );
}

/**
 * Correlation heatmap of {columns, matrix}. Signed measures (Pearson, Spearman) use a
 * diverging scale −1…1; unsigned ones (Cramér's V) a sequential 0…1 scale.
 */
export function heatmap(corr, { signed = true, label = "Correlation" } = {}) {
  if (!corr || !Array.isArray(corr.columns) || !Array.isArray(corr.matrix)) return null;
  const cols = corr.columns.map(String);
  const n = cols.length;
  if (n === 0) return null;
  const cell = n <= 8 ? 44 : n <= 16 ? 30 : n <= 30 ? 20 : 14;
  const longest = Math.min(Math.max(...cols.map((c) => c.length)), 18);
  const margin = 12 + longest * 6.2;
  const size = margin + n * cell + 4;
  const svg = s("svg", {
    id: "correlation-heatmap",
    class: "chart chart-heatmap",
    viewBox: `0 0 ${size} ${size}`,
    role: "img",
    "aria-label": `${label} heatmap of ${n} columns`,
    style: `max-width:${Math.max(size, 240)}px`,
  });
  const short = (c) => (c.length > 18 ? `${c.slice(0, 17)}…` : c);
  cols.forEach((c, i) => {
    const mid = margin + i * cell + cell / 2;
    svg.append(
      s("text", { class: "heat-label", x: margin - 4, y: mid + 4, "text-anchor": "end" },
        s("title", {}, c), short(c)),
      s("text", {
        class: "heat-label",
        x: 0,
        y: 0,
        "text-anchor": "start",
        transform: `translate(${mid + 4} ${margin - 4}) rotate(-90)`,
      }, s("title", {}, c), short(c)),
    );
  });
  for (let i = 0; i < n; i += 1) {
    const row = Array.isArray(corr.matrix[i]) ? corr.matrix[i] : [];
    for (let j = 0; j < n; j += 1) {
      const v = row[j];
      const ok = typeof v === "number" && Number.isFinite(v);
      const x = margin + j * cell;
      const y = margin + i * cell;
      svg.append(
        s("rect", {
          class: ok ? "heat-cell" : "heat-cell heat-empty",
          x, y, width: cell - 1, height: cell - 1,
          fill: ok ? color(v, signed) : null,
          "data-row": cols[i],
          "data-col": cols[j],
          "data-value": ok ? v : "",
        }, s("title", {}, `${cols[i]} × ${cols[j]}: ${ok ? v.toFixed(3) : "not computed"}`)),
      );
      if (ok && cell >= 30) {
        svg.append(s("text", {
          class: Math.abs(v) > 0.6 ? "heat-value heat-value-dark" : "heat-value",
          x: x + (cell - 1) / 2, y: y + cell / 2 + 3, "text-anchor": "middle",
        }, v.toFixed(2)));
      }
    }
  }
  return svg;
}

/** Blue (−1) – white (0) – red (+1); or white (0) – purple (1) when unsigned. */
function color(v, signed) {
  const t = Math.max(-1, Math.min(1, v));
  const mix = (a, b, k) => Math.round(a + (b - a) * k);
  if (!signed) {
    const k = Math.max(0, t);
    return `rgb(${mix(247, 88, k)},${mix(247, 28, k)},${mix(251, 140, k)})`;
  }
  const k = Math.abs(t);
  return t >= 0
    ? `rgb(${mix(247, 178, k)},${mix(247, 24, k)},${mix(247, 43, k)})`
    : `rgb(${mix(247, 33, k)},${mix(247, 102, k)},${mix(247, 172, k)})`;
}

/** A legend strip for the heatmap scale. */
export function heatLegend(signed) {
  const svg = s("svg", {
    class: "heat-legend",
    viewBox: "0 0 220 30",
    role: "img",
    "aria-label": signed ? "Scale from −1 (blue) through 0 (white) to +1 (red)" : "Scale from 0 (white) to 1 (purple)",
  });
  const steps = 22;
  for (let i = 0; i < steps; i += 1) {
    const v = signed ? -1 + (2 * i) / (steps - 1) : i / (steps - 1);
    svg.append(s("rect", { x: 10 + i * 9, y: 2, width: 9, height: 12, fill: color(v, signed) }));
  }
  svg.append(
    s("text", { class: "tick", x: 10, y: 27, "text-anchor": "start" }, signed ? "−1" : "0"),
    s("text", { class: "tick", x: 110, y: 27, "text-anchor": "middle" }, signed ? "0" : "0.5"),
    s("text", { class: "tick", x: 208, y: 27, "text-anchor": "end" }, "1"),
  );
  return svg;
}

/** Scatter of points [[x, y], ...] with the axes' ranges as ticks; null when there is nothing to draw. */
export function scatter(plot, { label = "Scatter plot" } = {}) {
  const points = plot && Array.isArray(plot.points)
    ? plot.points.filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])) : [];
  if (points.length === 0) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = 220;
  const pad = 26;
  const sx = (v) => pad + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (size - pad - 6);
  const sy = (v) => size - pad - (y1 === y0 ? 0.5 : (v - y0) / (y1 - y0)) * (size - pad - 6);
  const svg = s("svg", {
    class: "chart chart-scatter", viewBox: `0 0 ${size} ${size}`, role: "img",
    "aria-label": `${label}: ${points.length} rows, ${plot.x} from ${num(x0)} to ${num(x1)}, `
      + `${plot.y} from ${num(y0)} to ${num(y1)}`,
  });
  for (const [x, y] of points) svg.append(s("circle", { class: "dot", cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 1.8 }));
  svg.append(
    s("line", { class: "axis", x1: pad, x2: size - 6, y1: size - pad, y2: size - pad }),
    s("line", { class: "axis", x1: pad, x2: pad, y1: 6, y2: size - pad }),
    s("text", { class: "tick", x: pad, y: size - 8, "text-anchor": "start" }, num(x0)),
    s("text", { class: "tick", x: size - 6, y: size - 8, "text-anchor": "end" }, num(x1)),
    s("text", { class: "tick", x: 2, y: size - pad, "text-anchor": "start" }, num(y0)),
    s("text", { class: "tick", x: 2, y: 14, "text-anchor": "start" }, num(y1)),
  );
  return svg;
}

/**
 * missingno's matrix of {columns, row_numbers, missing}: a band per column, a line per sampled
 * row (file order), a light mark where the row's value is missing. Runs of gaps are one mark.
 */
export function nullityMatrix(matrix, { label = "Missing values row by row" } = {}) {
  const cols = matrix && Array.isArray(matrix.columns) ? matrix.columns.map(String) : [];
  const rows = matrix && Array.isArray(matrix.missing) ? matrix.missing : [];
  if (cols.length === 0 || rows.length === 0) return null;
  const width = 600;
  const top = 86;
  const height = 240;
  const band = width / cols.length;
  const line = height / rows.length;
  const gaps = cols.map(() => []);
  rows.forEach((missing, r) => {
    for (const c of Array.isArray(missing) ? missing : []) if (Number.isInteger(c) && gaps[c]) gaps[c].push(r);
  });
  const numbers = Array.isArray(matrix.row_numbers) ? matrix.row_numbers : [];
  const svg = s("svg", {
    id: "missing-matrix",
    class: "chart chart-matrix",
    viewBox: `0 -4 ${width + 64} ${top + height + 8}`,
    role: "img",
    "aria-label": `${label}: ${num(rows.length)} sampled rows of ${num(cols.length)} columns`,
  });
  const w = Math.max(band - 0.6, 0.4).toFixed(2);
  cols.forEach((name, c) => {
    const x = (c * band).toFixed(2);
    const missing = gaps[c].length;
    svg.append(s("rect", { class: "matrix-present", x, y: top, width: w, height, "data-column": name, "data-missing": missing },
      s("title", {}, `${name}: ${num(missing)} of ${num(rows.length)} sampled rows missing`)));
    let start = null;
    gaps[c].forEach((r, i) => {
      if (start === null) start = r;
      if (gaps[c][i + 1] !== r + 1) {
        svg.append(s("rect", { class: "matrix-gap", x, y: (top + start * line).toFixed(2), width: w,
          height: Math.max((r + 1 - start) * line, 0.6).toFixed(2) }));
        start = null;
      }
    });
    const cx = (c * band + band / 2).toFixed(2);
    svg.append(s("text", { class: "tick", x: cx, y: top - 4, transform: `rotate(-50 ${cx} ${top - 4})` },
      s("title", {}, name), name.length > 14 ? `${name.slice(0, 13)}…` : name));
  });
  if (numbers.length) {
    svg.append(
      s("text", { class: "tick", x: width + 4, y: top + 8 }, `row ${num(numbers[0] + 1)}`),
      s("text", { class: "tick", x: width + 4, y: top + height }, `row ${num(numbers[numbers.length - 1] + 1)}`),
    );
  }
  return svg;
}
