// Personal data on the page: columns the analyzer flagged `pii` (CPF, CNPJ, phone, e-mail, ...)
// are drawn masked until the reader asks to see them. The rule is the server's
// (sonda_events.privacy): the same shape (`***.***.***-**`) and the same fields kept.

const MASK_CHARS = 32;
// What a personal column keeps while masked: counts and shapes, never a value.
const KEPT = new Set(["name", "type", "dtype", "semantic", "semantic_validity", "pii", "count", "missing",
  "missing_pct", "distinct", "distinct_pct", "unique", "memory_bytes", "approximate", "text"]);

/** The value's shape with every letter and digit hidden: 123.456.789-09 -> ***.***.***-** */
export function mask(value) {
  const text = String(value);
  const chars = Array.from(text);
  const shape = chars.slice(0, MASK_CHARS).map((ch) => (/[\p{L}\p{N}]/u.test(ch) ? "*" : ch)).join("");
  return chars.length > MASK_CHARS ? `${shape}…` : shape;
}

export function personalColumns(result) {
  const cols = result && Array.isArray(result.columns) ? result.columns : [];
  return cols.filter((c) => c && c.pii).map((c) => String(c.name));
}

/** A copy of the result with the personal columns' values masked (the result itself is kept). */
export function maskPersonal(result) {
  const personal = new Set(personalColumns(result));
  if (personal.size === 0) return result;
  const columns = result.columns.map((c) => {
    if (!c || !c.pii) return c;
    const kept = Object.fromEntries(Object.entries(c).filter(([k]) => KEPT.has(k)));
    kept.top_values = Array.isArray(c.top_values) ? c.top_values.map((t) => ({ ...t, value: mask(t.value) })) : null;
    kept.masked = true;
    return kept;
  });
  const hiddenOf = (block) => block.columns.map((name) => personal.has(String(name)));
  const maskRow = (row, hidden) => (Array.isArray(row)
    ? row.map((v, i) => (hidden[i] && v !== null && v !== undefined ? mask(v) : v)) : row);
  const maskRows = (sample) => {
    if (!sample || !Array.isArray(sample.columns) || !Array.isArray(sample.rows)) return sample;
    const hidden = hiddenOf(sample);
    return { ...sample, rows: sample.rows.map((row) => maskRow(row, hidden)) };
  };
  // The duplicated rows carry whole rows too: their personal cells are masked like a sample's.
  const dups = result.duplicates;
  const duplicates = dups && Array.isArray(dups.columns) && Array.isArray(dups.rows)
    ? { ...dups, rows: dups.rows.map((r) => (r && typeof r === "object" ? { ...r, values: maskRow(r.values, hiddenOf(dups)) } : r)) }
    : dups;
  // A scatter plot of a personal column would draw its values: it is left out while masked.
  const scatter = Array.isArray(result.scatter)
    ? result.scatter.filter((p) => p && !personal.has(String(p.x)) && !personal.has(String(p.y)))
    : result.scatter;
  return {
    ...result,
    columns,
    sample: maskRows(result.sample),
    sample_tail: maskRows(result.sample_tail),
    sample_random: maskRows(result.sample_random),
    duplicates,
    scatter,
  };
}
