"""Drift metrics on stored distributions: Wasserstein, population stability index, Jensen–Shannon.

Pure arithmetic on a few dozen numbers per column (no numpy: the query service does not need it for
this, and each metric is a loop over bins).
"""

from __future__ import annotations

import itertools
import math

from sonda_query.compare.distributions import Cdf

#: PSI's floor for an empty bin (evidently's): ln(0) would make one empty bin infinitely important.
PSI_EPSILON = 1e-4
#: PSI bins: the base's deciles, the usual choice for the index.
PSI_BINS = 10


def _segments(cdf: Cdf) -> list[tuple[float, float, float, float]]:
    """The stretches ``(p0, p1, x0, x1)`` of positive probability; together they cover [0, 1]."""
    xs, ps = cdf.xs, cdf.ps
    return [(ps[i], ps[i + 1], xs[i], xs[i + 1]) for i in range(len(ps) - 1) if ps[i + 1] > ps[i]]


def wasserstein(a: Cdf, b: Cdf) -> float:
    """W1 = ∫₀¹ |Qa(p) − Qb(p)| dp, exact for the two piecewise-linear CDFs.

    Walking both CDFs' stretches together, both quantile functions are linear between consecutive
    knots of either, so the integrand is |linear| and each piece integrates in closed form
    (split where the sign changes).
    """
    sa, sb = _segments(a), _segments(b)
    if not sa or not sb:
        return 0.0
    i = j = 0
    lo = 0.0
    total = 0.0
    while i < len(sa) and j < len(sb):
        pa0, pa1, xa0, xa1 = sa[i]
        pb0, pb1, xb0, xb1 = sb[j]
        hi = min(pa1, pb1)
        if hi > lo:
            ka, kb = (xa1 - xa0) / (pa1 - pa0), (xb1 - xb0) / (pb1 - pb0)
            d0 = (xa0 + ka * (lo - pa0)) - (xb0 + kb * (lo - pb0))
            d1 = (xa0 + ka * (hi - pa0)) - (xb0 + kb * (hi - pb0))
            if d0 * d1 >= 0:
                total += (abs(d0) + abs(d1)) / 2 * (hi - lo)
            else:  # the two quantile functions cross inside the piece
                total += (d0 * d0 + d1 * d1) / (2 * (abs(d0) + abs(d1))) * (hi - lo)
            lo = hi
        if pa1 <= hi:
            i += 1
        if pb1 <= hi:
            j += 1
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
