"""Pure parts of the worker: settings from the environment and the bounded event summary."""

from __future__ import annotations

import uuid

import msgspec
import numpy as np
import pyarrow as pa
import pytest
from sonda_analyzer.engine import profile_table
from sonda_analyzer.settings import AnalyzerSettings
from sonda_analyzer.summary import MAX_ALERTS, MAX_COLUMNS, summarize
from sonda_events import codec
from sonda_events.contract import AnalysisCompleted, CompletedData, ResultRef, new_event
from sonda_events.settings import SettingsError, load_settings


def test_settings_read_the_documented_variables() -> None:
    settings = load_settings(
        AnalyzerSettings,
        env={
            "SONDA_ANALYZER_CONCURRENCY": "2",
            "SONDA_ANALYZER_MEMORY_MB": "512",
            "SONDA_ANALYZER_MAX_FILE_MB": "64",
            "SONDA_ANALYZER_TIMEOUT_S": "90",
            "SONDA_ANALYZER_MAX_DELIVER": "4",
            "SONDA_ANALYZER_ACK_WAIT_S": "12",
        },
    )
    assert settings.port == 8002
    assert settings.sonda_analyzer_concurrency == 2
    assert settings.memory_limit_mb() == 2 * 512 + 512
    assert settings.sonda_analyzer_max_file_mb == 64
    assert settings.sonda_analyzer_timeout_s == 90.0
    assert settings.sonda_analyzer_max_deliver == 4
    assert settings.keep_alive_s() == 4.0  # three in-progress acks per ack wait
    defaults = load_settings(AnalyzerSettings, env={})
    assert (defaults.sonda_analyzer_concurrency, defaults.sonda_analyzer_max_deliver) == (1, 3)
    assert defaults.sonda_analyzer_memory_mb == 1024


@pytest.mark.parametrize(
    ("name", "value"), [("SONDA_ANALYZER_CONCURRENCY", "0"), ("SONDA_ANALYZER_TIMEOUT_S", "soon")]
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(AnalyzerSettings, env={name: value})


def test_summary_of_a_very_wide_table_stays_small_and_says_what_it_left_out() -> None:
    rng = np.random.default_rng(3)
    width = 1200
    columns = {f"{'very_long_column_name_' * 20}{i}": rng.integers(0, 3, 50) for i in range(width)}
    result = profile_table(pa.table(columns))
    summary = summarize(result)
    assert summary.columns == width
    assert len(summary.column_digests) <= MAX_COLUMNS
    assert summary.columns_truncated == width - len(summary.column_digests)
    assert len(summary.alerts) <= MAX_ALERTS
    assert summary.alerts_truncated == len(result.alerts) - len(summary.alerts)
    assert all(len(c.name) <= 200 for c in summary.column_digests)
    event = new_event(
        AnalysisCompleted,
        analysis_id=uuid.uuid4(),
        version=9,
        data=CompletedData(summary=summary, result=ResultRef(key="results/x.json", sha256="0" * 64, size=1)),
        producer="analyzer",
    )
    payload = codec.encode(event)
    assert len(payload) < codec.MAX_EVENT_BYTES // 2
    assert codec.decode(payload) == event
    assert msgspec.json.decode(payload)["data"]["summary"]["columns_truncated"] > 0
