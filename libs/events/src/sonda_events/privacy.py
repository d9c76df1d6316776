"""What counts as personal data, and how a personal value is shown outside its owner's full view.

One owner for the rule: the analyzer flags a column ``pii`` when its semantic type is in
``PERSONAL_SEMANTICS``; every view meant for an LLM, a log, a CLI screen or a WebSocket summary shows
such a column's values through ``mask`` unless the data's owner asked for them (``include_pii``).
"""

from __future__ import annotations

#: Semantic types whose values identify or reach a person (LGPD/GDPR personal data). A CNPJ names a
#: company, but Brazilian exports use it for sole traders too (MEI), so it is treated as personal.
PERSONAL_SEMANTICS: frozenset[str] = frozenset({"cpf", "cnpj", "cep", "phone", "email", "credit_card", "ip"})

#: A masked value longer than this is cut: its shape is the point, not its length.
MASK_CHARS = 32


def is_personal(semantic: str) -> bool:
    return semantic in PERSONAL_SEMANTICS


def mask(value: object) -> str:
    """The value's shape with every letter and digit hidden: ``123.456.789-09`` -> ``***.***.***-**``.

    Separators stay because they tell a reader the format (a CPF, an e-mail) without its content.
    """
    text = str(value)
    shape = "".join("*" if ch.isalnum() else ch for ch in text[:MASK_CHARS])
    return shape + ("…" if len(text) > MASK_CHARS else "")
