"""``GET /api/v1/analysis/websocket-info``: what this instance serves right now."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from sonda_service import principal_of

from sonda_notifier.hub import WebsocketInfo
from sonda_notifier.runtime import Notifier


@get("/api/v1/analysis/websocket-info", tags=["notifier"], sync_to_thread=False)
def websocket_info(request: Request[Any, Any, Any], notifier: NamedDependency[Notifier]) -> WebsocketInfo:
    """Active connections (in total and per analysis), messages sent, slow-client and heartbeat
    closes, refused connections, and this instance's id. Each instance reports its own clients;
    connections and analyses are the caller's own (an admin's: everyone's)."""
    return notifier.hub.info(principal_of(request))
