"""One way to build a service's Litestar app, so all four behave the same at their edges."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from sonda_service.auth import ApiKeys, api_key_guard
from sonda_service.health import Check, health_handlers
from sonda_service.local_safety import allowed_hosts, local_safety_middleware
from sonda_service.middleware import correlation_middleware
from sonda_service.problems import exception_handlers
from sonda_service.request import SondaRequest
from sonda_service.settings import ServiceSettings


@get("/docs", include_in_schema=False, sync_to_thread=False)
def docs_redirect() -> Redirect:
    return Redirect("/schema")


def build_app(
    name: str,
    route_handlers: Sequence[ControllerRouterHandler],
    *,
    settings: ServiceSettings,
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = (),
    dependencies: Mapping[str, Provide] | None = None,
    readiness: Mapping[str, Check] | None = None,
    state: Mapping[str, Any] | None = None,
    version: str = "0.1.0",
) -> Litestar:
    """A Litestar app with Sonda's problem bodies, health, auth, CORS, metrics and OpenAPI.

    Args:
        name: service name, used in logs, metrics and the OpenAPI title.
        route_handlers: the service's own routes.
        settings: the service's settings (API keys, CORS, body size).
        lifespan: async context managers run at start/stop (connections, workers).
        dependencies: Litestar dependencies (``Provide``) for the handlers.
        readiness: named async checks for ``/api/v1/health/ready``.
        state: initial ``app.state`` values.
    """
    keys = ApiKeys(settings.sonda_api_keys, admin=settings.sonda_admin_api_keys)
    prometheus = PrometheusConfig(app_name=f"sonda_{name}", prefix=f"sonda_{name}", group_path=True)
    origins = settings.cors_origins()
    middleware: list[Any] = [correlation_middleware, prometheus.middleware]
    if not keys.enabled:  # no key protects it from pages elsewhere: see ``local_safety``
        hosts = allowed_hosts(settings.sonda_public_url, settings.sonda_allowed_hosts)
        middleware.insert(0, local_safety_middleware(hosts))
    return Litestar(
        route_handlers=[
            *route_handlers,
            *health_handlers(name, readiness or {}),
            PrometheusController,
            docs_redirect,
        ],
        lifespan=list(lifespan),
        dependencies=dict(dependencies or {}),
        guards=[api_key_guard(keys)],
        exception_handlers=exception_handlers(),
        middleware=middleware,
        cors_config=CORSConfig(allow_origins=origins, allow_credentials=False) if origins else None,
        openapi_config=OpenAPIConfig(title=f"Sonda {name}", version=version, path="/schema"),
        request_max_body_size=settings.sonda_max_body_kb * 1024,
        request_class=SondaRequest,
        state=None if state is None else State(dict(state)),
        debug=False,
        # Litestar's default config would replace the root handler of ``configure_logging`` with a
        # plain one (no redaction); errors are logged by ``problems`` instead.
        logging_config=None,
    )
