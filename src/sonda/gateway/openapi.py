"""The one origin's API description: the services' OpenAPI documents merged into one.

Each service describes only itself at its own ``/schema``; a person on the one origin wants one
document, and one page, for everything that origin answers. Each path is taken from the service the
route table sends it to, so the document says what the origin really does (a service's liveness
paths, which the origin does not route, are left out).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec

from sonda.gateway.asgi import Send
from sonda.gateway.routes import SERVICES, Route, Service, route_for

#: The merged document, as JSON.
JSON_PATHS = frozenset({"/schema/openapi.json", "/openapi.json"})
#: A page listing every endpoint, made here (no script or style from another host).
PAGE_PATHS = frozenset({"/schema", "/schema/", "/docs", "/docs/"})
METHODS = ("get", "post", "put", "patch", "delete")


async def merged_openapi(
    clients: Mapping[Service, httpx.AsyncClient], routes: tuple[Route, ...]
) -> dict[str, Any]:
    """One OpenAPI 3.1 document from every reachable service (unreachable ones are named)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: dict[str, Any] = {}
    missing: list[str] = []
    for service in SERVICES:
        client = clients.get(service)
        document: Any = None
        if client is not None:
            try:
                answer = await client.get("/schema/openapi.json")
                document = answer.json() if answer.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                document = None
        if not isinstance(document, dict):
            missing.append(service)
            continue
        for path, item in (document.get("paths") or {}).items():
            route = route_for(path, routes)
            if route is not None and route.service == service:
                paths[path] = item
        # Components with the same name are the same shared type (the problem body, ...): first wins.
        for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
            schemas.setdefault(name, schema)
        for tag in document.get("tags") or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)
    description = "Every endpoint of the one origin (web page, API and WebSocket)."
    if missing:
        description += f" Not reachable now, so not described: {', '.join(missing)}."
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sonda", "version": "1", "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
        "tags": list(tags.values()),
    }


def docs_page(document: Mapping[str, Any]) -> bytes:
    """A plain HTML list of the endpoints, every text escaped (summaries come from the services)."""
    rows: list[str] = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            summary = str(operation.get("summary") or operation.get("description") or "")
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(summary)}</td></tr>"
            )
    info = document.get("info", {})
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>Sonda API</title>"
        "<style>body{font:15px system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem;"
        "text-align:left;vertical-align:top}code{word-break:break-all}</style></head><body>"
        f"<h1>Sonda API</h1><p>{html.escape(str(info.get('description', '')))}</p>"
        "<p>The whole description as OpenAPI 3.1: <a href='/schema/openapi.json'>/schema/openapi.json</a>."
        "</p><table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    ).encode()


async def serve_api_docs(
    path: str, send: Send, clients: Mapping[Service, httpx.AsyncClient], routes: tuple[Route, ...]
) -> None:
    document = await merged_openapi(clients, routes)
    if path in JSON_PATHS:
        body, kind = msgspec.json.encode(document), b"application/json"
    else:
        body, kind = docs_page(document), b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
