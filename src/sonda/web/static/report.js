// The report of one finished analysis, drawn from the engine's full result JSON.
// Every field may be missing or null (older schema versions, columns of other types),
// so each part draws only what it finds.

import { booleanBars, heatLegend, heatmap, histogram, nullityMatrix, scatter, topValues } from "./charts.js";
import { bytes, cell, clear, duration, h, num, pct, when } from "./dom.js";
import { withPercentShares } from "./normalize.js";
import { maskPersonal, personalColumns } from "./privacy.js";

/** Draw the whole result into container; meta is {analysis_id, filename}. Personal columns
 * are masked until the reader presses "Show personal data" (meta.revealPii). */
export function renderReport(container, result, meta = {}) {
  clear(container);
  const shown = meta.revealPii ? result || {} : maskPersonal(result || {});
  const r = withPercentShares(shown);
  document.title = `${meta.filename || meta.file_key || "Report"} · Sonda`;
  // Sections that have nothing to show are null: DOM append() would print them as "null".
  container.append(...[
    header(r, meta),
    personalNotice(result || {}, meta, () => renderReport(container, result, { ...meta, revealPii: !meta.revealPii })),
    overview(r.dataset || {}),
    alerts(r.alerts),
    columns(r.columns),
    correlations(r.correlations),
    scatterPlots(r.scatter),
    missingness(r.missing, (r.dataset || {}).rows, r.columns),
    duplicateRows(r.duplicates, r.dataset || {}),
    sample(r.sample, r.sample_tail, r.sample_random),
    approximations(r.approximations, r.dataset || {}),
  ].filter(Boolean));
}

/** Which columns hold personal data, and the control that reveals or masks their values again. */
function personalNotice(result, meta, toggle) {
  const names = personalColumns(result);
  if (names.length === 0) return null;
  const button = h("button", { type: "button", id: "reveal-pii", "aria-pressed": meta.revealPii ? "true" : "false" },
    meta.revealPii ? "Mask personal data" : "Show personal data");
  button.addEventListener("click", toggle);
  return h("div", { class: "pii-notice", role: "note" },
    h("span", {}, `Personal data in ${names.join(", ")}: `,
      meta.revealPii ? "values shown." : "values masked."), " ", button);
}

function section(id, title, ...body) {
  const headingId = `${id}-title`;
  return h("section", { class: "report-section", "aria-labelledby": headingId },
    h("h3", { id: headingId }, title), ...body);
}

function header(r, meta) {
  const d = r.dataset || {};
  const name = meta.filename || meta.file_key || "Dataset";
  const bits = [d.format, d.encoding, d.delimiter ? `delimiter “${d.delimiter}”` : null,
    d.decimal ? `decimal “${d.decimal}”` : null, d.sheet ? `sheet “${d.sheet}”` : null]
    .filter(Boolean);
  const timing = [r.profiled_at ? `profiled ${when(r.profiled_at)}` : null,
    typeof r.duration_seconds === "number" ? `in ${num(r.duration_seconds)} s` : null].filter(Boolean);
  return h("div", { class: "report-header" },
    h("h2", { id: "report-title" }, name),
    h("p", { class: "muted" },
      meta.analysis_id ? h("span", { "data-testid": "report-analysis-id" }, `Analysis ${meta.analysis_id}`) : null,
      bits.length ? ` · ${bits.join(", ")}` : null,
      timing.length ? ` · ${timing.join(" ")}` : null,
      d.approximate ? h("span", { class: "badge badge-approx", title: "Some figures were estimated from sketches" }, "approximate") : null,
      d.truncated ? h("span", { class: "badge badge-approx", title: "Reading stopped at the row limit" }, "first rows only") : null),
    meta.analysis_id ? downloads(meta.analysis_id) : null);
}

/** Take the analysis away: one self-contained HTML file (opens offline) or the result's JSON. */
function downloads(analysisId) {
  const id = encodeURIComponent(analysisId);
  return h("p", { class: "downloads" },
    h("a", { href: `/api/v1/analysis/report/${id}?download=true`, download: "", "data-testid": "download-report" },
      "Download report"),
    " · ",
    h("a", { href: `/api/v1/analysis/results-enhanced/${id}`, download: `${analysisId}.json`, "data-testid": "download-json" },
      "Download JSON"));
}

