"""The projections the query service maintains, each a fold over events into one keyed table.

A projection names its table, its row type and its fold; the projector, the rebuild and the verify
step work on any of them the same way. Bump ``schema_version`` when a table's layout or a rule of the
fold changes: the service then rebuilds that projection at start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

import sqlalchemy as sa
from sonda_events.contract import AnalysisCompleted, Event, RecordedEvent

from sonda_query.projection import names
from sonda_query.projection.fold import fold_analysis, fold_result
from sonda_query.readmodel.rows import AnalysisRow, R, ResultRow
from sonda_query.readmodel.tables import analyses_table, results_table


@dataclass(frozen=True)
class Projection(Generic[R]):
    """One read model: a table keyed by ``analysis_id`` and the fold that fills it."""

    name: str
    table_name: str
    schema_version: int
    row_type: type[R]
    fold: Callable[[R | None, RecordedEvent], R | None]
    table_factory: Callable[[sa.MetaData, str], sa.Table]
    #: Event classes the fold can change a row for (None: all); others are skipped unseen.
    event_types: frozenset[type[Event]] | None = None

    def __post_init__(self) -> None:
        # Bulk writes (COPY) send a row's fields positionally: they must be the table's columns.
        columns = [c.name for c in self.table(sa.MetaData()).columns]
        if list(self.row_type.__struct_fields__) != columns:
            raise TypeError(f"{self.row_type.__name__} fields differ from the {self.table_name} columns")

    def table(self, metadata: sa.MetaData, name: str | None = None) -> sa.Table:
        """The live table, or a copy under another name (a rebuild's shadow table)."""
        return self.table_factory(metadata, name or self.table_name)


ANALYSES: Projection[AnalysisRow] = Projection(
    name=names.ANALYSES,
    table_name="analyses",
    # 2: the lifecycle's phase column, and events the lifecycle refuses no longer change a row.
    # 3: an index for each principal's own listing (tenancy).
    schema_version=3,
    row_type=AnalysisRow,
    fold=fold_analysis,
    table_factory=analyses_table,
)
RESULTS: Projection[ResultRow] = Projection(
    name=names.RESULTS,
    table_name="analysis_results",
    # 2: only the analysis' one accepted completion, pointing at its own result object.
    schema_version=2,
    row_type=ResultRow,
    fold=fold_result,
    table_factory=results_table,
    event_types=frozenset({AnalysisCompleted}),
)

#: Every projection by name, in the order they are applied (and shown by ``projections status``).
ALL: tuple[Projection[AnalysisRow] | Projection[ResultRow], ...] = (ANALYSES, RESULTS)
assert tuple(p.name for p in ALL) == names.NAMES, "projection names and order have one owner: names.py"


def by_name(name: str) -> Projection[AnalysisRow] | Projection[ResultRow]:
    for projection in ALL:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in ALL)
    raise KeyError(f"unknown projection {name!r} (known: {known})")
