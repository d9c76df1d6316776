"""``sonda up`` as a real subprocess on free ports in a temporary data folder, as a person runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tests.support.servers import free_port

READY = "Sonda is ready"
#: Variables that would point ``sonda up`` at servers other than its embedded ones.
FOREIGN_VARS = ("NATS_URL", "DATABASE_URL", "REDIS_URL", "SONDA_API_KEYS", "SONDA_DATA_DIR", "SONDA_PORT")


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in FOREIGN_VARS and not k.startswith("CLOUDFLARE_R2_")
    }
    env.update(extra)
    return env


@dataclass
class SondaUp:
    """One ``sonda up`` process: start it, read what it prints, find its children, stop it."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=clean_env)
    proc: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def start(self, *args: str, timeout: float = 150.0) -> SondaUp:
        """Start ``sonda up`` on ``port``; when another program took that port after it was found
        free (any program asking the system for a free port may get it), again on another."""
        for _ in range(3):
            try:
                return self._start(args, timeout)
            except RuntimeError:
                if f"port {self.port} is in use" not in self.output:
                    raise
                self.port, self.lines = free_port(), []
        return self._start(args, timeout)

    def _start(self, args: tuple[str, ...], timeout: float) -> SondaUp:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sonda",
                "up",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while READY not in self.output:
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader catch the last lines
                raise RuntimeError(
                    f"sonda up exited with {self.proc.returncode}:\n{self.output}\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise TimeoutError(f"sonda up not ready after {timeout}s:\n{self.output}\n{self.logs()}")
            time.sleep(0.1)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def logs(self) -> str:
        parts = []
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        return "\n".join(parts)

    def nats_url(self) -> str:
        match = re.search(r"NATS\s+(nats://127\.0\.0\.1:\d+)", self.output)
        assert match, self.output
        return match.group(1)

    def service_url(self, service: str) -> str:
        match = re.search(rf"\b{service} (http://127\.0\.0\.1:\d+)", self.output)
        assert match, self.output
        return match.group(1)

    def children(self) -> dict[str, psutil.Process]:
        """The processes ``sonda up`` supervises, by role (nats, gateway, ingest, ...)."""
        assert self.proc is not None
        found: dict[str, psutil.Process] = {}
        for child in psutil.Process(self.proc.pid).children():
            try:
                cmd = child.cmdline()
            except psutil.NoSuchProcess:
                continue
            if any(part.endswith("nats-server") for part in cmd):
                found["nats"] = child
            elif "gateway" in cmd:
                found["gateway"] = child
            elif "serve" in cmd:
                found[cmd[cmd.index("serve") + 1]] = child
        return found

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until the origin answers and the query service reports ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"{self.url}/api/v1/health/ready", timeout=2, trust_env=False).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"not healthy after {timeout}s\n{self.logs()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        return code
