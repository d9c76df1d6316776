"""The one origin describes its whole API: ``/schema/openapi.json`` merges the services' documents,
and ``/docs`` (or ``/schema``) lists every endpoint on a page that loads nothing from elsewhere."""

from __future__ import annotations

import re

import httpx
import pytest

from sonda.gateway.routes import SEED_PATHS
from tests.e2e.sonda_up import SondaUp

pytestmark = pytest.mark.slow


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def test_the_merged_document_describes_every_seed_endpoint(sonda: SondaUp) -> None:
    answer = httpx.get(f"{sonda.url}/schema/openapi.json", trust_env=False, timeout=30)
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert "Not reachable" not in document["info"]["description"]
    documented = [
        (method.upper(), _template(path)) for path, item in document["paths"].items() for method in item
    ]
    for method, path, _service in SEED_PATHS:
        if "/websocket/" in path:
            continue  # a WebSocket is not an HTTP operation: OpenAPI has no word for it
        assert any(m == method and pattern.match(path) for m, pattern in documented), (method, path)
    # Only what the origin routes: a service's own liveness path is not the origin's.
    assert not any(path.startswith("/health/") for path in document["paths"])


def test_the_docs_page_lists_the_endpoints_offline(sonda: SondaUp) -> None:
    for path in ("/docs", "/schema"):
        answer = httpx.get(f"{sonda.url}{path}", trust_env=False, timeout=30)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        page = answer.text
        assert "/api/v1/analysis/start-enhanced" in page and "/api/v1/r2/presigned-upload" in page
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from another host
