"""The event store's tables, as SQLAlchemy Core objects shared by Postgres and SQLite.

The migrations under ``migrations/versions`` create these tables; this module describes them for
queries. ``position`` is assigned by the store itself while it holds the single writer lock, so global
positions are contiguous (no holes from rolled-back transactions) and become visible in order.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: Positions are 64-bit in Postgres; in SQLite ``INTEGER PRIMARY KEY`` (the rowid) is already 64-bit.
PositionType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: jsonb in Postgres (indexable, compact); JSON text in SQLite.
JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", PositionType, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.Uuid(), nullable=False),
    sa.Column("stream_id", sa.Uuid(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("data", JsonType, nullable=False),
    #: producer, correlation_id, causation_id, stream_sequence (the JetStream sequence, metadata only).
    sa.Column("metadata", JsonType, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", PositionType, primary_key=True, autoincrement=True),
    #: The consumer that gave up on the message (None when unknown).
    sa.Column("consumer", sa.String(256), nullable=True),
    sa.Column("subject", sa.String(1024), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("stream_sequence", sa.BigInteger(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
