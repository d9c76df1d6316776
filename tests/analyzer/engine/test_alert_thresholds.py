"""The alert thresholds that match ydata-profiling's sensitivity (docs/alerts.md), each checked on
a column built to sit just above or below it, with the figures computed by pandas/scipy here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy
from sonda_analyzer.engine import ProfileResult, profile_file
from sonda_analyzer.engine.result import Alert

from tests.analyzer.engine.conftest import column

ROWS = 1_000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(17)
    little_missing = rng.normal(size=ROWS)
    little_missing[:15] = np.nan  # 1.5 %: ydata warns above 1 %
    some_missing = rng.normal(size=ROWS)
    some_missing[:80] = np.nan  # 8 %
    few_zeros = rng.integers(1, 100, ROWS).astype(float)
    few_zeros[:20] = 0  # 2 %
    return pd.DataFrame(
        {
            "little_missing": little_missing,
            "some_missing": some_missing,
            "few_zeros": few_zeros,
            "rating": rng.choice([1, 2, 3, 4, 5], ROWS, p=[0.9, 0.04, 0.03, 0.02, 0.01]),
            "flag": rng.choice([0, 1], ROWS, p=[0.7, 0.3]),
            "measure": rng.normal(10, 2, ROWS),  # every value different
            "balanced": np.arange(ROWS) % 4,
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module", params=["exact", "streaming"])
def result(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> ProfileResult:
    path = tmp_path_factory.mktemp("thresholds") / "t.csv"
    frame.to_csv(path, index=False)
    return profile_file(path, {"streaming": request.param == "streaming"}, budget_mb=64)


def _alerts(result: ProfileResult, name: str) -> dict[str, Alert]:
    return {a.type: a for a in result.alerts if a.column == name}


def test_missing_from_one_percent_with_rising_severity(result: ProfileResult, frame: pd.DataFrame) -> None:
    little = _alerts(result, "little_missing")["missing"]
    assert little.severity == "info" and little.value == pytest.approx(frame["little_missing"].isna().mean())
    assert _alerts(result, "some_missing")["missing"].severity == "warning"
    assert "missing" not in _alerts(result, "measure")


def test_zeros_from_one_percent_but_not_for_a_flag(result: ProfileResult, frame: pd.DataFrame) -> None:
    zeros = _alerts(result, "few_zeros")["zeros"]
    assert zeros.value == pytest.approx((frame["few_zeros"] == 0).mean())
    assert "zeros" not in _alerts(result, "flag")  # its imbalance says it


def test_few_valued_numbers_list_their_values_and_their_imbalance(
    result: ProfileResult, frame: pd.DataFrame
) -> None:
    for name in ("rating", "flag", "balanced"):
        counts = frame[name].value_counts()
        col = column(result, name)
        assert {v.value: v.count for v in col.top_values} == counts.to_dict()
        expected = 1 - entropy(counts.to_numpy(), base=2) / np.log2(len(counts))
        alert = _alerts(result, name).get("imbalance")
        if expected >= 0.5:
            assert alert is not None and alert.value == pytest.approx(expected, abs=1e-9), name
        else:
            assert alert is None, name
    assert column(result, "measure").top_values is None


def test_unique_numbers_are_reported(result: ProfileResult) -> None:
    assert _alerts(result, "measure")["unique"].severity == "info"
    assert "unique" not in _alerts(result, "rating")


def test_a_header_of_consecutive_years_is_a_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    pd.DataFrame({"country": ["Aruba", "Brazil", "Chile"], "1960": [4.8, 6.1, 5.0], "1961": [4.6, 6.0, 4.9],
                  "1962": [4.4, 5.9, 4.8]}).to_csv(path, index=False)  # fmt: skip
    result = profile_file(path)
    assert [c.name for c in result.columns] == [
        "country",
        "1960",
        "1961",
        "1962",
    ] and result.dataset.rows == 3
