"""Ingest's option check mirrors the analyzer's ProfileOptions: same fields, defaults and verdicts."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from sonda_analyzer.engine.errors import InvalidOptionsError as AnalyzerInvalidOptions
from sonda_analyzer.engine.options import AlertThresholds, ProfileOptions, parse_options
from sonda_ingest.errors import InvalidOptionsError
from sonda_ingest.options import AnalysisOptions, Thresholds, validate_options


def shape(cls: type[msgspec.Struct]) -> dict[str, Any]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    # Types compared by structure: nested Structs differ only by class name and module.
    return {
        field.name: (field.required, field.default, re.sub(r"cls=<class '[^']+'>", "cls", repr(field.type)))
        for field in info.fields
    }


@pytest.mark.parametrize(
    ("ours", "theirs"), [(AnalysisOptions, ProfileOptions), (Thresholds, AlertThresholds)]
)
def test_same_fields_types_and_defaults(ours: type[msgspec.Struct], theirs: type[msgspec.Struct]) -> None:
    assert shape(ours) == shape(theirs)
    assert msgspec.to_builtins(ours()) == msgspec.to_builtins(theirs())


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
