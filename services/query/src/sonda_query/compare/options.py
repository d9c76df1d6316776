"""The thresholds of a comparison, with their defaults (docs/compare.md explains each).

The defaults follow evidently's data-drift preset for large samples: Wasserstein distance normed by
the base's standard deviation for numeric columns and Jensen–Shannon distance for categorical ones,
both drifting above 0.1, and the dataset drifting when at least half of the compared columns do.
"""

from __future__ import annotations

from typing import Literal

import msgspec

NumericMethod = Literal["wasserstein", "psi"]


class CompareOptions(msgspec.Struct, kw_only=True, frozen=True):
    #: Which metric decides numeric and datetime columns (the other is still reported).
    numeric_method: NumericMethod = "wasserstein"
    #: Wasserstein distance divided by the base's standard deviation; drift above this.
    wasserstein_threshold: float = 0.1
    #: Population stability index on the base's deciles; 0.1 is "moderate", 0.25 "major" by custom.
    psi_threshold: float = 0.1
    #: Jensen–Shannon distance (natural log, as scipy and evidently compute it), between 0 and ~0.83.
    jensen_shannon_threshold: float = 0.1
    #: An absolute change of the missing share (0.1 = ten percentage points) drifts a column.
    missing_threshold: float = 0.1
    #: The dataset drifts when at least this share of the compared columns drift.
    drift_share: float = 0.5
