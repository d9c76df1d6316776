"""Sonda's services as real OS processes that a fault test may kill, pause or restart.

Each service runs as ``sonda serve <name>`` (or ``sonda recorder``) exactly as an operator starts it,
with its logs written to a file the test can read afterwards. Every
process is started with the environment of the test's private servers only: nothing leaks in from
the machine's own ``SONDA_*``, ``NATS_*``, ``DATABASE_*`` or ``CLOUDFLARE_R2_*`` variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.servers import free_port

HTTP_SERVICES = ("ingest", "analyzer", "notifier", "query")
_FOREIGN_ENV = ("SONDA_", "NATS_", "DATABASE_", "CLOUDFLARE_R2_", "RECORDER_", "QUERY_", "REDIS_")


def clean_env(**values: str) -> dict[str, str]:
    """The machine's environment without any Sonda setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    env.update(values)
    return env


@dataclass
class ServiceProcess:
    """One service process; ``start`` waits until it is ready (HTTP readiness or a log line)."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def argv(self) -> list[str]:
        """Exactly what an operator runs: ``sonda serve <name>`` (or ``sonda recorder``)."""
        if self.name == "recorder":
            return [sys.executable, "-m", "sonda", "recorder"]
        return [
            sys.executable,
            "-m",
            "sonda",
            "serve",
            self.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]

    def spawn(self) -> None:
        """Start the process without waiting for it."""
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1} of {self.name} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv(), env=env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1

    async def start(self, timeout: float = 60.0) -> None:
        """Start and wait until ready (the recorder: until it logs ``recorder_started``)."""
        self.spawn()
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
                if self.name == "recorder":
                    if any(line.get("event") == "recorder_started" for line in self.log_lines()):
                        return
                else:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{self.url}/api/v1/health/ready")).status_code == 200:
                            return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {self.tail()}")

    def children(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self.pid).children(recursive=True)
        return []

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, nothing is acked or flushed."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the process stops dead (a long GC pause, a frozen VM) but keeps its sockets."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """End of the test: kill (its assertions are done; a graceful stop would only cost time)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (other lines, e.g. tracebacks, are skipped)."""
        lines = []
        for raw in self.log_text().splitlines():
            if raw.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    lines.append(json.loads(raw))
        return lines

    def tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]


@dataclass
class Services:
    """The processes of one test, all stopped at the end."""

    base_env: dict[str, str]
    logs: Path
    running: dict[str, ServiceProcess] = field(default_factory=dict)

    def add(self, name: str, *, key: str | None = None, **env: str) -> ServiceProcess:
        """A process of service ``name`` (``key`` names a second instance, e.g. ``analyzer-b``)."""
        key = key or name
        assert key not in self.running, key
        self.logs.mkdir(parents=True, exist_ok=True)
        process = ServiceProcess(name, {**self.base_env, **env}, self.logs / f"{key}.log")
        self.running[key] = process
        return process

    async def start(self, name: str, *, key: str | None = None, **env: str) -> ServiceProcess:
        process = self.add(name, key=key, **env)
        await process.start()
        return process

    def stop_all(self) -> None:
        for process in self.running.values():
            process.stop()


@contextlib.contextmanager
def services(base_env: dict[str, str], logs: Path) -> Iterator[Services]:
    group = Services(base_env, logs)
    try:
        yield group
    finally:
        group.stop_all()
