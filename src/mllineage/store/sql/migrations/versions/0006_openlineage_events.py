"""Raw OpenLineage events: ``openlineage_events``, each event once per account.

``POST /api/v1/lineage`` and ``mllineage openlineage import`` keep every event they map, so
facets beyond the property limits are never lost and a change of the mapping can be replayed
(``mllineage openlineage replay``). An event is identified by the SHA-256 of its canonical
JSON: the same event sent twice is stored once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "openlineage_events",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("event_type", sa.String(16)),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("job_namespace", sa.Text()),
        sa.Column("job_name", sa.Text()),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index(
        "ux_openlineage_events_id", "openlineage_events", ["scope", "event_id"], unique=True
    )
    op.create_index(
        "ix_openlineage_events_time", "openlineage_events", ["scope", "event_time", "id"]
    )
    condition = sa.text("run_id IS NOT NULL")
    op.create_index(
        "ix_openlineage_events_run",
        "openlineage_events",
        ["scope", "run_id", "event_time", "id"],
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade() -> None:
    op.drop_table("openlineage_events")
