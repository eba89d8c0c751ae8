"""One source index, keyed by URI: an artifact's source stays unique, its batch's pages few.

An artifact's source was unique through an index of its digest (``source_key``), next to an
index of source URIs for the lists under a URI. A digest is random: each artifact a batch adds
to a large store went to its own page of that index, half of the pages a 20,000-vertex batch
wrote into a 1M-vertex store. One unique index on (scope, kind, source_uri, source_key) now
does both jobs. It is as strict: the digest is of the URI and the source types, so two
artifacts with one digest have one URI too; actions and contexts have no digest, and NULLs
are distinct. On PostgreSQL, whose index entries hold at most 2,704 bytes, it keys the URI's
first 500 characters (a URI may be 8 KB of UTF-8; the URI index refused those before).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _create(name: str, columns: list[str | sa.TextClause], unique: bool, only_with: str) -> None:
    """An index of the rows whose ``only_with`` column holds a value."""
    condition = sa.text(f"{only_with} IS NOT NULL")
    op.create_index(
        name,
        "entities",
        columns,
        unique=unique,
        sqlite_where=condition,
        postgresql_where=condition,
    )


def upgrade() -> None:
    op.drop_index("ux_entities_source_key", "entities")
    op.drop_index("ix_entities_source_uri", "entities")
    postgresql = op.get_bind().dialect.name == "postgresql"
    uri = sa.text("substr(source_uri, 1, 500)") if postgresql else "source_uri"
    _create("ux_entities_source", ["scope", "kind", uri, "source_key"], True, "source_uri")


def downgrade() -> None:
    op.drop_index("ux_entities_source", "entities")
    _create("ix_entities_source_uri", ["scope", "kind", "source_uri"], False, "source_uri")
    _create("ux_entities_source_key", ["scope", "source_key"], True, "source_key")
