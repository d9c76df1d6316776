"""One shared column of two profiles: which metric applies, its value, and whether it drifted."""

from __future__ import annotations

import math
from typing import Any

from sonda_events.privacy import mask

from sonda_query.compare import metrics
from sonda_query.compare.distributions import Cdf, Shares, histogram_cdf, top_value_shares
from sonda_query.compare.model import ColumnDetail, ColumnDrift, MissingChange, RangeChange, ValueShare
from sonda_query.compare.options import CompareOptions

#: Kinds compared by distribution; every other kind (identifier, text, empty) by missing share only.
NUMERIC_TYPES = frozenset({"numeric", "datetime"})
CATEGORICAL_TYPES = frozenset({"categorical", "boolean"})
TOP_CHANGES = 5


def kind(column: dict[str, Any]) -> str:
    value = column.get("type")
    return value if isinstance(value, str) else "unknown"


def missing_share(column: dict[str, Any], rows: int | None) -> float:
    pct = column.get("missing_pct")
    if isinstance(pct, int | float) and not isinstance(pct, bool) and math.isfinite(pct):
        return float(pct)
    missing = column.get("missing")
    if isinstance(missing, int) and rows:
        return missing / rows
    return 0.0


def cdf_of(column: dict[str, Any]) -> Cdf | None:
    if kind(column) == "datetime":
        stats = column.get("datetime")
        return histogram_cdf(stats.get("histogram"), times=True) if isinstance(stats, dict) else None
    return histogram_cdf(column.get("histogram"))


def _std(column: dict[str, Any], cdf: Cdf) -> float:
    """The stored standard deviation, or (datetimes store none) the histogram's."""
    stats = column.get("stats")
    std = stats.get("std") if isinstance(stats, dict) else None
    if isinstance(std, int | float) and not isinstance(std, bool) and math.isfinite(std):
        return float(std)
    return cdf.moments()[1]


def _bounds(column: dict[str, Any]) -> tuple[Any, Any]:
    holder = column.get("datetime") if kind(column) == "datetime" else column.get("stats")
    if not isinstance(holder, dict):
        return None, None
    return holder.get("min"), holder.get("max")


def distance(base: dict[str, Any], target: dict[str, Any]) -> float | None:
    """How different two columns' distributions are (normed Wasserstein or JS), None if not comparable.

    Used to recognise a renamed column: a removed and an added one at distance about 0.
    """
    if kind(base) != kind(target):
        return None
    if kind(base) in NUMERIC_TYPES:
        a, b = cdf_of(base), cdf_of(target)
        if a is None or b is None:
            return None
        scale = _std(base, a) or _std(target, b)
        w = metrics.wasserstein(a, b)
        return w / scale if scale > 0 else (0.0 if w == 0 else math.inf)
    sa, sb = top_value_shares(base), top_value_shares(target)
    if sa is None or sb is None:
        return None
    _, p, q, _ = aligned_shares(sa, sb)
    return metrics.jensen_shannon(p, q)


def aligned_shares(base: Shares, target: Shares) -> tuple[list[str], list[float], list[float], float]:
    """Both sides' shares over the union of listed values, each side's "other" last.

    A value listed on one side only is known to be absent from the other side when that side lists
    every value; otherwise its share there is hidden in the "other" mass, at most that side's
    smallest listed share. It is then taken as unchanged, within that cap and what is left of the
    "other" mass: a value just below one side's top list (two halves of a table disagree on the
    tenth city) is no change, while values that vanish or appear in bulk still weigh. The mass
    so assigned is returned as ``uncertain``: the approximation's extent.
    """
    keys = sorted(
        base.shares.keys() | target.shares.keys(),
        key=lambda k: (-max(base.shares.get(k, 0.0), target.shares.get(k, 0.0)), k),
    )
    left = {"base": base.other, "target": target.other}
    uncertain = 0.0
    p: list[float] = []
    q: list[float] = []
    for key in keys:
        pair: dict[str, float] = {}
        for role, side, other in (("base", base, target), ("target", target, base)):
            if key in side.shares:
                pair[role] = side.shares[key]
            elif side.complete:
                pair[role] = 0.0
            else:
                guess = min(other.shares[key], side.floor, left[role])
                left[role] -= guess
                uncertain += guess
                pair[role] = guess
        p.append(pair["base"])
        q.append(pair["target"])
    return keys, [*p, left["base"]], [*q, left["target"]], min(uncertain, 1.0)


def _approximate(
    base: dict[str, Any], target: dict[str, Any], notes: dict[str, str]
) -> tuple[bool, str | None]:
    sides = [side for side, column in (("base", base), ("target", target)) if column.get("approximate")]
    if not sides:
        return False, None
    text = "; ".join(f"{side}: {notes[side]}" for side in sides if notes.get(side))
    return True, text or f"{' and '.join(sides)} profiled from sketches (streaming mode)"


