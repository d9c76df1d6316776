"""Personal data kept off the terminal: the CLI's copy of a result with ``pii`` columns masked.

The rule (which columns are personal, how a value is masked) is ``sonda_events.privacy``'s and the
analyzer's ``columns[].pii``; this module only applies it to the ``results-enhanced`` document
before anything is printed. A personal column keeps its counts, semantic types and validity; its
frequent values and its cells in the sample and duplicated rows become masked shapes
(``***.***.***-**``), and every other block of it (numeric statistics of a CPF read as a number,
histograms, blocks added by newer servers) is left out, so a field this module does not know cannot
leak a value.
"""

from __future__ import annotations

from typing import Any

from sonda_events.privacy import mask

#: What a personal column keeps: counts and shapes, never a value.
_KEPT = frozenset({
    "name", "type", "dtype", "semantic", "semantic_validity", "pii", "count", "missing",
    "missing_pct", "distinct", "distinct_pct", "unique", "memory_bytes", "approximate", "text",
})  # fmt: skip


def personal_columns(result: dict[str, Any]) -> set[str]:
    return {str(c.get("name")) for c in result.get("columns") or [] if c.get("pii")}


def _column(column: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in column.items() if k in _KEPT}
    tops = column.get("top_values") or []
    kept["top_values"] = [{**t, "value": mask(t.get("value"))} for t in tops] or None
    kept["masked"] = True
    return kept


def _hidden(rows: dict[str, Any], personal: set[str]) -> set[int]:
    """Positions of the personal columns in a block of rows (a sample, the duplicated rows)."""
    return {i for i, n in enumerate(rows.get("columns") or []) if n in personal}


def _masked(row: list[Any], hidden: set[int]) -> list[Any]:
    return [mask(v) if i in hidden and v is not None else v for i, v in enumerate(row)]


def redact_result(result: dict[str, Any]) -> dict[str, Any]:
    """A copy of a profile result (the ``results`` object) with personal columns masked."""
    personal = personal_columns(result)
    if not personal:
        return result
    out = dict(result)
    out["columns"] = [_column(c) if c.get("pii") else c for c in result.get("columns") or []]
    for key in ("sample", "sample_tail", "sample_random"):
        sample = result.get(key)
        if isinstance(sample, dict):
            hidden = _hidden(sample, personal)
            rows = [_masked(row, hidden) for row in sample.get("rows") or []]
            out[key] = {**sample, "rows": rows}
    duplicates = result.get("duplicates")
    if isinstance(duplicates, dict):
        hidden = _hidden(duplicates, personal)
        listed = [
            {**r, "values": _masked(r.get("values") or [], hidden)} for r in duplicates.get("rows") or []
        ]
        out["duplicates"] = {**duplicates, "rows": listed}
    # A scatter plot of a personal column would carry its values: it is left out.
    out["scatter"] = [
        p for p in result.get("scatter") or [] if p.get("x") not in personal and p.get("y") not in personal
    ]
    return out


def redact_response(response: dict[str, Any]) -> dict[str, Any]:
    """The ``results-enhanced`` response with its result redacted (other keys carry no values)."""
    body = response.get("results")
    if not isinstance(body, dict):
        return response
    return {**response, "results": redact_result(body)}
