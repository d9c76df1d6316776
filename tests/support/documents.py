"""Brazilian documents made for tests: valid check digits, random bodies."""

from __future__ import annotations

import numpy as np


def valid_cpf(rng: np.random.Generator) -> str:
    """A formatted CPF (``123.456.789-09``) whose two check digits hold."""
    digits = [int(d) for d in rng.integers(0, 10, 9)]
    for size in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(size, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"
