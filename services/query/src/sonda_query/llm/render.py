"""Render a planned selection as Markdown or JSON, and fit it to the budget exactly.

``summarize`` estimates each part's cost with the real tokenizer, plans (``plan.py``), renders, then
counts the whole text; if line joins made it a few tokens over, it takes back the lowest-priority
parts until it fits. So the text never exceeds ``max_tokens``, and says what it left out.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

from sonda_query.llm import facts
from sonda_query.llm.facts import Alert, Column, Correlation, number
from sonda_query.llm.plan import Costs, Selection, plan
from sonda_query.llm.tokens import Tokenizer

SummaryFormat = Literal["markdown", "json"]
#: Tokens kept for section titles, which appear only once a section has something to show.
SECTION_TITLES_RESERVE = 24
MIN_TOKENS = 300


class Meta(msgspec.Struct, kw_only=True, frozen=True):
    """What the read model knows about the analysis (not in the result object)."""

    analysis_id: str
    filename: str | None
    file_key: str
    completed_at: str | None


class LeftOut(msgspec.Struct, kw_only=True, frozen=True):
    columns_shown: int
    columns_detailed: int
    columns_total: int
    alerts_shown: int
    alerts_total: int
    #: Left-out alerts by severity (only severities with any left out).
    alerts_left_out: dict[str, int]
    correlations_shown: int
    correlations_total: int

    @property
    def anything(self) -> bool:
        return (
            self.columns_shown < self.columns_total
            or self.columns_detailed < self.columns_total
            or self.alerts_shown < self.alerts_total
            or self.correlations_shown < self.correlations_total
        )


class Summary(msgspec.Struct, kw_only=True, frozen=True):
    text: str
    tokens: int
    left_out: LeftOut
    #: The JSON document itself (format ``json`` only).
    document: dict[str, Any] | None = None


def left_out(selection: Selection) -> LeftOut:
    missing: dict[str, int] = {}
    for alert in selection.alerts:
        if alert.index not in selection.shown_alerts:
            missing[alert.severity] = missing.get(alert.severity, 0) + 1
    return LeftOut(
        columns_shown=len(selection.shown_columns),
        columns_detailed=len(selection.detailed_columns),
        columns_total=len(selection.columns),
        alerts_shown=len(selection.shown_alerts),
        alerts_total=len(selection.alerts),
        alerts_left_out={k: missing[k] for k in ("critical", "warning", "info") if k in missing},
        correlations_shown=selection.shown_correlations,
        correlations_total=selection.correlations_total,
    )


class Renderer(Protocol):
    def alert(self, alert: Alert) -> Any: ...
    def column(self, column: Column, *, detailed: bool) -> Any: ...
    def correlation(self, correlation: Correlation) -> Any: ...
    def render(self, meta: Meta, dataset: dict[str, Any], selection: Selection) -> tuple[str, Any]: ...
    def cost(self, part: Any) -> int: ...


def _shown(selection: Selection) -> tuple[list[Alert], list[Column], list[Correlation]]:
    alerts = [a for a in selection.alerts if a.index in selection.shown_alerts]
    columns = [c for c in selection.columns if c.index in selection.shown_columns]
    return alerts, columns, selection.correlations[: selection.shown_correlations]


class Markdown:
    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer

    def cost(self, part: Any) -> int:
        return self._tokenizer.count(f"{part}\n")

    def alert(self, alert: Alert) -> str:
        message = alert.message or f"{alert.type} in {alert.column}"
        return f"- [{alert.severity}] {message} ({alert.type})"

    def column(self, column: Column, *, detailed: bool) -> str:
        name = column.name.replace("`", "'")
        parts = [column.type]
        if column.missing_pct is not None:
            parts.append(f"{column.missing_pct:.1f}% missing")
        if column.distinct is not None:
            parts.append(f"{'~' if column.approximate else ''}{column.distinct:,} distinct")
        line = f"- `{name}`: {', '.join(parts)}"
        if not detailed:
            return line
        if column.stats:
            line += "; " + ", ".join(f"{k} {v}" for k, v in column.stats)
        if column.top:
            line += "; top: " + ", ".join(f"{v} ({p})" for v, p in column.top)
        if column.samples:
            line += "; e.g. " + ", ".join(column.samples)
        return line

    def correlation(self, correlation: Correlation) -> str:
        return f"- {correlation.a} ~ {correlation.b}: {correlation.measure} {correlation.value:.2f}"

    def render(self, meta: Meta, dataset: dict[str, Any], selection: Selection) -> tuple[str, Any]:
        alerts, columns, correlations = _shown(selection)
        lines = [f"# Dataset summary: {facts.clip(meta.filename or meta.file_key, 80)}"]
        lines += _header_lines(meta, dataset)
        if alerts:
            lines += ["", f"## Alerts ({len(alerts):,} of {len(selection.alerts):,}, most severe first)"]
            lines += [self.alert(a) for a in alerts]
        if columns:
            lines += ["", f"## Columns ({len(columns):,} of {len(selection.columns):,})"]
            lines += [self.column(c, detailed=c.index in selection.detailed_columns) for c in columns]
        if correlations:
            lines += ["", "## Strongest correlations"]
            lines += [self.correlation(c) for c in correlations]
        lines += ["", "## Left out", *_left_out_lines(left_out(selection))]
        return "\n".join(lines), None


def _header_lines(meta: Meta, dataset: dict[str, Any]) -> list[str]:
    lines = [
        f"- Analysis {meta.analysis_id}" + (f", completed {meta.completed_at}" if meta.completed_at else "")
    ]
    if "rows" in dataset or "columns" in dataset:
        lines.append(
            f"- Shape: {number(dataset.get('rows', '?'))} rows × {number(dataset.get('columns', '?'))} columns"
        )
    file_parts = [str(dataset["format"])] if "format" in dataset else []
    if "file_size" in dataset:
        file_parts.append(f"{number(dataset['file_size'])} bytes")
    for key in ("encoding", "delimiter", "decimal", "sheet"):
        if key in dataset:
            file_parts.append(f"{key} {facts.clip(repr(dataset[key]), 30)}")
    if file_parts:
        lines.append("- File: " + ", ".join(file_parts))
    quality = []
    if "missing_cells_pct" in dataset:
        quality.append(f"{dataset['missing_cells_pct']:.1f}% of cells missing")
    if "duplicate_rows" in dataset:
        pct = dataset.get("duplicate_rows_pct")
        quality.append(
            f"{number(dataset['duplicate_rows'])} duplicate rows" + (f" ({pct:.1f}%)" if pct else "")
        )
    if quality:
        lines.append("- Quality: " + "; ".join(quality))
    if dataset.get("column_types"):
        types = ", ".join(f"{number(n)} {kind}" for kind, n in dataset["column_types"].items())
        lines.append(f"- Column types: {types}")
    if dataset.get("approximate"):
        lines.append("- Some figures are approximate (large file, streamed with sketches)")
    if dataset.get("truncated"):
        lines.append("- Only the first rows were read (row limit)")
    return lines


def _left_out_lines(out: LeftOut) -> list[str]:
    if not out.anything:
        return ["- Nothing: every column, alert and correlation is shown."]
    lines = []
    if out.columns_shown < out.columns_total or out.columns_detailed < out.columns_total:
        lines.append(
            f"- Columns: {out.columns_total - out.columns_shown:,} of {out.columns_total:,} not shown; "
            f"{out.columns_detailed:,} with full detail"
        )
    if out.alerts_shown < out.alerts_total:
        by = ", ".join(f"{n:,} {severity}" for severity, n in out.alerts_left_out.items())
        lines.append(
            f"- Alerts: {out.alerts_total - out.alerts_shown:,} of {out.alerts_total:,} not shown ({by})"
        )
    if out.correlations_shown < out.correlations_total:
        lines.append(
            f"- Correlations: {out.correlations_total - out.correlations_shown:,} weaker pairs "
            f"of {out.correlations_total:,} not shown"
        )
    return lines


class Json:
    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer

    def cost(self, part: Any) -> int:
        return self._tokenizer.count(msgspec.json.encode(part).decode()) + 1  # + the comma

    def alert(self, alert: Alert) -> dict[str, Any]:
        return {
            "severity": alert.severity,
            "type": alert.type,
            "column": alert.column,
            "message": alert.message,
        }

    def column(self, column: Column, *, detailed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"name": column.name, "type": column.type}
        if column.missing_pct is not None:
            out["missing_pct"] = round(column.missing_pct, 1)
        if column.distinct is not None:
            out["distinct"] = column.distinct
        if column.approximate:
            out["approximate"] = True
        if detailed:
            if column.stats:
                out["stats"] = dict(column.stats)
            if column.top:
                out["top"] = [[v, p] for v, p in column.top]
            if column.samples:
                out["samples"] = column.samples
        return out

    def correlation(self, correlation: Correlation) -> dict[str, Any]:
        return {
            "a": correlation.a,
            "b": correlation.b,
            "measure": correlation.measure,
            "value": round(correlation.value, 3),
        }

    def render(self, meta: Meta, dataset: dict[str, Any], selection: Selection) -> tuple[str, Any]:
        alerts, columns, correlations = _shown(selection)
        document: dict[str, Any] = {
            "analysis_id": meta.analysis_id,
            "filename": facts.clip(meta.filename or meta.file_key, 80),
            "completed_at": meta.completed_at,
            "dataset": {k: round(v, 2) if isinstance(v, float) else v for k, v in dataset.items()},
            "alerts": [self.alert(a) for a in alerts],
            "columns": [self.column(c, detailed=c.index in selection.detailed_columns) for c in columns],
            "correlations": [self.correlation(c) for c in correlations],
            "left_out": msgspec.to_builtins(left_out(selection)),
        }
        return msgspec.json.encode(document).decode(), document


def summarize(
    result: dict[str, Any],
    meta: Meta,
    *,
    fmt: SummaryFormat,
    max_tokens: int,
    tokenizer: Tokenizer,
) -> Summary:
    """The summary of ``result`` in at most ``max_tokens`` tokens (``max_tokens`` ≥ ``MIN_TOKENS``)."""
    renderer: Markdown | Json = Markdown(tokenizer) if fmt == "markdown" else Json(tokenizer)
    dataset = facts.dataset_facts(result)
    alerts = facts.alerts(result)
    columns = facts.columns(result)
    correlations, correlations_total = facts.correlations(result)
    empty = Selection(alerts, columns, correlations, correlations_total)
    fixed = tokenizer.count(renderer.render(meta, dataset, empty)[0]) + SECTION_TITLES_RESERVE
    costs = Costs(
        alert=lambda a: renderer.cost(renderer.alert(a)),
        column=lambda c: renderer.cost(renderer.column(c, detailed=False)),
        detail=lambda c: (
            renderer.cost(renderer.column(c, detailed=True))
            - renderer.cost(renderer.column(c, detailed=False))
        ),
        correlation=lambda c: renderer.cost(renderer.correlation(c)),
    )
    selection = plan(
        alerts, columns, correlations, correlations_total, budget=max_tokens - fixed, costs=costs
    )
    while True:
        text, document = renderer.render(meta, dataset, selection)
        tokens = tokenizer.count(text)
        if tokens <= max_tokens or not selection.take_back_last():
            break
    if tokens > max_tokens:  # only the header and the note are left: cut the text itself
        text, tokens = _cut(text, max_tokens, tokenizer)
    return Summary(text=text, tokens=tokens, left_out=left_out(selection), document=document)


def _cut(text: str, max_tokens: int, tokenizer: Tokenizer) -> tuple[str, int]:
    while text and tokenizer.count(text) > max_tokens:
        text = text[: int(len(text) * 0.9)]
    return text, tokenizer.count(text)
