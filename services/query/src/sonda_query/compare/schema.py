"""Schema changes between two profiles: added, removed and retyped columns, and likely renames.

Columns are matched by name, whatever the files' formats (a CSV and a Parquet of one table compare
column by column). A column missing on one side is a finding, never an error.
"""

from __future__ import annotations

from typing import Any

from sonda_query.compare.columns import distance, kind, missing_share
from sonda_query.compare.model import ColumnRef, Renamed, Retyped, SchemaChanges

#: A removed and an added column are "the same statistics under a new name" when their
#: distributions are this close (normed Wasserstein or JS distance) ...
RENAME_DISTANCE = 0.02
#: ... their missing shares differ by at most this ...
RENAME_MISSING = 0.01
#: ... and their distinct counts by at most this fraction.
RENAME_DISTINCT = 0.02
#: Renames are looked for among at most this many removed × added columns (a full rewrite of a wide
#: table is not a set of renames, and the pairs grow quadratically).
RENAME_CANDIDATES = 200


def columns_by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    columns = result.get("columns")
    found: dict[str, dict[str, Any]] = {}
    for column in columns if isinstance(columns, list) else []:
        if isinstance(column, dict) and isinstance(column.get("name"), str):
            found.setdefault(column["name"], column)
    return found


def _rows(result: dict[str, Any]) -> int | None:
    dataset = result.get("dataset")
    rows = dataset.get("rows") if isinstance(dataset, dict) else None
    return rows if isinstance(rows, int) else None


def _similar(a: dict[str, Any], b: dict[str, Any], rows_a: int | None, rows_b: int | None) -> float | None:
    """The distance of two columns if they look like one column renamed, else None."""
    if kind(a) != kind(b):
        return None
    if abs(missing_share(a, rows_a) - missing_share(b, rows_b)) > RENAME_MISSING:
        return None
    da, db = a.get("distinct"), b.get("distinct")
    if not isinstance(da, int) or not isinstance(db, int) or abs(da - db) > RENAME_DISTINCT * max(da, db, 1):
        return None
    d = distance(a, b)
    return d if d is not None and d <= RENAME_DISTANCE else None


def _renames(
    removed: list[dict[str, Any]], added: list[dict[str, Any]], rows_a: int | None, rows_b: int | None
) -> list[Renamed]:
    """Closest pairs first; each column in at most one rename."""
    pairs: list[tuple[float, int, int]] = []
    for i, old in enumerate(removed[:RENAME_CANDIDATES]):
        for j, new in enumerate(added[:RENAME_CANDIDATES]):
            d = _similar(old, new, rows_a, rows_b)
            if d is not None:
                pairs.append((d, i, j))
    used_old: set[int] = set()
    used_new: set[int] = set()
    found: list[Renamed] = []
    for _, i, j in sorted(pairs):
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        found.append(Renamed(from_=removed[i]["name"], to=added[j]["name"], type=kind(removed[i])))
    return found


def schema_changes(base: dict[str, Any], target: dict[str, Any]) -> SchemaChanges:
    old, new = columns_by_name(base), columns_by_name(target)
    removed = [c for name, c in old.items() if name not in new]
    added = [c for name, c in new.items() if name not in old]
    retyped = [
        Retyped(column=name, from_=kind(c), to=kind(new[name]))
        for name, c in old.items()
        if name in new and kind(c) != kind(new[name])
    ]
    return SchemaChanges(
        added=[ColumnRef(name=c["name"], type=kind(c)) for c in added],
        removed=[ColumnRef(name=c["name"], type=kind(c)) for c in removed],
        retyped=retyped,
        renamed=_renames(removed, added, _rows(base), _rows(target)),
    )
