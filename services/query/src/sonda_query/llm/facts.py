"""Facts for the LLM summary, read tolerantly from a result object (any field may be missing).

The result schema belongs to the analyzer (docs/result-schema.md); this module reads it as plain
JSON so an older or newer result still gives a summary. Shares are computed from counts where the
counts are there, because results have carried both 0–1 fractions and 0–100 percentages.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
NAME_CHARS = 60
VALUE_CHARS = 24


class Alert(msgspec.Struct, kw_only=True, frozen=True):
    severity: str
    type: str
    column: str | None
    message: str
    index: int


class Column(msgspec.Struct, kw_only=True, frozen=True):
    index: int
    name: str
    type: str
    missing_pct: float | None
    distinct: int | None
    #: Ordered (label, value) pairs, already formatted.
    stats: list[tuple[str, str]]
    top: list[tuple[str, str]]
    samples: list[str]
    approximate: bool


class Correlation(msgspec.Struct, kw_only=True, frozen=True):
    a: str
    b: str
    measure: str
    value: float


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # no newlines or runs of blanks from a hostile cell or name
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: Any) -> str:
    """Compact, deterministic: ints with separators, floats to 4 significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return clip(str(value), VALUE_CHARS)


def percent(part: Any, whole: Any) -> float | None:
    if isinstance(part, (int, float)) and isinstance(whole, (int, float)) and whole > 0:
        return 100.0 * float(part) / float(whole)
    return None


def share(value: Any) -> float | None:
    """A share given without counts: 0–1 fractions become percentages."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return float(value) * 100.0 if 0 <= value <= 1 else float(value)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dataset_facts(result: dict[str, Any]) -> dict[str, Any]:
    dataset = as_dict(result.get("dataset"))
    rows = dataset.get("rows")
    columns = dataset.get("columns", len(as_list(result.get("columns"))))
    cells = rows * columns if isinstance(rows, int) and isinstance(columns, int) else None
    facts: dict[str, Any] = {
        "rows": rows,
        "columns": columns,
        "format": dataset.get("format"),
        "file_size": dataset.get("file_size"),
        "encoding": dataset.get("encoding"),
        "delimiter": dataset.get("delimiter"),
        "decimal": dataset.get("decimal"),
        "sheet": dataset.get("sheet"),
        "missing_cells_pct": percent(dataset.get("missing_cells"), cells),
        "duplicate_rows": dataset.get("duplicate_rows"),
        "duplicate_rows_pct": percent(dataset.get("duplicate_rows"), rows),
        "column_types": _type_counts(result),
        "approximate": bool(dataset.get("approximate")),
        "truncated": bool(dataset.get("truncated")),
    }
    return {k: v for k, v in facts.items() if v is not None and v is not False}


def _type_counts(result: dict[str, Any]) -> dict[str, int] | None:
    """How many columns of each type (most common first): the shape of what may be left out."""
    counts: dict[str, int] = {}
    for raw in as_list(result.get("columns")):
        kind = clip(str(as_dict(raw).get("type", "unknown")), 20)
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))) or None


def alerts(result: dict[str, Any]) -> list[Alert]:
    """Alerts ranked by severity, then by their order in the result (stable, deterministic)."""
    found = []
    for index, raw in enumerate(as_list(result.get("alerts"))):
        item = as_dict(raw)
        severity = str(item.get("severity", "info"))
        column = item.get("column")
        found.append(
            Alert(
                severity=severity if severity in SEVERITY_RANK else "info",
                type=clip(str(item.get("type", "alert")), 40),
                column=clip(str(column), NAME_CHARS) if column is not None else None,
                message=clip(str(item.get("message", "")), 200),
                index=index,
            )
        )
    return sorted(found, key=lambda a: (SEVERITY_RANK[a.severity], a.index))


def _stats(profile: dict[str, Any]) -> list[tuple[str, str]]:
    stats = as_dict(profile.get("stats"))
    if stats:
        wanted = ("min", "median", "mean", "max", "std")
        return [(k, number(stats[k])) for k in wanted if stats.get(k) is not None]
    when = as_dict(profile.get("datetime"))
    if when:
        return [(k, clip(str(when[k]), 25)) for k in ("min", "max") if when.get(k) is not None]
    flags = as_dict(profile.get("boolean"))
    if flags:
        total = (flags.get("true") or 0) + (flags.get("false") or 0)
        true = percent(flags.get("true"), total)
        return [("true", f"{true:.1f}%")] if true is not None else []
    text = as_dict(profile.get("text"))
    if text.get("length_mean") is not None:
        return [("mean length", number(text["length_mean"]))]
    return []


def _top(profile: dict[str, Any], count: Any) -> list[tuple[str, str]]:
    top = []
    for raw in as_list(profile.get("top_values"))[:3]:
        item = as_dict(raw)
        pct = percent(item.get("count"), count) or share(item.get("pct"))
        top.append((clip(str(item.get("value")), VALUE_CHARS), f"{pct:.1f}%" if pct is not None else "?"))
    return top


def columns(result: dict[str, Any]) -> list[Column]:
    rows = as_dict(result.get("dataset")).get("rows")
    samples = _samples(as_dict(result.get("sample")))
    found = []
    for index, raw in enumerate(as_list(result.get("columns"))):
        profile = as_dict(raw)
        name = str(profile.get("name", f"column {index + 1}"))
        missing = percent(profile.get("missing"), rows)
        found.append(
            Column(
                index=index,
                name=clip(name, NAME_CHARS),
                type=clip(str(profile.get("type", "unknown")), 20),
                missing_pct=missing if missing is not None else share(profile.get("missing_pct")),
                distinct=profile.get("distinct") if isinstance(profile.get("distinct"), int) else None,
                stats=_stats(profile),
                top=_top(profile, profile.get("count")) if not profile.get("stats") else [],
                samples=samples.get(name, []),
                approximate=bool(profile.get("approximate")),
            )
        )
    return found


def _samples(sample: dict[str, Any], per_column: int = 3) -> dict[str, list[str]]:
    names = [str(n) for n in as_list(sample.get("columns"))]
    out: dict[str, list[str]] = {name: [] for name in names}
    for row in as_list(sample.get("rows")):
        for name, value in zip(names, as_list(row), strict=False):
            shown = number(value) if value is not None else None
            if shown is not None and shown not in out[name] and len(out[name]) < per_column:
                out[name].append(shown)
    return out


def correlations(result: dict[str, Any], limit: int = 10) -> tuple[list[Correlation], int]:
    """The strongest pairs (by |value|, each pair once with its strongest measure) and how many."""
    best: dict[tuple[str, str], Correlation] = {}
    block = as_dict(result.get("correlations"))
    for measure in ("pearson", "spearman", "cramers_v"):
        matrix = as_dict(block.get(measure))
        names = [str(n) for n in as_list(matrix.get("columns"))]
        for i, row in enumerate(as_list(matrix.get("matrix"))):
            for j, value in enumerate(as_list(row)):
                if j <= i or j >= len(names) or i >= len(names) or not isinstance(value, (int, float)):
                    continue
                if not math.isfinite(value):
                    continue
                key = (names[i], names[j])
                current = best.get(key)
                if current is None or abs(value) > abs(current.value):
                    best[key] = Correlation(
                        a=clip(names[i], NAME_CHARS),
                        b=clip(names[j], NAME_CHARS),
                        measure=measure,
                        value=value,
                    )
    ranked = sorted(best.values(), key=lambda c: (-abs(c.value), c.a, c.b, c.measure))
    return ranked[:limit], len(ranked)
