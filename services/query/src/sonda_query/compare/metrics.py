"""Drift metrics on stored distributions: Wasserstein, population stability index, Jensen–Shannon.

Pure arithmetic on a few dozen numbers per column (no numpy: the query service does not need it for
this, and each metric is a loop over bins).
"""

from __future__ import annotations

import bisect
import itertools
import math

from sonda_query.compare.distributions import Cdf

#: PSI's floor for an empty bin (evidently's): ln(0) would make one empty bin infinitely important.
PSI_EPSILON = 1e-4
#: PSI bins: the base's deciles, the usual choice for the index.
PSI_BINS = 10


def _limits(cdf: Cdf, lo: float, hi: float) -> tuple[float, float]:
    """The quantile function at ``lo``+ and ``hi``- where no knot of ``cdf`` lies strictly between."""
    i = bisect.bisect_right(cdf.ps, lo) - 1
    i = min(max(i, 0), len(cdf.ps) - 2)
    p0, p1 = cdf.ps[i], cdf.ps[i + 1]
    x0, x1 = cdf.xs[i], cdf.xs[i + 1]
    if p1 <= p0:
        return x1, x1
    slope = (x1 - x0) / (p1 - p0)
    return x0 + slope * (lo - p0), x0 + slope * (hi - p0)


def wasserstein(a: Cdf, b: Cdf) -> float:
    """W1 = ∫₀¹ |Qa(p) − Qb(p)| dp, exact for the two piecewise-linear CDFs.

    Between consecutive knots of either CDF both quantile functions are linear, so the integrand
    is |linear| and each stretch integrates in closed form (splitting where the sign changes).
    """
    grid = sorted(set(a.ps) | set(b.ps))
    total = 0.0
    for lo, hi in itertools.pairwise(grid):
        a0, a1 = _limits(a, lo, hi)
        b0, b1 = _limits(b, lo, hi)
        d0, d1 = a0 - b0, a1 - b1
        if d0 * d1 >= 0:
            total += (abs(d0) + abs(d1)) / 2 * (hi - lo)
        else:  # the two quantile functions cross inside the stretch
            total += (d0 * d0 + d1 * d1) / (2 * (abs(d0) + abs(d1))) * (hi - lo)
    return total


def psi_edges(base: Cdf, bins: int = PSI_BINS) -> list[float]:
    """Inner edges of the shared bins: the base's deciles (repeated ones merged), open at both ends."""
    edges: list[float] = []
    for k in range(1, bins):
        edge = base.quantile(k / bins)
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return edges


def bin_masses(cdf: Cdf, inner_edges: list[float]) -> list[float]:
    """Mass of each bin (-inf, e1], (e1, e2], ..., (ek, +inf)."""
    cuts = [0.0, *(cdf.at(e) for e in inner_edges), 1.0]
    return [max(hi - lo, 0.0) for lo, hi in itertools.pairwise(cuts)]


def psi(base: list[float], target: list[float]) -> float:
    """Σ (t − b) · ln(t / b) over shared bins, empty bins floored at ``PSI_EPSILON``."""
    total = 0.0
    for raw_b, raw_t in zip(base, target, strict=True):
        b, t = max(raw_b, PSI_EPSILON), max(raw_t, PSI_EPSILON)
        total += (t - b) * math.log(t / b)
    return total


def jensen_shannon(p: list[float], q: list[float]) -> float:
    """The Jensen–Shannon distance (square root of the divergence, natural log), as
    ``scipy.spatial.distance.jensenshannon``; both vectors are normalised to sum 1 first."""
    sp, sq = sum(p), sum(q)
    if sp <= 0 or sq <= 0:
        return 0.0
    divergence = 0.0
    for raw_p, raw_q in zip(p, q, strict=True):
        pi, qi = raw_p / sp, raw_q / sq
        m = (pi + qi) / 2
        if pi > 0:
            divergence += pi * math.log(pi / m) / 2
        if qi > 0:
            divergence += qi * math.log(qi / m) / 2
    return math.sqrt(max(divergence, 0.0))
