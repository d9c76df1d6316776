"""Guesses about a delimited text file: encoding, delimiter, quote char, header and decimal mark.

Each guess looks only at the first megabyte, which is what a person would look at too; the reader
corrects a wrong encoding guess later if the rest of the file disagrees.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections import Counter
from dataclasses import dataclass

from sonda_analyzer.engine.errors import EncodingError

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_RECORDS = 200
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+$")
_DOT_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_COMMA_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_AMBIGUOUS = re.compile(r"[+-]?\d{1,3}[.,]\d{3}")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$|^[+-]?\d{1,3}([.,]\d{3})+([.,]\d+)?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?")
_BOOL = frozenset({"true", "false", "yes", "no", "sim", "não", "nao", "t", "f"})
#: Single-byte encodings that charset-normalizer may name for Western text; cp1252/latin-1 read the
#: same letters, and are what Brazilian spreadsheets actually write.
_WESTERN = re.compile(r"^(cp125\d|latin_?\d|iso8859_\d+|mac_\w+|cp8\d\d|windows_125\d|ascii)$")
_HIGH = re.compile(rb"[\x80-\xff]")
#: Bytes above 0x7F a sample needs before a non-Western guess of charset-normalizer is believed.
MIN_FOREIGN_HIGH_BYTES = 16


@dataclass(frozen=True, slots=True)
class Dialect:
    encoding: str
    delimiter: str
    quotechar: str
    header: bool
    decimal: str
    names: list[str]
    #: Lines of the file before the header (or before the data when there is no header).
    skip_rows: int = 0
    #: A quoted field spans lines in the sample; the parser must allow it (slower).
    newlines_in_values: bool = False


def detect_encoding(head: bytes, *, truncated: bool) -> str:
    """The codec name of ``head`` (Python spelling, e.g. "utf-8", "utf-8-sig", "cp1252")."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte letter is still UTF-8.
        if truncated and exc.start >= len(head) - 3:
            return "utf-8"
    sample = head[: 256 * 1024]
    # A few accented letters are too little evidence: charset-normalizer reads "João;1,5" in
    # Latin-1 as Big5 ("Jo緌"). Foreign multi-byte text has many high bytes; Brazilian files few.
    # UTF-16 without a BOM has few high bytes too, but NULs everywhere: leave it to the detector.
    wide = sample.count(0) * 4 >= len(sample)
    if len(_HIGH.findall(sample)) < MIN_FOREIGN_HIGH_BYTES and not wide:
        return western_encoding(head)
    import charset_normalizer  # here: most files never need it (6 ms of every start)

    guess = charset_normalizer.from_bytes(sample).best()
    name = guess.encoding if guess is not None else None
    if name is not None and not _WESTERN.match(name):
        return name
    return western_encoding(head)


def western_encoding(data: bytes) -> str:
    """cp1252 when its extra letters (0x80–0x9F) occur and decode, else latin-1 (never fails)."""
    if re.search(rb"[\x80-\x9f]", data):
        try:
            data.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return "latin-1"


def decode_head(head: bytes, encoding: str, *, truncated: bool) -> str:
    """Decode the sample; when it was cut, drop the incomplete last line."""
    try:
        text = head.decode(encoding, errors="strict" if not truncated else "ignore")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"the file cannot be read as {encoding}: byte {exc.start} is not valid in that encoding"
        ) from None
    except LookupError:
        raise EncodingError(f"unknown encoding {encoding!r}") from None
    text = text.lstrip("\ufeff")
    if truncated and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    return text


def sample_records(text: str, delimiter: str, quotechar: str, limit: int) -> list[list[str]]:
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, quotechar=quotechar)
    out: list[list[str]] = []
    try:
        for row in reader:
            if row:
                out.append(row)
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def detect_quotechar(text: str) -> str:
    double = len(re.findall(r'(^|[,;\t|])"', text[:65536], re.M))
    single = len(re.findall(r"(^|[,;\t|])'", text[:65536], re.M))
    return "'" if single > 2 * double and single >= 2 else '"'


def detect_delimiter(text: str, quotechar: str) -> str:
    """The candidate giving the most rows with the same (≥2) number of fields."""
    best, best_key = ",", (0.0, 0)
    for candidate in DELIMITERS:
        if candidate not in text:
            continue
        counts = [len(r) for r in sample_records(text, candidate, quotechar, _SAMPLE_RECORDS)]
        if not counts:
            continue
        fields, freq = Counter(counts).most_common(1)[0]
        if fields < 2:
            continue
        key = (freq / len(counts), fields)
        if key > best_key:
            best, best_key = candidate, key
    return best


def _kind(cell: str) -> str:
    value = cell.strip()
    if not value:
        return "empty"
    if _NUMBER.match(value):
        return "number"
    if _DATE.match(value):
        return "date"
    if value.lower() in _BOOL:
        return "bool"
    return "text"


def detect_header(records: list[list[str]]) -> bool:
    """Does the first record name the columns? Votes per column: a text cell above typed data."""
    if not records:
        return True
    first = [_kind(c) for c in records[0]]
    rest = records[1:]
    if not rest:
        return not all(k in ("number", "date") for k in first)
    # Consecutive whole numbers over numeric columns are years naming them (1960, 1961, ...: the
    # World Bank's layout), not a row of data: they do not vote against a header.
    numbers = [c.strip() for c, k in zip(records[0], first, strict=True) if k == "number"]
    years = (
        len(numbers) >= 3
        and all(n.isdigit() for n in numbers)
        and all(int(b) - int(a) == 1 for a, b in itertools.pairwise(numbers))
    )
    votes = 0
    for j, head_kind in enumerate(first):
        if years and head_kind == "number":
            continue
        kinds = Counter(_kind(r[j]) for r in rest if j < len(r))
        kinds.pop("empty", None)
        if not kinds:
            continue
        kind, n = kinds.most_common(1)[0]
        if kind == "text" or n < 0.9 * sum(kinds.values()):
            continue
        votes += 1 if head_kind in ("text", "empty") and head_kind != kind else -1
    if votes != 0:
        return votes > 0
    # Only text columns: a header's names are distinct and not repeated below it.
    names = records[0]
    seen_below = {c for r in rest for c in r}
    return len(set(names)) == len(names) and not any(n in seen_below for n in names if n)


def detect_decimal(records: list[list[str]], prefer_comma: bool = False) -> str:
    """ "," when the numbers use a decimal comma (1.234,56 or 12,5), else ".".

    ``prefer_comma`` settles a tie (no evidence, or "1.234" only): files separated by ";" come from
    locales whose decimal mark is the comma (that is why their delimiter is not ",").
    """
    comma = dot = 0
    for row in records:
        for cell in row:
            value = cell.strip()
            if _AMBIGUOUS.fullmatch(value):
                continue  # "1.234" or "1,234" alone could be either: no vote
            if _COMMA_DECIMAL.match(value) or _DOT_THOUSANDS.match(value):
                comma += 1
            elif _DOT_DECIMAL.match(value) or _COMMA_THOUSANDS.match(value):
                dot += 1
    return "," if comma > dot or (prefer_comma and comma == dot) else "."


def unique_names(raw: list[str]) -> list[str]:
    """Column names made non-empty and unique ("name", "name.1", ... like pandas)."""
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(raw):
        base = value.strip() or f"column_{i + 1}"
        name, k = base, 0
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen.add(name)
        names.append(name)
    return names
