"""The ``approximations`` list of a streaming result: each sketched figure, its method and bound."""

from __future__ import annotations

import math

from sonda_analyzer.engine.result import Approximation, Correlations
from sonda_analyzer.engine.rowhash import DuplicateCounter
from sonda_analyzer.engine.sketches import (
    EXACT_DISTINCT,
    FREQ_LG_MAX,
    HLL_LG_K,
    KLL_K,
    THIN_RUN,
    THIN_STRIDE,
    hll_relative_error,
    kll_pmf_error,
    kll_rank_error,
    thinning_error,
)
from sonda_analyzer.engine.stream_assoc import SPEARMAN_SAMPLE


def approximations(
    figures: dict[str, list[str]],
    dups: DuplicateCounter,
    dup_error: float,
    top_error: int,
    correlations: Correlations,
) -> list[Approximation]:
    out: list[Approximation] = []
    # The sketch's own error (99 % confidence) and the most its thinned input adds (always).
    rank, pmf = kll_rank_error() + thinning_error(), kll_pmf_error() + thinning_error()
    kll_method = (
        f"KLL quantile sketch (Apache DataSketches, k={KLL_K}) of every {THIN_STRIDE}th value "
        f"of each run of {THIN_RUN:,} sorted values"
    )
    if "quantiles" in figures:
        out.append(Approximation(
            figure="columns[].stats.quantiles", method=kll_method, error_bound=rank,
            description=f"rank error: each quantile (also median, IQR, MAD) is a value whose rank "
            f"is within ±{rank:.2%} of the column's count, at 99 % confidence",
            columns=figures["quantiles"],
        ))  # fmt: skip
    if "outliers_iqr" in figures:
        out.append(Approximation(
            figure="columns[].stats.outliers_iqr", method=kll_method + ", CDF at the IQR fences",
            error_bound=2 * pmf,
            description=f"the count is within ±{2 * pmf:.2%} of the column's count, at 99 % "
            "confidence, given the fences",
            columns=figures["outliers_iqr"],
        ))  # fmt: skip
    if "histogram" in figures:
        out.append(Approximation(
            figure="columns[].histogram", method=kll_method + ", PMF over the bin edges",
            error_bound=pmf,
            description=f"each bin's count is within ±{pmf:.2%} of the column's count, at 99 % "
            "confidence",
            columns=figures["histogram"],
        ))  # fmt: skip
    if "distinct" in figures:
        rel = hll_relative_error()
        out.append(Approximation(
            figure="columns[].distinct",
            method=f"HyperLogLog (lg_k={HLL_LG_K}, Ertl's improved estimator); exact up to "
            f"{EXACT_DISTINCT:,} distinct values",
            error_bound=rel,
            description=f"relative error within ±{rel:.2%} at about 99.7 % confidence",
            columns=figures["distinct"],
        ))  # fmt: skip
    if "top_values" in figures:
        out.append(Approximation(
            figure="columns[].top_values",
            method=f"frequent items sketch (Apache DataSketches, lg_max_map_size={FREQ_LG_MAX}); "
            "chunks feed it the values they hold at least twice",
            error_bound=float(top_error),
            description=f"each count is low by at most {top_error:,} occurrences; entropy and "
            "imbalance of these columns are not computed (null)",
            columns=figures["top_values"],
        ))  # fmt: skip
    if "frequency" in figures:
        out.append(Approximation(
            figure="columns[].datetime.frequency", method="inferred from the first chunk",
            error_bound=0.0, description="the usual step between the first chunk's instants",
            columns=figures["frequency"],
        ))  # fmt: skip
    if dups.level:
        out.append(Approximation(
            figure="dataset.duplicate_rows",
            method=f"64-bit row hashes, 1 in {1 << dups.level} hash values kept to stay in memory",
            error_bound=dup_error,
            description="relative standard error of the scaled-up count",
        ))  # fmt: skip
    else:
        out.append(Approximation(
            figure="dataset.duplicate_rows", method="64-bit row hashes, all kept",
            error_bound=dups.collision_probability(),
            description="probability that a hash collision adds a false duplicate",
        ))  # fmt: skip
    out.append(_duplicate_list(dups))
    if correlations.spearman.columns:
        bound = 3.0 / math.sqrt(SPEARMAN_SAMPLE)
        out.append(Approximation(
            figure="correlations.spearman",
            method=f"Spearman on a uniform sample of up to {SPEARMAN_SAMPLE:,} rows",
            error_bound=bound,
            description=f"absolute error within about ±{bound:.3f} (three standard errors)",
        ))  # fmt: skip
    return out


def _duplicate_list(dups: DuplicateCounter) -> Approximation:
    """How the list of the most frequent duplicated rows may differ from the exact one."""
    if dups.level:
        return Approximation(
            figure="duplicates.rows",
            method=f"64-bit row hashes, 1 in {1 << dups.level} hash values kept to stay in memory",
            error_bound=1.0 - 1.0 / (1 << dups.level),
            description="the listed rows' counts are exact, but they are the most frequent among the "
            "rows whose hashes were kept; the bound is the chance that a given row was left out",
        )
    return Approximation(
        figure="duplicates.rows",
        method="64-bit row hashes, all kept; the values of the rows ranked highest kept chunk by chunk",
        error_bound=dups.collision_probability(),
        description="the exact list, but for the probability that a hash collision merges two rows",
    )
