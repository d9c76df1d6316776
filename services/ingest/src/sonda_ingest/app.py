"""The ingest app: upload URLs, the local upload route, and the analysis commands.

Run it with ``sonda serve ingest`` or ``uvicorn --factory sonda_ingest.app:create_app``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from sonda_events.logging import configure_logging
from sonda_service import build_app

from sonda_ingest.routes import ROUTES
from sonda_ingest.runtime import Ingest, running_ingest
from sonda_ingest.settings import IngestSettings, load


def provide_ingest(state: State) -> Ingest:
    ingest: Ingest = state.ingest
    return ingest


def create_app(settings: IngestSettings | None = None) -> Litestar:
    """Build the app (reading the environment when ``settings`` is None)."""
    settings = settings or load()
    configure_logging("ingest", settings.sonda_log_level, settings.sonda_log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_ingest(settings) as ingest:
            app.state.ingest = ingest
            yield

    async def nats_ready() -> object:
        ingest: Ingest = app.state.ingest
        return await ingest.check_nats()

    async def storage_ready() -> dict[str, str]:
        ingest: Ingest = app.state.ingest
        return await ingest.check_storage()

    app = build_app(
        "ingest",
        ROUTES,
        settings=settings,
        lifespan=[lifespan],
        dependencies={"ingest": Provide(provide_ingest, sync_to_thread=False)},
        readiness={"nats": nats_ready, "storage": storage_ready},
    )
    return app
