"""The compose proxy's nginx config, run for real in front of ``sonda up``'s services with API keys on.

docker-compose cannot run here, but nginx can: the template of deploy/nginx is rendered the way the
nginx image renders it (envsubst of SONDA_WEB_API_KEY), its entrypoint script writes the sign-in file,
and only the upstream addresses and paths are pointed at this machine. Machines pass with their own
key; a person signs in with basic auth and the proxy presents the page's key for them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from sonda.gateway.routes import SERVICES
from sonda.web import static_dir
from tests.e2e.conftest import running_sonda
from tests.e2e.flow import follow, start, upload
from tests.e2e.sonda_up import SondaUp, clean_env
from tests.support.servers import free_port, wait_for_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed"),
]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
WEB_KEY, AGENT_KEY = "web-key-for-the-page", "agent-key-for-machines"
USER, PASSWORD = "ana", "s3nha-forte"


def render(sonda: SondaUp, tmp: Path, port: int) -> Path:
    """deploy/nginx/default.conf.template inside a minimal nginx.conf, upstreams on this machine."""
    server = (DEPLOY / "default.conf.template").read_text().replace("${SONDA_WEB_API_KEY}", WEB_KEY)
    for service in SERVICES:
        internal = sonda.service_url(service).removeprefix("http://")
        server = server.replace(f"server {service}:{8001 + SERVICES.index(service)};", f"server {internal};")
    server = server.replace("listen 8000 default_server;", f"listen 127.0.0.1:{port} default_server;")
    server = server.replace("/tmp/sonda.htpasswd", str(tmp / "sonda.htpasswd"))
    server = server.replace("/usr/share/sonda/static", str(static_dir()))
    assert "server ingest:" not in server and str(port) in server
    temp = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} warn;\n"
        + "events { worker_connections 256; }\n"
        + f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n{temp}\n{server}\n}}\n"
    )
    return conf


@contextlib.contextmanager
def running_nginx(sonda: SondaUp, tmp: Path) -> Iterator[str]:
    subprocess.run(
        ["sh", str(DEPLOY / "40-sonda-htpasswd.sh")],
        env={"PATH": os.environ["PATH"], "SONDA_WEB_USER": USER, "SONDA_WEB_PASSWORD": PASSWORD,
             "SONDA_HTPASSWD_PATH": str(tmp / "sonda.htpasswd")},
        check=True,
    )  # fmt: skip
    port = free_port()
    conf = render(sonda, tmp, port)
    check = subprocess.run(
        ["nginx", "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        ["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sonda up`` with API keys on, and the compose proxy config in front of its services."""
    tmp = tmp_path_factory.mktemp("nginx")
    keys = clean_env(SONDA_API_KEYS=f"{WEB_KEY},{AGENT_KEY}")
    with running_sonda(tmp / "data", env=keys) as sonda, running_nginx(sonda, tmp) as origin:
        sonda.wait_healthy()
        yield origin


def basic(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_people_sign_in_and_machines_bring_their_key(proxied: str, sales_csv: Path) -> None:
    base = f"http://{proxied}"
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as anonymous:
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/api/v1/health/live")).status_code == 200, "health stays open"
        page = await anonymous.get("/")
        assert page.status_code == 401 and 'Basic realm="Sonda"' in page.headers["www-authenticate"]
        assert (await anonymous.get("/", headers=basic(password="wrong"))).status_code == 401
        wrong_key = await anonymous.get("/api/v1/analysis/list", headers={"Authorization": "Bearer nope"})
        assert wrong_key.status_code == 401 and wrong_key.json()["code"] == "unauthorized", (
            "the service decides"
        )

    # A machine: its own key, the whole seed flow through the proxy (uploads streamed to ingest).
    async with httpx.AsyncClient(
        base_url=base, timeout=60, trust_env=False, headers={"Authorization": f"Bearer {AGENT_KEY}"}
    ) as agent:
        analysis_id = await start(agent, await upload(agent, sales_csv))
        async with connect(
            f"ws://{proxied}/api/v1/analysis/websocket/{analysis_id}",
            subprotocols=[Subprotocol(f"bearer.{AGENT_KEY}")],
            proxy=None,
        ) as ws:
            first = json.loads(await ws.recv())
            assert first["type"] == "connection_established"
        messages = await follow(f"ws://{proxied}", analysis_id + f"?api_key={AGENT_KEY}")
        assert messages[-1]["type"] == "analysis_completed"
        assert (await agent.get(f"/api/v1/analysis/results-enhanced/{analysis_id}")).status_code == 200
        other_header = await agent.get(
            "/api/v1/analysis/list", headers={"Authorization": "", "X-API-Key": AGENT_KEY}
        )
        assert other_header.status_code == 200

    # A person: signed in once, the proxy presents the page's key to the services.
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False, headers=basic()) as person:
        page = await person.get("/")
        assert page.status_code == 200 and 'id="file-input"' in page.text
        # Keys own their analyses: the page's key lists its own, not the agent's.
        own = await start(person, await upload(person, sales_csv))
        ids: list[str] = []
        async with asyncio.timeout(60):
            while own not in ids:  # listed once the projector has it
                listed = await person.get("/api/v1/analysis/list")
                assert listed.status_code == 200, listed.text
                ids = [item["analysis_id"] for item in listed.json()["items"]]
                await asyncio.sleep(0.1)
        assert analysis_id not in ids
        async with connect(
            f"ws://{proxied}/api/v1/analysis/websocket/{own}", additional_headers=basic(), proxy=None
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "connection_established"
