"""Liveness and readiness.

``/api/v1/health/live`` checks only the process (a database blip must not restart every pod);
``/api/v1/health/ready`` runs each dependency check with a timeout and answers 503 if any fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

import msgspec
from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

Check = Callable[[], Awaitable[object]]


class CheckResult(msgspec.Struct, kw_only=True):
    ok: bool
    latency_ms: float
    detail: object | None = None
    error: str | None = None


class Readiness(msgspec.Struct, kw_only=True):
    status: str
    service: str
    checks: dict[str, CheckResult]


class Liveness(msgspec.Struct, kw_only=True):
    status: str
    service: str
    uptime_s: float


async def run_check(check: Check, timeout: float = 3.0) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), timeout)
        return CheckResult(ok=True, latency_ms=(time.perf_counter() - started) * 1000, detail=detail)
    except Exception as exc:
        message = str(exc) or type(exc).__name__
        return CheckResult(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=message[:300])


async def run_checks(checks: Mapping[str, Check]) -> dict[str, CheckResult]:
    results = await asyncio.gather(*(run_check(c) for c in checks.values()))
    return dict(zip(checks, results, strict=True))


def health_handlers(service: str, checks: Mapping[str, Check]) -> list[HTTPRouteHandler]:
    started = time.monotonic()

    @get("/api/v1/health/live", tags=["health"], sync_to_thread=False)
    def live() -> Liveness:
        return Liveness(status="ok", service=service, uptime_s=round(time.monotonic() - started, 3))

    @get("/api/v1/health/ready", tags=["health"])
    async def ready() -> Response[Readiness]:
        results = await run_checks(checks)
        ok = all(r.ok for r in results.values())
        body = Readiness(status="ok" if ok else "unavailable", service=service, checks=results)
        return Response(body, status_code=200 if ok else 503)

    return [live, ready]
