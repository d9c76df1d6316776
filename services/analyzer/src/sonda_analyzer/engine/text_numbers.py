"""Numbers written as people write them: ``1.234,56``, ``R$ 1.234,56``, ``-R$ 10,00``,
``US$ 1,234.56``, ``€ 12,50``, ``12,5%`` and accounting negatives ``(1.234,56)``.

The symbols are stripped and reported; a percentage keeps the number written (``12,5%`` is 12.5),
as Frictionless' ``bareNumber: false`` reads it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_mask

_CURRENCY = r"R\$|US\$|\$|€|£"
_AMOUNT = (
    r"^(?P<open>\()?\s*(?P<s1>[-+]?)\s*(?P<c1>" + _CURRENCY + r")?\s*(?P<s2>[-+]?)\s*"
    r"(?P<n>\d[\d.,]*)\s*(?P<c2>" + _CURRENCY + r")?\s*(?P<p>%)?\s*(?P<close>\))?$"
)
#: The digits with the decimal mark given and, optionally, the other mark between thousands.
BODY = {",": r"^(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$", ".": r"^(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$"}
#: How the number format is reported: group mark, then decimal mark (ICU/Excel notation).
PATTERN = {",": "#.##0,##", ".": "#,##0.##"}


def _parts(values: pa.Array) -> tuple[pa.StructArray, pa.Array]:
    """The amount's parts and whether they make one number (parens balanced, one sign at most)."""
    text = pc.utf8_trim_whitespace(pc.replace_substring(values, "\u00a0", " "))
    parts = pc.extract_regex(text, _AMOUNT)

    def field(name: str) -> pa.Array:
        return pc.fill_null(pc.not_equal(pc.struct_field(parts, name), ""), False)

    opened, closed = field("open"), field("close")
    s1, s2, c1, c2 = field("s1"), field("s2"), field("c1"), field("c2")
    sound = pc.and_(
        pc.and_(pc.is_valid(parts), pc.equal(opened, closed)),
        pc.and_(pc.invert(pc.and_(s1, s2)), pc.invert(pc.and_(c1, c2))),
    )
    sound = pc.and_(sound, pc.invert(pc.and_(opened, pc.or_(s1, s2))))
    return parts, sound


def valid_numbers(values: pa.Array, decimal: str) -> np.ndarray:
    parts, sound = _parts(values)
    body = pc.match_substring_regex(pc.struct_field(parts, "n"), BODY[decimal])
    return bool_mask(pc.fill_null(pc.and_(sound, body), False))


def symbols(values: pa.Array, counts: np.ndarray) -> list[str]:
    """The symbols around the numbers (currencies, ``%``, ``()``), most frequent first."""
    parts, sound = _parts(values)
    ok = bool_mask(pc.fill_null(sound, False))
    weights: dict[str, int] = {}
    for name in ("c1", "c2", "p", "open"):
        field = pc.struct_field(parts, name).to_pylist()
        for i in np.flatnonzero(ok):
            symbol = field[i]
            if symbol:
                key = "()" if name == "open" else symbol
                weights[key] = weights.get(key, 0) + int(counts[i])
    return sorted(weights, key=lambda k: -weights[k])


def parse_numbers(values: pa.Array, decimal: str) -> pa.Array:
    """float64 (int64 when no value has decimals); null where a value is not such a number."""
    parts, sound = _parts(values)
    digits = pc.struct_field(parts, "n")
    ok = pc.fill_null(pc.and_(sound, pc.match_substring_regex(digits, BODY[decimal])), False)
    plain = pc.replace_substring(digits, "." if decimal == "," else ",", "")
    if decimal == ",":
        plain = pc.replace_substring(plain, ",", ".")
    negative = pc.or_(
        pc.or_(pc.equal(pc.struct_field(parts, "s1"), "-"), pc.equal(pc.struct_field(parts, "s2"), "-")),
        pc.equal(pc.struct_field(parts, "open"), "("),
    )
    signed = pc.if_else(pc.fill_null(negative, False), pc.binary_join_element_wise("-", plain, ""), plain)
    kept = pc.if_else(ok, signed, pa.scalar(None, pa.string()))
    if not bool(pc.any(pc.match_substring(kept, ".")).as_py()):
        try:
            return pc.cast(kept, pa.int64())
        except pa.ArrowInvalid:  # beyond int64: float is the honest fallback
            pass
    return pc.cast(kept, pa.float64())
