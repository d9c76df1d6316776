"""One origin for the web page and the services.

``routes`` holds the route table (the single source of truth, light to import); ``app`` holds the
ASGI gateway that applies it (imported only by the process that serves it).
"""

from sonda.gateway.routes import DEFAULT_PORTS, ROUTES, SEED_PATHS, SERVICES, Route, Service, route_for

__all__ = ["DEFAULT_PORTS", "ROUTES", "SEED_PATHS", "SERVICES", "Route", "Service", "route_for"]
