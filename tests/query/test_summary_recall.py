"""Facts recall: the share of a table's basic facts (rows; every column's name and missing share;
each numeric column's min, mean and max) an agent reads correctly from the Markdown summary.

Tables are generated with known content (truth by pandas) or shipped with statsmodels (truth by
pandas reading the same CSV), profiled by the real engine; see ``tests/query/recall.py`` and the
published table in docs/llm-summary.md.
"""

from __future__ import annotations

import re

import pytest
from sonda_query.llm.render import summarize
from sonda_query.llm.tokens import Tokenizer

from tests.query.recall import META, OPTIONS, measure, measure_file, profiled, real_table, recall, table


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


#: (columns, max_tokens) -> the least share of facts found. Up to 50 columns at the default budget
#: every fact is there; beyond, the columns that do not fit are left out whole (see the test below).
TARGETS = {
    (5, 1500): 1.0,
    (20, 1500): 1.0,
    (50, 1500): 0.95,
    (200, 1500): 0.2,
    (5, 800): 1.0,
    (20, 800): 1.0,
    (50, 800): 0.4,
    (200, 800): 0.1,
}


@pytest.mark.parametrize(("width", "budget"), sorted(TARGETS))
def test_generated_tables(tokenizer: Tokenizer, width: int, budget: int) -> None:
    found, tokens, _ = measure(width, budget, "markdown", tokenizer)
    assert tokens <= budget
    assert found.share >= TARGETS[(width, budget)], found.misses[:20]


@pytest.mark.parametrize("name", ["randhie", "macrodata", "star98", "fertility"])
def test_real_tables_at_the_default_budget(tokenizer: Tokenizer, name: str) -> None:
    found, tokens, _ = measure_file(real_table(name), 1500, "markdown", tokenizer, OPTIONS.get(name))
    assert tokens <= 1500
    assert found.share >= 0.95, found.misses[:20]


@pytest.mark.parametrize("budget", [800, 1500])
def test_beyond_what_fits_columns_are_left_out_whole_and_counted(tokenizer: Tokenizer, budget: int) -> None:
    """The stated degradation: a prefix of the columns with every fact right, the rest named by range."""
    frame = table(200)
    summary = summarize(profiled(frame), META, fmt="markdown", max_tokens=budget, tokenizer=tokenizer)
    shown = summary.left_out.columns_shown
    assert 0 < shown < 200 and summary.layout == "table"
    assert f"Columns {shown + 1:,} to 200 in file order ({200 - shown:,} of 200) not shown" in summary.text
    found = recall(frame, summary.text)
    assert {m.split(":")[0] for m in found.misses} == {f"{name}" for name in frame.columns[shown:]}
    assert all(m.endswith("not shown") for m in found.misses)
    # Nothing after the columns got budget: alerts, associations and detail wait for all columns.
    assert not re.search(r"^## (Alerts|Strongest associations|Column detail)", summary.text, re.M)
