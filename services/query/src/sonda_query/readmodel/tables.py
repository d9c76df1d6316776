"""Read-model tables as SQLAlchemy Core objects, built by name so a rebuild can make shadow copies.

Every table and index name derives from the table's name (``analyses`` -> ``pk_analyses``,
``ix_analyses_list``), so ``analyses__rebuild`` gets its own names and the swap can rename them back.
Nothing here holds wall-clock values: every column comes from events, so a rebuild reproduces the
live rows exactly (invariant 3).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Suffix of the shadow tables a rebuild fills before swapping them in.
SHADOW_SUFFIX = "__rebuild"


def analyses_table(metadata: sa.MetaData, name: str = "analyses") -> sa.Table:
    """One row per analysis: its lifecycle as the events tell it."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.Column("file_key", sa.String(1024), nullable=False),
        sa.Column("filename", sa.String(256), nullable=True),
        sa.Column("analysis_type", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(256), nullable=False),
        #: pending, running, completed or failed; deletion is the separate ``deleted`` flag.
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(256), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("rows", BigInt, nullable=True),
        sa.Column("columns", sa.Integer(), nullable=True),
        sa.Column("file_size", BigInt, nullable=True),
        sa.Column("format", sa.String(256), nullable=True),
        sa.Column("error_code", sa.String(256), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("completed_at", Timestamp, nullable=True),
        sa.Column("failed_at", Timestamp, nullable=True),
        sa.Column("deleted_at", Timestamp, nullable=True),
        sa.Column("deleted_by", sa.String(256), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=True),
        #: Version of the last event applied (the position in the analysis stream clients see).
        sa.Column("version", sa.Integer(), nullable=False),
        #: Global store position of that event.
        sa.Column("position", BigInt, nullable=False),
        sa.PrimaryKeyConstraint("analysis_id", name=f"pk_{name}"),
    )
    c = table.c
    # Listing pages newest first with a keyset on (created_at, analysis_id); each index serves one
    # filter shape with the order already in the index, so a page reads ~limit index entries.
    sa.Index(f"ix_{name}_list", c.deleted, c.created_at.desc(), c.analysis_id.desc())
    sa.Index(f"ix_{name}_status", c.status, c.deleted, c.created_at.desc(), c.analysis_id.desc())
    # A key sees only its own analyses: its listing pages through its rows alone.
    sa.Index(f"ix_{name}_owner", c.requested_by, c.deleted, c.created_at.desc(), c.analysis_id.desc())
    sa.Index(f"ix_{name}_file_key", c.file_key, c.created_at.desc(), c.analysis_id.desc())
    sa.Index(f"ix_{name}_created", c.created_at.desc(), c.analysis_id.desc())
    return table


def results_table(metadata: sa.MetaData, name: str = "analysis_results") -> sa.Table:
    """The summary of each completed analysis and the reference of its full result object."""
    return sa.Table(
        name,
        metadata,
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.Column("summary", JsonType, nullable=False),
        sa.Column("result_key", sa.String(1024), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("result_size", BigInt, nullable=False),
        sa.Column("result_content_type", sa.String(256), nullable=False),
        sa.Column("result_schema_version", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("completed_at", Timestamp, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", BigInt, nullable=False),
        sa.PrimaryKeyConstraint("analysis_id", name=f"pk_{name}"),
    )


def checkpoints_table(metadata: sa.MetaData) -> sa.Table:
    """Last store position each projection applied, committed with its rows."""
    return sa.Table(
        "projection_checkpoints",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", BigInt, nullable=False),
        #: Version of the projection's table layout and rules; a mismatch asks for a rebuild.
        sa.Column("schema_version", sa.Integer(), nullable=False),
        #: Bumped by every swap, so caches keyed by it drop entries built from the old tables.
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
