"""Numbers written as people write them: ``1.234,56``, ``R$ 1.234,56``, ``-R$ 10,00``,
``US$ 1,234.56``, ``€ 12,50``, ``12,5%`` and accounting negatives ``(1.234,56)``.

The symbols are stripped and reported; a percentage keeps the number written (``12,5%`` is 12.5),
as Frictionless' ``bareNumber: false`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import (
    bool_mask,
    bool_scalar,
    filled_codes,
    null_scalar,
    string_scalar,
)

#: Currency symbols, longer spellings before the "$" they contain.
_CURRENCIES = ("R$", "US$", "€", "£", "$")
#: The digits with the decimal mark given and, optionally, the other mark between thousands.
BODY = {",": r"^(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$", ".": r"^(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$"}
#: How the number format is reported: group mark, then decimal mark (ICU/Excel notation).
PATTERN = {",": "#.##0,##", ".": "#,##0.##"}


@dataclass(frozen=True, slots=True)
class Parts:
    """An amount taken apart: the digits left, and what was around them."""

    digits: pa.Array
    negative: pa.Array
    #: The decorations make one number: parentheses balanced, one sign at most, no sign inside
    #: parentheses.
    sound: pa.Array
    currency: pa.Array
    percent: pa.Array
    parens: pa.Array


def _cut(text: pa.Array, where: pa.Array, start: int, stop: int | None = None) -> pa.Array:
    if not pc.any(where).as_py():  # most columns wear one decoration, if any: skip the rest
        return text
    return pc.if_else(where, pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, start, stop)), text)


def number_parts(values: pa.Array) -> Parts:
    """Literal prefix and suffix checks only (a regular expression with capture groups costs
    several seconds per million values; these cost a fraction of one)."""
    text = pc.utf8_trim_whitespace(pc.replace_substring(values, "\u00a0", " "))
    parens = pc.and_(pc.starts_with(text, "("), pc.ends_with(text, ")"))
    text = _cut(text, parens, 1, -1)
    minus1, plus1 = pc.starts_with(text, "-"), pc.starts_with(text, "+")
    text = _cut(text, pc.or_(minus1, plus1), 1)
    currency = pa.nulls(len(values), pa.string())
    for symbol in _CURRENCIES:
        lead = pc.and_(pc.is_null(currency), pc.starts_with(text, symbol))
        currency = pc.if_else(lead, string_scalar(symbol), currency)
        text = _cut(text, lead, len(symbol))
    minus2, plus2 = pc.starts_with(text, "-"), pc.starts_with(text, "+")  # R$ -10,00
    text = _cut(text, pc.or_(minus2, plus2), 1)
    percent = pc.ends_with(text, "%")
    text = _cut(text, percent, 0, -1)
    for symbol in _CURRENCIES:  # 12,50 €
        trail = pc.and_(pc.is_null(currency), pc.ends_with(text, symbol))
        currency = pc.if_else(trail, string_scalar(symbol), currency)
        text = _cut(text, trail, 0, -len(symbol))
    first, second = pc.or_(minus1, plus1), pc.or_(minus2, plus2)
    sound = pc.and_(pc.invert(pc.and_(first, second)), pc.invert(pc.and_(parens, pc.or_(first, second))))
    negative = pc.or_(pc.or_(minus1, minus2), parens)
    return Parts(text, negative, sound, currency, percent, parens)


def _valid(parts: Parts, decimal: str) -> pa.Array:
    return pc.fill_null(
        pc.and_(parts.sound, pc.match_substring_regex(parts.digits, BODY[decimal])), bool_scalar(False)
    )


def valid_numbers(parts: Parts, decimal: str) -> np.ndarray:
    return bool_mask(_valid(parts, decimal))


def symbols(parts: Parts, counts: np.ndarray) -> list[str]:
    """The symbols around the numbers (currencies, ``%``, ``()``), weighted by ``counts`` (zero
    for values that are not numbers), most frequent first."""
    weights: dict[str, int] = {}
    encoded = pc.dictionary_encode(parts.currency)
    per_symbol = np.bincount(
        filled_codes(encoded.indices, len(encoded.dictionary)),
        weights=counts,
        minlength=len(encoded.dictionary) + 1,
    )
    for symbol, weight in zip(encoded.dictionary.to_pylist(), per_symbol.tolist(), strict=False):
        if weight:
            weights[symbol] = int(weight)
    for key, flags in (("%", parts.percent), ("()", parts.parens)):
        weight = int(counts[bool_mask(flags)].sum())
        if weight:
            weights[key] = weight
    return sorted(weights, key=lambda k: -weights[k])


def parse_numbers(values: pa.Array, decimal: str) -> pa.Array:
    """float64 (int64 when no value has decimals); null where a value is not such a number."""
    parts = number_parts(values)
    ok = _valid(parts, decimal)
    plain = pc.replace_substring(parts.digits, "." if decimal == "," else ",", "")
    if decimal == ",":
        plain = pc.replace_substring(plain, ",", ".")
    signed = pc.if_else(
        pc.fill_null(parts.negative, bool_scalar(False)),
        pc.binary_join_element_wise(string_scalar("-"), plain, string_scalar("")),
        plain,
    )
    kept = pc.if_else(ok, signed, null_scalar(pa.string()))
    if not bool(pc.any(pc.match_substring(kept, ".")).as_py()):
        try:
            return pc.cast(kept, pa.int64())
        except pa.ArrowInvalid:  # beyond int64: float is the honest fallback
            pass
    return pc.cast(kept, pa.float64())
