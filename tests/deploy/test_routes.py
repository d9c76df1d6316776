"""The one origin routes alike everywhere: the gateway's route table and the compose proxy's config.

The gateway (``sonda up``) matches with ``route_for``; nginx matches its ``location`` blocks. Both are
parsed here and every seed path must reach the same service through either.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sonda.gateway.routes import ROUTES, SEED_PATHS, SERVICES, Route, route_for

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "default.conf.template"
# A block's body may hold braces inside quoted strings (the JSON of a `return`).
LOCATION = re.compile(r"""location\s+(=\s*)?(/\S*)\s*\{((?:[^{}'"]|'[^']*'|"[^"]*")*)\}""")


def nginx_locations(text: str) -> list[Route]:
    """Every proxied ``location`` of the main server, as gateway routes."""
    routes = []
    for exact, path, body in LOCATION.findall(text):
        target = re.search(r"proxy_pass\s+http://(\w+)\s*;", body)
        if target is None:
            continue
        assert target.group(1) in SERVICES, f"location {path} proxies to an unknown upstream"
        routes.append(Route(path, target.group(1), exact=bool(exact)))  # type: ignore[arg-type]
    return routes


def nginx_match(text: str, path: str) -> str | None:
    """What nginx would do for ``path``: the service, ``static``, ``404`` (nginx's own rules)."""
    blocks = [(bool(exact), loc, body) for exact, loc, body in LOCATION.findall(text)]
    exact = [b for b in blocks if b[0] and b[1] == path]
    chosen = (
        exact[0]
        if exact
        else max(
            (b for b in blocks if not b[0] and path.startswith(b[1])), key=lambda b: len(b[1]), default=None
        )
    )
    if chosen is None:
        return None
    target = re.search(r"proxy_pass\s+http://(\w+)\s*;", chosen[2])
    if target:
        return target.group(1)
    if "return 404" in chosen[2]:
        return "404"
    return "static" if "root " in chosen[2] else None


@pytest.fixture(scope="module")
def template() -> str:
    return TEMPLATE.read_text()


def test_the_proxy_has_exactly_the_gateways_routes(template: str) -> None:
    proxied = {(r.path, r.service, r.exact) for r in nginx_locations(template)}
    assert proxied == {(r.path, r.service, r.exact) for r in ROUTES}


@pytest.mark.parametrize(
    ("method", "path", "service"), SEED_PATHS, ids=[f"{m} {p}" for m, p, _ in SEED_PATHS]
)
def test_every_seed_path_reaches_its_service_through_both(
    template: str, method: str, path: str, service: str
) -> None:
    route = route_for(path)
    assert route is not None and route.service == service
    assert nginx_match(template, path) == service


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "static"),
        ("/app.js", "static"),
        ("/api/v1/nothing-here", "404"),
        ("/api/v1/analysis/websocket/abc", "notifier"),
        ("/api/v1/analysis/websocket-info", "notifier"),
        ("/api/v1/analysis/list", "query"),
        ("/api/v1/analysis/list-something", "ingest"),
        ("/api/v1/healthz", "404"),
        ("/api/v1/uploads/0190f3a2/data.csv", "ingest"),
        ("/api/v1/analyzer/status", "analyzer"),
    ],
)
def test_other_paths_route_alike(template: str, path: str, expected: str) -> None:
    route = route_for(path)
    gateway = route.service if route else ("404" if path.startswith("/api/") else "static")
    assert gateway == expected
    assert nginx_match(template, path) == expected


def test_the_websocket_route_is_marked_and_the_proxy_upgrades() -> None:
    assert [r.path for r in ROUTES if r.websocket] == ["/api/v1/analysis/websocket/"]
    text = TEMPLATE.read_text()
    assert "proxy_set_header Upgrade           $http_upgrade;" in text
    assert "proxy_request_buffering off;" in text and "client_max_body_size    0;" in text


def test_a_route_the_proxy_lacks_would_be_caught(template: str) -> None:
    """The comparison above can fail: drop one location and the sets differ."""
    without = template.replace("location = /api/v1/analysis/list { proxy_pass http://query; }", "")
    assert {(r.path, r.service, r.exact) for r in nginx_locations(without)} != {
        (r.path, r.service, r.exact) for r in ROUTES
    }
    assert nginx_match(without, "/api/v1/analysis/list") == "ingest"
