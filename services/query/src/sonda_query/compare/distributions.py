"""The distributions a profile stores, rebuilt from its figures (no raw data).

A numeric or datetime column stores a histogram (equal-width bins over [min, max], exact counts in
exact mode); read as "uniform inside each bin", it gives a piecewise-linear CDF, exact at every
edge. A categorical or boolean column stores its most frequent values (all of them when it has few)
and its count of present values, so the mass of the values not listed is known as a whole ("other").
"""

from __future__ import annotations

import bisect
import itertools
import math
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec


class Cdf(msgspec.Struct, kw_only=True, frozen=True):
    """A piecewise-linear CDF through knots ``(xs[i], ps[i])``; xs and ps never decrease.

    Equal consecutive ``xs`` are a jump (a point mass); equal consecutive ``ps`` an empty stretch.
    """

    xs: list[float]
    ps: list[float]
    #: The widest bin: how far inside its bin a value may really lie.
    bin_width: float

    def at(self, x: float) -> float:
        """P(X <= x), right-continuous."""
        i = bisect.bisect_right(self.xs, x) - 1
        if i < 0:
            return 0.0
        if i >= len(self.xs) - 1:
            return 1.0
        x0, x1 = self.xs[i], self.xs[i + 1]
        p0, p1 = self.ps[i], self.ps[i + 1]
        return p0 + (p1 - p0) * (x - x0) / (x1 - x0)

    def quantile(self, p: float) -> float:
        """The smallest x with P(X <= x) >= p (linear inside a bin)."""
        i = bisect.bisect_left(self.ps, p)
        if i <= 0:
            return self.xs[0]
        if i >= len(self.ps):
            return self.xs[-1]
        p0, p1 = self.ps[i - 1], self.ps[i]
        x0, x1 = self.xs[i - 1], self.xs[i]
        return x1 if p1 == p0 else x0 + (x1 - x0) * (p - p0) / (p1 - p0)

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation of the piecewise-uniform density."""
        mean = 0.0
        second = 0.0
        for i in range(len(self.xs) - 1):
            mass = self.ps[i + 1] - self.ps[i]
            a, b = self.xs[i], self.xs[i + 1]
            mean += mass * (a + b) / 2
            second += mass * (a * a + a * b + b * b) / 3
        return mean, math.sqrt(max(second - mean * mean, 0.0))


def instant(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 string the analyzer wrote (naive times are UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class _Histogram(msgspec.Struct):
    edges: list[float]
    counts: list[Annotated[int, msgspec.Meta(ge=0)]]


class _TimeHistogram(msgspec.Struct):
    edges: list[str]
    counts: list[Annotated[int, msgspec.Meta(ge=0)]]


def histogram_cdf(histogram: Any, *, times: bool = False) -> Cdf | None:
    """The CDF of a stored histogram ``{edges, counts}`` (edges as ISO strings when ``times``);
    None when it is not one (wrong types, unsorted or infinite edges, no counts)."""
    try:
        if times:
            stored = msgspec.convert(histogram, _TimeHistogram)
            instants = [instant(e) for e in stored.edges]
            if any(e is None for e in instants):
                return None
            xs, counts = [e for e in instants if e is not None], stored.counts
        else:
            numeric = msgspec.convert(histogram, _Histogram)
            xs, counts = numeric.edges, numeric.counts
    except msgspec.ValidationError:
        return None
    if not counts or len(xs) != len(counts) + 1 or not all(map(math.isfinite, xs)):
        return None
    widths = [b - a for a, b in itertools.pairwise(xs)]
    total = sum(counts)
    if total <= 0 or min(widths) < 0:
        return None
    ps = [0.0, *(running / total for running in itertools.accumulate(counts))]
    ps[-1] = 1.0
    return Cdf(xs=xs, ps=ps, bin_width=max(widths))


class Shares(msgspec.Struct, kw_only=True, frozen=True):
    """Shares of present values: the listed ones by key, the rest as ``other``."""

    shares: dict[str, float]
    #: Display value of each key (the stored value, before any masking).
    values: dict[str, Any]
    other: float
    #: Every value is listed: a value not listed has share 0, not "unknown".
    complete: bool
    #: The smallest listed share (an unlisted value has at most this share when not complete).
    floor: float


def _key(value: Any) -> str:
    # Distinguishes 1 from "1" and True, which compare equal in Python.
    return msgspec.json.encode(value).decode()


def top_value_shares(column: dict[str, Any]) -> Shares | None:
    """Shares from ``top_values`` (categorical, text) or ``boolean`` counts."""
    boolean = column.get("boolean")
    if isinstance(boolean, dict):
        true, false = boolean.get("true"), boolean.get("false")
        if isinstance(true, int) and isinstance(false, int) and true + false > 0:
            total = true + false
            return Shares(
                shares={"true": true / total, "false": false / total},
                values={"true": True, "false": False},
                other=0.0,
                complete=True,
                floor=0.0,
            )
    tops = column.get("top_values")
    count = column.get("count")
    if not isinstance(tops, list) or not isinstance(count, int) or count <= 0:
        return None
    shares: dict[str, float] = {}
    values: dict[str, Any] = {}
    for top in tops:
        if not isinstance(top, dict) or not isinstance(top.get("count"), int):
            continue
        key = _key(top.get("value"))
        shares[key] = shares.get(key, 0.0) + top["count"] / count
        values[key] = top.get("value")
    listed = sum(shares.values())
    distinct = column.get("distinct")
    complete = isinstance(distinct, int) and distinct <= len(shares)
    other = 0.0 if complete else max(0.0, 1.0 - listed)
    return Shares(
        shares=shares,
        values=values,
        other=other,
        complete=complete,
        floor=min(shares.values(), default=0.0),
    )
