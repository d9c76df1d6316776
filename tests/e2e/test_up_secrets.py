"""``sonda up`` with every secret configured (a NATS password among them): each works, none is shown."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.e2e.conftest import running_sonda
from tests.e2e.flow import start, upload
from tests.e2e.sonda_up import clean_env
from tests.support.servers import NatsServer, S3Endpoint

pytestmark = pytest.mark.slow

PASSWORD = "s3cret-pw-9431"
API_KEY = "agent-key-6d0f3b9a1c"
ADMIN_KEY = "admin-key-2e7c5a8d4f"
SIGNING_SECRET = "signing-secret-71c4e0b9a2d3f5e6"
S3_SECRET = "s3-secret-8b1e4c7a0f"


async def test_a_full_flow_with_every_secret_configured_shows_none_of_them(
    tmp_path: Path, sales_csv: Path, s3_endpoint: S3Endpoint
) -> None:
    """API keys, a NATS password in its URL, an S3 secret and a signing key are configured; a whole
    flow runs (upload, start, WebSocket by query key and by subprotocol, reads, a refused key, the
    CLI's analyze and doctor); no banner, log line, CLI output or response header shows any of them.

    The password is used, not only hidden: the services talk over that NATS (the CLI's analysis
    completes through it), and the banner names the server without the password."""
    server = NatsServer(tmp_path / "nats", extra_args=("--user", "alice", "--pass", PASSWORD))
    server.start()
    bucket = f"sonda-secrets-{uuid.uuid4().hex[:8]}"
    secrets = [PASSWORD, API_KEY, ADMIN_KEY, SIGNING_SECRET, S3_SECRET]
    try:
        nats_url = server.url.replace("nats://", f"nats://alice:{PASSWORD}@")
        env = clean_env(
            SONDA_API_KEYS=API_KEY,
            SONDA_ADMIN_API_KEYS=ADMIN_KEY,
            SONDA_SIGNING_SECRET=SIGNING_SECRET,
            SONDA_LOG_LEVEL="debug",
        )
        s3 = (
            "--s3",
            s3_endpoint.url,
            "--s3-bucket",
            bucket,
            "--s3-access-key",
            s3_endpoint.access_key_id,
            "--s3-region",
            s3_endpoint.region,
        )
        with running_sonda(
            tmp_path / "data", "--nats", nats_url, *s3, "--s3-secret-key", S3_SECRET, env=env
        ) as sonda:
            headers = {"Authorization": f"Bearer {API_KEY}"}
            shown: list[str] = []
            async with httpx.AsyncClient(
                base_url=sonda.url, timeout=60, trust_env=False, headers=headers
            ) as client:
                analysis_id = await start(client, await upload(client, sales_csv, upload_to=s3_endpoint.url))
                for path in ("status-enhanced", "results-enhanced", "summary-for-llm"):
                    response = await client.get(f"/api/v1/analysis/{path}/{analysis_id}")
                    shown.append(str(response.headers))
                listed = await client.get("/api/v1/analysis/list")
                shown.append(str(listed.headers))
                wrong = await client.get(
                    "/api/v1/analysis/list", headers={"Authorization": f"Bearer x{API_KEY}"}
                )
                assert wrong.status_code == 401
                shown += [str(wrong.headers), wrong.text]
            ws_url = f"{sonda.ws_url}/api/v1/analysis/websocket/{analysis_id}"
            async with connect(f"{ws_url}?api_key={API_KEY}", proxy=None) as ws:
                assert "connection_established" in str(await ws.recv())
                shown.append(str(ws.response.headers if ws.response else ""))
            offered = [Subprotocol("sonda.v1"), Subprotocol(f"bearer.{API_KEY}")]
            async with connect(ws_url, subprotocols=offered, proxy=None) as ws:
                assert ws.subprotocol == "sonda.v1"
                shown.append(str(ws.response.headers if ws.response else ""))
            cli = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sonda",
                    "analyze",
                    "--url",
                    sonda.url,
                    "--api-key",
                    API_KEY,
                    str(sales_csv),
                ],
                capture_output=True,
                text=True,
                timeout=180,
                env={**env, "SONDA_URL": sonda.url},
                check=False,
            )
            assert cli.returncode == 0, cli.stderr[-2000:]
            shown += [cli.stdout, cli.stderr]
            # The diagnosis names every setting and server; it must name no secret either.
            doctor = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sonda",
                    "doctor",
                    "--data-dir",
                    str(tmp_path / "doctor"),
                    "--nats",
                    nats_url,
                ],
                capture_output=True,
                text=True,
                timeout=180,
                env={**env, "CLOUDFLARE_R2_SECRET_ACCESS_KEY": S3_SECRET},
                check=False,
            )
            assert "NATS" in doctor.stdout + doctor.stderr
            shown += [doctor.stdout, doctor.stderr]
            banner = sonda.output
        logs = "".join(f.read_text(errors="replace") for f in (tmp_path / "data" / "logs").glob("*.log"))
    finally:
        server.stop()
    assert "analysis_requested" in logs and "Sonda is ready" in banner  # they did log and print
    assert "nats://127.0.0.1" in banner  # the NATS it uses, named without its password
    everything = "\n".join([banner, logs, *shown])
    leaked = [s for s in secrets if s in everything]
    assert not leaked, [
        (s, everything[max(0, everything.index(s) - 200) : everything.index(s) + 50]) for s in leaked
    ]
