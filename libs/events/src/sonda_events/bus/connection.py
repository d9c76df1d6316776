"""One way to connect to NATS: reconnect forever, log the transitions, never crash on a blip.

A server older than Sonda's floor (``sonda_events.bus.server.MIN_NATS_SERVER``) is refused at once.
"""

from __future__ import annotations

import nats
from nats.aio.client import Client as NatsClient

from sonda_events.bus.server import redact_url, require_supported_server, server_support
from sonda_events.errors import NatsUnsupportedError
from sonda_events.logging import get_logger

log = get_logger(__name__)


async def connect_nats(url: str, *, name: str, connect_timeout: float = 5.0) -> NatsClient:
    """Connect with unlimited reconnects; the first connection must succeed within ``connect_timeout``.

    nats-py keeps reconnecting in the background after a server restart and buffers publishes while
    it does; the publisher's retry loop covers requests that time out meanwhile.

    Raises:
        NatsUnsupportedError: the server is older than the floor; the connection is closed again.
    """
    shown = redact_url(url)
    refused = False

    async def on_disconnected() -> None:
        if not refused:
            log.warning("nats_disconnected", url=shown)

    async def on_reconnected() -> None:
        support = server_support(nc, url)
        if support.supported:
            log.info("nats_reconnected", url=shown, server_version=support.version)
        else:  # e.g. a downgraded server: readiness reports it, publishes may be refused
            log.error("nats_unsupported", error=support.error().message)

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc), error_type=type(exc).__name__)

    nc = await nats.connect(
        url,
        name=name,
        connect_timeout=connect_timeout,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        # Bounded: a drain must not hold a shutdown for nats-py's default 30 s.
        drain_timeout=5,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        error_cb=on_error,
    )
    try:
        require_supported_server(nc, url)
    except NatsUnsupportedError as exc:
        refused = True
        log.error("nats_unsupported", error=exc.message)
        await close_nats(nc, drain=False)
        raise
    return nc


async def close_nats(nc: NatsClient, *, drain: bool = True) -> None:
    """Drain (let in-flight messages finish) and close; never raise during shutdown.

    nats-py raises ``ConnectionResetError`` from ``close()`` when the server is already gone.
    """
    try:
        if drain and nc.is_connected:
            await nc.drain()
        else:
            await nc.close()
    except Exception as exc:
        log.info("nats_close_error", error=type(exc).__name__)
