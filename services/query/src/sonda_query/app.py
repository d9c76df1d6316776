"""The query app: read models, listings, results and LLM summaries, with the projector inside.

Run it with ``sonda serve query`` or ``uvicorn --factory sonda_query.app:create_app``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from sonda_events.logging import configure_logging
from sonda_service import build_app, principal_of

from sonda_query.health import HealthChecks
from sonda_query.routes.analysis import AnalysisController
from sonda_query.routes.health import health_routes
from sonda_query.runtime import Query, running_query
from sonda_query.service import QueryService
from sonda_query.settings import QuerySettings, load


def provide_service(state: State, request: Request[Any, Any, Any]) -> QueryService:
    """The service as the caller may see it: every read of an analysis checks its owner there."""
    query: Query = state.query
    return query.service.seen_by(principal_of(request))


def provide_checks(state: State) -> HealthChecks:
    query: Query = state.query
    return query.checks


def create_app(settings: QuerySettings | None = None) -> Litestar:
    """Build the app (reading the environment when ``settings`` is None)."""
    settings = settings or load()
    configure_logging("query", settings.sonda_log_level, settings.sonda_log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_query(settings) as query:
            app.state.query = query
            yield

    def check(name: str) -> Any:
        async def run() -> Any:
            checks: HealthChecks = app.state.query.checks
            return await getattr(checks, name)()

        return run

    app = build_app(
        "query",
        [AnalysisController, *health_routes()],
        settings=settings,
        lifespan=[lifespan],
        dependencies={
            "service": Provide(provide_service, sync_to_thread=False),
            "checks": Provide(provide_checks, sync_to_thread=False),
        },
        readiness={
            "database": check("database"),
            "storage": check("storage"),
            "projection": check("projection"),
            "recorder": check("recorder"),
        },
    )
    return app
