"""The summary as Markdown: a line per column, or a compact table when the lines would not fit.

Every name and every value from the file goes through ``quoting`` (JSON string literals), every
figure through ``numbers``; the text itself is only fixed words around them.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from sonda_query.llm import quoting
from sonda_query.llm.associations import Association
from sonda_query.llm.facts import SAMPLE_DIGITS, Alert, Column, Top, Value
from sonda_query.llm.numbers import number, percent_text, share_text
from sonda_query.llm.plan import Selection
from sonda_query.llm.tokens import Tokenizer

Layout = Literal["list", "table"]
TABLE_HEADER = "name|type|missing %|min|mean|max|notes"
#: An ISO 8601 date or time as the analyzer writes it: shown bare (it is not free text from the file).
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")
MEASURE_NAMES = {"pearson": "Pearson", "spearman": "Spearman", "cramers_v": "Cramér's V", "eta": "η"}


def value(item: Value, digits: int = 4) -> str:
    if isinstance(item, str):
        return quoting.quote(item)
    return number(item, digits)


def pct(share: float | None) -> str:
    return "?" if share is None else percent_text(share) + "%"


def _tops(tops: tuple[Top, ...]) -> str:
    return ", ".join(f"{value(t.value)} {'?' if t.pct is None else share_text(t.pct)}%" for t in tops)


def notes(column: Column) -> list[str]:
    """What a column's type says beyond min/mean/max: categories, pattern, lengths, privacy."""
    out = []
    if column.identifier:
        if column.unique:
            out.append("unique")
        elif column.distinct_pct is not None:
            out.append(f"{percent_text(column.distinct_pct)}% distinct")
        if "sequential" in column.semantic:
            out.append("sequential")
        if column.pattern is not None:
            shown = column.pattern if column.pattern_is_semantic else quoting.quote(column.pattern)
            out.append(f"pattern {shown}")
    elif column.type == "boolean":
        if column.top:
            out.append(_tops(column.top))
    elif column.top or column.type in ("categorical", "text"):
        distinct = (
            f"{'~' if column.approximate else ''}{column.distinct:,} distinct" if column.distinct else ""
        )
        if column.length_mean is not None:
            out += [distinct] if distinct else []
            out.append(f"mean length {number(column.length_mean, 3)}")
        if column.top:
            out.append(f"{distinct or 'top'}: {_tops(column.top)}")
        elif distinct and column.length_mean is None:
            out.append(distinct)
    if column.pii:
        out.append("personal data, masked" if column.masked else "personal data")
    return out


def core_line(column: Column) -> str:
    parts = [f"- {quoting.name(column.name)} {column.type}", f"missing {pct(column.missing_pct)}"]
    if column.start is not None or column.end is not None:
        parts.append(f"{_date(column.start)} to {_date(column.end)}")
    for label, figure in (("min", column.minimum), ("mean", column.mean), ("max", column.maximum)):
        if figure is not None:
            parts.append(f"{label} {value(figure)}")
    return ", ".join(parts + notes(column))


def core_row(column: Column) -> str:
    low = column.start if column.start is not None else column.minimum
    high = column.end if column.end is not None else column.maximum
    cells = [
        quoting.name(column.name),
        column.type,
        percent_text(column.missing_pct) if column.missing_pct is not None else "?",
        _cell(low, dated=column.start is not None),
        _cell(column.mean),
        _cell(high, dated=column.end is not None),
        ", ".join(notes(column)),
    ]
    return "|".join(cells)


def _date(text: str | None) -> str:
    return "?" if text is None else _cell(text, dated=True)


def _cell(item: Value | None, *, dated: bool = False) -> str:
    if item is None:
        return ""
    if dated and isinstance(item, str) and ISO_TIME.fullmatch(item):
        return item
    return value(item)


def alert_prefix(alert: Alert) -> str:
    return f"- {alert.severity} {alert.type}: "


def alert_fragment(alert: Alert) -> str:
    if alert.column is None:
        subject = "table"
    elif alert.other is not None:
        subject = f"{quoting.name(alert.column)} ~ {quoting.name(alert.other)}"
    else:
        subject = quoting.name(alert.column)
    if alert.value is None:
        return subject
    figure = percent_text(100 * alert.value) + "%" if alert.share else number(alert.value)
    return f"{subject} {figure}"


def alert_lines(alerts: list[Alert]) -> list[str]:
    lines: list[str] = []
    previous: tuple[str, str] | None = None
    for alert in alerts:
        group = (alert.severity, alert.type)
        if group != previous:
            lines.append(alert_prefix(alert) + alert_fragment(alert))
        else:
            lines[-1] += "; " + alert_fragment(alert)
        previous = group
    return lines


