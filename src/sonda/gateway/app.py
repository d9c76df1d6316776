"""The gateway: one origin for the web page and the four services (``sonda up``, ``sonda gateway``).

A plain ASGI app run by uvicorn: requests under a route of ``routes.ROUTES`` are streamed to their
service with httpx (HTTP) or ``websockets`` (WebSocket); other ``/api/`` paths answer a 404 problem;
everything else is the static page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import httpx
import msgspec
from msgspec import Meta

from sonda.gateway.asgi import Receive, Scope, Send, send_problem
from sonda.gateway.http_proxy import forward_http
from sonda.gateway.keepalive import UPSTREAM_IDLE_S
from sonda.gateway.openapi import JSON_PATHS, PAGE_PATHS, serve_api_docs
from sonda.gateway.routes import API_PREFIX, DEFAULT_PORTS, ROUTES, SERVICES, Route, Service, route_for
from sonda.gateway.static import StaticFiles
from sonda.gateway.ws_proxy import forward_websocket
from sonda.web import static_dir


class GatewaySettings(msgspec.Struct, kw_only=True):
    """Where each service listens (read from ``SONDA_<SERVICE>_URL``), and the WebSocket keepalive."""

    sonda_ingest_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['ingest']}"
    sonda_analyzer_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['analyzer']}"
    sonda_notifier_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['notifier']}"
    sonda_query_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['query']}"
    #: Seconds between protocol pings to each WebSocket client, as the notifier's setting of the
    #: same name (``sonda up`` gives both the same environment).
    sonda_ws_ping_interval: Annotated[float, Meta(gt=0, le=3600)] = 20.0
    #: Seconds a client has to answer a protocol ping before it is dropped (close 1011).
    sonda_ws_pong_timeout: Annotated[float, Meta(gt=0, le=3600)] = 20.0

    def upstreams(self) -> dict[Service, str]:
        return {svc: str(getattr(self, f"sonda_{svc}_url")).rstrip("/") for svc in SERVICES}


def _ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http") if http_url.startswith("http") else http_url


class Gateway:
    """ASGI app routing by ``routes`` to the ``upstreams`` base URLs; serves ``static_root`` otherwise."""

    def __init__(
        self,
        upstreams: Mapping[Service, str],
        *,
        static_root: Path | None = None,
        routes: tuple[Route, ...] = ROUTES,
    ) -> None:
        self.upstreams = dict(upstreams)
        self.routes = routes
        self._static = StaticFiles(static_root or static_dir())
        # trust_env=False: a machine-wide HTTP proxy must never sit between us and loopback services.
        self._clients = {
            svc: httpx.AsyncClient(
                base_url=url,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(connect=5.0, read=None, write=None, pool=10.0),
                limits=httpx.Limits(
                    max_connections=200, max_keepalive_connections=32, keepalive_expiry=UPSTREAM_IDLE_S
                ),
            )
            for svc, url in self.upstreams.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        route = route_for(scope["path"], self.routes)
        if kind == "websocket":
            if route is None:
                await receive()
                await send({"type": "websocket.close", "code": 1008, "reason": "no such endpoint"})
                return
            await forward_websocket(
                scope, receive, send, _ws_url(self.upstreams[route.service]), route.service
            )
        elif route is not None:
            await forward_http(scope, receive, send, self._clients[route.service], route.service)
        elif scope["path"] in JSON_PATHS | PAGE_PATHS:
            await serve_api_docs(scope["path"], send, self._clients, self.routes)
        elif scope["path"].startswith(API_PREFIX):
            await send_problem(send, 404, "not_found", "Not found", f"No endpoint at {scope['path']}.")
        else:
            await self._static(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for client in self._clients.values():
                    await client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app() -> Gateway:
    """uvicorn factory: upstreams from ``SONDA_<SERVICE>_URL`` env vars."""
    from sonda_events.settings import load_settings

    return Gateway(load_settings(GatewaySettings).upstreams())
