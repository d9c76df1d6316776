"""Every way Sonda starts refuses a nats-server below the floor (Debian's 2.9 here) at once, naming
the version found and the one needed; doctor and readiness say which server runs and if it will do."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sonda_events.bus.server import version_is_supported
from sonda_events.settings import load_settings
from sonda_ingest.app import create_app
from sonda_ingest.settings import IngestSettings

from sonda.cli import cli
from sonda.embedded.config import UpConfig, child_env, sonda_argv
from sonda.gateway.routes import SERVICES, Service
from tests.support.servers import (
    LOCAL,
    NatsServer,
    free_port,
    running_old_nats,
)

pytestmark = pytest.mark.slow

NEEDED = "Sonda needs nats-server >= 2.11"
#: A start that waits or retries instead of refusing would run into this.
START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def old_nats() -> Iterator[NatsServer]:
    """A private nats-server older than the floor (Debian's 2.9), on its own port and data folder."""
    with running_old_nats() as server:
        yield server


def refusal(url: str) -> str:
    return f"at {url} is not supported: {NEEDED}"


def test_sonda_up_refuses_an_old_server_at_once(tmp_path: Path, old_nats: NatsServer) -> None:
    with_credentials = old_nats.url.replace("nats://", "nats://alice:s3cret@")
    argv = sonda_argv(
        "up", "--nats", with_credentials, "--data-dir", str(tmp_path / "data"), "--port", str(free_port())
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Error: nats-server 2.9." in done.stderr and refusal(old_nats.url) in done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    assert not list((tmp_path / "data" / "logs").glob("*.log")), "no service was started"


def test_each_service_refuses_an_old_server_at_start(tmp_path: Path, old_nats: NatsServer) -> None:
    env = child_env(UpConfig(data_dir=tmp_path / "data"), old_nats.url)
    started = {
        svc: subprocess.Popen(
            sonda_argv("serve", svc, "--port", str(free_port())),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for svc in SERVICES
    }
    outputs: dict[Service, str] = {}
    try:
        for svc, process in started.items():
            outputs[svc], _ = process.communicate(timeout=START_TIMEOUT_S)
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)
    for name, output in outputs.items():
        code = started[name].returncode
        assert code not in (0, None), f"{name} started on nats-server 2.9: {output[-2000:]}"
        assert "nats_unsupported" in output and refusal(old_nats.url) in output, f"{name}: {output[-2000:]}"


def doctor(*args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    env = {"NATS_URL": None, "DATABASE_URL": None, "SONDA_API_KEYS": None, "CLOUDFLARE_R2_ENDPOINT_URL": None}
    result = CliRunner(env=env).invoke(cli, ["doctor", "--json", *args])
    return result.exit_code, {c["name"]: c for c in json.loads(result.output)}


def test_doctor_reports_an_old_server_as_unsupported(tmp_path: Path, old_nats: NatsServer) -> None:
    code, found = doctor("--data-dir", str(tmp_path), "--nats", old_nats.url, "--port", str(free_port()))
    assert code == 1
    assert found["NATS"]["status"] == "fail", found["NATS"]
    assert (
        found["NATS"]["detail"].startswith("nats-server 2.9.")
        and refusal(old_nats.url) in found["NATS"]["detail"]
    )
    assert "2.11 or newer" in found["NATS"]["fix"]


def test_doctor_accepts_the_wheel_server(tmp_path: Path, nats_url: str) -> None:
    code, found = doctor("--data-dir", str(tmp_path), "--nats", nats_url, "--port", str(free_port()))
    assert found["NATS"]["status"] == "ok", found["NATS"]
    assert "supported: needs >= 2.11" in found["NATS"]["detail"]
    assert code == 0, found


async def test_readiness_names_the_server_version_and_that_it_is_supported(
    tmp_path: Path, nats_url: str
) -> None:
    env = {
        "NATS_URL": nats_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sonda.db'}",
        "SONDA_DATA_DIR": str(tmp_path / "data"),
        "SONDA_LOG_LEVEL": "warning",
    }
    async with AsyncTestClient(app=create_app(load_settings(IngestSettings, env)), base_url=LOCAL) as client:
        ready = await client.get("/api/v1/health/ready")
    assert ready.status_code == 200, ready.text
    nats = ready.json()["checks"]["nats"]
    assert nats["ok"] is True
    assert nats["detail"]["server"] == nats_url and nats["detail"]["supported"] is True
    assert version_is_supported(nats["detail"]["version"]) and nats["detail"]["needs"] == ">= 2.11"
