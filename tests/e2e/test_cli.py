"""The CLI against a running ``sonda up``: ``sonda analyze`` and ``sonda events tail``, as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.sonda_up import SondaUp, clean_env

pytestmark = pytest.mark.slow


def sonda_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sonda", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(COLUMNS="120"),
        check=False,
    )


def test_analyze_prints_a_report(sonda: SondaUp, sales: pd.DataFrame, sales_csv: Path) -> None:
    done = sonda_cli("analyze", str(sales_csv), "--url", sonda.url)
    assert done.returncode == 0, done.stderr
    assert "Uploading" in done.stderr and "Analysing" in done.stderr
    assert f"{len(sales):,}" in done.stdout
    for column in sales.columns:
        assert column in done.stdout
    assert "LLM summary" in done.stdout


def test_analyze_saves_the_html_report(
    sonda: SondaUp, sales: pd.DataFrame, sales_csv: Path, tmp_path: Path
) -> None:
    target = tmp_path / "relatorio.html"
    done = sonda_cli("analyze", str(sales_csv), "--url", sonda.url, "--html", str(target))
    assert done.returncode == 0, done.stderr
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<script" not in page
    for column in sales.columns:
        assert f'data-column="{column}"' in page
    assert f"{len(sales):,}" in page


def test_analyze_json_then_events_tail_shows_that_analysis(
    sonda: SondaUp, sales: pd.DataFrame, sales_csv: Path
) -> None:
    done = sonda_cli("analyze", str(sales_csv), "--url", sonda.url, "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "completed"
    assert outcome["results"]["results"]["dataset"]["rows"] == len(sales)
    assert outcome["llm_summary"]["tokens"] > 0
    analysis_id = outcome["analysis_id"]

    tail = sonda_cli("events", "tail", "--nats", sonda.nats_url(), "--analysis", analysis_id, "--count", "3")
    assert tail.returncode == 0, tail.stderr
    lines = tail.stdout.splitlines()
    assert len(lines) == 3
    assert all(analysis_id in line for line in lines)
    assert "v1" in lines[0] and "AnalysisRequested" in lines[0] and sales_csv.name in lines[0]


def test_a_failed_analysis_exits_2_with_the_reason(sonda: SondaUp, tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"\x00\x01 this is not parquet")
    done = sonda_cli("analyze", str(broken), "--url", sonda.url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "The analysis failed" in done.stderr and "Parquet" in done.stderr


def test_analyze_embedded_needs_no_running_sonda(sales: pd.DataFrame, sales_csv: Path) -> None:
    done = sonda_cli("analyze", str(sales_csv), "--embedded", "--json", "--url", "http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "completed"
    assert outcome["results"]["results"]["dataset"]["rows"] == len(sales)
    assert "Starting a temporary Sonda" in done.stderr


def test_compare_two_analyses_by_id(sonda: SondaUp, sales: pd.DataFrame, tmp_path: Path) -> None:
    """Two files analysed by a running Sonda, then compared there by id from the stored profiles."""
    ids = []
    moved = sales.copy()
    moved["preco"] = moved["preco"] * 1.5
    for name, frame in (("janeiro.csv", sales), ("fevereiro.csv", moved)):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        done = sonda_cli("analyze", str(path), "--url", sonda.url, "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["analysis_id"])
    done = sonda_cli("compare", *ids, "--url", sonda.url, "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["base"]["analysis_id"], body["target"]["analysis_id"]) == tuple(ids)
    assert (body["base"]["filename"], body["target"]["filename"]) == ("janeiro.csv", "fevereiro.csv")
    assert [c["name"] for c in body["columns"] if c["drifted"]] == ["preco"]
    shown = sonda_cli("compare", *ids, "--url", sonda.url)
    assert shown.returncode == 0, shown.stderr
    assert "Drifted columns (1 of 5)" in shown.stdout and "janeiro.csv" in shown.stdout
    same = sonda_cli("compare", ids[0], ids[0], "--url", sonda.url)
    assert same.returncode == 1 and "same_analysis" in same.stderr
