"""A comparison of two analyses for an LLM, within a token budget (cl100k_base), as Markdown or JSON.

Priorities, highest first: the verdict and its rule, schema changes (they break consumers), the
drifted columns worst first, then the columns that did not drift. Lines are added in that order
while the budget holds; the whole text is then counted again and the lowest-priority lines taken
back until it fits. The text always ends by saying how much it left out.

Column names and values come from files anyone may upload: they are quoted on one line, never
spliced raw into the Markdown; values of personal columns arrive masked from the comparison.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec

from sonda_query.compare.model import ColumnDrift, Comparison, Side
from sonda_query.compare.verdict import severity
from sonda_query.llm.tokens import Tokenizer

Format = Literal["markdown", "json"]
#: A name or value is cut beyond this many characters: its gist is enough to an agent.
MAX_TEXT = 80
TOP_CHANGES = 3
#: Lines tried one by one against the real count once the estimate stopped.
EXTRA_TRIES = 16


class ComparisonLeftOut(msgspec.Struct, kw_only=True):
    schema_changes_shown: int
    schema_changes_total: int
    drifted_shown: int
    drifted_total: int
    stable_shown: int
    stable_total: int


class ComparisonSummary(msgspec.Struct, kw_only=True):
    text: str
    tokens: int
    left_out: ComparisonLeftOut
    document: dict[str, Any] | None = None


class ComparisonSummaryView(msgspec.Struct, kw_only=True):
    """``summary-for-llm/{id}?compare_to={other}``: this analysis (target) against the other (base)."""

    analysis_id: str
    compare_to: str
    format: str
    max_tokens: int
    #: Tokens of ``text`` counted with cl100k_base; never above ``max_tokens``.
    tokens: int
    tokenizer: str
    text: str
    left_out: ComparisonLeftOut
    #: The same summary as a JSON document (``format=json`` only).
    summary: dict[str, Any] | None = None


def quote(value: object) -> str:
    """One line, no backticks or control characters, at most ``MAX_TEXT`` characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value)).replace("`", "'")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:.1f}%"


def _num(value: float | str | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, str):
        return quote(value)
    return f"{value:.4g}"


def _side(side: Side) -> str:
    name = quote(side.filename or side.analysis_id or "?")
    rows = f"{side.rows:,}" if side.rows is not None else "?"
    approx = ", approximate profile" if side.approximate else ""
    return f"{name} ({rows} rows, {quote(side.format or '?')}{approx})"


def _schema_items(comparison: Comparison) -> list[tuple[str, dict[str, Any]]]:
    schema = comparison.schema
    moved = {r.from_ for r in schema.renamed} | {r.to for r in schema.renamed}
    items: list[tuple[str, dict[str, Any]]] = []
    for r in schema.renamed:
        items.append(
            (
                f"- renamed: `{quote(r.from_)}` -> `{quote(r.to)}` (same statistics)",
                {"change": "renamed", "from": quote(r.from_), "to": quote(r.to)},
            )
        )
    for change, columns in (("removed", schema.removed), ("added", schema.added)):
        for c in columns:
            if c.name not in moved:
                items.append(
                    (
                        f"- {change}: `{quote(c.name)}` ({c.type})",
                        {"change": change, "column": quote(c.name), "type": c.type},
                    )
                )
    for t in schema.retyped:
        items.append(
            (
                f"- retyped: `{quote(t.column)}` {t.from_} -> {t.to}",
                {"change": "retyped", "column": quote(t.column), "from": t.from_, "to": t.to},
            )
        )
    return items


def _column_item(column: ColumnDrift) -> tuple[str, dict[str, Any]]:
    detail = column.detail
    parts: list[str] = []
    doc: dict[str, Any] = {"column": quote(column.name), "type": column.type, "drifted": column.drifted}
    if column.value is not None:
        relation = ">" if column.threshold is not None and column.value > column.threshold else "<="
        parts.append(f"{column.metric} {column.value:.3g} {relation} {column.threshold:g}")
        doc |= {"metric": column.metric, "value": round(column.value, 4), "threshold": column.threshold}
    elif column.metric == "type_change":
        parts.append("type changed")
        doc["metric"] = "type_change"
    missing = detail.missing
    if missing.drifted or (column.drifted and missing.change):
        parts.append(f"missing {_pct(missing.base)} -> {_pct(missing.target)}")
        doc["missing"] = [round(missing.base, 4), round(missing.target, 4)]
    if column.drifted and detail.range is not None and detail.range.target_min is not None:
        r = detail.range
        parts.append(
            f"range {_num(r.base_min)}..{_num(r.base_max)} -> {_num(r.target_min)}..{_num(r.target_max)}"
        )
        doc["range"] = [_num(r.base_min), _num(r.base_max), _num(r.target_min), _num(r.target_max)]
    if column.drifted and detail.top_changes:
        moves = [(quote(t.value), t.base, t.target) for t in detail.top_changes[:TOP_CHANGES]]
        parts.append("top: " + ", ".join(f"'{v}' {_pct(b)} -> {_pct(t)}" for v, b, t in moves))
        doc["top_changes"] = [{"value": v, "base": round(b, 4), "target": round(t, 4)} for v, b, t in moves]
    if detail.approximate:
        parts.append("approximate")
        doc["approximate"] = True
    label = "drifted" if column.drifted else "no drift"
    return f"- `{quote(column.name)}` ({column.type}), {label}: {'; '.join(parts) or 'not measured'}", doc


