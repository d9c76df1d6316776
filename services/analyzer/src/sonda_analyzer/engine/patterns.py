"""Regular expressions (RE2 syntax, run by pyarrow.compute) behind the semantic hints."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_mask

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
URL = r"^(?i:https?|ftp)://[^\s]+$"
UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
NUMBER = r"^\s*[+-]?((\d+|\d{1,3}([.,]\d{3})+)([.,]\d+)?|[.,]\d+)([eE][+-]?\d+)?\s*$"
DATE = (
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*$"
)
#: A number as ``float()`` reads it ("1e5", ".5", "-3.25"): what a cast to float64 accepts.
FLOAT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def weighted_share(values: pa.Array, counts: np.ndarray, pattern: str) -> float:
    """Share of the occurrences (``counts`` per distinct value) whose value matches ``pattern``."""
    total = counts.sum()
    if total == 0 or len(values) == 0:
        return 0.0
    matches = bool_mask(pc.match_substring_regex(values, pattern))
    return float(counts[matches].sum()) / float(total)


def all_match(values: pa.Array, pattern: str) -> bool:
    if len(values) == 0:
        return False
    return bool(pc.all(pc.match_substring_regex(values, pattern)).as_py())
