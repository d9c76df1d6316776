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
#: A number written with the given decimal mark and, optionally, the other mark between thousands.
LOCALE_NUMBER = {
    ",": r"^\s*[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?\s*$",
    ".": r"^\s*[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?\s*$",
}


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


def parse_locale_numbers(values: pa.Array, decimal: str) -> pa.Array:
    """Strings like "1.234,56" (decimal ",") or "1,234.56" as float64 (int64 when no decimals)."""
    thousands = "." if decimal == "," else ","
    plain = pc.utf8_trim_whitespace(pc.replace_substring(values, thousands, ""))
    if decimal == ",":
        plain = pc.replace_substring(plain, ",", ".")
    if not bool(pc.any(pc.match_substring(plain, ".")).as_py()):
        try:
            return pc.cast(plain, pa.int64())
        except pa.ArrowInvalid:  # beyond int64: float is the honest fallback
            pass
    return pc.cast(plain, pa.float64())
