"""Settings every HTTP service shares, on top of ``CommonSettings``."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Annotated

from msgspec import Meta
from sonda_events.settings import CommonSettings


class ServiceSettings(CommonSettings, kw_only=True):
    """Host, port, API keys, CORS and body limits of one service process."""

    #: Interface to listen on.
    host: str = "127.0.0.1"
    #: Port to listen on (each service has its own default).
    port: Annotated[int, Meta(ge=0, le=65535)] = 8000
    #: Comma-separated API keys (or ``sha256:<hex>`` digests of them); empty = auth off.
    sonda_api_keys: str = ""
    #: Comma-separated admin API keys (or digests): they may see every key's analyses and run
    #: maintenance. Setting only these turns authentication on as well.
    sonda_admin_api_keys: str = ""
    #: Base URL clients reach Sonda at (``https://eda.example.com``); empty = the request's own origin
    #: for upload URLs, and origin-relative paths for status and WebSocket URLs. Without API keys its
    #: host is served besides the loopback names.
    sonda_public_url: str = ""
    #: Without API keys: comma-separated host names served besides loopback and the public URL's.
    sonda_allowed_hosts: str = ""
    #: Comma-separated origins allowed by CORS; empty = same origin only.
    sonda_cors_origins: str = ""
    #: Largest JSON request body accepted, in KiB (uploads have their own limit).
    sonda_max_body_kb: Annotated[int, Meta(ge=1)] = 256
    #: Name of this instance in events (the analyzer's ``AnalysisStarted``), logs and info routes;
    #: empty = host, pid and a random suffix.
    sonda_instance_id: str = ""

    def instance_id(self) -> str:
        return self.sonda_instance_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.sonda_cors_origins.split(",") if o.strip()]
