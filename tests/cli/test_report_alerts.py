"""The CLI report lists alerts worst first, as the page does."""

from __future__ import annotations

import random

from rich.console import Console

from sonda.client.report import print_report


def test_alerts_are_printed_worst_first() -> None:
    severities = ["info"] * 6 + ["warning"] * 5 + ["critical"] * 2
    random.Random(3).shuffle(severities)
    alerts: list[dict[str, object]] = [
        {"type": "x", "severity": s, "message": f"alert {i} is {s}", "column": None, "columns": []}
        for i, s in enumerate(severities)
    ]
    results = {"results": {"dataset": {"rows": 10, "columns": 1}, "columns": [], "alerts": alerts}}
    console = Console(record=True, width=200)
    print_report(console, results, None)
    text = console.export_text()
    shown = [
        line.split(" is ")[1].split()[0] for line in text.splitlines() if " is " in line and "alert " in line
    ]
    assert shown == sorted(shown, key=["critical", "warning", "info"].index)
    assert len(shown) == len(alerts)
