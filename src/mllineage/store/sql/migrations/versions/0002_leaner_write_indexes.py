"""Leaner indexes for writes: index only the rows a lookup can find.

Every index a row enters costs a page write at commit, and commits of single-item writes are
bound by those writes. Four indexes held NULL entries that no query can look up (a new entity
has no position yet; actions have no source key; artifacts no name key; entity changes no peer),
so they become partial indexes of the rows that have a value. The unique index on name_key goes:
an action's or a context's ARN is its scope, kind and lower-cased name, so the unique ARN
already makes the name unique.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (name, table, columns, unique, the rows it keeps)
_PARTIAL = (
    ("ix_entities_topo", "entities", ["topo"], False, "topo IS NOT NULL"),
    ("ix_entities_name", "entities", ["scope", "kind", "name"], False, "name_key IS NOT NULL"),
    ("ix_entities_source_uri", "entities", ["scope", "kind", "source_uri"], False, None),
    ("ux_entities_source_key", "entities", ["scope", "source_key"], True, None),
    ("ix_changes_peer_arn", "changes", ["peer_arn", "at"], False, "peer_arn IS NOT NULL"),
)


def _where(columns: list[str], where: str | None) -> sa.TextClause:
    return sa.text(where or f"{columns[-1]} IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ux_entities_name_key", "entities")
    for name, table, columns, unique, where in _PARTIAL:
        op.drop_index(name, table)
        condition = _where(columns, where)
        op.create_index(
            name,
            table,
            columns,
            unique=unique,
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade() -> None:
    for name, table, columns, unique, _ in _PARTIAL:
        op.drop_index(name, table)
        op.create_index(name, table, columns, unique=unique)
    op.create_index("ux_entities_name_key", "entities", ["scope", "kind", "name_key"], unique=True)
