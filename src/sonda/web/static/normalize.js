// Shares in the result ("*_pct" and top_values[].pct) are drawn as percentages 0–100.
// The engine could write them as fractions 0–1 or as percentages; the page decides which
// from the result itself — each share is compared with the count it was computed from —
// so a change of convention never shows "0.05%" for five percent.

/** A copy of the result with every share as a percentage 0–100. */
export function withPercentShares(result) {
  if (!result || typeof result !== "object") return result;
  if (shareScale(result) === 100) return result;
  const d = result.dataset ? { ...result.dataset } : result.dataset;
  if (d) {
    d.missing_cells_pct = times100(d.missing_cells_pct);
    d.duplicate_rows_pct = times100(d.duplicate_rows_pct);
  }
  const columns = Array.isArray(result.columns)
    ? result.columns.map((c) => ({
        ...c,
        missing_pct: times100(c.missing_pct),
        distinct_pct: times100(c.distinct_pct),
        top_values: Array.isArray(c.top_values)
          ? c.top_values.map((t) => ({ ...t, pct: times100(t.pct) }))
          : c.top_values,
      }))
    : result.columns;
  return { ...result, dataset: d, columns };
}

const times100 = (v) => (typeof v === "number" ? v * 100 : v);

/** 100 when shares are already percentages, 1 when they are fractions. */
export function shareScale(result) {
  const pairs = [];
  const d = result.dataset || {};
  const rows = typeof d.rows === "number" ? d.rows : 0;
  const cells = rows * (typeof d.columns === "number" ? d.columns : 0);
  pairs.push([d.missing_cells_pct, d.missing_cells, cells], [d.duplicate_rows_pct, d.duplicate_rows, rows]);
  for (const c of Array.isArray(result.columns) ? result.columns : []) {
    pairs.push([c.missing_pct, c.missing, rows], [c.distinct_pct, c.distinct, rows]);
    for (const t of Array.isArray(c.top_values) ? c.top_values : []) pairs.push([t.pct, t.count, rows]);
  }
  let asFraction = 0;
  let asPercent = 0;
  for (const [share, part, whole] of pairs) {
    if (typeof share !== "number" || typeof part !== "number" || !(whole > 0) || part <= 0) continue;
    const ratio = part / whole;
    // Denominators differ a little between fields (rows, non-missing count); a factor of
    // 100 between the two readings still tells them apart.
    if (Math.abs(share - ratio) < Math.abs(share - ratio * 100)) asFraction += 1;
    else asPercent += 1;
  }
  if (asFraction !== asPercent) return asFraction > asPercent ? 1 : 100;
  const shares = pairs.map(([share]) => share).filter((v) => typeof v === "number");
  return shares.some((v) => v > 1) ? 100 : 1;
}
