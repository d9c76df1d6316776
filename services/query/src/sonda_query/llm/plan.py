"""Which parts of a summary fit the token budget: a greedy pass over parts in priority order.

Priority, highest first: the dataset header (always), critical then warning alerts (together at most
35% of the budget), the three strongest correlations, one short line per column (columns with
critical, then warning alerts first, then in file order), full detail for those columns in the same
order, info alerts, and more correlations. Within each step the first part that does not fit ends
the step, so what is shown is always a prefix of that order. The result is deterministic: the same
facts and budget always select the same parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sonda_query.llm.facts import SEVERITY_RANK, Alert, Column, Correlation

ALERT_SHARE = 0.35
CORRELATION_SHARE = 0.10
FIRST_CORRELATIONS = 3


@dataclass
class Selection:
    """What the summary shows; the renderers turn it into text."""

    alerts: list[Alert]
    columns: list[Column]
    correlations: list[Correlation]
    correlations_total: int
    shown_alerts: set[int] = field(default_factory=set)
    shown_columns: set[int] = field(default_factory=set)
    detailed_columns: set[int] = field(default_factory=set)
    shown_correlations: int = 0
    #: Accepted parts in priority order, so the last can be taken back if the exact count is over.
    accepted: list[tuple[str, int]] = field(default_factory=list)

    def take_back_last(self) -> bool:
        if not self.accepted:
            return False
        kind, key = self.accepted.pop()
        if kind == "alert":
            self.shown_alerts.discard(key)
        elif kind == "column":
            self.shown_columns.discard(key)
        elif kind == "detail":
            self.detailed_columns.discard(key)
        else:
            self.shown_correlations -= 1
        return True


@dataclass
class Costs:
    """Token cost of each part in one format (estimates; the final text is counted exactly)."""

    alert: Callable[[Alert], int]
    column: Callable[[Column], int]
    detail: Callable[[Column], int]  # extra tokens of the full line over the short one
    correlation: Callable[[Correlation], int]


def _importance(columns: list[Column], alerts: list[Alert]) -> list[Column]:
    rank: dict[str, int] = {}
    for alert in alerts:
        if alert.column is not None:
            rank[alert.column] = min(rank.get(alert.column, 9), SEVERITY_RANK[alert.severity])
    return sorted(columns, key=lambda c: (min(rank.get(c.name, 9), 2), c.index))


def plan(
    alerts: list[Alert],
    columns: list[Column],
    correlations: list[Correlation],
    correlations_total: int,
    *,
    budget: int,
    costs: Costs,
) -> Selection:
    """Choose parts for ``budget`` tokens (already net of the header and the left-out note)."""
    chosen = Selection(alerts, columns, correlations, correlations_total)
    used = 0
    alert_used = 0
    corr_used = 0

    def fits(cost: int, group_used: int = 0, cap: float | None = None) -> bool:
        if used + cost > budget:
            return False
        return cap is None or group_used + cost <= cap

    # Alerts are ranked by severity: stopping at the first that does not fit keeps the most severe.
    for alert in alerts:
        if alert.severity == "info":
            break
        cost = costs.alert(alert)
        if not fits(cost, alert_used, ALERT_SHARE * budget):
            break
        used += cost
        alert_used += cost
        chosen.shown_alerts.add(alert.index)
        chosen.accepted.append(("alert", alert.index))
    serious_all_shown = all(a.index in chosen.shown_alerts for a in alerts if a.severity != "info")
    for correlation in correlations[:FIRST_CORRELATIONS]:
        cost = costs.correlation(correlation)
        if not fits(cost, corr_used, CORRELATION_SHARE * budget):
            break
        used += cost
        corr_used += cost
        chosen.shown_correlations += 1
        chosen.accepted.append(("correlation", chosen.shown_correlations))
    ordered = _importance(columns, alerts)
    for column in ordered:
        cost = costs.column(column)
        if not fits(cost):
            break
        used += cost
        chosen.shown_columns.add(column.index)
        chosen.accepted.append(("column", column.index))
    for column in ordered:
        if column.index not in chosen.shown_columns:
            break
        cost = costs.detail(column)
        if not fits(cost):
            break
        used += cost
        chosen.detailed_columns.add(column.index)
        chosen.accepted.append(("detail", column.index))
    for alert in alerts:
        if alert.severity != "info" or not serious_all_shown:
            continue
        cost = costs.alert(alert)
        if not fits(cost):
            break
        used += cost
        chosen.shown_alerts.add(alert.index)
        chosen.accepted.append(("alert", alert.index))
    for correlation in correlations[chosen.shown_correlations :]:
        if chosen.shown_correlations < FIRST_CORRELATIONS:
            break  # the first ones did not fit their share; later ones are weaker
        cost = costs.correlation(correlation)
        if not fits(cost):
            break
        used += cost
        chosen.shown_correlations += 1
        chosen.accepted.append(("correlation", chosen.shown_correlations))
    return chosen
