"""``sonda doctor`` next to a running ``sonda up`` checks that Sonda instead of asking to stop it."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sonda.cli import cli
from tests.e2e.sonda_up import SondaUp

pytestmark = pytest.mark.slow

ISOLATED = {"NATS_URL": None, "DATABASE_URL": None, "SONDA_API_KEYS": None}


def doctor(*args: str) -> dict[str, dict[str, Any]]:
    result = CliRunner(env=ISOLATED).invoke(cli, ["doctor", "--json", *args])
    return {c["name"]: c for c in json.loads(result.output)}


def test_a_running_sonda_on_the_port_is_checked(sonda: SondaUp, tmp_path: Path) -> None:
    found = doctor("--port", str(sonda.port), "--data-dir", str(tmp_path))
    assert "Port of the origin" not in found
    running = found["Running Sonda"]
    assert running["status"] == "ok", running
    assert sonda.url in running["detail"] and "database" in running["detail"]


def test_something_else_on_the_port_is_still_reported_busy(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        found = doctor("--port", str(port), "--data-dir", str(tmp_path))
    assert "Running Sonda" not in found
    assert found["Port of the origin"]["status"] == "warn"
    assert "in use" in found["Port of the origin"]["detail"]
