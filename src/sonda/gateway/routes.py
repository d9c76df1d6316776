"""The one origin's route table: which service answers which URL.

This table is the single source of truth for routing. The embedded gateway (``sonda up``) matches
requests against it, and the reverse proxy of the docker-compose deployment
(``deploy/nginx.conf``) is checked against it by ``tests/deploy``.

Matching follows nginx's ``location`` rules, so both deployments route alike: an ``exact`` route
matches its path only; otherwise the longest matching prefix wins. A prefix ending in ``/`` matches
everything under it. Anything not under ``/api/`` is the web page (static files).
"""

from __future__ import annotations

from typing import Literal

import msgspec

Service = Literal["ingest", "analyzer", "notifier", "query"]
SERVICES: tuple[Service, ...] = ("ingest", "analyzer", "notifier", "query")

#: Default port of each service when it runs alone (``sonda serve <svc>``).
DEFAULT_PORTS: dict[Service, int] = {"ingest": 8001, "analyzer": 8002, "notifier": 8003, "query": 8004}

API_PREFIX = "/api/"


class Route(msgspec.Struct, frozen=True):
    """One location of the origin."""

    path: str
    service: Service
    #: Match ``path`` only (nginx ``location = path``) instead of everything starting with it.
    exact: bool = False
    #: WebSocket upgrades are expected here (the proxy must pass ``Upgrade``/``Connection``).
    websocket: bool = False

    def matches(self, path: str) -> bool:
        return path == self.path if self.exact else path.startswith(self.path)


ROUTES: tuple[Route, ...] = (
    # ingest: uploads and commands.
    Route("/api/v1/r2/", "ingest"),
    Route("/api/v1/uploads/", "ingest"),
    Route("/api/v1/analysis/start-enhanced", "ingest", exact=True),
    Route("/api/v1/maintenance/", "ingest"),
    # DELETE /api/v1/analysis/{id}: every /api/v1/analysis/... path no longer prefix claims.
    Route("/api/v1/analysis/", "ingest"),
    # notifier: live progress.
    Route("/api/v1/analysis/websocket/", "notifier", websocket=True),
    Route("/api/v1/analysis/websocket-info", "notifier", exact=True),
    # query: read models, LLM summaries, the deployment's health.
    Route("/api/v1/analysis/status-enhanced/", "query"),
    Route("/api/v1/analysis/results-enhanced/", "query"),
    Route("/api/v1/analysis/list", "query", exact=True),
    Route("/api/v1/analysis/compare", "query", exact=True),
    Route("/api/v1/analysis/summary-for-llm/", "query"),
    Route("/api/v1/analysis/report/", "query"),
    Route("/api/v1/analysis/schema/", "query"),
    Route("/api/v1/health", "query", exact=True),
    Route("/api/v1/health/", "query"),
    # analyzer: its own operational endpoints.
    Route("/api/v1/analyzer/", "analyzer"),
)

#: The URLs of the original description (seed) with example ids, as a client sends them.
SEED_PATHS: tuple[tuple[str, str, Service], ...] = (
    ("GET", "/api/v1/r2/presigned-upload", "ingest"),
    ("POST", "/api/v1/analysis/start-enhanced", "ingest"),
    ("GET", "/api/v1/analysis/status-enhanced/0190f3a2-8b1c-7d4e-9f00-1a2b3c4d5e6f", "query"),
    ("GET", "/api/v1/analysis/results-enhanced/0190f3a2-8b1c-7d4e-9f00-1a2b3c4d5e6f", "query"),
    ("GET", "/api/v1/analysis/websocket/0190f3a2-8b1c-7d4e-9f00-1a2b3c4d5e6f", "notifier"),
    ("GET", "/api/v1/analysis/websocket-info", "notifier"),
    ("GET", "/api/v1/analysis/list", "query"),
    ("DELETE", "/api/v1/analysis/0190f3a2-8b1c-7d4e-9f00-1a2b3c4d5e6f", "ingest"),
    ("POST", "/api/v1/maintenance/cleanup-old-analyses", "ingest"),
    ("GET", "/api/v1/analysis/summary-for-llm/0190f3a2-8b1c-7d4e-9f00-1a2b3c4d5e6f", "query"),
    ("GET", "/api/v1/health", "query"),
    ("GET", "/api/v1/health/database", "query"),
    ("GET", "/api/v1/health/storage", "query"),
)


def route_for(path: str, routes: tuple[Route, ...] = ROUTES) -> Route | None:
    """The route answering ``path``: an exact match, else the longest matching prefix (as nginx)."""
    best: Route | None = None
    for route in routes:
        if not route.matches(path):
            continue
        if route.exact:
            return route
        if best is None or len(route.path) > len(best.path):
            best = route
    return best