/** One overview figure; data-value keeps the raw number for scripts and tests. */
function stat(label, value, testid, note, raw) {
  return h("div", { class: "stat-card" },
    h("div", { class: "stat-label" }, label),
    h("div", { class: "stat-value", "data-testid": testid, "data-value": raw }, value),
    note ? h("div", { class: "stat-note" }, note) : null);
}

function overview(d) {
  return section("overview", "Overview",
    h("div", { class: "stat-grid", id: "dataset-overview" },
      stat("Rows", num(d.rows), "dataset-rows", null, d.rows),
      stat("Columns", num(d.columns), "dataset-columns", null, d.columns),
      stat("Missing cells", num(d.missing_cells), "dataset-missing", pct(d.missing_cells_pct), d.missing_cells),
      stat("Duplicate rows", num(d.duplicate_rows), "dataset-duplicates", pct(d.duplicate_rows_pct), d.duplicate_rows),
      stat("Memory", bytes(d.memory_bytes), "dataset-memory", null, d.memory_bytes),
      stat("File size", bytes(d.file_size), "dataset-file-size", null, d.file_size)));
}

const SEVERITY_ORDER = { critical: 0, error: 0, high: 0, warning: 1, medium: 1, info: 2, low: 2 };

function severityClass(sev) {
  const v = String(sev || "info").toLowerCase().replace(/[^a-z]/g, "");
  if (["critical", "error", "high"].includes(v)) return "severity-high";
  if (["warning", "warn", "medium"].includes(v)) return "severity-warning";
  return "severity-info";
}

/** Alerts grouped by severity, worst first; the groups a person acts on are open, notes folded. */
function alerts(list) {
  const items = Array.isArray(list) ? [...list] : [];
  const rank = (a) => SEVERITY_ORDER[String(a.severity).toLowerCase()] ?? 3;
  items.sort((a, b) => rank(a) - rank(b));
  const item = (a) => {
    const where = a.column ?? (Array.isArray(a.columns) ? a.columns.join(", ") : "");
    const text = a.message || [a.type, where].filter(Boolean).join(": ");
    return h("li", { class: `alert ${severityClass(a.severity)}`, "data-severity": a.severity || "info" },
      h("span", { class: "alert-severity" }, String(a.severity || "info")),
      h("span", { class: "alert-type" }, String(a.type || "")),
      h("span", { class: "alert-message" }, text));
  };
  const groups = [];
  for (const a of items) {
    const key = String(a.severity || "info").toLowerCase();
    const last = groups[groups.length - 1];
    if (last && last.key === key) last.items.push(a);
    else groups.push({ key, items: [a] });
  }
  const body = items.length
    ? groups.map((g) => h("details", { class: "alert-group", "data-severity": g.key,
        open: rank({ severity: g.key }) < 2 },
        h("summary", {}, `${g.key} (${g.items.length})`),
        h("ul", { class: "alert-list" }, g.items.map(item))))
    : h("p", { class: "muted" }, "No alerts: nothing unusual was found.");
  return section("alerts-section", `Alerts (${items.length})`, h("div", { id: "alerts" }, body));
}

function columns(list) {
  const cols = Array.isArray(list) ? list : [];
  return section("columns", `Columns (${cols.length})`,
    h("div", { class: "column-grid", id: "column-cards" }, cols.map(columnCard)));
}

