"""Fixtures of the analyzer worker tests: a private NATS, local (or S3) storage, the app in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from sonda_analyzer.app import create_app
from sonda_analyzer.settings import AnalyzerSettings
from sonda_events.settings import load_settings
from sonda_storage import ObjectStorage, storage_from_settings

from tests.support.servers import NatsServer

SettingsFactory = Callable[..., AnalyzerSettings]


@pytest.fixture
def make_settings(tmp_path: Path, private_nats: NatsServer) -> SettingsFactory:
    def make(**overrides: Any) -> AnalyzerSettings:
        values: dict[str, Any] = {
            "nats_url": private_nats.url,
            "sonda_data_dir": str(tmp_path / "data"),
            "sonda_analyzer_work_dir": str(tmp_path / "work"),
            "sonda_analyzer_ack_wait_s": 3.0,
            "sonda_analyzer_shutdown_grace_s": 5.0,
            "sonda_log_json": True,
            "sonda_log_level": "warning",
        }
        values.update(overrides)
        return load_settings(AnalyzerSettings, env={}, **values)

    return make


@pytest.fixture
def settings(make_settings: SettingsFactory) -> AnalyzerSettings:
    return make_settings()


@contextlib.asynccontextmanager
async def running(settings: AnalyzerSettings) -> AsyncIterator[AsyncTestClient[Any]]:
    """The analyzer app with its lifespan (worker included), stopped gracefully on exit."""
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
async def analyzer(settings: AnalyzerSettings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with running(settings) as client:
        yield client


@pytest.fixture
async def storage(settings: AnalyzerSettings) -> AsyncIterator[ObjectStorage]:
    """The same storage the analyzer uses, opened by the test (as the uploader would)."""
    backend = storage_from_settings(settings)
    await backend.start()
    yield backend
    await backend.close()


@pytest.fixture
async def nc(private_nats: NatsServer) -> AsyncIterator[NatsClient]:
    client = await nats.connect(private_nats.url)
    yield client
    await client.close()
