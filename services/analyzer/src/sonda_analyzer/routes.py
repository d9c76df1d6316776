"""The analyzer's own HTTP routes (health, metrics and OpenAPI come from ``sonda_service``)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from sonda_analyzer.runtime import Analyzer
from sonda_analyzer.status import AnalyzerInfo


@get("/api/v1/analyzer/info", tags=["analyzer"], sync_to_thread=False)
def analyzer_info(analyzer: NamedDependency[Analyzer]) -> AnalyzerInfo:
    """Analyses in flight on this instance, what it has processed, and its profiling processes."""
    return analyzer.info()
