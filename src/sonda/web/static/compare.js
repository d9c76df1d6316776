// Two analyses side by side: the comparison from GET /analysis/compare (schema changes
// first, then the drifted columns), with each drifted column's histograms overlaid or its
// top values paired, drawn from the two stored results. Values of personal columns are not
// drawn here: the comparison shows them masked, and the page does not repeat that rule.

import { clear, h, num, s } from "./dom.js";

const W = 320;
const H = 140;
const PAD = { top: 8, right: 8, bottom: 22, left: 8 };
const TOP_SHOWN = 8;

const share = (v) => (typeof v === "number" ? `${(100 * v).toFixed(1)}%` : "—");

/** Draw the comparison into container. results: {base, target} full result objects (may be null). */
export function renderComparison(container, comparison, results = {}) {
  clear(container);
  const c = comparison || {};
  const byName = (r) => new Map(((r && r.columns) || []).map((col) => [col.name, col]));
  const base = byName(results.base);
  const target = byName(results.target);
  container.append(
    h("h2", { id: "comparison-title" }, "Comparison"),
    sides(c.base || {}, c.target || {}),
    verdict(c),
    schemaChanges(c.schema || {}),
    driftedColumns(c.columns || [], base, target),
  );
}

function label(side) {
  const name = side.filename || side.analysis_id || "?";
  const rows = side.rows !== null && side.rows !== undefined ? ` · ${num(side.rows)} rows` : "";
  return `${name}${rows}${side.format ? ` · ${side.format}` : ""}${side.approximate ? " · approximate" : ""}`;
}

function sides(base, target) {
  return h("p", { class: "comparison-sides" },
    h("span", { class: "legend legend-base" }, "Base"), ` ${label(base)}  `,
    h("span", { class: "legend legend-target" }, "Target"), ` ${label(target)}`);
}

function verdict(c) {
  const drift = c.drift || {};
  return h("p", {
    class: c.dataset_drift ? "comparison-verdict drift" : "comparison-verdict",
    "data-testid": "comparison-verdict",
    "data-drift": c.dataset_drift ? "true" : "false",
  }, h("strong", {}, c.dataset_drift ? "Dataset drift. " : "No dataset drift. "), drift.rule || "");
}

function schemaChanges(schema) {
  const items = [];
  const renamed = schema.renamed || [];
  const moved = new Set(renamed.flatMap((r) => [r.from, r.to]));
  for (const r of renamed) items.push(["renamed", `${r.from} → ${r.to} (same statistics)`]);
  for (const col of schema.removed || []) if (!moved.has(col.name)) items.push(["removed", `${col.name} (${col.type})`]);
  for (const col of schema.added || []) if (!moved.has(col.name)) items.push(["added", `${col.name} (${col.type})`]);
  for (const t of schema.retyped || []) items.push(["retyped", `${t.column}: ${t.from} → ${t.to}`]);
  return h("section", { class: "report-section", "aria-labelledby": "schema-changes-title", id: "schema-changes" },
    h("h3", { id: "schema-changes-title" }, `Schema changes (${items.length})`),
    items.length
      ? h("ul", { class: "schema-changes" },
        items.map(([kind, text]) => h("li", { "data-change": kind },
          h("span", { class: `change change-${kind}` }, kind), ` ${text}`)))
      : h("p", { class: "muted" }, "Same columns, same types."));
}

function driftedColumns(columns, base, target) {
  const drifted = columns.filter((col) => col.drifted);
  const title = `Drifted columns (${drifted.length} of ${columns.length})`;
  return h("section", { class: "report-section", "aria-labelledby": "drifted-title" },
    h("h3", { id: "drifted-title" }, title),
    drifted.length
      ? h("div", { class: "column-grid" }, drifted.map((col) => driftCard(col, base.get(col.name), target.get(col.name))))
      : h("p", { class: "muted" }, "No column drifted."));
}

function driftCard(col, a, b) {
  const d = col.detail || {};
  const figure = typeof col.value === "number"
    ? `${String(col.metric).replace("_", "-")} ${num(col.value)} > ${num(col.threshold)}`
    : String(d.note || col.metric);
  const missing = d.missing && d.missing.drifted ? `missing ${share(d.missing.base)} → ${share(d.missing.target)}` : null;
  const personal = Boolean((a && a.pii) || (b && b.pii));
  return h("article", { class: "column-card drift-card", "data-column": col.name, "data-metric": col.metric },
    h("h4", {}, col.name, h("span", { class: "muted small" }, ` ${col.type}`)),
    h("p", { class: "small" }, figure, missing ? ` · ${missing}` : null, d.approximate ? " · approximate" : null),
    personal ? h("p", { class: "muted small" }, "Values hidden: personal data.") : picture(col, a, b));
}

