"""Turn a result into a summary that fits the budget exactly, in Markdown, table or JSON form.

``summarize`` estimates each part's cost with the real tokenizer, plans (``plan.py``), renders, then
counts the whole text; if line joins made it a few tokens over, it takes back the lowest-priority
parts until it fits. So the text never exceeds ``max_tokens``, and says what it left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from sonda_query.llm import facts
from sonda_query.llm.associations import NEAR_ZERO, associations
from sonda_query.llm.jsonform import Json
from sonda_query.llm.markdown import (
    Layout,
    Markdown,
    alert_fragment,
    alert_prefix,
    association_line,
    detail_line,
)
from sonda_query.llm.plan import Costs, Selection, plan
from sonda_query.llm.tokens import Tokenizer

#: ``table`` is the Markdown summary with its columns as one compact row each (wide files).
SummaryFormat = Literal["markdown", "json", "table"]
MIN_TOKENS = 200
#: Markdown lists one line per column when those lines take at most this share of the budget;
#: beyond, the columns become a table (about half the tokens), so alerts and associations still fit.
LIST_SHARE = 0.6


class Meta(msgspec.Struct, kw_only=True, frozen=True):
    """What the read model knows about the analysis (not in the result object)."""

    analysis_id: str
    filename: str | None
    file_key: str
    completed_at: str | None


class LeftOut(msgspec.Struct, kw_only=True, frozen=True):
    #: Columns with their core facts (a prefix in file order).
    columns_shown: int
    columns_detailed: int
    columns_total: int
    alerts_shown: int
    alerts_total: int
    #: Left-out alerts by severity (only severities with any left out).
    alerts_left_out: dict[str, int]
    #: Associations (pairs of columns, every measure) shown, of those at least ``NEAR_ZERO`` strong.
    correlations_shown: int
    correlations_total: int
    #: Columns that have further detail to show (``columns_detailed`` is out of these).
    columns_with_detail: int = 0
    #: Measured pairs not listed because every measure of theirs is near zero.
    correlations_near_zero: int = 0

    @property
    def anything(self) -> bool:
        return (
            self.columns_shown < self.columns_total
            or self.columns_detailed < self.columns_with_detail
            or self.alerts_shown < self.alerts_total
            or self.correlations_shown < self.correlations_total
        )


class Summary(msgspec.Struct, kw_only=True, frozen=True):
    text: str
    tokens: int
    left_out: LeftOut
    #: The JSON document itself (format ``json`` only).
    document: dict[str, Any] | None = None
    #: ``list`` or ``table`` (Markdown), ``json`` or ``json-table`` (``column_table``, wide files).
    layout: str = "list"


def left_out(selection: Selection) -> LeftOut:
    missing: dict[str, int] = {}
    for alert in selection.alerts[selection.shown_alerts :]:
        missing[alert.severity] = missing.get(alert.severity, 0) + 1
    return LeftOut(
        columns_shown=selection.core,
        columns_detailed=selection.detailed,
        columns_total=len(selection.columns),
        columns_with_detail=len(selection.detail_columns),
        alerts_shown=selection.shown_alerts,
        alerts_total=len(selection.alerts),
        alerts_left_out={k: missing[k] for k in ("critical", "warning", "info") if k in missing},
        correlations_shown=selection.shown_associations,
        correlations_total=len(selection.associations),
        correlations_near_zero=selection.associations_near_zero,
    )


def left_out_lines(out: LeftOut) -> list[str]:
    lines = []
    if out.columns_shown < out.columns_total:
        lines.append(
            f"- Columns {out.columns_shown + 1:,} to {out.columns_total:,} in file order "
            f"({out.columns_total - out.columns_shown:,} of {out.columns_total:,}) not shown"
        )
    if out.columns_detailed < out.columns_with_detail:
        lines.append(
            f"- Detail (quantiles, spread, samples) not shown for "
            f"{out.columns_with_detail - out.columns_detailed:,} of {out.columns_with_detail:,} columns"
        )
    if out.alerts_shown < out.alerts_total:
        by = ", ".join(f"{n:,} {severity}" for severity, n in out.alerts_left_out.items())
        lines.append(
            f"- Alerts: {out.alerts_total - out.alerts_shown:,} of {out.alerts_total:,} not shown ({by})"
        )
    pairs = []
    if out.correlations_shown < out.correlations_total:
        pairs.append(
            f"{out.correlations_total - out.correlations_shown:,} of {out.correlations_total:,} not shown"
        )
    if out.correlations_near_zero:
        pairs.append(f"{out.correlations_near_zero:,} more near zero (all below {NEAR_ZERO}) not listed")
    if pairs:
        lines.append("- Associations: " + "; ".join(pairs))
    return lines or ["- Nothing: every column, alert, association and detail is shown."]


def summarize(
    result: dict[str, Any],
    meta: Meta,
    *,
    fmt: SummaryFormat,
    max_tokens: int,
    tokenizer: Tokenizer,
    include_pii: bool = False,
) -> Summary:
    """The summary of ``result`` in at most ``max_tokens`` tokens (``max_tokens`` ≥ ``MIN_TOKENS``).

    Personal columns show masked values unless ``include_pii``.
    """
    pairs, near_zero = associations(result)
    selection = Selection(
        columns=facts.columns(result, include_pii=include_pii),
        alerts=facts.alerts(result),
        associations=pairs,
        associations_near_zero=near_zero,
    )
    dataset = facts.dataset_facts(result)
    title = meta.filename or meta.file_key
    if fmt == "json":
        return _fit_json(
            selection, meta=meta, dataset=dataset, title=title, max_tokens=max_tokens, tokenizer=tokenizer
        )
    markdown = Markdown(tokenizer, "table" if fmt == "table" else "list")

    def render(minimal: bool = False) -> str:
        return markdown.render(
            title, dataset, selection, left_out_lines(left_out(selection)), minimal=minimal
        )

    fixed = tokenizer.count(render())
    if fmt == "markdown":
        markdown.layout = _layout(markdown, selection, max_tokens - fixed)
    costs = Costs(
        core=lambda c: markdown.cost(markdown.core(c)),
        alert=lambda a, new: markdown.cost((alert_prefix(a) if new else "; ") + alert_fragment(a)) - 1,
        association=lambda p: markdown.cost(association_line(p)),
        detail=lambda c: markdown.cost(detail_line(c)),
    )
    plan(selection, budget=max_tokens - fixed, costs=costs)
    text, tokens = _fit(render, selection, max_tokens, tokenizer)
    return Summary(text=text, tokens=tokens, left_out=left_out(selection), layout=markdown.layout)


def _layout(markdown: Markdown, selection: Selection, available: int) -> Layout:
    listed = sum(markdown.cost(markdown.core(c)) for c in selection.columns)
    return "list" if listed <= LIST_SHARE * available else "table"


def _fit_json(
    selection: Selection,
    *,
    meta: Meta,
    dataset: dict[str, Any],
    title: str,
    max_tokens: int,
    tokenizer: Tokenizer,
) -> Summary:
    renderer = Json(tokenizer)
    head = {"analysis_id": meta.analysis_id, "file": title, "completed_at": meta.completed_at}

    def render(minimal: bool = False) -> str:
        return renderer.render(
            head, dataset, selection, msgspec.to_builtins(left_out(selection)), minimal=minimal
        )

    fixed = tokenizer.count(render())
    listed = sum(renderer.cost(renderer.core(c)) for c in selection.columns)
    if listed > LIST_SHARE * (max_tokens - fixed):
        renderer.layout = "table"
        fixed = tokenizer.count(render())
    costs = Costs(
        core=lambda c: renderer.cost(renderer.core_part(c)),
        alert=lambda a, _new: renderer.cost(renderer.alert(a)),
        association=lambda p: renderer.cost(renderer.association(p)),
        detail=lambda c: renderer.cost(renderer.detail(c)),
        section=0,
    )
    plan(selection, budget=max_tokens - fixed, costs=costs)
    text, tokens = _fit(render, selection, max_tokens, tokenizer)
    document = json.loads(text) if tokens and text.startswith("{") and text.endswith("}") else None
    layout = "json" if renderer.layout == "objects" else "json-table"
    return Summary(text=text, tokens=tokens, left_out=left_out(selection), document=document, layout=layout)


def _fit(
    render: Callable[..., str], selection: Selection, max_tokens: int, tokenizer: Tokenizer
) -> tuple[str, int]:
    while True:
        text = render()
        tokens = tokenizer.count(text)
        if tokens <= max_tokens or not selection.take_back_last():
            break
    if tokens > max_tokens:  # nothing selected and the header alone is too long: the brief form
        text = render(minimal=True)
        tokens = tokenizer.count(text)
    if tokens > max_tokens:  # a hostile title longer than any budget: cut the text itself
        while text and tokenizer.count(text) > max_tokens:
            text = text[: int(len(text) * 0.9)]
        tokens = tokenizer.count(text)
    return text, tokens
