// Small DOM and formatting helpers. Every piece of data reaches the page through
// textContent or setAttribute, never innerHTML, so a hostile column name or cell value
// from an uploaded file cannot inject markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an HTML element: h("div", {class: "x", "data-testid": "y"}, child, "text"). */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** Create an SVG element with the same calling convention as h(). */
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Remove every child of el. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

const INT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A number for people: integers with separators, others with 4 significant digits. */
export function num(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return INT.format(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return value.toExponential(3);
  return Number(value.toPrecision(4)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** A percentage; accepts 0–100 values (the engine's *_pct fields). */
export function pct(value) {
  if (value === null || value === undefined || typeof value !== "number") return "—";
  if (value === 0) return "0%";
  if (value < 0.01) return "<0.01%";
  return `${Number(value.toPrecision(3))}%`;
}

/** Bytes as B/KiB/MiB/GiB. */
export function bytes(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A date-time string (ISO) in the reader's locale; the raw text if it does not parse. */
export function when(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

/** A duration in seconds for people (e.g. "3 d 4 h"). */
export function duration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—";
  const parts = [
    ["d", 86400],
    ["h", 3600],
    ["min", 60],
    ["s", 1],
  ];
  let rest = Math.abs(seconds);
  const out = [];
  for (const [unit, size] of parts) {
    if (rest >= size && out.length < 2) {
      out.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return out.length ? out.join(" ") : `${seconds} s`;
}

/** A short text of any cell value (null as an empty marker). */
export function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
