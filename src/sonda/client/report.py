"""A readable terminal report of one analysis (``results-enhanced`` as JSON), drawn with rich.

It reads the documented result shape loosely (``.get`` everywhere), so a newer server with more
fields, or an older one with fewer, still gives a report.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

#: Severity order, worst first.
_RANK = {"critical": 0, "warning": 1, "info": 2}

_SEVERITY = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
STRONG_CORRELATION = 0.5


def number(value: Any, digits: int = 4) -> str:
    """A number as a person reads it: ``1,234``, ``0.1235``, ``1.2e+09``; ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-4):
        return f"{value:.3g}"
    return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"


def percent(fraction: Any) -> str:
    return "-" if fraction is None else f"{100 * float(fraction):.1f}%"


#: Marks a figure estimated from a sketch (a file profiled in streaming mode).
ESTIMATE = "≈"


def estimated(body: dict[str, Any]) -> dict[str, set[str]]:
    """Which columns' figures are estimates, by figure (``columns[].distinct``, ...), as the
    result's ``approximations`` list them."""
    found: dict[str, set[str]] = {}
    for approximation in body.get("approximations") or []:
        found.setdefault(str(approximation.get("figure")), set()).update(approximation.get("columns") or [])
    return found


def describe_column(column: dict[str, Any], estimates: dict[str, set[str]] | None = None) -> str:
    """The few statistics that matter for the column's type, in one line."""
    if column.get("masked"):
        return personal_line(column)
    stats = column.get("stats") or {}
    if stats:
        about = (
            ESTIMATE if column.get("name") in (estimates or {}).get("columns[].stats.quantiles", ()) else ""
        )
        return (
            f"mean {number(stats.get('mean'))}, median {about}{number(stats.get('median'))}, "
            f"min {number(stats.get('min'))}, max {number(stats.get('max'))}, std {number(stats.get('std'))}"
        )
    if dt := column.get("datetime"):
        return f"{escape(str(dt.get('min')))} → {escape(str(dt.get('max')))}"
    if b := column.get("boolean"):
        return f"true {number(b.get('true'))}, false {number(b.get('false'))}"
    if tops := column.get("top_values"):
        return "top: " + ", ".join(
            f"{escape(str(t.get('value')))} ({percent(t.get('pct'))})" for t in tops[:3]
        )
    return ""


def personal_line(column: dict[str, Any]) -> str:
    """A personal column without its values: which data it is, how much of it is valid, its shape."""
    validity = column.get("semantic_validity") or {}
    kinds = ", ".join(f"{escape(str(k))} {percent(v)} valid" for k, v in validity.items())
    tops = column.get("top_values") or []
    shape = f", e.g. {escape(str(tops[0].get('value')))}" if tops else ""
    return f"personal data ({kinds or 'masked'}){shape}"


def strong_pairs(correlations: dict[str, Any], limit: int = 5) -> list[tuple[str, str, float]]:
    """The strongest Pearson pairs (|r| ≥ 0.5), strongest first."""
    pearson = (correlations or {}).get("pearson") or {}
    names, matrix = pearson.get("columns") or [], pearson.get("matrix") or []
    pairs = []
    for i, row in enumerate(matrix):
        for j in range(i + 1, len(row)):
            r = row[j]
            if r is not None and abs(r) >= STRONG_CORRELATION:
                pairs.append((names[i], names[j], float(r)))
    return sorted(pairs, key=lambda p: -abs(p[2]))[:limit]


def render_report(results: dict[str, Any], summary: dict[str, Any] | None = None) -> RenderableType:
    """The whole report: overview, alerts, columns, strong correlations, LLM summary size."""
    body = results.get("results") or {}
    dataset = body.get("dataset") or results.get("summary") or {}
    parts: list[RenderableType] = []
    overview = Table.grid(padding=(0, 2))
    overview.add_row("Rows", number(dataset.get("rows")), "Columns", number(dataset.get("columns")))
    overview.add_row(
        "Missing cells",
        percent(dataset.get("missing_cells_pct"))
        if "missing_cells_pct" in dataset
        else number(dataset.get("missing_cells")),
        "Duplicate rows",
        number(dataset.get("duplicate_rows")),
    )
    fmt = " ".join(escape(str(x)) for x in (dataset.get("format"), dataset.get("encoding")) if x)
    if dataset.get("delimiter"):
        fmt += f", delimiter {escape(repr(dataset['delimiter']))}"
    overview.add_row("Format", fmt or "-", "Took", f"{number(body.get('duration_seconds'))} s")
    if dataset.get("mode") == "streaming":
        overview.add_row("Mode", f"streaming: {ESTIMATE} marks estimates", "", "")
    parts.append(overview)
    estimates = estimated(body)

    found = body.get("alerts") or (results.get("summary") or {}).get("alerts") or []
    # Worst first, as the page shows them: the 15 lines shown are the 15 that matter most.
    alerts = sorted(found, key=lambda a: _RANK.get(str(a.get("severity")), len(_RANK)))
    if alerts:
        lines = Table.grid(padding=(0, 1))
        for alert in alerts[:15]:
            style = _SEVERITY.get(str(alert.get("severity")), "")
            lines.add_row(
                f"[{style}]{escape(str(alert.get('severity')))}[/]", escape(str(alert.get("message")))
            )
        if len(alerts) > 15:
            lines.add_row("", f"… and {len(alerts) - 15} more")
        parts.append(Panel(lines, title=f"Alerts ({len(alerts)})", title_align="left"))

    columns = body.get("columns") or []
    if columns:
        table = Table(title=f"Columns ({len(columns)})", title_justify="left", expand=False)
        for header in ("Column", "Type", "Missing", "Distinct", "Statistics"):
            table.add_column(header, overflow="fold")
        for column in columns:
            about = ESTIMATE if column.get("name") in estimates.get("columns[].distinct", ()) else ""
            table.add_row(
                escape(str(column.get("name"))),
                escape(str(column.get("type"))),
                percent(column.get("missing_pct")),
                about + number(column.get("distinct")),
                describe_column(column, estimates),
            )
        parts.append(table)

    pairs = strong_pairs(body.get("correlations") or {})
    if pairs:
        parts.append(
            "Strong correlations: " + "; ".join(f"{escape(a)} ~ {escape(b)} r={r:+.2f}" for a, b, r in pairs)
        )
    if summary:
        parts.append(
            f"LLM summary: {number(summary.get('tokens'))} tokens "
            f"(GET /api/v1/analysis/summary-for-llm/{results.get('analysis_id')})"
        )
    title = (
        f"{escape(str(results.get('filename') or results.get('file_key') or ''))} — {results.get('status')}"
    )
    return Panel(Group(*parts), title=title, subtitle=str(results.get("analysis_id")), title_align="left")


def print_report(console: Console, results: dict[str, Any], summary: dict[str, Any] | None = None) -> None:
    console.print(render_report(results, summary))
