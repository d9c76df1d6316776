"""What ``sonda up`` runs: the servers it uses (embedded or given) and the environment of each child."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import msgspec

from sonda.gateway.routes import SERVICES, Service

#: Variables ``sonda up`` decides for its children; inherited values are replaced, never mixed.
_OWNED_VARS = ("HOST", "PORT", "DATABASE_URL", "NATS_URL", "SONDA_DATA_DIR")


#: File in the NATS folder holding the port of `sonda up`'s embedded server (its last run's).
NATS_PORT_FILE = "port"


class UpConfig(msgspec.Struct, kw_only=True):
    """The options of ``sonda up`` after defaults and environment variables are applied."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path
    #: Event store URL; None = SQLite file in the data folder.
    database_url: str | None = None
    #: NATS URL; None = the embedded nats-server.
    nats_url: str | None = None
    #: Port of the embedded NATS; 0 = last run's if free, else any free one.
    nats_port: int = 0
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str | None = None
    #: Internal port of each service; missing = a free port.
    service_ports: dict[str, int] = msgspec.field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def nats_dir(self) -> Path:
        return self.data / "nats"

    @property
    def nats_port_file(self) -> Path:
        """Where `sonda up` writes its embedded NATS port, so other commands find that NATS."""
        return self.nats_dir / NATS_PORT_FILE

    @property
    def logs_dir(self) -> Path:
        return self.data / "logs"

    def store_url(self) -> str:
        return normalise_database_url(self.database_url) or f"sqlite+aiosqlite:///{self.data / 'sonda.db'}"

    def public_url(self) -> str:
        shown = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::", "::1") else self.host
        return f"http://{shown}:{self.port}"


def normalise_database_url(url: str | None) -> str | None:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and use the psycopg 3 driver."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def available_services() -> list[Service]:
    """Services whose package (``sonda_<svc>.app``) is installed."""
    return [svc for svc in SERVICES if importlib.util.find_spec(f"sonda_{svc}") and _has_app(svc)]


def _has_app(service: str) -> bool:
    try:
        return importlib.util.find_spec(f"sonda_{service}.app") is not None
    except ModuleNotFoundError:
        return False


def child_env(config: UpConfig, nats_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every child shares: the servers chosen here, the rest inherited."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _OWNED_VARS}
    env.update(
        {
            "DATABASE_URL": config.store_url(),
            "NATS_URL": nats_url,
            "SONDA_DATA_DIR": str(config.data),
            "PYTHONUNBUFFERED": "1",
        }
    )
    s3 = {
        "CLOUDFLARE_R2_ENDPOINT_URL": config.s3_endpoint,
        "CLOUDFLARE_R2_BUCKET_NAME": config.s3_bucket,
        "CLOUDFLARE_R2_ACCESS_KEY_ID": config.s3_access_key,
        "CLOUDFLARE_R2_SECRET_ACCESS_KEY": config.s3_secret_key,
        "CLOUDFLARE_R2_REGION": config.s3_region,
    }
    env.update({k: v for k, v in s3.items() if v})
    return env


def sonda_argv(*args: str) -> list[str]:
    """Run a ``sonda`` subcommand with this interpreter (works without the entry point on PATH)."""
    return [sys.executable, "-m", "sonda", *args]
