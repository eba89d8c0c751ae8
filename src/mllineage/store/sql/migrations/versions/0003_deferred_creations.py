"""Creations kept in the live rows: ``log_id`` on entities and associations.

A PutLineage no longer writes a change row per entity and association it creates: each new
row carries the id its creation change has in the log, and the change is written to
``changes`` only when the row is updated or deleted, or by a prune (see ``deferred.py``).
Existing rows get NULL: their creations are in ``changes`` already.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entities", sa.Column("log_id", sa.BigInteger(), nullable=True))
    op.add_column("associations", sa.Column("log_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Dropping the columns would lose the creations they still hold from the history.
    raise NotImplementedError("revision 0003 cannot be downgraded: history would be lost")
