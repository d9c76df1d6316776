"""Semantic types checked value by value: what a column holds (a CPF, a phone, an e-mail), and
the share of its values that are valid for that type.

Each rule looks at a value three ways: its *shape* (it is written like a CPF), its *evidence*
(something that would not happen by chance: the ``***.***.***-**`` punctuation, a valid check
digit, or a column named ``cpf``), and its *validity* (check digits verified, a real area code, a
real state). A column has the type when at least ``SEMANTIC_PCT`` of its present values are
evidence of it, and reports the share of its values that are valid — an invalid CPF is counted,
never corrected. Bare digits therefore need valid check digits: a column of random 11-digit numbers
is not a CPF column (about 1 % of such numbers pass), while one of CPFs is, formatted or not, even
when read as integers (leading zeros restored).

The same :class:`SemanticScan` runs in exact mode (once, over the distinct values and their counts)
and in streaming mode (once per chunk), so both modes count the same values the same way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sonda_events.privacy import is_personal

from sonda_analyzer.engine.arrays import (
    bool_array,
    bool_mask,
    floats,
    index_array,
    primitive,
    single,
    trim_whitespace,
)
from sonda_analyzer.engine.checkdigits import char_matrix, cnpj_valid, cpf_valid, lengths_of, luhn_valid
from sonda_analyzer.engine.patterns import EMAIL, URL, uuid_mask
from sonda_analyzer.engine.result import ColumnProfile

#: A column has a semantic type when at least this share of its present values are evidence of it.
SEMANTIC_PCT = 0.5
#: Rules are tried on a small sample first; only those reaching this share there count every value.
CANDIDATE_PCT = 0.25
CANDIDATE_SAMPLE = 1_000
#: Integers from this size up can be documents (a CPF has 11 digits; under 1 % start with "00").
_DOCUMENT_MIN = 10**8
#: Hints that a semantic type explains: a column of bare CPFs is not "numbers stored as text".
_EXPLAINED = ("numeric_as_text", "date_as_text", "mixed_types")

#: Types whose values name one person, company, card or machine: with many distinct values such a
#: column is an identifier, however many words its values have ("4111 1111 1111 1111").
IDENTIFYING = frozenset({"cpf", "cnpj", "credit_card", "email", "phone", "uuid", "ip"})

Mask = npt.NDArray[np.bool_]

#: Brazilian area codes (DDD) in use.
_DDD = "(1[1-9]|2[12478]|3[1-578]|4[1-9]|5[1345]|6[1-9]|7[134579]|8[1-9]|9[1-9])"
_BR_NUMBER = rf"{_DDD}(9\d{{8}}|[2-5]\d{{7}})"
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
#: The 27 federative units.
UFS = frozenset({
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
})  # fmt: skip


#: A regular expression, not ``pc.is_in``: building an Arrow array of the codes would import pandas
#: (pyarrow's array-like check), a second's delay in a fresh profiling process.
_UF_PATTERN = "^(?i:" + "|".join(sorted(UFS)) + ")$"


class Checks(NamedTuple):
    shape: Mask
    evidence: Mask
    valid: Mask


def _re(values: pa.Array, pattern: str) -> Mask:
    return bool_mask(pc.match_substring_regex(values, pattern))


def _strip(values: pa.Array, chars: str = r"[\s.\-/()]") -> pa.Array:
    return pc.replace_substring_regex(values, chars, "")


def _verified(stripped: pa.Array, widths: range, check: Callable[[npt.NDArray[np.int64]], Mask]) -> Mask:
    out = np.zeros(len(stripped), dtype=bool)
    for width in widths:
        matrix, rows = char_matrix(stripped, width)
        out[rows] = check(matrix)
    return out


def _cpf(values: pa.Array) -> Checks:
    shape = _re(values, r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")
    formatted = _re(values, r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")
    valid = shape & _verified(_strip(values), range(11, 12), cpf_valid)
    return Checks(shape, formatted | valid, valid)


def _cnpj(values: pa.Array) -> Checks:
    c = "[0-9A-Za-z]"
    shape = _re(values, rf"^{c}{{2}}\.?{c}{{3}}\.?{c}{{3}}/?{c}{{4}}-?\d{{2}}$")
    formatted = _re(values, rf"^{c}{{2}}\.{c}{{3}}\.{c}{{3}}/{c}{{4}}-\d{{2}}$")
    valid = shape & _verified(_strip(values), range(14, 15), cnpj_valid)
    return Checks(shape, formatted | valid, valid)


def _cep(values: pa.Array) -> Checks:
    shape = _re(values, r"^\d{2}\.?\d{3}-?\d{3}$")
    formatted = _re(values, r"^\d{2}\.?\d{3}-\d{3}$")
    # No check digit: 01000-000 is the lowest CEP; bare 8 digits count only in a column named so.
    valid = shape & _re(_strip(values), r"^(0[1-9]|[1-9]\d)\d{6}$")
    return Checks(shape, formatted, valid)


def _phone(values: pa.Array) -> Checks:
    digits = _strip(values, r"\D")
    plus = _re(values, r"^\+")
    lengths = lengths_of(digits, pc.utf8_length)
    written = _re(values, r"^\+?[\d\s().-]{8,24}$")
    shape = written & np.where(plus, (lengths >= 8) & (lengths <= 15), (lengths >= 10) & (lengths <= 13))
    brazil = _re(digits, rf"^(55)?{_BR_NUMBER}$")
    brazil_intl = _re(digits, rf"^55{_BR_NUMBER}$")
    e164 = _re(digits, r"^[1-9]\d{7,14}$")
    valid = shape & np.where(plus, np.where(_re(digits, "^55"), brazil_intl, e164), brazil)
    formatted = plus | _re(values, r"\(\d{2}\)") | _re(values, r"\d{4,5}[-\s]\d{4}$")
    # A bare 10-digit number may be anything (an epoch second, an order number); a bare mobile
    # number (area code, 9, eight digits) rarely is.
    mobile = _re(digits, rf"^(55)?{_DDD}9\d{{8}}$")
    return Checks(shape, (shape & formatted) | (valid & mobile), valid)


def _pattern(pattern: str) -> Callable[[pa.Array], Checks]:
    def check(values: pa.Array) -> Checks:
        match = _re(values, pattern)
        return Checks(match, match, match)

    return check


def _uuid(values: pa.Array) -> Checks:
    match = uuid_mask(values)
    return Checks(match, match, match)


def _ip(values: pa.Array) -> Checks:
    v4_shape = _re(values, r"^\d{1,3}(\.\d{1,3}){3}$")
    v4 = _re(values, rf"^{_OCTET}(\.{_OCTET}){{3}}$")
    v6_shape = _re(values, r"^[0-9A-Fa-f:.]+$") & _re(values, r"::|^([0-9A-Fa-f]{0,4}:){7}")
    v6 = np.zeros(len(values), dtype=bool)
    if v6_shape.any():
        rows = np.flatnonzero(v6_shape)
        for row, text in zip(rows, values.filter(bool_array(v6_shape)).to_pylist(), strict=True):
            with contextlib.suppress(ValueError):
                v6[row] = isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    valid = v4 | v6
    return Checks(v4_shape | v6_shape, valid, valid)


def _uf(values: pa.Array) -> Checks:
    shape = _re(values, r"^[A-Za-z]{2}$")
    valid = shape & _re(values, _UF_PATTERN)
    return Checks(shape, valid, valid)


def _credit_card(values: pa.Array) -> Checks:
    digits = _strip(values, r"[\s-]")
    shape = _re(values, r"^\d[\d\s-]{11,21}\d$") & _re(digits, r"^\d{13,19}$")
    formatted = _re(
        values, r"^\d{4}( \d{4}){2} \d{1,7}$|^\d{4}(-\d{4}){2}-\d{1,7}$|^\d{4}[ -]\d{6}[ -]\d{4,5}$"
    )
    # Card numbers start with 2 (Mastercard), 3 (Amex, Diners, JCB), 4 (Visa, Elo), 5 or 6.
    valid = shape & _re(digits, "^[2-6]") & _verified(digits, range(13, 20), luhn_valid)
    return Checks(shape, formatted | valid, valid)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    check: Callable[[pa.Array], Checks]
    #: A column named like this counts every value of the right shape as evidence.
    names: str | None = None
    #: Integer columns can hold this type; documents lose their leading zeros as numbers, so they
    #: are padded back to this width (0: no padding).
    numbers: bool = False
    width: int = 0


RULES: tuple[Rule, ...] = (
    Rule("cpf", _cpf, names=r"cpf", numbers=True, width=11),
    Rule("cnpj", _cnpj, names=r"cnpj", numbers=True, width=14),
    Rule("cep", _cep, names=r"(^|[^a-z])(cep|zip|postal)", numbers=True, width=8),
    Rule("phone", _phone, names=r"(^|[^a-z])(tel|fone|phone|celular|cel|whatsapp|mobile)", numbers=True),
    Rule("email", _pattern(EMAIL), names=r"e-?mail"),
    Rule("url", _pattern(URL)),
    Rule("uuid", _uuid),
    Rule("ip", _ip),
    Rule("credit_card", _credit_card, names=r"cart[aã]o|card", numbers=True),
    Rule("uf", _uf),
)


def _weights(counts: npt.NDArray[np.int64] | None, n: int) -> npt.NDArray[np.int64]:
    return counts if counts is not None else np.ones(n, dtype=np.int64)


#: Distinct values checked at a time by :meth:`SemanticScan.add_text`.
_TEXT_SLICE = 1 << 16


@dataclass(slots=True)
class SemanticScan:
    """Counts, over every present value of one column, the evidence and the valid values of each
    semantic type that a first sample made plausible."""

    column: str
    numeric: bool = False
    rules: tuple[Rule, ...] | None = None
    named: frozenset[str] = frozenset()
    evidence: dict[str, int] = field(default_factory=dict)
    valid: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def __post_init__(self) -> None:
        name = self.column.casefold()
        self.named = frozenset(r.name for r in RULES if r.names and re.search(r.names, name))

    def choose_text_rules(self, sample: pa.Array) -> None:
        """The rules worth counting, from a sample of the column's rows (the first call decides)."""
        if self.rules is None:
            self.rules = self._candidates(sample, lambda rule, v: v)

    def add_text(self, values: pa.Array, counts: npt.NDArray[np.int64] | None, sample: pa.Array) -> None:
        """Count ``values`` (distinct strings, ``counts`` occurrences each; None: once each)."""
        self.choose_text_rules(sample)
        weights = _weights(counts, len(values))
        self.total += int(weights.sum())
        # A slice at a time: the trimmed copy of a column of unique strings is as large as the
        # column, and it used to be made whole while that column's encoding was still held.
        for start in range(0, len(values) if self.rules else 0, _TEXT_SLICE):
            trimmed = trim_whitespace(values.slice(start, _TEXT_SLICE))
            self._count(trimmed, weights[start : start + _TEXT_SLICE], lambda rule, v: v)

    def may_hold_documents(self, largest: float | None) -> bool:
        """Whether numbers whose largest finite value is ``largest`` (None: unknown) may hold a
        semantic type: with none as large as a document and a column not named for one, no
        rule would be tried (:meth:`add_numbers` finds them too, after copying every value)."""
        return bool(self.named) or largest is None or largest >= _DOCUMENT_MIN

    def add_numbers(self, values: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> None:
        """Count present numbers (NaN-free): integers that may be documents written without marks."""
        numbers = np.asarray(values)
        whole = numbers if numbers.dtype.kind in "iu" else numbers[np.isfinite(numbers)]
        if whole.dtype.kind == "f":
            whole = whole[(whole == np.floor(whole)) & (np.abs(whole) < 2**53)]
        self.total += len(numbers)
        if len(whole) == 0:
            if self.rules is None:
                self.rules = ()
            return
        integers: npt.NDArray[np.int64] = whole.astype(np.int64)
        if self.rules is None:
            step = max(1, len(integers) // CANDIDATE_SAMPLE)
            head = integers[::step][:CANDIDATE_SAMPLE]
            large = np.count_nonzero(head >= _DOCUMENT_MIN) >= CANDIDATE_PCT * len(head)
            if not large and not self.named:
                self.rules = ()
                return
            self.rules = self._candidates(_as_text(head), _padded)
        if self.rules:
            distinct, counts = np.unique(integers, return_counts=True)
            keep = distinct >= 0
            self._count(_as_text(distinct[keep]), counts[keep].astype(np.int64), _padded)

    def _eligible(self) -> tuple[Rule, ...]:
        return tuple(r for r in RULES if r.numbers) if self.numeric else RULES

    def _candidates(
        self, sample: pa.Array, prepare: Callable[[Rule, pa.Array], pa.Array]
    ) -> tuple[Rule, ...]:
        sample = pc.utf8_trim_whitespace(sample.drop_null())
        if len(sample) > CANDIDATE_SAMPLE:
            sample = sample.take(
                index_array(np.linspace(0, len(sample) - 1, CANDIDATE_SAMPLE).astype(np.int64))
            )
        if len(sample) == 0:
            return ()
        chosen = []
        for rule in self._eligible():
            checks = rule.check(prepare(rule, sample))
            seen = checks.shape if rule.name in self.named else checks.evidence
            if np.count_nonzero(seen) >= CANDIDATE_PCT * len(sample):
                chosen.append(rule)
        return tuple(chosen)

    def _count(
        self, values: pa.Array, weights: npt.NDArray[np.int64], prepare: Callable[[Rule, pa.Array], pa.Array]
    ) -> None:
        for rule in self.rules or ():
            checks = rule.check(prepare(rule, values))
            seen = checks.shape if rule.name in self.named else checks.evidence
            self.evidence[rule.name] = self.evidence.get(rule.name, 0) + int(weights[seen].sum())
            self.valid[rule.name] = self.valid.get(rule.name, 0) + int(weights[checks.valid].sum())

    def found(self) -> dict[str, float]:
        """Each semantic type the column holds, with the share of its present values that are valid."""
        if self.total == 0:
            return {}
        return {
            rule.name: round(self.valid.get(rule.name, 0) / self.total, 6)
            for rule in self.rules or ()
            if self.evidence.get(rule.name, 0) >= SEMANTIC_PCT * self.total
        }


def present_numbers(arr: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64] | npt.NDArray[np.float64]:
    """The present values of a numeric column, integers kept exact (a 16-digit card number does
    not survive float64)."""
    arr = single(arr).drop_null()
    if pa.types.is_integer(arr.type):
        try:
            return np.asarray(primitive(pc.cast(arr, pa.int64())), dtype=np.int64)
        except pa.ArrowInvalid:  # uint64 beyond int64: no document is that long
            return np.zeros(0, dtype=np.int64)
    x: npt.NDArray[np.float64] = np.asarray(floats(arr), dtype=np.float64)
    present: npt.NDArray[np.float64] = x[~np.isnan(x)]
    return present


def _as_text(numbers: npt.NDArray[np.int64]) -> pa.Array:
    return pc.cast(index_array(numbers), pa.string())


def _padded(rule: Rule, values: pa.Array) -> pa.Array:
    return pc.utf8_lpad(values, rule.width, "0") if rule.width else values


def with_semantics(hints: list[str], found: dict[str, float]) -> list[str]:
    """The column's hints with its semantic types first; a type explains away the "stored as text"
    hints (bare CPFs are not numbers to compute with)."""
    if not found:
        return hints
    return list(dict.fromkeys([*found, *(h for h in hints if h not in _EXPLAINED)]))


def mark_semantics(profile: ColumnProfile, found: dict[str, float]) -> None:
    """Record the validity of each semantic type and flag personal data (the one place ``pii`` is
    set). A numeric column of documents or card numbers is an identifier, not a quantity."""
    profile.semantic = with_semantics(profile.semantic, found)
    profile.semantic_validity = dict(found)
    profile.pii = any(is_personal(s) for s in profile.semantic)
    if found and profile.type == "numeric":
        profile.type = "identifier"
