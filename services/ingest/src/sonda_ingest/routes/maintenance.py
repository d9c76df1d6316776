"""Operator commands."""

from __future__ import annotations

from typing import Annotated

from litestar import post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from sonda_ingest.runtime import Ingest
from sonda_ingest.schemas import CleanupReport


@post(
    "/api/v1/maintenance/cleanup-old-analyses",
    tags=["maintenance"],
    summary="Soft-delete old analyses and remove their objects",
    status_code=200,
)
async def cleanup_old_analyses(
    ingest: NamedDependency[Ingest],
    days_old: Annotated[
        int, QueryParameter(ge=1, le=36_500, description="Age in days of the analyses to clean up")
    ] = 7,
) -> CleanupReport:
    """Analyses requested more than ``days_old`` days ago: objects removed, ``AnalysisDeleted`` published."""
    return await ingest.retention.cleanup(days_old)
