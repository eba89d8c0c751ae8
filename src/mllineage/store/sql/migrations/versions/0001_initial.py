"""The initial schema: entities, associations and the change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Self-contained on purpose: it must create this revision's tables even after schema.py moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_URI = sa.String(2048).with_variant(sa.String(2048, collation="C"), "postgresql")
_NAME = sa.String(120).with_variant(sa.String(120, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False, unique=True),
        sa.Column("name", _NAME),
        sa.Column("name_key", sa.String(120)),
        sa.Column("type", sa.String(256), nullable=False),
        sa.Column("source_uri", _URI),
        sa.Column("source_key", sa.String(64)),
        sa.Column("source", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("status", sa.String(16)),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("modified_at", sa.BigInteger, nullable=False),
        sa.Column("modified_by", sa.Text, nullable=False),
        sa.Column("topo", sa.BigInteger),
    )
    op.create_index("ix_entities_list", "entities", ["scope", "kind", "created_at", "id"])
    op.create_index("ix_entities_type", "entities", ["scope", "kind", "type", "created_at"])
    op.create_index("ix_entities_source_uri", "entities", ["scope", "kind", "source_uri"])
    op.create_index("ix_entities_name", "entities", ["scope", "kind", "name"])
    op.create_index("ix_entities_topo", "entities", ["topo"])
    op.create_index("ux_entities_name_key", "entities", ["scope", "kind", "name_key"], unique=True)
    op.create_index("ux_entities_source_key", "entities", ["scope", "source_key"], unique=True)

    op.create_table(
        "associations",
        sa.Column("src_id", _ID, sa.ForeignKey("entities.id"), primary_key=True),
        sa.Column("dst_id", _ID, sa.ForeignKey("entities.id"), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_associations_dst", "associations", ["dst_id", "src_id", "type"])
    op.create_index("ix_associations_list", "associations", ["scope", "created_at"])

    op.create_table(
        "changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("peer_arn", sa.String(256)),
        sa.Column("op", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_changes_arn", "changes", ["arn", "at"])
    op.create_index("ix_changes_peer_arn", "changes", ["peer_arn", "at"])
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_table("associations")
    op.drop_table("entities")
