"""List indexes that hold their tie-breakers: a list page begins with an index seek.

A list page after a NextToken first reads the rest of the last row's tie: the same sort value,
tie-breakers (an entity's id, an association's two ends) after the last ones. An index serves
that as a seek only if it holds the sort column and then the tie-breakers. SQLite's indexes end
with the row's key already (the rowid of an entity, the primary key of an association);
PostgreSQL's do not, and read every row of the tie before the page: the thousands of rows of
one bulk call share a creation time. The type and name indexes of entities gain ``id``, the
list index of associations ``src_id, dst_id``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (name, table, columns before, the tie-breakers added, the rows it keeps)
_INDEXES = (
    ("ix_entities_type", "entities", ["scope", "kind", "type", "created_at"], ["id"], None),
    ("ix_entities_name", "entities", ["scope", "kind", "name"], ["id"], "name_key IS NOT NULL"),
    ("ix_associations_list", "associations", ["scope", "created_at"], ["src_id", "dst_id"], None),
)


def _recreate(with_ties: bool) -> None:
    for name, table, columns, ties, where in _INDEXES:
        op.drop_index(name, table)
        condition = sa.text(where) if where is not None else None
        op.create_index(
            name,
            table,
            columns + ties if with_ties else columns,
            sqlite_where=condition,
            postgresql_where=condition,
        )


def upgrade() -> None:
    _recreate(with_ties=True)


def downgrade() -> None:
    _recreate(with_ties=False)
