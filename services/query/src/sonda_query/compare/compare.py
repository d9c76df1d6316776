"""Compare two profile results: schema, each shared column, the dataset's verdict."""

from __future__ import annotations

from typing import Any

from sonda_query.compare.columns import NUMERIC_TYPES, compare_column, kind
from sonda_query.compare.model import Comparison, Side
from sonda_query.compare.options import CompareOptions
from sonda_query.compare.schema import columns_by_name, schema_changes
from sonda_query.compare.verdict import dataset_drift, important_changes

#: The approximation entries (docs/result-schema.md) behind each kind's distribution figure.
_FIGURES = {"histogram": "columns[].histogram", "top_values": "columns[].top_values"}


def _approximation_notes(result: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per figure, per column name: the stated error of that figure (streaming profiles)."""
    notes: dict[str, dict[str, str]] = {figure: {} for figure in _FIGURES}
    entries = result.get("approximations")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        for figure, name in _FIGURES.items():
            if entry.get("figure") != name:
                continue
            text = f"{entry.get('method')}: {entry.get('description')}"
            columns = entry.get("columns")
            for column in columns if isinstance(columns, list) and columns else ["*"]:
                if isinstance(column, str):
                    notes[figure][column] = text
    return notes


def _note(notes: dict[str, dict[str, str]], column: dict[str, Any]) -> str:
    figure = notes["histogram" if kind(column) in NUMERIC_TYPES else "top_values"]
    name = str(column.get("name"))
    return figure.get(name) or figure.get("*") or ""


def side_of(result: dict[str, Any], *, analysis_id: str | None = None, filename: str | None = None) -> Side:
    dataset = result.get("dataset")
    dataset = dataset if isinstance(dataset, dict) else {}
    rows, columns, fmt = dataset.get("rows"), dataset.get("columns"), dataset.get("format")
    return Side(
        analysis_id=analysis_id,
        filename=filename,
        rows=rows if isinstance(rows, int) else None,
        columns=columns if isinstance(columns, int) else None,
        format=fmt if isinstance(fmt, str) else None,
        approximate=bool(dataset.get("approximate")),
    )


def compare_results(
    base: dict[str, Any],
    target: dict[str, Any],
    options: CompareOptions | None = None,
    *,
    base_side: Side | None = None,
    target_side: Side | None = None,
) -> Comparison:
    """The comparison of two profile results (docs/result-schema.md), base first.

    Never raises on a result's shape: a figure that is missing or malformed leaves its metric out.
    """
    options = options or CompareOptions()
    base_side = base_side or side_of(base)
    target_side = target_side or side_of(target)
    old, new = columns_by_name(base), columns_by_name(target)
    base_notes, target_notes = _approximation_notes(base), _approximation_notes(target)
    columns = [
        compare_column(
            column,
            new[name],
            base_rows=base_side.rows,
            target_rows=target_side.rows,
            options=options,
            notes={"base": _note(base_notes, column), "target": _note(target_notes, new[name])},
        )
        for name, column in old.items()
        if name in new
    ]
    schema = schema_changes(base, target)
    drift = dataset_drift(columns, options)
    return Comparison(
        base=base_side,
        target=target_side,
        options=options,
        schema=schema,
        columns=columns,
        dataset_drift=drift.drifted,
        drift=drift,
        changes=important_changes(schema, columns, base_side, target_side),
    )