function kv(rows) {
  const shown = rows.filter(([, v]) => v !== null && v !== undefined && v !== "—");
  return h("dl", { class: "kv" }, shown.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function epochLabel(v) {
  if (typeof v === "string") return v.replace("T", " ").replace(/(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/, "");
  if (typeof v !== "number") return String(v);
  const ms = Math.abs(v) > 1e11 ? v : v * 1000; // Seconds or milliseconds since the epoch.
  return new Date(ms).toISOString().slice(0, 10);
}

function columnCard(c) {
  const st = c.stats || null;
  const dt = c.datetime || null;
  const tx = c.text || null;
  const main = [
    ["Missing", c.missing === undefined ? null : `${num(c.missing)} (${pct(c.missing_pct)})`],
    ["Distinct", c.distinct === undefined ? null : `${num(c.distinct)} (${pct(c.distinct_pct)})`],
  ];
  if (st) {
    main.push(["Mean", num(st.mean)], ["Std", num(st.std)], ["Min", num(st.min)],
      ["Median", num(st.median)], ["Max", num(st.max)]);
  }
  if (dt) main.push(["From", dt.min ? epochLabel(dt.min) : null], ["To", dt.max ? epochLabel(dt.max) : null]);
  if (tx) main.push(["Length", `${num(tx.length_min)}–${num(tx.length_max)} (mean ${num(tx.length_mean)})`]);
  if (c.boolean) main.push(["True", num(c.boolean.true)], ["False", num(c.boolean.false)]);

  let chart = null;
  if (st && c.histogram) chart = histogram(c.histogram, { label: `Histogram of ${c.name}` });
  if (!chart && dt && dt.histogram) {
    chart = histogram(dt.histogram, { label: `Dates in ${c.name}`, labelOf: epochLabel });
  }
  if (!chart && c.boolean) chart = booleanBars(c.boolean);
  if (!chart && c.top_values) chart = topValues(c.top_values, { label: `Most frequent values of ${c.name}` });
  if (!chart && c.histogram) chart = histogram(c.histogram, { label: `Histogram of ${c.name}` });

  const semantic = Array.isArray(c.semantic) ? c.semantic : [];
  return h("article", { class: "column-card", "data-column": c.name, "data-type": c.type || "" },
    h("header", { class: "column-head" },
      h("h4", { class: "column-name", title: String(c.name) }, String(c.name)),
      h("span", { class: `badge type-${String(c.type || "unknown").replace(/[^a-z_]/gi, "")}` }, c.type || "unknown"),
      semantic.map((t) => h("span", { class: "badge badge-semantic" }, semanticLabel(t, c.semantic_validity))),
      c.pii ? h("span", { class: "badge badge-pii", title: c.masked ? "Personal data, masked" : "Personal data" },
        c.masked ? "personal · masked" : "personal") : null,
      c.unique ? h("span", { class: "badge badge-unique" }, "unique") : null,
      c.approximate ? h("span", { class: "badge badge-approx" }, "approx.") : null),
    kv(main),
    chart ? h("figure", { class: "column-chart" }, chart) : h("p", { class: "muted small" }, "No chart for this column."),
    more(c));
}

/** "cpf 97%": a semantic type with the share of values valid for it, when the result says. */
function semanticLabel(type, validity) {
  const share = validity && typeof validity[type] === "number" ? ` ${Number((validity[type] * 100).toPrecision(3))}% valid` : "";
  return `${String(type)}${share}`;
}

/** Every remaining statistic, folded away so the card stays short. */
function more(c) {
  const rows = [["Count", num(c.count)], ["Memory", bytes(c.memory_bytes)],
    ["Storage type", c.dtype ? String(c.dtype) : null]];
  const st = c.stats;
  if (st) {
    for (const k of ["range", "sum", "variance", "iqr", "mad", "cv", "skewness", "kurtosis",
      "zeros", "negatives", "infinite", "outliers_iqr"]) {
      if (st[k] !== undefined && st[k] !== null) rows.push([k.replace("_", " "), num(st[k])]);
    }
    const q = st.quantiles || {};
    for (const [k, v] of Object.entries(q)) rows.push([k, num(v)]);
  }
  if (c.text) {
    for (const k of ["entropy", "imbalance", "words_mean"]) {
      if (c.text[k] !== undefined && c.text[k] !== null) rows.push([k.replace("_", " "), num(c.text[k])]);
    }
  }
  if (c.datetime) {
    rows.push(["Range", duration(c.datetime.range_seconds)]);
    if (c.datetime.frequency) rows.push(["Frequency", String(c.datetime.frequency)]);
  }
  if (c.boolean) rows.push(["Missing (bool)", num(c.boolean.missing)]);
  const tv = Array.isArray(c.top_values) ? c.top_values.slice(0, 10) : [];
  return h("details", { class: "column-more" },
    h("summary", {}, "More statistics"),
    kv(rows),
    extremes(st && st.extremes),
    tv.length ? h("table", { class: "mini-table" },
      h("caption", {}, "Most frequent values"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Count"), h("th", { scope: "col" }, "%"))),
      h("tbody", {}, tv.map((t) => h("tr", {}, h("td", {}, cell(t.value)), h("td", {}, num(t.count)), h("td", {}, pct(t.pct)))))) : null);
}

/** The smallest and largest values with their counts, side by side. */
function extremes(x) {
  const low = x && Array.isArray(x.smallest) ? x.smallest : [];
  const high = x && Array.isArray(x.largest) ? x.largest : [];
  if (!low.length && !high.length) return null;
  const rows = Array.from({ length: Math.max(low.length, high.length) }, (_, i) => h("tr", {},
    h("td", {}, low[i] ? num(low[i].value) : ""), h("td", {}, low[i] ? num(low[i].count) : ""),
    h("td", {}, high[i] ? num(high[i].value) : ""), h("td", {}, high[i] ? num(high[i].count) : "")));
  return h("table", { class: "mini-table extremes" },
    h("caption", {}, "Extreme values"),
    h("thead", {}, h("tr", {}, ["Smallest", "Rows", "Largest", "Rows"].map((k) => h("th", { scope: "col" }, k)))),
    h("tbody", {}, rows));
}

const METHODS = [
  ["pearson", "Pearson", true],
  ["spearman", "Spearman", true],
  ["cramers_v", "Cramér's V", false],
];

function correlations(corr) {
  const c = corr || {};
  const available = METHODS.filter(([key]) => c[key] && Array.isArray(c[key].columns) && c[key].columns.length > 1);
  if (available.length === 0) {
    return section("correlations", "Correlations",
      h("p", { class: "muted", id: "correlation-empty" }, "Not enough columns to correlate."),
      omitted(c.omitted_columns), ratio(c.correlation_ratio));
  }
  const holder = h("div", { class: "heatmap-holder" });
  const legend = h("div", { class: "heatmap-legend" });
  const select = h("select", { id: "correlation-method", "aria-controls": "correlation-heatmap" },
    available.map(([key, label]) => h("option", { value: key }, label)));
  const draw = () => {
    const [key, label, signed] = available.find(([k]) => k === select.value) || available[0];
    clear(holder).append(heatmap(c[key], { signed, label }) || h("p", { class: "muted" }, "Nothing to draw."));
    clear(legend).append(heatLegend(signed));
  };
  select.addEventListener("change", draw);
  draw();
  return section("correlations", "Correlations",
    h("div", { class: "toolbar" }, h("label", { for: "correlation-method" }, "Measure "), select, legend),
    holder, omitted(c.omitted_columns), ratio(c.correlation_ratio));
}

function omitted(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h("p", { class: "muted small" },
    `Left out of the correlations (too many columns): ${list.map(String).join(", ")}.`);
}

const RATIO_LIMIT = 30;
/** η below this says a numeric column hardly differs between the groups: not worth a row. */
const RATIO_MIN = 0.1;

/** Correlation ratio (η) of a numeric column within the groups of a categorical one. */
function ratio(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  const all = list.filter((x) => x && typeof x === "object");
  const rows = all.filter((x) => typeof x.value === "number" && x.value >= RATIO_MIN)
    .sort((a, b) => b.value - a.value);
  if (rows.length === 0) {
    return all.length ? h("p", { class: "muted small", id: "correlation-ratio" },
      `Correlation ratio (η): no pair reaches ${RATIO_MIN}.`) : null;
  }
  const weaker = all.length - rows.length;
  const caption = `Correlation ratio (η) of at least ${RATIO_MIN}`
    + (rows.length > RATIO_LIMIT ? `, strongest ${RATIO_LIMIT} of ${rows.length}` : "")
    + (weaker ? ` (${weaker} weaker left out)` : "");
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Correlation ratio" },
    h("table", { class: "mini-table", id: "correlation-ratio" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ["Numeric", "By categories of", "η"].map((k) => h("th", { scope: "col" }, k)))),
      h("tbody", {}, rows.slice(0, RATIO_LIMIT).map((x) => h("tr", {},
        h("td", {}, cell(x.numeric)), h("td", {}, cell(x.categorical)), h("td", {}, num(x.value)))))));
}

/** Scatter plots of the most related numeric pairs, from a random sample of rows. */
function scatterPlots(list) {
  const plots = Array.isArray(list) ? list.filter((p) => p && Array.isArray(p.points) && p.points.length) : [];
  if (plots.length === 0) return null;
  return section("scatter", "Related pairs",
    h("p", { class: "muted small" }, `Each dot is a row of a random sample of the table.`),
    h("div", { class: "scatter-grid" }, plots.map((p) => h("figure", { class: "scatter-plot", "data-x": p.x, "data-y": p.y },
      scatter(p, { label: `${p.y} against ${p.x}` }),
      h("figcaption", {}, `${p.y} against ${p.x} · r = ${num(p.pearson)} · ${num(p.rows_sampled)} rows`)))));
}

const PAIR_LIMIT = 10;

/** Which values go missing together: rows with a gap, the commonest patterns, and the column
 * pairs whose gaps correlate most (nullity correlation). Shares are drawn from the counts. */
function missingness(m, rows, columns) {
  if (!m || typeof m !== "object" || !(m.rows_with_missing > 0)) return null;
  // Per column, the most missing first: the bars a person reads before the patterns.
  const gaps = (Array.isArray(columns) ? columns : [])
    .filter((c) => c && typeof c.missing === "number" && c.missing > 0)
    .map((c) => ({ value: String(c.name), count: c.missing, pct: rows > 0 ? (100 * c.missing) / rows : null }))
    .sort((a, b) => b.count - a.count);
  const perColumn = gaps.length
    ? h("figure", { class: "column-chart", id: "missing-per-column" },
      topValues(gaps, { label: "Missing values per column", limit: 20 }),
      h("figcaption", { class: "muted small" }, gaps.length > 20
        ? `Missing values per column, the 20 most of ${gaps.length}` : "Missing values per column"))
    : null;
  const share = (count) => (rows > 0 ? `${num((100 * count) / rows)}%` : "");
  const patterns = (Array.isArray(m.patterns) ? m.patterns : []).filter((p) => p && Array.isArray(p.columns));
  const corr = m.nullity_correlation || {};
  const names = Array.isArray(corr.columns) ? corr.columns.map(String) : [];
  const pairs = [];
  names.forEach((a, i) => names.forEach((b, j) => {
    const v = Array.isArray(corr.matrix) && Array.isArray(corr.matrix[i]) ? corr.matrix[i][j] : null;
    if (j > i && typeof v === "number") pairs.push([a, b, v]);
  }));
  pairs.sort((x, y) => Math.abs(y[2]) - Math.abs(x[2]));
  const matrix = m.matrix && nullityMatrix(m.matrix);
  return section("missingness", "Missing values",
    perColumn,
    matrix ? h("figure", { class: "column-chart matrix-figure" }, matrix,
      h("figcaption", { class: "muted small" },
        `Row by row: ${num(m.matrix.missing.length)} rows drawn at random from ${num(m.matrix.rows_total)}, `
        + "in file order, one line each; a light mark is a missing value.")) : null,
    h("p", { id: "rows-with-missing", "data-value": m.rows_with_missing },
      `${num(m.rows_with_missing)} rows (${share(m.rows_with_missing)}) have a missing value, in `
      + `${num(m.patterns_distinct)} different patterns.`),
    patterns.length ? h("table", { class: "mini-table", id: "missing-patterns" },
      h("caption", {}, "Most common patterns (the columns missing in those rows)"),
      h("thead", {}, h("tr", {}, ["Missing columns", "Rows", "Share"].map((k) => h("th", { scope: "col" }, k)))),
      h("tbody", {}, patterns.map((p) => h("tr", {},
        h("td", {}, p.columns.map(String).join(", ")), h("td", {}, num(p.count)), h("td", {}, share(p.count)))))) : null,
    pairs.length ? h("table", { class: "mini-table", id: "nullity-correlation" },
      h("caption", {}, "Columns whose gaps go together (nullity correlation; 1: always together, -1: never)"),
      h("thead", {}, h("tr", {}, ["Column", "Column", "r"].map((k) => h("th", { scope: "col" }, k)))),
      h("tbody", {}, pairs.slice(0, PAIR_LIMIT).map(([a, b, v]) => h("tr", {},
        h("td", {}, a), h("td", {}, b), h("td", {}, num(v)))))) : null);
}

/** A cell of a table of rows: a missing value is a dash, said as "missing" to screen readers. */
function valueCell(v) {
  return v === null || v === undefined
    ? h("td", { class: "null-cell", title: "missing" }, h("span", { class: "visually-hidden" }, "missing"), "—")
    : h("td", {}, cell(v));
}

/** The most frequent duplicated rows, each with the number of rows holding it. */
function duplicateRows(dups, d) {
  if (!dups || !Array.isArray(dups.columns) || !Array.isArray(dups.rows)) return null;
  const rows = dups.rows.filter((r) => r && Array.isArray(r.values));
  if (rows.length === 0) {
    return section("duplicates", "Duplicate rows", h("p", { class: "muted", id: "duplicate-rows-none" }, "No row repeats."));
  }
  return section("duplicates", "Duplicate rows",
    h("p", { class: "muted small" }, `${num(d.duplicate_rows)} rows repeat an earlier row. `
      + `The ${rows.length === 1 ? "one" : `${rows.length} most frequent`}, with the number of rows holding each:`),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Duplicate rows" },
      h("table", { class: "data-table", id: "duplicate-rows" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Rows"),
          dups.columns.map((c) => h("th", { scope: "col" }, String(c))))),
        h("tbody", {}, rows.map((r) => h("tr", {},
          h("td", { class: "count-cell", "data-count": r.count }, num(r.count)),
          r.values.map(valueCell)))))));
}

