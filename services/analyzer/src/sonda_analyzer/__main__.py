"""``python -m sonda_analyzer``: the analyzer service alone, on ``HOST``/``PORT`` (default 8002)."""

from __future__ import annotations

import uvicorn
from sonda_events.settings import load_settings

from sonda_analyzer.settings import AnalyzerSettings


def main() -> None:
    settings = load_settings(AnalyzerSettings)
    uvicorn.run(
        "sonda_analyzer.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # Bounded request heads (httptools buffers headers without limit); as ``sonda serve``.
        http="h11",
        h11_max_incomplete_event_size=64 * 1024,
        # The lifespan's own grace (SONDA_ANALYZER_SHUTDOWN_GRACE_S) bounds the stop.
        lifespan="on",
    )


if __name__ == "__main__":
    main()
