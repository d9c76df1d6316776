"""How delimited text spells missing, yes and no: one list, so the analyzer reads a file with the
same words the schema export (``GET /api/v1/analysis/schema/{id}``) tells a downstream tool."""

from __future__ import annotations

import unicodedata

#: Cells read as booleans by the CSV reader itself (a column of only these is boolean).
TRUE_VALUES = ["1", "true", "True", "TRUE", "yes", "Yes", "YES", "sim", "Sim", "SIM"]
FALSE_VALUES = ["0", "false", "False", "FALSE", "no", "No", "NO", "não", "Não", "NÃO"]
#: Cells read as missing.
NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "none",
]  # fmt: skip
#: Yes and no words of each language, for text columns the reader left as text (``S/N``,
#: ``V/F``, ``Nao``): any case, with or without accents; a column uses one group.
YES_NO_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("sim", "s"), ("não", "n")),
    (("verdadeiro", "v"), ("falso", "f")),
    (("true", "t", "yes", "y"), ("false", "f", "no", "n")),
)


def fold(word: str) -> str:
    """Lower case without accents: "NÃO" → "nao" (how the words of a group are compared)."""
    decomposed = unicodedata.normalize("NFD", word.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def written_forms(words: tuple[str, ...]) -> list[str]:
    """Every spelling a group's words are read in: "não" → não, Não, NÃO, nao, Nao, NAO."""
    forms: dict[str, None] = {}
    for word in words:
        for base in (word, fold(word)):
            for form in (base, base.capitalize(), base.upper()):
                forms[form] = None
    return list(forms)
