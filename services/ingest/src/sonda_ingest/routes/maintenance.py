"""Operator commands."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sonda_events.codes import Code
from sonda_service import ProblemError, principal_of

from sonda_ingest.runtime import Ingest
from sonda_ingest.schemas import CleanupReport


@post(
    "/api/v1/maintenance/cleanup-old-analyses",
    tags=["maintenance"],
    summary="Soft-delete old analyses and remove their objects",
    status_code=200,
)
async def cleanup_old_analyses(
    request: Request[Any, Any, Any],
    ingest: NamedDependency[Ingest],
    days_old: Annotated[
        int, QueryParameter(ge=1, le=36_500, description="Age in days of the analyses to clean up")
    ] = 7,
) -> CleanupReport:
    """Analyses requested more than ``days_old`` days ago: objects removed, ``AnalysisDeleted`` published.

    It acts on every key's analyses, so only an admin key may run it (anyone when auth is off).
    """
    if not principal_of(request).admin:
        raise ProblemError(403, Code.FORBIDDEN, "maintenance needs an admin API key (SONDA_ADMIN_API_KEYS)")
    return await ingest.retention.cleanup(days_old)
