"""The CLI report marks the figures a streamed profile estimated, as the page's badges do: a
person reading a terminal must not take an estimate for a count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from sonda_analyzer.engine import encode_result, profile_file

from sonda.client.report import ESTIMATE, print_report

ROWS = 120_000


def _cells(text: str, name: str) -> list[str]:
    """The cells of the column table's first line for ``name``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if name in cells and len(cells) > cells.index(name) + 4:
            at = cells.index(name)  # after the panel's border and the table's
            return cells[at : at + 5]
    raise AssertionError(f"no row for {name!r} in:\n{text}")


def _report(result: dict[str, object]) -> str:
    console = Console(record=True, width=240)
    print_report(console, {"results": result}, None)
    return console.export_text()


def test_a_streamed_profile_marks_its_estimates_and_only_those(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    path = tmp_path / "big.csv"
    pd.DataFrame({
        "row": np.arange(ROWS),  # rising: every value distinct, counted exactly
        "noise": rng.permutation(ROWS) / 7.0,  # past the exact cap, in no order: estimated
        "level": rng.choice(["low", "mid", "high"], ROWS),  # few values: exact
    }).to_csv(path, index=False)  # fmt: skip
    streamed = json.loads(encode_result(profile_file(path, budget_mb=64)))
    assert streamed["dataset"]["mode"] == "streaming"
    listed = {a["figure"]: set(a["columns"]) for a in streamed["approximations"]}
    text = _report(streamed)
    assert f"streaming: {ESTIMATE} marks estimates" in text
    for name in ("row", "noise", "level"):
        _, _, _, distinct, stats = _cells(text, name)
        assert distinct.startswith(ESTIMATE) == (name in listed.get("columns[].distinct", set())), name
        assert (f"median {ESTIMATE}" in stats) == (name in listed.get("columns[].stats.quantiles", set())), (
            name
        )
    assert _cells(text, "noise")[3].startswith(ESTIMATE)
    assert not _cells(text, "row")[3].startswith(ESTIMATE)
    assert _cells(text, "row")[3] == f"{ROWS:,}"
    # the same file read whole: nothing estimated, nothing marked
    exact = json.loads(encode_result(profile_file(path, {"streaming": False})))
    assert ESTIMATE not in _report(exact)
