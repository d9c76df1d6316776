"""One origin for the web page and the services: the route table and the ASGI gateway that applies it."""

from sonda.gateway.app import Gateway, GatewaySettings, create_app
from sonda.gateway.routes import DEFAULT_PORTS, ROUTES, SEED_PATHS, SERVICES, Route, Service, route_for

__all__ = [
    "DEFAULT_PORTS",
    "ROUTES",
    "SEED_PATHS",
    "SERVICES",
    "Gateway",
    "GatewaySettings",
    "Route",
    "Service",
    "create_app",
    "route_for",
]
