"""Start and delete analyses."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from sonda_events.ids import parse_analysis_id
from sonda_events.logging import bind_context
from sonda_service import correlation_id_of, principal_of

from sonda_ingest.links import status_url, websocket_url
from sonda_ingest.runtime import Ingest
from sonda_ingest.schemas import DeleteResponse, StartRequest, StartResponse


@post(
    "/api/v1/analysis/start-enhanced",
    tags=["analysis"],
    summary="Start an analysis of an uploaded file",
    status_code=202,
)
async def start_analysis(
    request: Request[Any, Any, Any],
    ingest: NamedDependency[Ingest],
    data: JSONBody[StartRequest],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key", description="Retries with the same key get the same analysis"
        ),
    ] = None,
) -> Response[StartResponse]:
    """Check the upload and options, then publish ``AnalysisRequested``; 202 with where to follow it."""
    correlation_id = correlation_id_of(request.scope) or None
    started = await ingest.commands.start(
        data,
        principal=principal_of(request),
        correlation_id=correlation_id or "",
        idempotency_key=idempotency_key,
    )
    event = started.event
    bind_context(analysis_id=event.analysis_id, correlation_id=correlation_id, path=request.url.path)
    public = ingest.settings.sonda_public_url
    body = StartResponse(
        analysis_id=event.analysis_id,
        status_url=status_url(public, event.analysis_id),
        websocket_url=websocket_url(public, event.analysis_id),
        file_key=event.data.file_key,
        analysis_type=event.data.analysis_type,
        replayed=started.replayed,
    )
    headers = {"Location": body.status_url}
    if started.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=202, headers=headers)


@delete(
    "/api/v1/analysis/{analysis_id:str}",
    tags=["analysis"],
    summary="Soft-delete an analysis",
    status_code=200,
)
async def delete_analysis(
    request: Request[Any, Any, Any],
    ingest: NamedDependency[Ingest],
    analysis_id: FromPath[str],
    reason: Annotated[str, QueryParameter(max_length=1000, description="Why (kept in the event)")] = "",
) -> DeleteResponse:
    """Publish ``AnalysisDeleted``; the history stays. Deleting twice changes nothing."""
    parsed = parse_analysis_id(analysis_id)
    bind_context(analysis_id=parsed, correlation_id=correlation_id_of(request.scope), path=request.url.path)
    deleted = await ingest.commands.delete(parsed, principal=principal_of(request), reason=reason)
    return DeleteResponse(
        analysis_id=parsed, version=deleted.version, already_deleted=deleted.already_deleted
    )
