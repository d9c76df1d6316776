"""The projections' names, in rebuild order: a module with no imports, so the CLI can offer them
as choices without loading the read model (SQLAlchemy, the event store) just to print ``--help``."""

from __future__ import annotations

ANALYSES = "analyses"
RESULTS = "results"
#: Every projection, in the order a rebuild runs them.
NAMES = (ANALYSES, RESULTS)