class _Plan(msgspec.Struct, kw_only=True):
    schema: list[tuple[str, dict[str, Any]]]
    drifted: list[tuple[str, dict[str, Any]]]
    stable: list[tuple[str, dict[str, Any]]]
    #: How many of each list are shown.
    shown: list[int]


def _left_out(plan: _Plan) -> ComparisonLeftOut:
    return ComparisonLeftOut(
        schema_changes_shown=plan.shown[0],
        schema_changes_total=len(plan.schema),
        drifted_shown=plan.shown[1],
        drifted_total=len(plan.drifted),
        stable_shown=plan.shown[2],
        stable_total=len(plan.stable),
    )


def _markdown(comparison: Comparison, plan: _Plan) -> str:
    lines = [
        "# Comparison of two analyses",
        f"Base: {_side(comparison.base)}",
        f"Target: {_side(comparison.target)}",
        f"Verdict: {'dataset drift' if comparison.dataset_drift else 'no dataset drift'}. {comparison.drift.rule}.",
    ]
    titles = ("## Schema changes", "## Drifted columns (worst first)", "## Columns without drift")
    for title, items, shown in zip(titles, (plan.schema, plan.drifted, plan.stable), plan.shown, strict=True):
        if shown:
            lines.append(title)
            lines.extend(line for line, _ in items[:shown])
    out = _left_out(plan)
    missing = [
        f"{total - shown:,} of {total:,} {what}"
        for what, shown, total in (
            ("schema changes", out.schema_changes_shown, out.schema_changes_total),
            ("drifted columns", out.drifted_shown, out.drifted_total),
            ("columns without drift", out.stable_shown, out.stable_total),
        )
        if shown < total
    ]
    lines.append("Not shown: " + ("; ".join(missing) if missing else "nothing") + ".")
    return "\n".join(lines)


def _document(comparison: Comparison, plan: _Plan) -> dict[str, Any]:
    return {
        "base": _side(comparison.base),
        "target": _side(comparison.target),
        "dataset_drift": comparison.dataset_drift,
        "rule": comparison.drift.rule,
        "schema_changes": [doc for _, doc in plan.schema[: plan.shown[0]]],
        "drifted": [doc for _, doc in plan.drifted[: plan.shown[1]]],
        "stable": [doc for _, doc in plan.stable[: plan.shown[2]]],
        "left_out": msgspec.to_builtins(_left_out(plan)),
    }


def _compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _render(comparison: Comparison, plan: _Plan, fmt: Format) -> str:
    if fmt == "json":
        return _compact(_document(comparison, plan))
    return _markdown(comparison, plan)


def summarize_comparison(
    comparison: Comparison, *, fmt: Format, max_tokens: int, tokenizer: Tokenizer
) -> ComparisonSummary:
    """The comparison within ``max_tokens`` (the verdict and its rule always fit in 300)."""
    drifted = sorted((c for c in comparison.columns if c.drifted), key=lambda c: -severity(c))
    plan = _Plan(
        schema=_schema_items(comparison),
        drifted=[_column_item(c) for c in drifted],
        stable=[_column_item(c) for c in comparison.columns if not c.drifted],
        shown=[0, 0, 0],
    )
    # Greedy: each line's own cost (plus a little for the joins), in priority order.
    used = tokenizer.count(_render(comparison, plan, fmt))
    sections = (plan.schema, plan.drifted, plan.stable)
    for index, items in enumerate(sections):
        for line, doc in items:
            cost = tokenizer.count(line if fmt == "markdown" else _compact(doc)) + 1
            if used + cost > max_tokens:
                break
            used += cost
            plan.shown[index] += 1
        else:
            continue
        break
    text = _render(comparison, plan, fmt)
    tokens = tokenizer.count(text)
    # Line joins and the "not shown" line may cost a few tokens more: take back the lowest priority.
    while tokens > max_tokens and any(plan.shown):
        last = max(i for i, shown in enumerate(plan.shown) if shown)
        plan.shown[last] -= 1
        text = _render(comparison, plan, fmt)
        tokens = tokenizer.count(text)
    # ... or fewer: the estimate is cautious, so try the next lines against the real count.
    for _ in range(EXTRA_TRIES):
        open_sections = [i for i, items in enumerate(sections) if plan.shown[i] < len(items)]
        if not open_sections:
            break
        index = open_sections[0]
        plan.shown[index] += 1
        more = _render(comparison, plan, fmt)
        more_tokens = tokenizer.count(more)
        if more_tokens > max_tokens:
            plan.shown[index] -= 1
            break
        text, tokens = more, more_tokens
    document = _document(comparison, plan) if fmt == "json" else None
    return ComparisonSummary(text=text, tokens=tokens, left_out=_left_out(plan), document=document)
