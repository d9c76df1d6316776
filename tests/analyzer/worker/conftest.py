"""Fixtures of the analyzer worker tests: a private NATS, local (or S3) storage, the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from sonda_analyzer.settings import AnalyzerSettings
from sonda_events.settings import load_settings
from sonda_storage import ObjectStorage, storage_from_settings

from tests.analyzer.worker.datasets import BigFile
from tests.analyzer.worker.stack import QUIET, SettingsFactory, running
from tests.support.servers import NatsServer


@pytest.fixture
def make_settings(tmp_path: Path, private_nats: NatsServer) -> SettingsFactory:
    def make(**overrides: Any) -> AnalyzerSettings:
        values: dict[str, Any] = {
            "nats_url": private_nats.url,
            "sonda_data_dir": str(tmp_path / "data"),
            "sonda_analyzer_work_dir": str(tmp_path / "work"),
            "sonda_analyzer_ack_wait_s": 3.0,
            "sonda_analyzer_shutdown_grace_s": 5.0,
            **QUIET,
        }
        values.update(overrides)
        return load_settings(AnalyzerSettings, env={}, **values)

    return make


@pytest.fixture
def settings(make_settings: SettingsFactory) -> AnalyzerSettings:
    return make_settings()


@pytest.fixture
async def analyzer(settings: AnalyzerSettings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with running(settings) as client:
        yield client


@pytest.fixture
async def storage(settings: AnalyzerSettings) -> AsyncIterator[ObjectStorage]:
    """The same storage the analyzer uses, opened by the test (as the uploader would)."""
    backend = storage_from_settings(settings.storage, settings.sonda_data_dir)
    await backend.start()
    yield backend
    await backend.close()


@pytest.fixture
async def nc(private_nats: NatsServer) -> AsyncIterator[NatsClient]:
    client = await nats.connect(private_nats.url)
    yield client
    await client.close()


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> BigFile:
    rows = 1_200_000
    rng = np.random.default_rng(2024)
    columns = {
        "amount": rng.normal(250.0, 80.0, rows),
        "units": rng.integers(0, 5000, rows).astype(np.float64),
        "ratio": rng.uniform(0.0, 1.0, rows).round(4),
        "score": rng.exponential(3.0, rows),
    }
    table = pa.table({**columns, "region": pa.array(rng.choice(["north", "south", "east", "west"], rows))})
    path = tmp_path_factory.mktemp("big") / "big.csv"
    pacsv.write_csv(table, path)
    return BigFile(path=path, rows=rows, columns=columns)
