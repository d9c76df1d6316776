"""Absolute and relative URLs handed to clients."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urljoin

from litestar import Request


def origin(request: Request[Any, Any, Any], public_url: str) -> str:
    """Where clients reach this service: the configured public URL, else the request's own origin."""
    return (public_url or str(request.base_url)).rstrip("/")


def absolute(request: Request[Any, Any, Any], public_url: str, url: str) -> str:
    """``url`` made absolute against the public origin (S3 URLs are absolute already)."""
    return urljoin(origin(request, public_url) + "/", url)


def status_url(public_url: str, analysis_id: uuid.UUID) -> str:
    # Status is served by the query service: origin-relative unless a public URL is configured,
    # because this request's own origin is ingest's, which may not be where query listens.
    return f"{public_url.rstrip('/')}/api/v1/analysis/status-enhanced/{analysis_id}"


def websocket_url(public_url: str, analysis_id: uuid.UUID) -> str:
    base = public_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return f"{base}/api/v1/analysis/websocket/{analysis_id}"
