"""Yes/no written as people write them: ``Sim/Não``, ``S/N``, ``V/F`` (any case, with or
without accents). The readers already take ``true/false``, ``yes/no`` and ``sim/não`` spelled
exactly; these are the spellings they leave as text."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sonda_events.spellings import YES_NO_GROUPS
from sonda_events.spellings import fold as fold_word

from sonda_analyzer.engine.arrays import bool_mask, bool_scalar, null_scalar, string_array

#: The groups' words as compared: lower case, accents removed.
GROUPS = tuple(
    (tuple(fold_word(w) for w in yes), tuple(fold_word(w) for w in no)) for yes, no in YES_NO_GROUPS
)


def fold(values: pa.Array) -> pa.Array:
    """Trimmed, lower case, accents removed: "NÃO " → "nao"."""
    decomposed = pc.utf8_normalize(pc.utf8_trim_whitespace(values), "NFD")
    return pc.utf8_lower(pc.replace_substring_regex(decomposed, r"\p{Mn}", ""))


def group_shares(values: pa.Array, counts: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
    """Per group that has both a yes and a no among the values: its index, the share of
    occurrences it reads, and which values are yes."""
    folded = fold(values)
    total = float(counts.sum()) or 1.0
    found = []
    for i, (yes, no) in enumerate(GROUPS):
        is_yes = bool_mask(pc.is_in(folded, string_array(yes)))
        is_no = bool_mask(pc.is_in(folded, string_array(no)))
        if is_yes.any() and is_no.any():
            found.append((i, float(counts[is_yes | is_no].sum()) / total, is_yes))
    return found


def parse_booleans(values: pa.Array, group: int) -> pa.Array:
    yes, no = GROUPS[group]
    folded = fold(values)
    truth = pc.if_else(pc.is_in(folded, string_array(yes)), bool_scalar(True), null_scalar(pa.bool_()))
    return pc.if_else(pc.is_in(folded, string_array(no)), bool_scalar(False), truth)