function rowsTable(smp, label) {
  const cols = smp && Array.isArray(smp.columns) ? smp.columns : [];
  const rows = smp && Array.isArray(smp.rows) ? smp.rows : [];
  const numbers = smp && Array.isArray(smp.row_numbers) ? smp.row_numbers : null;
  if (!cols.length) return h("p", { class: "muted" }, "No rows.");
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label },
    h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, numbers ? h("th", { scope: "col" }, "Row") : null,
        cols.map((c) => h("th", { scope: "col" }, String(c))))),
      h("tbody", {}, rows.map((row, i) => h("tr", {},
        numbers ? h("td", { class: "row-number" }, num(numbers[i] + 1)) : null,
        (Array.isArray(row) ? row : []).map(valueCell))))));
}

/** First, last or random rows, one at a time. */
function sample(first, last, random) {
  const kinds = [["first", "First rows", first], ["last", "Last rows", last], ["random", "Random rows", random]]
    .filter(([, , smp]) => smp && Array.isArray(smp.columns) && smp.columns.length);
  if (kinds.length === 0) return section("sample", "Sample rows", h("p", { class: "muted" }, "No sample rows."));
  const holder = h("div", { id: "sample-rows" });
  const select = h("select", { id: "sample-kind", "aria-controls": "sample-rows" },
    kinds.map(([key, label]) => h("option", { value: key }, label)));
  const draw = () => {
    const [, label, smp] = kinds.find(([k]) => k === select.value) || kinds[0];
    clear(holder).append(rowsTable(smp, label));
  };
  select.addEventListener("change", draw);
  draw();
  return section("sample", "Sample rows",
    h("div", { class: "toolbar" }, h("label", { for: "sample-kind" }, "Show "), select), holder);
}

function approximations(list, d) {
  const items = Array.isArray(list) ? list.filter(Boolean) : [];
  if (items.length === 0 && !d.truncated) return null;
  const text = (a) => {
    if (typeof a === "string") return a;
    const what = a.figure ? h("code", {}, String(a.figure)) : null;
    const how = [a.method, a.description].filter(Boolean).join(": ");
    return [what, what && how ? " — " : null, how || (a.message ? String(a.message) : what ? null : cell(a))];
  };
  return section("approximations", "Approximations",
    h("ul", { class: "note-list" },
      d.truncated ? h("li", {}, "Only the first rows of the file were read (row limit).") : null,
      items.map((a) => h("li", {}, text(a)))));
}

