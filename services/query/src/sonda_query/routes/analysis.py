"""``/api/v1/analysis/...``: status, results, listing, the LLM summary (seed-compatible paths) and
the schema export."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from sonda_service import Problem

from sonda_query import params
from sonda_query.compare import Comparison
from sonda_query.reader import ListFilters
from sonda_query.service import QueryService
from sonda_query.table_schema import SchemaView
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
        *,
        analysis_id: FromPath[str],
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
        compare_to: Annotated[
            str | None,
            QueryParameter(
                required=False,
                description="Summarise the comparison with this analysis (the base) instead: docs/compare.md",
            ),
        ] = None,
        include_pii: Annotated[
            str | None,
            QueryParameter(required=False, description="true: show personal columns' values unmasked"),
        ] = None,
    ) -> Response[bytes]:
        if compare_to:
            body = await service.comparison_summary(
                params.analysis_id(analysis_id),
                params.analysis_id(compare_to),
                fmt=params.summary_format(format),
                max_tokens=params.max_tokens(max_tokens),
                min_version=_min_version(min_version),
            )
            return Response(body, media_type=JSON)
        body = await service.summary(
            params.analysis_id(analysis_id),
            fmt=params.summary_format(format),
            max_tokens=params.max_tokens(max_tokens),
            min_version=_min_version(min_version),
            include_pii=params.flag("include_pii", include_pii),
        )
        return Response(body, media_type=JSON)

    @get(
        "/report/{analysis_id:str}",
        responses={200: ResponseSpec(data_container=str, media_type="text/html"), **_RESULT_PROBLEMS},
        summary="The report as one self-contained HTML file",
        description=(
            "Opens offline: inline styles and SVG charts, no script, nothing fetched from another host. "
            "Values of personal-data columns are masked unless `include_pii=true`. "
            "`download=true` asks the browser to save it."
        ),
    )
    async def report(
        self,
        analysis_id: FromPath[str],
        service: NamedDependency[QueryService],
        include_pii: Annotated[
            str | None, QueryParameter(required=False, description="Show personal-data values (owner only)")
        ] = None,
        download: Annotated[str | None, QueryParameter(required=False, description="Save as a file")] = None,
        min_version: Annotated[str | None, QueryParameter(required=False, description=_MIN_VERSION)] = None,
    ) -> Response[bytes]:
        found = await service.report(
            params.analysis_id(analysis_id),
            include_pii=params.flag("include_pii", include_pii),
            min_version=_min_version(min_version),
        )
        disposition = "attachment" if params.flag("download", download) else "inline"
        return Response(
            found.html,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Disposition": f'{disposition}; filename="{found.filename}"',
                # The file's own promise, enforced when served too: nothing loads from anywhere.
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get(
        "/schema/{analysis_id:str}",
        responses={200: ResponseSpec(data_container=SchemaView), **_RESULT_PROBLEMS},
        summary="The inferred schema as a Frictionless Table Schema and CSV dialect",
        description=(
            "A Tabular Data Resource: `encoding`, `dialect` (delimiter, quote, header), and "
            "`schema.fields` with each column's type and format (date patterns, `decimalChar`, "
            "`groupChar`, `bareNumber`, yes/no spellings) and `missingValues`, so a downstream "
            "tool re-reads the file with the values Sonda profiled."
        ),
    )
    async def schema(
        self,
        analysis_id: FromPath[str],
        service: NamedDependency[QueryService],
        min_version: Annotated[str | None, QueryParameter(required=False, description=_MIN_VERSION)] = None,
    ) -> Response[bytes]:
        body = await service.schema(params.analysis_id(analysis_id), min_version=_min_version(min_version))
        return Response(body, media_type=JSON)

    @get(
        "/compare",
        responses={
            200: ResponseSpec(data_container=Comparison),
            400: ResponseSpec(data_container=Problem, description="A malformed id (invalid_analysis_id)"),
            **_RESULT_PROBLEMS,
            422: ResponseSpec(
                data_container=Problem,
                description="A missing id or bad threshold (invalid_parameter), or the same id twice (same_analysis)",
            ),
        },
        summary="Compare two analyses: schema changes and drift, from the stored profiles",
        description=(
            "`base` and `target` are completed analyses; each is refused as results-enhanced refuses "
            "it, the problem's detail naming the side. Schema changes (added, removed, retyped, likely "
            "renames), then one verdict per shared column: Wasserstein distance normed by the base's "
            "standard deviation (or PSI on the base's deciles) for numeric and datetime columns, "
            "Jensen–Shannon distance on the top values plus the other mass for categorical and boolean "
            "ones, and the change of the missing share. Defaults and their meaning: docs/compare.md."
        ),
    )
    async def compare(
        self,
        *,
        service: NamedDependency[QueryService],
        base: Annotated[
            str | None, QueryParameter(required=False, description="The earlier analysis")
        ] = None,
        target: Annotated[
            str | None, QueryParameter(required=False, description="The later analysis")
        ] = None,
        numeric_method: Annotated[
            str | None, QueryParameter(required=False, description="wasserstein (default) or psi")
        ] = None,
        wasserstein_threshold: Annotated[
            str | None, QueryParameter(required=False, description="Default 0.1")
        ] = None,
        psi_threshold: Annotated[
            str | None, QueryParameter(required=False, description="Default 0.1")
        ] = None,
        jensen_shannon_threshold: Annotated[
            str | None, QueryParameter(required=False, description="Default 0.1")
        ] = None,
        missing_threshold: Annotated[
            str | None, QueryParameter(required=False, description="Change of the missing share; default 0.1")
        ] = None,
        drift_share: Annotated[
            str | None, QueryParameter(required=False, description="Share of drifted columns; default 0.5")
        ] = None,
        base_min_version: Annotated[
            str | None, QueryParameter(required=False, description=_MIN_VERSION)
        ] = None,
        target_min_version: Annotated[
            str | None, QueryParameter(required=False, description=_MIN_VERSION)
        ] = None,
    ) -> Response[bytes]:
        base_id = params.required_analysis_id("base", base)
        target_id = params.required_analysis_id("target", target)
        options = params.compare_options(
            numeric_method_value=numeric_method,
            wasserstein_threshold=wasserstein_threshold,
            psi_threshold=psi_threshold,
            jensen_shannon_threshold=jensen_shannon_threshold,
            missing_threshold=missing_threshold,
            drift_share=drift_share,
        )
        body = await service.compare(
            base_id,
            target_id,
            options=options,
            base_min_version=params.integer(
                "base_min_version", base_min_version, default=1, low=1, high=1 << 31
            ),
            target_min_version=params.integer(
                "target_min_version", target_min_version, default=1, low=1, high=1 << 31
            ),
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
