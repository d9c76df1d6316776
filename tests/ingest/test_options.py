"""Ingest refuses exactly the options the analyzer would refuse: one contract, the same verdicts."""

from __future__ import annotations

from typing import Any

import pytest
from sonda_analyzer.engine.errors import InvalidOptionsError as AnalyzerInvalidOptions
from sonda_analyzer.engine.options import ProfileOptions, parse_options
from sonda_ingest.errors import InvalidOptionsError
from sonda_ingest.options import AnalysisOptions, validate_options


def test_one_definition_serves_both() -> None:
    assert AnalysisOptions is ProfileOptions


CASES: list[dict[str, Any]] = [
    {},
    {"delimiter": ";", "decimal": ",", "encoding": "latin-1"},
    {"delimiter": "\\t"},
    {"delimiter": "tab", "header_row": 2},
    {"header_row": "none", "sheet": "Plan1"},
    {"sheet": 0, "format": "xlsx"},
    {"column_types": {"cep": "identifier", "valor": "float"}},
    {"thresholds": {"missing_pct": 0.2, "high_cardinality": 10}},
    {"sample_rows": 0, "top_values": 1000, "histogram_bins": 1},
    {"max_rows": 1000, "streaming": True, "correlations": False},
    {"delimitr": ";"},
    {"delimiter": ";;"},
    {"delimiter": "\n"},
    {"quotechar": "''"},
    {"encoding": "klingon"},
    {"decimal": ";"},
    {"header_row": -1},
    {"header_row": "first"},
    {"sheet": -2},
    {"column_types": {"x": "money"}},
    {"thresholds": {"missing_pct": 1.5}},
    {"thresholds": {"unknown": 1}},
    {"sample_rows": 1001},
    {"max_rows": 0},
    {"max_correlation_columns": 1},
    {"format": "xls"},
    {"correlations": "maybe"},
]


@pytest.mark.parametrize("raw", CASES, ids=[str(c)[:40] for c in CASES])
def test_same_verdict_and_same_meaning(raw: dict[str, Any]) -> None:
    try:
        theirs = parse_options(raw)
    except AnalyzerInvalidOptions:
        with pytest.raises(InvalidOptionsError) as info:
            validate_options(raw)
        assert info.value.code == "invalid_options"
        return
    ours = validate_options(raw)
    assert set(ours) == set(raw)
    # What ingest puts in the event is read by the analyzer as the same options.
    assert parse_options(ours) == theirs
