"""``sonda up --nats nats://user:password@…``: the password works and is never shown on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import running_sonda
from tests.e2e.flow import analyse
from tests.support.servers import NatsServer

pytestmark = pytest.mark.slow

PASSWORD = "s3cret-pw-9431"


async def test_the_nats_password_is_used_but_never_printed(tmp_path: Path, sales_csv: Path) -> None:
    server = NatsServer(tmp_path / "nats", extra_args=("--user", "alice", "--pass", PASSWORD))
    server.start()
    try:
        url = server.url.replace("nats://", f"nats://alice:{PASSWORD}@")
        with running_sonda(tmp_path / "data", "--nats", url) as sonda:
            _, messages = await analyse(sonda.url, sonda.ws_url, sales_csv)
            assert messages[-1]["type"] == "analysis_completed"
            banner = sonda.output
        logs = "".join(f.read_text(errors="replace") for f in (tmp_path / "data" / "logs").glob("*.log"))
        assert "Sonda is ready" in banner and "nats://127.0.0.1" in banner
        assert PASSWORD not in banner
        assert PASSWORD not in logs
    finally:
        server.stop()
