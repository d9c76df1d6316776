"""``/api/v1/analysis/...``: status, results, listing and the LLM summary (seed-compatible paths)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from sonda_service import Problem

from sonda_query import params
from sonda_query.reader import ListFilters
from sonda_query.service import QueryService
from sonda_query.views import ListPage, ResultsView, StatusView, SummaryView

JSON = "application/json"
_PROBLEMS = {
    404: ResponseSpec(data_container=Problem, description="No such analysis (analysis_not_found)"),
    422: ResponseSpec(data_container=Problem, description="A parameter is not valid (invalid_parameter)"),
}
_RESULT_PROBLEMS = {
    **_PROBLEMS,
    409: ResponseSpec(
        data_container=Problem,
        description=(
            "Not completed yet (analysis_not_completed, result_not_ready: retry) or failed (analysis_failed)"
        ),
    ),
    410: ResponseSpec(data_container=Problem, description="Soft-deleted (analysis_deleted)"),
    502: ResponseSpec(
        data_container=Problem, description="Result object missing or corrupt (result_unavailable)"
    ),
}

Text = Annotated[str | None, QueryParameter(required=False)]


_MIN_VERSION = "Answer with at least this version of the analysis (a WebSocket message's `version`)"


def _min_version(value: str | None) -> int:
    return params.integer("min_version", value, default=1, low=1, high=1 << 31)


class AnalysisController(Controller):
    path = "/api/v1/analysis"
    tags = ("analysis",)

    @get(
        "/status-enhanced/{analysis_id:str}",
        responses=_PROBLEMS,
        summary="Status of an analysis",
        description=(
            "Never older than what the WebSocket already said: when the projection is behind the "
            "events JetStream holds for the analysis, the events answer (`source`). `min_version` "
            "(the `version` of a WebSocket message) waits briefly for a version not published yet."
        ),
    )
    async def status(
        self,
        analysis_id: FromPath[str],
        service: NamedDependency[QueryService],
        min_version: Annotated[str | None, QueryParameter(required=False, description=_MIN_VERSION)] = None,
    ) -> StatusView:
        return await service.status(params.analysis_id(analysis_id), min_version=_min_version(min_version))

    @get(
        "/results-enhanced/{analysis_id:str}",
        responses={200: ResponseSpec(data_container=ResultsView), **_RESULT_PROBLEMS},
        summary="Full results of a completed analysis",
        description="Answered at once after `analysis_completed` (see `min_version` on the status).",
    )
    async def results(
        self,
        analysis_id: FromPath[str],
        service: NamedDependency[QueryService],
        min_version: Annotated[str | None, QueryParameter(required=False, description=_MIN_VERSION)] = None,
    ) -> Response[bytes]:
        body = await service.results(params.analysis_id(analysis_id), min_version=_min_version(min_version))
        return Response(body, media_type=JSON)

    @get(
        "/summary-for-llm/{analysis_id:str}",
        responses={200: ResponseSpec(data_container=SummaryView), **_RESULT_PROBLEMS},
        summary="Token-budgeted summary for LLM agents",
        description="`text` never exceeds `max_tokens` (cl100k_base) and says what it left out.",
    )
    async def summary_for_llm(
        self,
        analysis_id: FromPath[str],
        *,
        service: NamedDependency[QueryService],
        format: Annotated[
            str | None,
            QueryParameter(
                required=False, description="markdown (default), table (a row per column) or json"
            ),
        ] = None,
        max_tokens: Annotated[
            str | None, QueryParameter(required=False, description="200 to 32000, default 1500")
        ] = None,
        min_version: Annotated[str | None, QueryParameter(required=False, description=_MIN_VERSION)] = None,
        include_pii: Annotated[
            str | None,
            QueryParameter(required=False, description="true: show personal columns' values unmasked"),
        ] = None,
    ) -> Response[bytes]:
        body = await service.summary(
            params.analysis_id(analysis_id),
            fmt=params.summary_format(format),
            max_tokens=params.max_tokens(max_tokens),
            min_version=_min_version(min_version),
            include_pii=params.flag("include_pii", include_pii),
        )
        return Response(body, media_type=JSON)

    @get(
        "/list",
        responses={422: _PROBLEMS[422]},
        summary="Analyses, newest first, with filters and a cursor",
        description=(
            "Ordered by created_at then analysis_id, both descending. `created_after` is inclusive, "
            "`created_before` exclusive. Deleted analyses are hidden unless `include_deleted=true`; "
            "`status=deleted` lists only them."
        ),
    )
    async def list_analyses(
        self,
        *,
        service: NamedDependency[QueryService],
        limit: Text = None,
        status: Text = None,
        file_key: Text = None,
        created_after: Text = None,
        created_before: Text = None,
        include_deleted: Text = None,
        cursor: Text = None,
    ) -> ListPage:
        filters = ListFilters(
            status=params.status(status),
            file_key=params.file_key(file_key),
            created_after=params.timestamp("created_after", created_after),
            created_before=params.timestamp("created_before", created_before),
            include_deleted=params.flag("include_deleted", include_deleted),
        )
        size = params.integer("limit", limit, default=50, low=1, high=params.MAX_LIMIT)
        return await service.list(filters, limit=size, cursor=cursor or None)
