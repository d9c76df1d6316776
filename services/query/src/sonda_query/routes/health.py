"""``/api/v1/health`` (everything), ``/health/database`` and ``/health/storage`` (seed paths).

Liveness and readiness (``/health/live``, ``/health/ready``) come from the shared service plumbing.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from sonda_service.health import CheckResult, Readiness, run_check, run_checks

from sonda_query.health import HealthChecks


def health_routes() -> list[HTTPRouteHandler]:
    @get("/api/v1/health", tags=["health"], summary="Every dependency, with projection lag")
    async def health(checks: NamedDependency[HealthChecks]) -> Response[Readiness]:
        results = await run_checks(
            {
                "database": checks.database,
                "storage": checks.storage,
                "projection": checks.projection,
                "recorder": checks.recorder,
                "cache": checks.cache,
                "nats": checks.nats,
            }
        )
        ok = all(r.ok for r in results.values())
        body = Readiness(status="ok" if ok else "degraded", service="query", checks=results)
        return Response(body, status_code=200 if ok else 503)

    @get("/api/v1/health/database", tags=["health"], summary="Event store and read models")
    async def database(checks: NamedDependency[HealthChecks]) -> Response[CheckResult]:
        result = await run_check(checks.database)
        return Response(result, status_code=200 if result.ok else 503)

    @get("/api/v1/health/storage", tags=["health"], summary="Object storage (results)")
    async def storage(checks: NamedDependency[HealthChecks]) -> Response[CheckResult]:
        result = await run_check(checks.storage)
        return Response(result, status_code=200 if result.ok else 503)

    return [health, database, storage]
