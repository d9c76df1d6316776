"""The embedded NATS server of ``sonda up``: whether the nats-server it started got its port.

The port is chosen free, but nats-server binds it itself a moment later, and any program asking
the system for a free port meanwhile may take it; ``sonda up`` must then not take whatever answers
on that port for its own server. Real nats-server processes under the real supervisor.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import nats

from sonda.embedded.nats import free_port, listening, nats_server_binary, port_is_free, server_argv
from sonda.embedded.stack import READY_TIMEOUT_S
from sonda.embedded.supervisor import ProcessSpec, Supervised, Supervisor


async def _start(supervisor: Supervisor, binary: str, port: int, store: Path) -> Supervised:
    return await supervisor.start(
        ProcessSpec(
            name="nats",
            argv=server_argv(binary, port, store),
            env=dict(os.environ),
            log_path=store / "nats.log",
            backoff=(60.0,),  # not restarted while the test looks at it
        )
    )


async def test_a_server_that_got_its_port_says_so(tmp_path: Path) -> None:
    binary = nats_server_binary()
    assert binary is not None
    port = free_port()
    supervisor = Supervisor(lambda level, text: None)
    child = await _start(supervisor, binary, port, tmp_path)
    try:
        assert await listening(tmp_path, binary, child, READY_TIMEOUT_S)
        assert not port_is_free(port)
        nc = await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False)
        assert nc.is_connected
        await nc.close()
    finally:
        await supervisor.stop(["nats"])
    assert not list(tmp_path.glob("*.ports")), "a clean stop removes its ports file"


async def test_a_server_whose_port_another_program_took_says_so(tmp_path: Path) -> None:
    binary = nats_server_binary()
    assert binary is not None
    supervisor = Supervisor(lambda level, text: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        child = await _start(supervisor, binary, taken.getsockname()[1], tmp_path)
        try:
            assert not await listening(tmp_path, binary, child, READY_TIMEOUT_S)
        finally:
            await supervisor.stop(["nats"])
    assert "address already in use" in (tmp_path / "nats.log").read_text()
