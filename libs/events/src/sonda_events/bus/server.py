"""The oldest nats-server Sonda runs on, and the check every connection makes against it.

Per-analysis optimistic concurrency publishes with ``Nats-Expected-Last-Subject-Sequence`` plus
``Nats-Expected-Last-Subject-Sequence-Subject: eda.analysis.<id>.*``. The second header exists from
nats-server 2.11 on; older servers ignore it and compare the literal subject instead, so every second
event of an analysis is refused as "wrong last sequence" although nobody else wrote. Sonda therefore
refuses older servers when it connects, with a message naming the version found and the one needed.
"""

from __future__ import annotations

import re

import msgspec
from nats.aio.client import Client as NatsClient

from sonda_events.errors import NatsUnsupportedError

#: The oldest nats-server Sonda supports (major, minor); the one place that says so.
MIN_NATS_SERVER: tuple[int, int] = (2, 11)
MIN_NATS_SERVER_TEXT = ".".join(map(str, MIN_NATS_SERVER))
NEEDS = f">= {MIN_NATS_SERVER_TEXT}"
WHY = "per-analysis optimistic concurrency uses Nats-Expected-Last-Subject-Sequence-Subject"

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of the first version in ``text`` ("2.9.10", "nats-server: v2.11.0")."""
    found = _VERSION.search(text)
    if found is None:
        return None
    return int(found[1]), int(found[2]), int(found[3] or 0)


def version_is_supported(version: str | tuple[int, ...]) -> bool:
    parsed = parse_version(version) if isinstance(version, str) else version
    return parsed is not None and tuple(parsed[:2]) >= MIN_NATS_SERVER


def redact_url(url: str) -> str:
    """A NATS URL (or comma-separated URLs) fit to print: any ``user:password@`` or ``token@`` dropped."""
    return ",".join(_USERINFO.sub(r"\g<scheme>", part.strip()) for part in url.split(","))


def unsupported_message(version: str, where: str) -> str:
    return f"nats-server {version} at {where} is not supported: Sonda needs nats-server {NEEDS} ({WHY})"


class ServerSupport(msgspec.Struct, frozen=True, kw_only=True):
    """What a connection found: which server, its version, and whether Sonda runs on it."""

    server: str
    version: str
    supported: bool
    needs: str = NEEDS

    def error(self) -> NatsUnsupportedError:
        return NatsUnsupportedError(unsupported_message(self.version, self.server))


def server_version(nc: NatsClient) -> str:
    """The version the connected server announced in its INFO ("unknown" when it announced none)."""
    v = nc.connected_server_version
    try:
        text = f"{v.major}.{v.minor}.{v.patch}"
        prerelease = str(v.prerelease or "")
    except ValueError:
        return "unknown"
    if prerelease == "unknown":  # nats-py's placeholder when not connected
        return "unknown"
    return f"{text}-{prerelease}" if prerelease else text


def connected_server(nc: NatsClient, url: str | None = None) -> str:
    """Where ``nc`` is connected, without credentials (``url`` redacted when not connected)."""
    current = nc.connected_url
    if current is not None and current.hostname:
        host = f"[{current.hostname}]" if ":" in current.hostname else current.hostname
        port = f":{current.port}" if current.port else ""
        return f"{current.scheme or 'nats'}://{host}{port}"
    return redact_url(url) if url else "an unknown address"


def server_support(nc: NatsClient, url: str | None = None) -> ServerSupport:
    version = server_version(nc)
    return ServerSupport(
        server=connected_server(nc, url), version=version, supported=version_is_supported(version)
    )


def require_supported_server(nc: NatsClient, url: str | None = None) -> ServerSupport:
    """The connected server's support; raises ``NatsUnsupportedError`` below the floor.

    Raises:
        NatsUnsupportedError: the server is older than ``MIN_NATS_SERVER`` (or did not say its version).
    """
    support = server_support(nc, url)
    if not support.supported:
        raise support.error()
    return support
