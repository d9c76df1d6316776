"""How the LLM summary writes a number: the one rule both the Markdown and the JSON form follow.

Plain decimal notation (an agent misreads ``1.225e+05``), four significant digits but never fewer
than the integer digits (122,500 stays 122,500), thousands separators in text, none in JSON. Only
beyond 1e15 does a figure switch to scientific notation. ``plain`` gives the digits once; ``number``
adds the separators and JSON embeds ``plain`` as a raw number, so both forms carry the same value.
"""

from __future__ import annotations

import math
import re
from typing import Any

DIGITS = 4
#: Below this magnitude every figure is written out in full.
SCIENTIFIC_FROM = 1e15
_LOCALE_NUMBER = {
    ",": re.compile(r"^\s*[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?\s*$"),
    ".": re.compile(r"^\s*[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?\s*$"),
}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def plain(value: float | int, digits: int = DIGITS) -> str:
    """``value`` in plain decimal digits, no separators: ``0.0001235``, ``95154``, ``-3.142``."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"
    if abs(value) >= SCIENTIFIC_FROM:
        return f"{value:.{digits - 1}e}"
    exponent = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - exponent)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number(value: Any, digits: int = DIGITS) -> str:
    """``plain`` with thousands separators (``95,154``, ``1,234.56``); booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not is_number(value):
        return str(value)
    text = plain(value, digits)
    if "e" in text or text == "null":
        return text
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def percent_text(pct: float) -> str:
    """A share in percent without the sign: one decimal, more only when rounding would say 0 or 100.

    A column with 3 missing values in a million is not "0% missing", nor "100%" present.
    """
    if pct <= 0:
        return "0"
    if pct >= 100:
        return "100"
    for decimals in range(1, 8):
        text = f"{pct:.{decimals}f}"
        value = float(text)
        if 0 < value < 100:
            return text.rstrip("0").rstrip(".")
    return plain(pct)


def share_text(pct: float, digits: int = 2) -> str:
    """A share of a value among many (top values): two significant digits are enough to rank them."""
    text = plain(pct, digits) if 0 < pct < 100 else percent_text(pct)
    return text if 0 < float(text) < 100 or pct in (0, 100) else percent_text(pct)


def parse_locale(text: str, decimal: str | None) -> float | int | None:
    """A number as the file wrote it (``1.234,56`` with decimal ``,``) as a value; None if it is not one.

    Sample rows keep the file's text; a summary shows the parsed value so ``140.479`` (a Brazilian
    140,479) is not read as a decimal.
    """
    mark = decimal if decimal in _LOCALE_NUMBER else "."
    if not _LOCALE_NUMBER[mark].match(text):
        return None
    thousands = "." if mark == "," else ","
    digits = text.strip().replace(thousands, "").replace(mark, ".")
    return float(digits) if "." in digits else int(digits)