def association_line(pair: Association) -> str:
    measures = ", ".join(f"{MEASURE_NAMES[m]} {v:.2f}" for m, v in pair.values)
    return f"- {quoting.name(pair.a)} ~ {quoting.name(pair.b)}: {measures}"


def detail_line(column: Column) -> str:
    parts = [f"{label} {value(item)}" for label, item in column.extra]
    if column.more_top:
        parts.append(("top " if column.type == "text" else "next ") + _tops(column.more_top))
    text = f"- {quoting.name(column.name)}: " + ", ".join(parts)
    if column.samples:
        text += ("; " if parts else "") + "e.g. " + ", ".join(value(s, SAMPLE_DIGITS) for s in column.samples)
    return text


def header_lines(title: str, dataset: dict[str, Any]) -> list[str]:
    lines = [f"# Dataset summary: {quoting.quote(title, 80)}", quoting.DATA_NOTE]
    if "rows" in dataset or "columns" in dataset:
        shape = f"- {number(dataset.get('rows', '?'))} rows × {number(dataset.get('columns', '?'))} columns"
        if dataset.get("column_types"):
            shape += (
                " (" + ", ".join(f"{number(n)} {kind}" for kind, n in dataset["column_types"].items()) + ")"
            )
        lines.append(shape)
    lines += _parsing_lines(dataset)
    quality = []
    if "missing_cells_pct" in dataset:
        quality.append(f"{pct(dataset['missing_cells_pct'])} of cells missing")
    if "duplicate_rows" in dataset:
        share = dataset.get("duplicate_rows_pct")
        quality.append(
            f"{number(dataset['duplicate_rows'])} duplicate rows" + (f" ({pct(share)})" if share else "")
        )
    if quality:
        lines.append("- " + "; ".join(quality))
    if dataset.get("approximate"):
        lines.append("- Some figures are approximate (large file, streamed with sketches)")
    if dataset.get("truncated"):
        lines.append("- Only the first rows were read (row limit)")
    return lines


def _parsing_lines(dataset: dict[str, Any]) -> list[str]:
    parts = [str(dataset["format"])] if "format" in dataset else []
    for key in ("encoding", "delimiter", "sheet"):
        if key in dataset:
            parts.append(f"{key} {quoting.quote(dataset[key], 30)}")
    notation = "numbers shown as 1,234.5"
    if dataset.get("decimal") == ",":
        notation = "the file writes numbers as 1.234,5; shown here as 1,234.5"
    return [f"- Parsed: {', '.join(parts)}; {notation}" if parts else f"- {notation}"]


class Markdown:
    """Renders a selection; ``layout`` is chosen by ``summarize`` (table for wide files)."""

    def __init__(self, tokenizer: Tokenizer, layout: Layout = "list") -> None:
        self._tokenizer = tokenizer
        self.layout: Layout = layout

    def cost(self, text: str) -> int:
        return self._tokenizer.count(f"{text}\n")

    def core(self, column: Column) -> str:
        return core_row(column) if self.layout == "table" else core_line(column)

    def render(
        self,
        title: str,
        dataset: dict[str, Any],
        selection: Selection,
        left_out: list[str],
        *,
        minimal: bool = False,
    ) -> str:
        """The text; ``minimal``: only what any budget holds (title, note, shape, what was left out)."""
        lines = header_lines(title, dataset)
        if minimal:
            return "\n".join([*lines[:3], "", "## Left out", *left_out])
        columns = selection.columns[: selection.core]
        if columns:
            total = len(selection.columns)
            lines += ["", f"## Columns ({len(columns):,} of {total:,}, in file order)"]
            if self.layout == "table":
                lines.append(TABLE_HEADER)
            lines += [self.core(c) for c in columns]
        alerts = selection.alerts[: selection.shown_alerts]
        if alerts:
            lines += ["", f"## Alerts ({len(alerts):,} of {len(selection.alerts):,}, most severe first)"]
            lines += alert_lines(alerts)
        pairs = selection.associations[: selection.shown_associations]
        if pairs:
            lines += ["", f"## Strongest associations ({len(pairs):,} of {len(selection.associations):,})"]
            lines += [association_line(p) for p in pairs]
        detailed = selection.detail_columns[: selection.detailed]
        if detailed:
            lines += ["", "## Column detail"]
            lines += [detail_line(c) for c in detailed]
        lines += ["", "## Left out", *left_out]
        return "\n".join(lines)
