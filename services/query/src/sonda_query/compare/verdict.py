"""The dataset's verdict (the share of drifted columns) and the few changes a person reads first."""

from __future__ import annotations

from sonda_query.compare.model import ColumnDrift, DatasetDrift, SchemaChanges, Side
from sonda_query.compare.options import CompareOptions

#: The list for a person stays short: the rest is in ``schema`` and ``columns``.
MAX_CHANGES = 10


def dataset_drift(columns: list[ColumnDrift], options: CompareOptions) -> DatasetDrift:
    """Drift when at least ``drift_share`` of the shared columns drifted (evidently's rule)."""
    drifted = sum(1 for c in columns if c.drifted)
    share = drifted / len(columns) if columns else 0.0
    drifts = bool(columns) and share >= options.drift_share
    rule = (
        f"{drifted} of {len(columns)} shared columns drifted ({share:.0%}); the dataset drifts when "
        f"at least {options.drift_share:.0%} do: {'drift' if drifts else 'no drift'}"
    )
    return DatasetDrift(
        drifted=drifts,
        drifted_columns=drifted,
        compared_columns=len(columns),
        share=share,
        drift_share=options.drift_share,
        rule=rule,
    )


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def severity(column: ColumnDrift) -> float:
    """How far past its line a column is (missing-share changes count from their own line): the
    order in which every view lists drifted columns, worst first."""
    ratio = 0.0
    if column.value is not None and column.threshold:
        ratio = column.value / column.threshold
    missing = column.detail.missing
    return max(ratio, abs(missing.change) * 10 if missing.drifted else 0.0, 1.0 if column.drifted else 0.0)


def _column_change(column: ColumnDrift) -> str:
    parts: list[str] = []
    value, threshold = column.value, column.threshold
    if column.metric != "type_change" and value is not None and threshold is not None and value > threshold:
        label = column.metric.replace("_", "-")
        parts.append(f"{label} {value:.3g} > {threshold:g}")
    missing = column.detail.missing
    if missing.drifted:
        parts.append(f"missing {missing.base:.1%} -> {missing.target:.1%}")
    if column.metric == "type_change":
        parts.append("type changed")
    return f"{column.name} drifted ({'; '.join(parts) or 'changed'})"


def important_changes(
    schema: SchemaChanges, columns: list[ColumnDrift], base: Side, target: Side
) -> list[str]:
    """Schema changes first (they break consumers), then the row count, then the worst drifts."""
    changes: list[str] = []
    renamed_from = {r.from_ for r in schema.renamed}
    renamed_to = {r.to for r in schema.renamed}
    for rename in schema.renamed:
        changes.append(f"{rename.from_} renamed to {rename.to} (same statistics)")
    removed = [c.name for c in schema.removed if c.name not in renamed_from]
    if removed:
        changes.append(f"{len(removed)} column(s) removed: {_names(removed)}")
    added = [c.name for c in schema.added if c.name not in renamed_to]
    if added:
        changes.append(f"{len(added)} column(s) added: {_names(added)}")
    for retyped in schema.retyped:
        changes.append(f"{retyped.column} changed type: {retyped.from_} -> {retyped.to}")
    if base.rows is not None and target.rows is not None and base.rows != target.rows:
        change = (target.rows - base.rows) / base.rows if base.rows else None
        share = f" ({change:+.0%})" if change is not None else ""
        changes.append(f"rows {base.rows:,} -> {target.rows:,}{share}")
    worst = sorted(
        (c for c in columns if c.drifted and c.metric != "type_change"), key=lambda c: -severity(c)
    )
    changes.extend(_column_change(c) for c in worst)
    return changes[:MAX_CHANGES]
