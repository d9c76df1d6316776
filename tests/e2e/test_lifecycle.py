"""``sonda up`` as an operator sees it: supervision, one instance per folder, a clean stop, a restart."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from sonda.gateway.routes import SERVICES
from tests.e2e.conftest import running_sonda
from tests.e2e.flow import analyse
from tests.e2e.sonda_up import SondaUp

pytestmark = [pytest.mark.slow, pytest.mark.fault]


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def listening(process: psutil.Process) -> set[int]:
    """The TCP ports ``process`` holds a listening socket on."""
    return {c.laddr.port for c in process.net_connections("tcp") if c.status == psutil.CONN_LISTEN}


def record_exits(processes: dict[str, psutil.Process], order: list[str], timeout: float = 60.0) -> None:
    """Append each name to ``order`` as its process ends (polled every few milliseconds)."""
    deadline = time.monotonic() + timeout
    while len(order) < len(processes) and time.monotonic() < deadline:
        order.extend(name for name, process in processes.items() if name not in order and not alive(process))
        time.sleep(0.005)


async def test_supervision_clean_stop_and_restart(tmp_path: Path, sales_csv: Path) -> None:
    data = tmp_path / "data"
    with running_sonda(data) as first:
        first.wait_healthy()
        analysis_id, messages = await analyse(first.url, first.ws_url, sales_csv)
        assert messages[-1]["type"] == "analysis_completed", f"{messages[-1]}\n{first.logs()}"
        nats_url = first.nats_url()

        children = first.children()
        assert set(children) == {"nats", "gateway", *SERVICES}

        # sonda up opens every listening socket itself and hands it to the process that serves on
        # it: from the moment a port is chosen no other program can take it, and each process
        # serves on its own port only.
        assert first.proc is not None
        ports: dict[str, int] = {svc: int(first.service_url(svc).rsplit(":", 1)[1]) for svc in SERVICES}
        ports["gateway"] = first.port
        assert set(ports.values()) <= listening(psutil.Process(first.proc.pid))
        for name, port in ports.items():
            assert listening(children[name]) == {port}, name

        # A service that dies is restarted; the others keep answering meanwhile, and its port
        # stays taken while it is down.
        victim = children["analyzer"]
        victim.kill()
        victim.wait(10)
        with socket.socket() as thief, pytest.raises(OSError):
            thief.bind(("127.0.0.1", ports["analyzer"]))
        async with httpx.AsyncClient(base_url=first.url, timeout=10, trust_env=False) as client:
            assert (await client.get(f"/api/v1/analysis/status-enhanced/{analysis_id}")).status_code == 200

        def restarted() -> bool:
            # One look at the children: between two, the new analyzer may not be listed yet.
            now = first.children().get("analyzer")
            return now is not None and now.pid != victim.pid

        wait_for(restarted, 60, "the analyzer to be restarted")
        assert "analyzer exited" in first.output
        again_id, again = await analyse(first.url, first.ws_url, sales_csv)
        assert again[-1]["type"] == "analysis_completed", (
            f"the restarted analyzer must work: {again[-1]}\n{first.logs()}"
        )

        # One sonda up per data folder.
        with pytest.raises(RuntimeError, match="already uses"):
            SondaUp(data).start(timeout=60)

        # Ctrl-C: everything stops, the gateway first and NATS last, and the command exits 0.
        processes = first.children()
        order: list[str] = []
        watcher = threading.Thread(target=record_exits, args=(processes, order))
        watcher.start()
        code = first.stop(signal.SIGINT)
        watcher.join(30)
        assert code == 0, first.output
        assert "Sonda stopped." in first.output
        _, left = psutil.wait_procs(list(processes.values()), timeout=5)
        assert not left, f"left running: {left}"
        assert order[0] == "gateway" and order[-1] == "nats", order

    # A second sonda up on the same folder finds the same analyses (and the same NATS port).
    with running_sonda(data) as second:
        second.wait_healthy()
        assert second.nats_url() == nats_url
        async with httpx.AsyncClient(base_url=second.url, timeout=30, trust_env=False) as client:
            listed = (await client.get("/api/v1/analysis/list", params={"limit": 50})).json()
            assert {analysis_id, again_id} <= {item["analysis_id"] for item in listed["items"]}
            results = await client.get(f"/api/v1/analysis/results-enhanced/{analysis_id}")
            assert results.status_code == 200
