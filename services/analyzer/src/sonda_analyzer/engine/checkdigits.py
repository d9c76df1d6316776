"""Check digits of Brazilian documents and card numbers, vectorised over many values at once.

Each function takes a matrix of character values (one row per value, ``ord(ch) - 48``: 0-9 for
digits, 17-42 for the capital letters of the alphanumeric CNPJ) and returns a boolean per row. A
value is never corrected: a wrong check digit makes it invalid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_array, primitive, valid_mask

Matrix = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_CPF_W1 = np.arange(10, 1, -1)
_CPF_W2 = np.arange(11, 1, -1)
_CNPJ_W1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CNPJ_W2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])


def char_matrix(values: pa.Array, width: int) -> tuple[Matrix, Mask]:
    """The values ``width`` ASCII characters long as a matrix of ``ord(ch) - 48``, and which rows
    of ``values`` they are (the others have another length or are missing)."""
    rows = lengths_of(values, pc.binary_length) == width
    picked = values.filter(bool_array(rows))
    n = len(picked)
    if n == 0:
        return np.zeros((0, width), dtype=np.int64), rows
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32, count=n + 1, offset=picked.offset * 4)
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
    chars = data[offsets[0] : offsets[0] + n * width].reshape(n, width)
    return chars.astype(np.int64) - 48, rows


def lengths_of(values: pa.Array, measure: Callable[[pa.Array], pa.Array]) -> npt.NDArray[np.int64]:
    """``measure`` of each value as numpy, -1 where missing (numpy, not an Arrow comparison with a
    Python number: converting that number makes pyarrow import pandas, a second in a fresh process)."""
    out = np.asarray(primitive(measure(values)), dtype=np.int64)
    valid = valid_mask(values)
    return out if valid is None else np.where(valid, out, -1)


def _not_repeated(m: Matrix) -> Mask:
    """``000.000.000-00`` and its kin pass the arithmetic but are not issued."""
    return np.asarray((m != m[:, :1]).any(axis=1), dtype=bool)


def cpf_valid(m: Matrix) -> Mask:
    """CPF: two mod-11 check digits over weights 10..2 and 11..2 (11 digits)."""
    if len(m) == 0:
        return np.zeros(0, dtype=bool)
    digits = ((m >= 0) & (m <= 9)).all(axis=1)
    d1 = (m[:, :9] @ _CPF_W1) * 10 % 11 % 10
    d2 = (m[:, :10] @ _CPF_W2) * 10 % 11 % 10
    return np.asarray(digits & (d1 == m[:, 9]) & (d2 == m[:, 10]) & _not_repeated(m), dtype=bool)


def _mod11(total: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    rest = total % 11
    return np.where(rest < 2, 0, 11 - rest)


def cnpj_valid(m: Matrix) -> Mask:
    """CNPJ (14 characters): the first 12 digits or capital letters (alphanumeric CNPJ, valued
    ``ord(ch) - 48`` as the Receita Federal defines), then two numeric mod-11 check digits."""
    if len(m) == 0:
        return np.zeros(0, dtype=bool)
    body = m[:, :12]
    body_ok = (((body >= 0) & (body <= 9)) | ((body >= 17) & (body <= 42))).all(axis=1)
    tail_ok = ((m[:, 12:] >= 0) & (m[:, 12:] <= 9)).all(axis=1)
    d1 = _mod11(body @ _CNPJ_W1)
    d2 = _mod11(m[:, :13] @ _CNPJ_W2)
    return np.asarray(body_ok & tail_ok & (d1 == m[:, 12]) & (d2 == m[:, 13]) & _not_repeated(m), dtype=bool)


def luhn_valid(m: Matrix) -> Mask:
    """The Luhn checksum (every second digit from the right doubled, digit sums added, total a
    multiple of 10), over rows of equal length."""
    if len(m) == 0:
        return np.zeros(0, dtype=bool)
    digits = ((m >= 0) & (m <= 9)).all(axis=1)
    doubled = m[:, ::-1].copy()
    doubled[:, 1::2] *= 2
    doubled[doubled > 9] -= 9
    return np.asarray(digits & (doubled.sum(axis=1) % 10 == 0), dtype=bool)
