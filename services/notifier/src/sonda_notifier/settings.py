"""Notifier settings, read from the environment (``SONDA_WS_PING_INTERVAL=5`` etc.)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta
from sonda_events.settings import load_settings
from sonda_service import ServiceSettings

Seconds = Annotated[float, Meta(gt=0, le=3600)]


class NotifierSettings(ServiceSettings, kw_only=True):
    """How the WebSocket fan-out behaves; the defaults suit browsers behind a proxy."""

    port: Annotated[int, Meta(ge=0, le=65535)] = 8003
    #: Seconds between the server's WebSocket protocol pings (RFC 6455, answered by every client
    #: library and browser without any code) and between its ``{"type": "ping"}`` messages, which
    #: need no answer.
    sonda_ws_ping_interval: Seconds = 20.0
    #: Seconds a client has to answer a protocol ping (its library does so) before it is dropped as
    #: dead (close 1011). Application messages, or their absence, play no part.
    sonda_ws_pong_timeout: Seconds = 20.0
    #: Messages that may wait for one connection; past this, status updates are coalesced, and a
    #: connection still over it is closed as a slow client.
    sonda_ws_queue_size: Annotated[int, Meta(ge=4, le=100_000)] = 1024
    #: Seconds one send may stay blocked (a client that stopped reading) before the client is closed.
    sonda_ws_send_timeout: Seconds = 10.0
    #: Seconds to wait for a first event before refusing an analysis id as unknown.
    sonda_ws_unknown_grace: Annotated[float, Meta(ge=0, le=60)] = 2.0
    #: Seconds a closing handshake may take before the connection is given up.
    sonda_ws_close_timeout: Seconds = 5.0
    #: Open WebSockets one client (API key, or address without keys) may hold on this instance;
    #: more are closed with 4429. 0 = no limit.
    sonda_ws_max_per_client: Annotated[int, Meta(ge=0)] = 200
    #: Read events that aged out of JetStream from the event store (``DATABASE_URL``).
    sonda_notifier_event_store: bool = True


def load() -> NotifierSettings:
    return load_settings(NotifierSettings)
