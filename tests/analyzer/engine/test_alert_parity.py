"""Sonda raises at least 95 % of the alerts ydata-profiling 4.x raises with its defaults (missing,
zeros, imbalance, constant, unique, skewed, high cardinality) on public tables shipped by installed
packages. The table it prints is the one in docs/alerts.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyzer.engine.alert_parity import compare, table, ydata_alerts

TARGET = 0.95


@pytest.mark.slow
def test_sonda_raises_what_ydata_raises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths, theirs = ydata_alerts(tmp_path)
    rows = compare(paths, theirs)
    total = sum(r.ydata for r in rows)
    raised = sum(r.raised for r in rows)
    with capsys.disabled():
        print("\n" + table(rows))
        for r in rows:
            if r.missed:
                print(f"{r.dataset}: not raised {r.missed}")
    assert total >= 100, "too few alerts to measure"
    assert raised / total >= TARGET, table(rows)
