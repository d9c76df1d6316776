"""Associations between columns for the LLM summary: every kind the result measured, by strength.

Pearson and Spearman (numeric pairs), Cramér's V (categorical pairs) and the correlation ratio η
(numeric by categorical) are all in [0, 1] by absolute value, so one ranking serves them all; a pair
appears once with each of its measures, and pairs that are near zero on every measure are counted,
not listed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sonda_query.llm.facts import NAME_CHARS, as_dict, as_list, finite
from sonda_query.llm.quoting import clip

#: Associations weaker than this (|r|, V or η) say nothing an agent can use.
NEAR_ZERO = 0.1
MEASURES = ("pearson", "spearman", "cramers_v", "eta")


class Association(msgspec.Struct, kw_only=True, frozen=True):
    """One pair of columns with every measure the result has for it, strongest first."""

    a: str
    b: str
    values: tuple[tuple[str, float], ...]

    @property
    def strength(self) -> float:
        return max(abs(v) for _, v in self.values)


def associations(result: dict[str, Any]) -> tuple[list[Association], int]:
    """Pairs of every kind by strength (each pair once, with all its measures), strongest first.

    Returns the pairs at least ``NEAR_ZERO`` strong and the number dropped as near zero.
    """
    found: dict[tuple[str, str], dict[str, float]] = {}
    block = as_dict(result.get("correlations"))
    for measure in ("pearson", "spearman", "cramers_v"):
        matrix = as_dict(block.get(measure))
        names = [str(n) for n in as_list(matrix.get("columns"))]
        for i, row in enumerate(as_list(matrix.get("matrix"))[: len(names)]):
            for j, value in enumerate(as_list(row)[: len(names)]):
                if j > i and finite(value) is not None:
                    found.setdefault((names[i], names[j]), {})[measure] = float(value)
    for raw in as_list(block.get("correlation_ratio")):
        item = as_dict(raw)
        value = finite(item.get("value"))
        if value is not None and item.get("numeric") is not None and item.get("categorical") is not None:
            found.setdefault((str(item["numeric"]), str(item["categorical"])), {})["eta"] = float(value)
    pairs = [
        Association(
            a=clip(a, NAME_CHARS),
            b=clip(b, NAME_CHARS),
            values=tuple(
                sorted(
                    ((m, values[m]) for m in MEASURES if m in values),
                    key=lambda mv: (-abs(mv[1]), MEASURES.index(mv[0])),
                )
            ),
        )
        for (a, b), values in found.items()
    ]
    strong = [p for p in pairs if p.strength >= NEAR_ZERO]
    strong.sort(key=lambda p: (-p.strength, p.a, p.b))
    return strong, len(pairs) - len(strong)