function picture(col, a, b) {
  if (!a || !b) return null;
  if (col.type === "datetime") {
    const ha = a.datetime && a.datetime.histogram;
    const hb = b.datetime && b.datetime.histogram;
    return overlaid(ha, hb, (e) => Date.parse(e), (v) => new Date(v).toISOString().slice(0, 10));
  }
  if (a.histogram && b.histogram) return overlaid(a.histogram, b.histogram, Number, num);
  return pairedTops(a, b);
}

/** Both histograms as densities on one axis: the base outlined, the target filled over it. */
function overlaid(ha, hb, toNumber, labelOf) {
  const parse = (hist) => {
    if (!hist || !Array.isArray(hist.edges) || !Array.isArray(hist.counts)) return null;
    const edges = hist.edges.map(toNumber);
    const total = hist.counts.reduce((x, y) => x + (y > 0 ? y : 0), 0);
    if (edges.some((e) => !Number.isFinite(e)) || total <= 0) return null;
    return hist.counts.map((count, i) => ({
      lo: edges[i], hi: edges[i + 1], density: count / total / Math.max(edges[i + 1] - edges[i], 1e-12),
    }));
  };
  const bars = [parse(ha), parse(hb)];
  if (!bars[0] || !bars[1]) return null;
  const all = bars.flat();
  const lo = Math.min(...all.map((x) => x.lo));
  const hi = Math.max(...all.map((x) => x.hi));
  const top = Math.max(...all.map((x) => x.density), 1e-300);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (v) => PAD.left + ((v - lo) / Math.max(hi - lo, 1e-12)) * innerW;
  const svg = s("svg", {
    class: "chart chart-histogram chart-overlay",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": `Histograms of the base (outlined) and the target (filled) from ${labelOf(lo)} to ${labelOf(hi)}`,
    preserveAspectRatio: "none",
  });
  ["target", "base"].forEach((which) => {
    for (const bar of bars[which === "base" ? 0 : 1]) {
      const bh = (bar.density / top) * innerH;
      svg.append(s("rect", {
        class: `bar bar-${which}`,
        x: x(bar.lo).toFixed(2),
        y: (PAD.top + innerH - bh).toFixed(2),
        width: Math.max(x(bar.hi) - x(bar.lo), 0.5).toFixed(2),
        height: bh.toFixed(2),
      }, s("title", {}, `${which}: ${labelOf(bar.lo)} – ${labelOf(bar.hi)}`)));
    }
  });
  svg.append(
    s("text", { class: "tick", x: PAD.left, y: H - 6, "text-anchor": "start" }, labelOf(lo)),
    s("text", { class: "tick", x: W - PAD.right, y: H - 6, "text-anchor": "end" }, labelOf(hi)),
  );
  return svg;
}

/** Each frequent value's share in the base and in the target, as two bars. */
function pairedTops(a, b) {
  const shares = (col) => {
    if (col.boolean) {
      const t = col.boolean.true || 0;
      const f = col.boolean.false || 0;
      return new Map([["true", t / Math.max(t + f, 1)], ["false", f / Math.max(t + f, 1)]]);
    }
    const count = col.count || 0;
    return new Map((col.top_values || []).map((tv) => [String(tv.value), count > 0 ? tv.count / count : 0]));
  };
  const sa = shares(a);
  const sb = shares(b);
  const values = [...new Set([...sa.keys(), ...sb.keys()])]
    .sort((p, q) => Math.max(sb.get(q) || 0, sa.get(q) || 0) - Math.max(sb.get(p) || 0, sa.get(p) || 0))
    .slice(0, TOP_SHOWN);
  if (values.length === 0) return null;
  const rowH = 26;
  const labelW = 118;
  const space = W - labelW - 52;
  const svg = s("svg", {
    class: "chart chart-bars chart-paired",
    viewBox: `0 0 ${W} ${values.length * rowH + 4}`,
    role: "img",
    "aria-label": `Shares of ${values.length} frequent values in the base and the target`,
  });
  values.forEach((value, i) => {
    const y = i * rowH + 2;
    const short = value.length > 15 ? `${value.slice(0, 14)}…` : value;
    const pa = sa.get(value) || 0;
    const pb = sb.get(value) || 0;
    svg.append(s("g", {},
      s("title", {}, `${value}: base ${share(pa)}, target ${share(pb)}`),
      s("text", { class: "bar-label", x: labelW - 5, y: y + 16, "text-anchor": "end" }, short),
      s("rect", { class: "bar bar-base", x: labelW, y: y + 2, width: Math.max(pa * space, 1).toFixed(2), height: 9 }),
      s("rect", { class: "bar bar-target", x: labelW, y: y + 12, width: Math.max(pb * space, 1).toFixed(2), height: 9 }),
      s("text", { class: "bar-value", x: labelW + Math.max(pa, pb) * space + 4, y: y + 16 }, `${share(pa)} → ${share(pb)}`)));
  });
  return svg;
}
