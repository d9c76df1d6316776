"""Alembic environment for the event store: always run programmatically on a given connection.

``sonda_events.store.migrate.upgrade`` passes an open connection (already inside a transaction that
holds the migration lock) in ``config.attributes["connection"]``; there is no URL-based mode.
"""

from __future__ import annotations

from alembic import context

from sonda_events.store.migrate import VERSION_TABLE
from sonda_events.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run the event store migrations through sonda_events.store.migrate.upgrade")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
