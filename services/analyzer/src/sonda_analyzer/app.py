"""The analyzer app: a JetStream worker that profiles files, with a small HTTP face.

Run it with ``sonda serve analyzer``, ``python -m sonda_analyzer`` or
``uvicorn --factory sonda_analyzer.app:create_app``. The HTTP side only reports (health, readiness,
metrics, ``/api/v1/analyzer/info``); the work arrives as ``AnalysisRequested`` events.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from sonda_events.logging import configure_logging
from sonda_events.settings import load_settings
from sonda_service import build_app

from sonda_analyzer.routes import analyzer_info
from sonda_analyzer.runtime import Analyzer, running_analyzer
from sonda_analyzer.settings import AnalyzerSettings


def provide_analyzer(state: State) -> Analyzer:
    analyzer: Analyzer = state.analyzer
    return analyzer


def create_app(settings: AnalyzerSettings | None = None) -> Litestar:
    """Build the app (reading the environment when ``settings`` is None)."""
    settings = settings or load_settings(AnalyzerSettings)
    configure_logging("analyzer", settings.sonda_log_level, settings.sonda_log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_analyzer(settings) as analyzer:
            app.state.analyzer = analyzer
            yield

    async def nats_ready() -> object:
        analyzer: Analyzer = app.state.analyzer
        return await analyzer.check_nats()

    async def storage_ready() -> dict[str, str]:
        analyzer: Analyzer = app.state.analyzer
        return await analyzer.check_storage()

    app = build_app(
        "analyzer",
        [analyzer_info],
        settings=settings,
        lifespan=[lifespan],
        dependencies={"analyzer": Provide(provide_analyzer, sync_to_thread=False)},
        readiness={"nats": nats_ready, "storage": storage_ready},
    )
    return app
