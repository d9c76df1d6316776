"""Which parts of a summary fit the token budget: one greedy pass over parts in priority order.

Priority, highest first, each step only after the one before is complete:

1. every column's core facts (name, type, missing share, and min/mean/max, date range, top 3 or
   identifier pattern), in file order;
2. alerts, critical then warning then info;
3. associations of every kind (Pearson, Spearman, Cramér's V, η), strongest first;
4. further detail per column (quantiles, spread, samples), in file order.

The pass stops at the first part that does not fit, so what is shown is always a prefix of that
order, and "columns 1–57 of 200" is the whole story of what a reader has. The result is
deterministic: the same facts and budget always select the same parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sonda_query.llm.associations import Association
from sonda_query.llm.facts import Alert, Column


@dataclass
class Selection:
    """What the summary shows (prefix lengths of each list); the renderers turn it into text."""

    columns: list[Column]
    alerts: list[Alert]
    associations: list[Association]
    #: Measured pairs dropped as near zero (never shown, only counted).
    associations_near_zero: int = 0
    core: int = 0
    shown_alerts: int = 0
    shown_associations: int = 0
    detailed: int = 0
    #: Accepted steps in priority order, so the last can be taken back if the exact count is over.
    accepted: list[str] = field(default_factory=list)

    @property
    def detail_columns(self) -> list[Column]:
        return [c for c in self.columns if c.has_detail]

    def take_back_last(self) -> bool:
        if not self.accepted:
            return False
        kind = self.accepted.pop()
        setattr(self, kind, getattr(self, kind) - 1)
        return True


@dataclass
class Costs:
    """Token cost of each part in one format (estimates; the final text is counted exactly)."""

    core: Callable[[Column], int]
    #: The second argument: whether the alert starts a new line (a new severity and type).
    alert: Callable[[Alert, bool], int]
    association: Callable[[Association], int]
    detail: Callable[[Column], int]
    #: A section's title, paid once with its first part.
    section: int = 8


def plan(selection: Selection, *, budget: int, costs: Costs) -> Selection:
    """Fill ``selection`` for ``budget`` tokens (already net of the header and the left-out note)."""
    used = 0

    def take(kind: str, cost: int) -> bool:
        nonlocal used
        if used + cost > budget:
            return False
        used += cost
        setattr(selection, kind, getattr(selection, kind) + 1)
        selection.accepted.append(kind)
        return True

    for i, column in enumerate(selection.columns):
        if not take("core", costs.core(column) + (costs.section if i == 0 else 0)):
            return selection
    previous: tuple[str, str] | None = None
    for i, alert in enumerate(selection.alerts):
        group = (alert.severity, alert.type)
        cost = costs.alert(alert, group != previous) + (costs.section if i == 0 else 0)
        if not take("shown_alerts", cost):
            return selection
        previous = group
    for i, pair in enumerate(selection.associations):
        if not take("shown_associations", costs.association(pair) + (costs.section if i == 0 else 0)):
            return selection
    for i, column in enumerate(selection.detail_columns):
        if not take("detailed", costs.detail(column) + (costs.section if i == 0 else 0)):
            return selection
    return selection