def compare_column(
    base: dict[str, Any],
    target: dict[str, Any],
    *,
    base_rows: int | None,
    target_rows: int | None,
    options: CompareOptions,
    notes: dict[str, str] | None = None,
) -> ColumnDrift:
    """The verdict on one column present in both profiles.

    Args:
        notes: per side ("base", "target"), what the profile's ``approximations`` say of this
            column's distribution figure, shown when that side is approximate.
    """
    name = str(base.get("name"))
    mb, mt = missing_share(base, base_rows), missing_share(target, target_rows)
    missing = MissingChange(
        base=mb, target=mt, change=mt - mb, drifted=abs(mt - mb) > options.missing_threshold
    )
    approximate, approximation = _approximate(base, target, notes or {})
    detail = ColumnDetail(missing=missing, approximate=approximate, approximation=approximation)
    drift = ColumnDrift(
        name=name,
        type=kind(base),
        drifted=missing.drifted,
        metric="none",
        value=None,
        threshold=None,
        detail=detail,
    )
    if kind(base) != kind(target):
        drift.metric = "type_change"
        drift.drifted = True
        detail.note = f"{kind(base)} in the base, {kind(target)} in the target: distributions not compared"
        return drift
    if kind(base) in NUMERIC_TYPES:
        _numeric(base, target, drift, options)
    elif kind(base) in CATEGORICAL_TYPES:
        _categorical(base, target, drift, options)
    elif kind(base) == "identifier":
        detail.note = "identifiers differ by design: only the missing share is compared"
    elif kind(base) == "text":
        detail.note = "free text: only the missing share is compared"
    else:
        detail.note = f"{kind(base)} column: only the missing share is compared"
    return drift


def _numeric(
    base: dict[str, Any], target: dict[str, Any], drift: ColumnDrift, options: CompareOptions
) -> None:
    detail = drift.detail
    bmin, bmax = _bounds(base)
    tmin, tmax = _bounds(target)
    detail.range = RangeChange(base_min=bmin, base_max=bmax, target_min=tmin, target_max=tmax)
    a, b = cdf_of(base), cdf_of(target)
    if a is None or b is None:
        detail.note = "no values to compare on one side"
        return
    w = metrics.wasserstein(a, b)
    scale = _std(base, a) or _std(target, b)
    bound = a.bin_width + b.bin_width
    if scale > 0:
        normed = w / scale
    else:  # both constant: any distance is a change of the one value
        normed = 0.0 if w == 0 else 1.0
        detail.note = "constant on both sides"
    edges = metrics.psi_edges(a)
    psi = metrics.psi(metrics.bin_masses(a, edges), metrics.bin_masses(b, edges))
    detail.wasserstein = w
    detail.wasserstein_normed = normed
    detail.wasserstein_bound = bound
    detail.psi = psi
    detail.range.outside_base = b.at(a.xs[0]) + (1.0 - b.at(a.xs[-1]))
    if options.numeric_method == "psi":
        value, threshold = psi, options.psi_threshold
        drift.metric = "psi"
    else:
        value, threshold = normed, options.wasserstein_threshold
        drift.metric = "wasserstein"
    drift.value, drift.threshold = value, threshold
    drift.drifted = drift.drifted or value > threshold


def _categorical(
    base: dict[str, Any], target: dict[str, Any], drift: ColumnDrift, options: CompareOptions
) -> None:
    detail = drift.detail
    sa, sb = top_value_shares(base), top_value_shares(target)
    if sa is None or sb is None:
        detail.note = "no values to compare on one side"
        return
    keys, p, q, uncertain = aligned_shares(sa, sb)
    js = metrics.jensen_shannon(p, q)
    detail.jensen_shannon = js
    detail.other_base, detail.other_target = sa.other, sb.other
    detail.uncertain_mass = uncertain
    personal = bool(base.get("pii") or target.get("pii"))
    moved = sorted(range(len(keys)), key=lambda i: -abs(q[i] - p[i]))
    changes: list[ValueShare] = []
    for i in moved[:TOP_CHANGES]:
        if p[i] == q[i]:
            break
        value = sa.values.get(keys[i], sb.values.get(keys[i]))
        changes.append(ValueShare(value=mask(value) if personal else value, base=p[i], target=q[i]))
    detail.top_changes = changes
    drift.metric, drift.value, drift.threshold = "jensen_shannon", js, options.jensen_shannon_threshold
    drift.drifted = drift.drifted or js > options.jensen_shannon_threshold
