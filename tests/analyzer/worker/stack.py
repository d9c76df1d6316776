"""Running the analyzer for tests: in-process (the app with its lifespan) or as a real process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from sonda_analyzer.app import create_app
from sonda_analyzer.settings import AnalyzerSettings
from sonda_events.settings import load_settings
from sonda_storage import ObjectStorage, storage_from_settings

from tests.support.servers import LOCAL, free_port, running_nats

SettingsFactory = Callable[..., AnalyzerSettings]
QUIET = {"sonda_log_level": "warning", "sonda_log_json": True}


def analyzer_settings(nats_url: str, root: Path, **overrides: Any) -> AnalyzerSettings:
    values: dict[str, Any] = {"nats_url": nats_url, "sonda_data_dir": str(root / "data"), **QUIET}
    return load_settings(AnalyzerSettings, env={}, **{**values, **overrides})


@contextlib.asynccontextmanager
async def running(settings: AnalyzerSettings) -> AsyncIterator[AsyncTestClient[Any]]:
    """The analyzer app with its lifespan (worker included), stopped gracefully on exit."""
    async with AsyncTestClient(create_app(settings), base_url=LOCAL) as client:
        yield client


@dataclass
class Stack:
    """A private NATS, the analyzer app, its storage and a plain NATS client of the test's own."""

    analyzer: AsyncTestClient[Any]
    storage: ObjectStorage
    nc: NatsClient
    settings: AnalyzerSettings


@contextlib.asynccontextmanager
async def analyzer_stack(root: Path, **overrides: Any) -> AsyncIterator[Stack]:
    """For module-scoped fixtures: one analyzer serving many tests."""
    with running_nats(root / "nats") as server:
        settings = analyzer_settings(server.url, root, **overrides)
        storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
        await storage.start()
        nc = await nats.connect(server.url)
        try:
            async with running(settings) as client:
                yield Stack(client, storage, nc, settings)
        finally:
            await nc.close()
            await storage.close()


@dataclass
class AnalyzerProcess:
    """``python -m sonda_analyzer`` as a separate OS process, which a test may SIGKILL."""

    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "sonda_analyzer"], env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the analyzer exited with {self.proc.returncode}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health/ready", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError("the analyzer did not become ready")

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = httpx.get(f"{self.url}/api/v1/analyzer/info", timeout=5).json()
        return info

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def analyzer_process(nats_url: str, root: Path, **env: str) -> Iterator[AnalyzerProcess]:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SONDA_", "NATS_", "CLOUDFLARE_R2_"))}
    base.update(
        {
            "NATS_URL": nats_url,
            "SONDA_DATA_DIR": str(root / "data"),
            "SONDA_ANALYZER_WORK_DIR": str(root / "work"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SONDA_LOG_LEVEL": "warning",
            "SONDA_LOG_JSON": "true",
            **env,
        }
    )
    process = AnalyzerProcess(env=base, port=port)
    try:
        yield process
    finally:
        process.stop()
