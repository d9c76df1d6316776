"""Dates written as people write them: ``18/03/2023``, ``03-18-2023 10:05``, ``2012/01/01``.

ISO 8601 dates never get here (the readers parse those). A format is a ``strptime`` pattern, so
a downstream tool can use it as is; the day comes first unless a value proves the month does (a
second field above 12), because the exports Sonda reads first (Brazilian ones) write the day first.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_scalar, null_scalar

_TIME = r"(?:(?P<t>[ T])(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4}|\d{2})" + _TIME)
_YEAR_MONTH_DAY = re.compile(r"(\d{4})([/.-])(\d{1,2})([/.-])(\d{1,2})" + _TIME)
#: strptime directives and what each accepts (RE2), to check a value's shape before trusting
#: strptime, which rolls 31/02 over into March instead of refusing it.
_DIRECTIVES = {
    "%d": r"(?P<d>\d{1,2})",
    "%m": r"(?P<m>\d{1,2})",
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%H": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
}
_MAX_CANDIDATES = 8


def _time_part(match: re.Match[str]) -> str:
    if not match.group("t"):
        return ""
    return match.group("t") + ("%H:%M:%S" if match.group("S") else "%H:%M")


def date_candidates(head: list[str]) -> list[str]:
    """Formats the first values could be written in; day-first before month-first for each shape."""
    found: dict[str, None] = {}
    for value in head:
        text = value.strip()
        if m := _DAY_MONTH_YEAR.fullmatch(text):
            sep = m.group(2)
            if sep == m.group(4):
                year = "%Y" if len(m.group(5)) == 4 else "%y"
                time = _time_part(m)
                found[f"%d{sep}%m{sep}{year}{time}"] = None
                found[f"%m{sep}%d{sep}{year}{time}"] = None
        elif (m := _YEAR_MONTH_DAY.fullmatch(text)) and m.group(2) == m.group(4):
            found[f"%Y{m.group(2)}%m{m.group(2)}%d{_time_part(m)}"] = None
        if len(found) >= _MAX_CANDIDATES:
            break
    return list(found)


def _shape(fmt: str) -> str:
    parts = re.split(r"(%[a-zA-Z])", fmt)
    return "^" + "".join(_DIRECTIVES.get(p, re.escape(p)) for p in parts if p) + "$"


def has_time(fmt: str) -> bool:
    return "%H" in fmt


def parse_dates(values: pa.Array, fmt: str) -> pa.Array:
    """``timestamp[s]`` (``date32`` for a format without time); null where a value does not fit."""
    trimmed = pc.utf8_trim_whitespace(values)
    parts = pc.extract_regex(trimmed, _shape(fmt))
    stamps = pc.strptime(trimmed, format=fmt, unit="s", error_is_null=True)
    day = pc.cast(pc.struct_field(parts, "d"), pa.int64())
    month = pc.cast(pc.struct_field(parts, "m"), pa.int64())
    ok = pc.and_(pc.equal(pc.day(stamps), day), pc.equal(pc.month(stamps), month))
    result = pc.if_else(pc.fill_null(ok, bool_scalar(False)), stamps, null_scalar(pa.timestamp("s")))
    return result if has_time(fmt) else pc.cast(result, pa.date32())
