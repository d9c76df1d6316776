"""Text values that are really dates, amounts, percentages or yes/no: which format a column is
written in, how much of it fits, and the column parsed.

One rule for both modes: a text column of a delimited file becomes numeric, datetime or boolean
only when every present value fits one format (as the readers' own type inference does); a
column where some but not all values fit stays text, and its ``parsing`` says what share would
have parsed. Exact mode decides on all of a column's values; streaming mode decides on the first
chunk and goes back to text (restarting the pass) when a later chunk holds a value that does not
fit, so both end with the same type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sonda_events.spellings import YES_NO_GROUPS, fold

from sonda_analyzer.engine.arrays import bool_mask
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.result import Parsing
from sonda_analyzer.engine.text_booleans import group_shares, parse_booleans
from sonda_analyzer.engine.text_dates import date_candidates, parse_dates
from sonda_analyzer.engine.text_numbers import (
    PATTERN,
    number_parts,
    parse_numbers,
    symbols,
    valid_numbers,
)

Kind = Literal["number", "datetime", "boolean"]
ALL_KINDS: frozenset[str] = frozenset({"number", "datetime", "boolean"})
#: Distinct values looked at to find candidate date formats (each candidate is then checked on all).
_HEAD = 1_000
#: A yes/no column has at most this many different spellings, each a word of some group.
_MAX_YES_NO_SPELLINGS = 64
_YES_NO_WORDS = {fold(w) for yes, no in YES_NO_GROUPS for w in (*yes, *no)}
#: Hints this module decides for columns with a candidate format (they replace the regex guesses).
SHARE_HINTS = ("numeric_as_text", "date_as_text", "mixed_types")


@dataclass(frozen=True, slots=True)
class TextFormat:
    kind: Kind
    #: strptime pattern (dates), "#.##0,##" (numbers: group and decimal marks), "Sim/Não" (yes/no).
    format: str
    #: Symbols removed around numbers: "R$", "US$", "€", "%", "()".
    stripped: tuple[str, ...] = ()
    decimal: str = "."
    group: int = -1


@dataclass(frozen=True, slots=True)
class Detected:
    format: TextFormat
    #: Share of the present values (occurrences, not distinct values) that fit the format.
    share: float


def _share(ok: np.ndarray, counts: np.ndarray) -> float:
    total = float(counts.sum())
    return float(counts[ok].sum()) / total if total else 0.0


def _booleans(values: pa.Array, counts: np.ndarray, decimal: str) -> Detected | None:
    best = max(group_shares(values, counts), key=lambda g: g[1], default=None)
    if best is None:
        return None
    group, share, is_yes = best
    is_no = bool_mask(pc.invert(parse_booleans(values, group)))
    raw = values.to_pylist()

    def spelling(mask: np.ndarray) -> str:
        idx = np.flatnonzero(mask)
        return str(raw[idx[np.argmax(counts[idx])]]).strip()

    fmt = f"{spelling(is_yes)}/{spelling(is_no)}"
    return Detected(TextFormat(kind="boolean", format=fmt, group=group), share)


def _dates(values: pa.Array, counts: np.ndarray, decimal: str) -> Detected | None:
    best: Detected | None = None
    for fmt in date_candidates(values[:_HEAD].to_pylist()):
        ok = bool_mask(pc.is_valid(parse_dates(values, fmt)))
        share = _share(ok, counts)
        if best is None or share > best.share:  # ties keep the earlier: day first
            best = Detected(TextFormat(kind="datetime", format=fmt), share)
    return best


def _numbers(values: pa.Array, counts: np.ndarray, decimal: str) -> Detected | None:
    other = "." if decimal == "," else ","
    parts = number_parts(values)
    best: tuple[float, str, np.ndarray] | None = None
    for mark in (decimal, other):  # the file's mark first: it wins a tie ("1.234" alone)
        ok = valid_numbers(parts, mark)
        share = _share(ok, counts)
        if share > 0 and (best is None or share > best[0]):
            best = (share, mark, ok)
    if best is None:
        return None
    share, mark, ok = best
    stripped = tuple(symbols(parts, np.where(ok, counts, 0)))
    return Detected(TextFormat(kind="number", format=PATTERN[mark], stripped=stripped, decimal=mark), share)


def detect(
    values: pa.Array, counts: np.ndarray, decimal: str, kinds: frozenset[str] = ALL_KINDS
) -> Detected | None:
    """The format most of ``values`` (distinct strings, each occurring ``counts`` times) fit.

    Each kind is tried on the first distinct values before all of them, so a column of free
    text costs a look at a thousand values, not a pass over a million.
    """
    if len(values) == 0:
        return None
    head, head_counts = values[:_HEAD], counts[:_HEAD]
    words = [str(v) for v in head.to_pylist()]
    # Cheap looks first (regular expressions over Arrow cost milliseconds per column): yes/no
    # columns have few, short spellings; numbers and dates have digits.
    tries: list[Callable[[pa.Array, np.ndarray, str], Detected | None]] = []
    if (
        "boolean" in kinds
        and len(values) <= _MAX_YES_NO_SPELLINGS
        and {fold(w) for w in words} <= _YES_NO_WORDS
    ):
        tries.append(_booleans)
    if any(ch.isdigit() for w in words for ch in w):
        tries += [f for k, f in (("datetime", _dates), ("number", _numbers)) if k in kinds]
    found = []
    for kind in tries:  # ties: yes/no, then dates, then numbers
        first = kind(head, head_counts, decimal)
        if first is None or first.share == 0:
            continue
        whole = first if len(values) <= _HEAD else kind(values, counts, decimal)
        if whole is not None:
            found.append(whole)
    return max(found, key=lambda d: d.share, default=None)


def dates_written(values: pa.Array) -> pa.Array | None:
    """Distinct strings read with the date format most of them fit (null where one does not), or
    None when none fits any: how a column forced to ``datetime`` reads people's dates."""
    found = _dates(values, np.ones(len(values), dtype=np.int64), ".")
    return parse(found.format, values) if found is not None and found.share > 0 else None


