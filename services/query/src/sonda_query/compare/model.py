"""The comparison document (msgspec Structs, so the OpenAPI schema documents it)."""

from __future__ import annotations

from typing import Literal

import msgspec

from sonda_query.compare.options import CompareOptions

#: ``type_change``: the column's kind differs, so no distribution metric applies; ``none``: a kind
#: that is not compared by distribution (identifiers, free text, empty columns).
Metric = Literal["wasserstein", "psi", "jensen_shannon", "type_change", "none"]


class ColumnRef(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    type: str


class Retyped(msgspec.Struct, kw_only=True, frozen=True):
    column: str
    from_: str = msgspec.field(name="from")
    to: str


class Renamed(msgspec.Struct, kw_only=True, frozen=True):
    """A removed and an added column with the same type and the same statistics."""

    from_: str = msgspec.field(name="from")
    to: str
    type: str


class SchemaChanges(msgspec.Struct, kw_only=True):
    added: list[ColumnRef]
    removed: list[ColumnRef]
    retyped: list[Retyped]
    #: Likely renames; the two names also appear in ``removed`` and ``added``.
    renamed: list[Renamed]


class MissingChange(msgspec.Struct, kw_only=True):
    base: float
    target: float
    #: ``target - base``, in share of rows.
    change: float
    drifted: bool


class RangeChange(msgspec.Struct, kw_only=True):
    base_min: float | str | None
    base_max: float | str | None
    target_min: float | str | None
    target_max: float | str | None
    #: Share of the target's values outside the base's [min, max] (from its histogram).
    outside_base: float | None = None


class ValueShare(msgspec.Struct, kw_only=True):
    #: The value as stored (masked when the column holds personal data).
    value: str | int | float | bool | None
    base: float
    target: float


class ColumnDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    missing: MissingChange
    psi: float | None = None
    #: Wasserstein distance in the column's units (seconds for datetimes).
    wasserstein: float | None = None
    #: ``wasserstein`` divided by the base's standard deviation (the target's if the base is constant).
    wasserstein_normed: float | None = None
    #: The most ``wasserstein`` can differ from the distance between the raw data: values are only
    #: known to their histogram bin, so each side moves at most one bin width.
    wasserstein_bound: float | None = None
    jensen_shannon: float | None = None
    #: Share of present values outside the listed top values, per side.
    other_base: float | None = None
    other_target: float | None = None
    #: Mass that may belong to a category listed on one side only: the bound of the JS figure's
    #: approximation when a side lists only its most frequent values.
    uncertain_mass: float | None = None
    range: RangeChange | None = None
    top_changes: list[ValueShare] | None = None
    #: Either profile came from sketches (streaming mode): its figures carry the stated error.
    approximate: bool = False
    approximation: str | None = None
    note: str | None = None


class ColumnDrift(msgspec.Struct, kw_only=True):
    name: str
    #: The column's type in the base (``base_type -> target_type`` is in ``schema.retyped``).
    type: str
    drifted: bool
    metric: Metric
    value: float | None
    threshold: float | None
    detail: ColumnDetail


class DatasetDrift(msgspec.Struct, kw_only=True):
    drifted: bool
    drifted_columns: int
    compared_columns: int
    share: float
    drift_share: float
    #: The rule in words, with the figures that decided it.
    rule: str


class Side(msgspec.Struct, kw_only=True):
    analysis_id: str | None
    filename: str | None
    rows: int | None
    columns: int | None
    format: str | None
    approximate: bool


class Comparison(msgspec.Struct, kw_only=True):
    base: Side
    target: Side
    options: CompareOptions
    schema: SchemaChanges
    columns: list[ColumnDrift]
    dataset_drift: bool
    drift: DatasetDrift
    #: The most important changes, for a person, most important first (at most ``MAX_CHANGES``).
    changes: list[str]
