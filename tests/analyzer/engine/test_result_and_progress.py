"""The result document (valid JSON, required keys, schema version), the digest, alerts with
configurable thresholds, and progress reporting."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sonda_analyzer.engine import (
    SCHEMA_VERSION,
    ProfileResult,
    ProgressUpdate,
    build_digest,
    decode_result,
    encode_result,
    parse_options,
    profile_file,
    profile_table,
)
from sonda_analyzer.engine.planning import needs_streaming
from sonda_analyzer.engine.progress import ProgressReporter
from sonda_analyzer.engine.source import detect_source


def _walk(value: object) -> list[object]:
    out = [value]
    if isinstance(value, dict):
        for v in value.values():
            out.extend(_walk(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_walk(v))
    return out


def test_result_is_strict_json_with_required_keys(mixed_result: ProfileResult) -> None:
    raw = encode_result(mixed_result)

    def reject(token: str) -> float:
        raise AssertionError(f"non-standard JSON number {token}")

    doc = json.loads(raw, parse_constant=reject)
    assert doc["schema_version"] == SCHEMA_VERSION
    for key in ("rows", "columns", "duplicate_rows", "missing_cells"):
        assert isinstance(doc["dataset"][key], int)
    for col in doc["columns"]:
        assert {"name", "type", "missing", "distinct"} <= col.keys()
        if col["type"] == "numeric":
            assert {"min", "max", "mean", "std", "median"} <= col["stats"].keys()
    for alert in doc["alerts"]:
        assert {"type", "column", "severity"} <= alert.keys()
    assert {"pearson", "spearman", "cramers_v", "correlation_ratio"} <= doc["correlations"].keys()
    for leaf in _walk(doc):
        assert not (isinstance(leaf, float) and not math.isfinite(leaf))
    assert decode_result(raw) == mixed_result
    assert doc["profiled_at"].endswith("+00:00")


def test_nan_and_infinity_never_reach_the_json() -> None:
    df = pd.DataFrame({"x": [np.inf, -np.inf, np.nan, 1.0], "y": [np.inf] * 4})
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    doc = json.loads(encode_result(result), parse_constant=pytest.fail)
    y = doc["columns"][1]
    assert y["stats"]["infinite"] == 4 and y["stats"]["mean"] is None
    assert doc["sample"]["rows"][0] == [None, None]


def test_digest(mixed_result: ProfileResult) -> None:
    digest = build_digest(mixed_result)
    assert digest.rows == mixed_result.dataset.rows
    assert [c.name for c in digest.column_digests] == [c.name for c in mixed_result.columns]
    assert {(a.type, a.column) for a in digest.alerts} == {(a.type, a.column) for a in mixed_result.alerts}
    severities = [a.severity for a in digest.alerts]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)
    small = build_digest(mixed_result, max_columns=2, max_alerts=1)
    assert len(small.column_digests) == 2 and len(small.alerts) == 1 and small.truncated
    assert len(msgspec.json.encode(digest)) < 20_000


def test_thresholds_change_alerts() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=1000)
    x[rng.random(1000) < 0.08] = np.nan
    df = pd.DataFrame({"x": x, "z": np.where(rng.random(1000) < 0.15, 0.0, 1.0 + rng.random(1000))})
    table = pa.Table.from_pandas(df, preserve_index=False)
    default = {(a.type, a.column) for a in profile_table(table).alerts}
    assert ("missing", "x") in default and ("zeros", "z") in default
    strict = parse_options({"thresholds": {"missing_pct": 0.5, "zeros_pct": 0.5}})
    relaxed = {(a.type, a.column) for a in profile_table(table, strict).alerts}
    assert ("missing", "x") not in relaxed and ("zeros", "z") not in relaxed


def test_skewed_uniform_imbalance_cardinality_alerts() -> None:
    rng = np.random.default_rng(2)
    n = 5000
    df = pd.DataFrame({
        "skew": rng.lognormal(0, 1.5, n),
        "flat": rng.uniform(0, 1, n),
        "rare": rng.choice(["a", "b"], n, p=[0.97, 0.03]),
        "many": [f"v{i}" for i in rng.integers(0, 400, n)],
    })  # fmt: skip
    alerts = {
        (a.type, a.column): a for a in profile_table(pa.Table.from_pandas(df, preserve_index=False)).alerts
    }
    assert ("skewed", "skew") in alerts
    assert ("uniform", "flat") in alerts and ("uniform", "skew") not in alerts
    assert ("imbalance", "rare") in alerts
    assert ("high_cardinality", "many") in alerts
    assert alerts[("high_cardinality", "many")].value == df["many"].nunique()


def test_progress_is_monotonic_frequent_and_ends_at_100(mixed_csv: Path) -> None:
    updates: list[ProgressUpdate] = []
    threads: set[str] = set()

    def on_progress(update: ProgressUpdate) -> None:
        updates.append(update)
        threads.add(threading.current_thread().name)

    profile_file(mixed_csv, on_progress=on_progress)
    values = [u.progress for u in updates]
    assert values == sorted(values) and values[-1] == 100.0 and values[0] == 0.0
    assert {"reading", "profiling", "done"} <= {u.stage for u in updates}
    assert updates[-1].stage == "done" and updates[-1].rows_done == 4000
    assert updates[-1].bytes_done == mixed_csv.stat().st_size


def test_reporter_sends_a_heartbeat_while_one_step_runs() -> None:
    sent: list[ProgressUpdate] = []
    arrived = threading.Semaphore(0)

    def on_progress(update: ProgressUpdate) -> None:
        sent.append(update)
        arrived.release()

    with ProgressReporter(on_progress, interval=0.05) as reporter:
        reporter.update(10, "reading", "a long parse", force=True)
        # one long step that sends nothing itself: the heartbeat keeps re-sending its state
        for _ in range(5):
            assert arrived.acquire(timeout=60), "no heartbeat"
    assert len(sent) >= 5
    assert {(u.progress, u.message) for u in sent} == {(10, "a long parse")}


def test_heartbeat_and_abort_from_the_callback(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    pd.DataFrame({"v": np.arange(200_000)}).to_csv(path, index=False)
    seen: list[float] = []

    class Stop(Exception):
        pass

    def on_progress(update: ProgressUpdate) -> None:
        seen.append(update.progress)
        if update.stage == "profiling":
            raise Stop

    with pytest.raises(Stop):
        profile_file(path, {"streaming": True}, on_progress=on_progress, budget_mb=64)
    assert seen


def test_budget_decides_the_mode(mixed_csv: Path) -> None:
    source = detect_source(mixed_csv)
    assert not needs_streaming(source, 1024 << 20)
    assert needs_streaming(source, 64 << 20)
    assert profile_file(mixed_csv, budget_mb=64).dataset.mode == "streaming"
