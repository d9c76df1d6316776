"""The masking rule shared by every view of personal data."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from sonda_events.privacy import MASK_CHARS, PERSONAL_SEMANTICS, is_personal, mask


def test_a_cpf_keeps_its_shape_and_loses_its_digits() -> None:
    assert mask("123.456.789-09") == "***.***.***-**"


def test_an_email_keeps_only_its_separators() -> None:
    assert mask("joao.silva@example.com.br") == "****.*****@*******.***.**"


@given(st.text(max_size=80))
def test_no_letter_or_digit_survives(value: str) -> None:
    masked = mask(value)
    assert not re.search(r"\w", masked.rstrip("…").replace("_", ""))
    assert len(masked.rstrip("…")) == min(len(value), MASK_CHARS)


def test_personal_types_are_named_once() -> None:
    assert {"cpf", "cnpj", "email", "phone"} <= PERSONAL_SEMANTICS
    assert is_personal("cpf") and not is_personal("uuid") and not is_personal("url")
