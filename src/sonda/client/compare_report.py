"""A comparison of two analyses in the terminal: schema changes first, then the drifted columns.

Reads the comparison document loosely (``.get`` everywhere), like the single report. Values of
personal columns arrive masked from the comparison itself (``sonda_query.compare``), and every
name and value is escaped, so a hostile column name cannot restyle the screen.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from sonda.client.report import number, percent

TOP_SHOWN = 3


def _side(side: dict[str, Any]) -> str:
    name = side.get("filename") or side.get("analysis_id") or "?"
    rows = number(side.get("rows"))
    fmt = side.get("format") or "?"
    approx = ", approximate" if side.get("approximate") else ""
    return f"{escape(str(name))} ({rows} rows, {escape(str(fmt))}{approx})"


def _schema(schema: dict[str, Any]) -> RenderableType | None:
    lines = Table.grid(padding=(0, 1))
    renamed = schema.get("renamed") or []
    moved = {r.get("from") for r in renamed} | {r.get("to") for r in renamed}
    for rename in renamed:
        lines.add_row(
            "[cyan]renamed[/]",
            f"{escape(str(rename.get('from')))} → {escape(str(rename.get('to')))} (same statistics)",
        )
    for change, style in (("removed", "red"), ("added", "green")):
        for column in schema.get(change) or []:
            if column.get("name") not in moved:
                lines.add_row(
                    f"[{style}]{change}[/]", f"{escape(str(column.get('name')))} ({column.get('type')})"
                )
    for retyped in schema.get("retyped") or []:
        lines.add_row(
            "[yellow]retyped[/]",
            f"{escape(str(retyped.get('column')))}: {retyped.get('from')} → {retyped.get('to')}",
        )
    if not lines.rows:
        return None
    return Panel(lines, title=f"Schema changes ({len(lines.rows)})", title_align="left")


def _what_moved(column: dict[str, Any]) -> str:
    detail = column.get("detail") or {}
    parts: list[str] = []
    missing = detail.get("missing") or {}
    if missing.get("drifted"):
        parts.append(f"missing {percent(missing.get('base'))} → {percent(missing.get('target'))}")
    span = detail.get("range") or {}
    if span.get("target_min") is not None and span.get("base_min") is not None:
        parts.append(
            f"range {number(span.get('base_min'))}..{number(span.get('base_max'))} → "
            f"{number(span.get('target_min'))}..{number(span.get('target_max'))}"
        )
    tops = detail.get("top_changes") or []
    if tops:
        parts.append(
            ", ".join(
                f"{escape(str(t.get('value')))} {percent(t.get('base'))} → {percent(t.get('target'))}"
                for t in tops[:TOP_SHOWN]
            )
        )
    if detail.get("note"):
        parts.append(escape(str(detail["note"])))
    if detail.get("approximate"):
        parts.append("approximate")
    return "; ".join(parts)


def _drifted(columns: list[dict[str, Any]]) -> RenderableType | None:
    drifted = [c for c in columns if c.get("drifted")]
    if not drifted:
        return None
    table = Table(title=f"Drifted columns ({len(drifted)} of {len(columns)})", title_justify="left")
    for header in ("Column", "Type", "Metric", "Value", "Threshold", "What moved"):
        table.add_column(header, overflow="fold")
    for column in drifted:
        table.add_row(
            escape(str(column.get("name"))),
            escape(str(column.get("type"))),
            escape(str(column.get("metric"))).replace("_", "-"),
            number(column.get("value")),
            number(column.get("threshold")),
            _what_moved(column),
        )
    return table


def render_comparison(comparison: dict[str, Any]) -> RenderableType:
    """Base and target, schema changes, drifted columns, then the dataset's verdict and its rule."""
    parts: list[RenderableType] = []
    sides = Table.grid(padding=(0, 2))
    sides.add_row("Base", _side(comparison.get("base") or {}))
    sides.add_row("Target", _side(comparison.get("target") or {}))
    parts.append(sides)
    schema = _schema(comparison.get("schema") or {})
    if schema is not None:
        parts.append(schema)
    columns = comparison.get("columns") or []
    drifted = _drifted(columns)
    parts.append(drifted if drifted is not None else f"No column drifted ({len(columns)} compared).")
    drift = comparison.get("drift") or {}
    verdict = (
        "[bold red]Dataset drift[/]" if comparison.get("dataset_drift") else "[green]No dataset drift[/]"
    )
    parts.append(f"{verdict}: {escape(str(drift.get('rule', '')))}")
    return Panel(Group(*parts), title="Comparison", title_align="left")