def month_first(fmt: TextFormat) -> TextFormat | None:
    """The month-first reading of a day-first date format, for a value seen later that only it
    fits (streaming mode chose day first from the first chunk, where no value proved either)."""
    if fmt.kind != "datetime" or "%d" not in fmt.format or "%m" not in fmt.format:
        return None
    if fmt.format.index("%d") > fmt.format.index("%m"):
        return None
    swapped = fmt.format.replace("%d", "%DAY").replace("%m", "%d").replace("%DAY", "%m")
    return TextFormat(kind="datetime", format=swapped)


def parse(fmt: TextFormat, values: pa.Array) -> pa.Array:
    """The values in the format's type; null where a value does not fit."""
    if fmt.kind == "datetime":
        return parse_dates(values, fmt.format)
    if fmt.kind == "boolean":
        return parse_booleans(values, fmt.group)
    return parse_numbers(values, fmt.decimal)


def parsed_count(fmt: TextFormat, values: pa.Array, counts: np.ndarray) -> int:
    """Occurrences of ``values`` (distinct, with their counts) that fit the format."""
    ok = bool_mask(pc.is_valid(parse(fmt, values)))
    return int(counts[ok].sum())


def converts(detected: Detected | None) -> bool:
    """The one rule: every present value fits."""
    return detected is not None and detected.share >= 1.0


def reported(detected: Detected | None, thresholds: AlertThresholds) -> Detected | None:
    """A candidate worth reporting on a column that stays text (yes/no words are too short to
    tell: a few "S" in a column of names say nothing)."""
    if detected is None or detected.format.kind == "boolean":
        return None
    return detected if detected.share >= thresholds.mixed_types_pct else None


def parsing_of(fmt: TextFormat, share: float) -> Parsing:
    return Parsing(kind=fmt.kind, format=fmt.format, parsed_share=share, stripped=list(fmt.stripped))


def share_hints(hints: list[str], fmt: TextFormat, share: float, thresholds: AlertThresholds) -> list[str]:
    """A text column's hints with the share of values that parse replacing the regex guesses."""
    kept = [h for h in hints if h not in SHARE_HINTS]
    if share >= thresholds.as_text_pct:
        kept.append("date_as_text" if fmt.kind == "datetime" else "numeric_as_text")
    elif share >= thresholds.mixed_types_pct:
        kept.append("mixed_types")
    return kept
