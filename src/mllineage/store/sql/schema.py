"""The tables, in SQLAlchemy Core. One schema serves SQLite and PostgreSQL.

Live rows only: ``entities`` and ``associations`` hold what exists now, so reads of the present
never wade through history. Every change is also appended to ``changes`` in the same
transaction (who, when, what), which is the record the governance features build on. One
exception keeps ingest fast: creations (a PutLineage's, and on an SQLite file single ones
too) stay in the live rows they created (``log_id``) until those rows change (``deferred.py``).

Timestamps are integers of microseconds since the Unix epoch (UTC): exact, compact and ordered
the same way on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnClause,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    literal_column,
    text,
)

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (fast, no second index).
Id = BigInteger().with_variant(Integer(), "sqlite")
# Source URIs are matched by range (prefix at a path boundary): compare them bytewise.
Uri = String(2048).with_variant(String(2048, collation="C"), "postgresql")
# Names sort bytewise too, so SortBy=Name orders the same on both databases.
Name = String(120).with_variant(String(120, collation="C"), "postgresql")

entities = Table(
    "entities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(128), nullable=False),  # "arn:aws:sagemaker:<region>:<account>:"
    Column("kind", String(8), nullable=False),  # artifact | action | context
    Column("arn", String(256), nullable=False, unique=True),
    Column("name", Name),
    Column("name_key", String(120)),  # lower-cased name of actions and contexts: unique
    Column("type", String(256), nullable=False),
    Column("source_uri", Uri),
    Column("source_key", String(64)),  # digest of an artifact's source: unique
    Column("source", Text),  # JSON, wire-shaped
    Column("description", Text),
    Column("status", String(16)),
    Column("properties", Text, nullable=False),  # JSON object of strings
    Column("metadata", Text),  # JSON MetadataProperties
    Column("tags", Text, nullable=False),  # JSON list of {"Key", "Value"}
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),  # JSON UserContext
    Column("modified_at", BigInteger, nullable=False),
    Column("modified_by", Text, nullable=False),
    # Position in a topological order of the association DAG; NULL means "same as id".
    Column("topo", BigInteger),
    # The change-log id of this entity's creation while the change is kept here, not in
    # ``changes`` (see deferred.py); NULL once it is in ``changes``.
    Column("log_id", BigInteger),
    Index("ix_entities_list", "scope", "kind", "created_at", "id"),
    Index("ix_entities_type", "scope", "kind", "type", "created_at", "id"),
)


def _only_rows_with(column: str) -> dict[str, Any]:
    """A partial index's condition: leave out the rows where ``column`` is NULL (every index
    a row enters costs a page write at commit)."""
    condition = text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


# An action's or a context's name is unique through its ARN (scope, kind, lower-cased name).
# An artifact's source (its URI and types: source_key) is unique through this index, which
# also finds every kind's entities under a source URI: actions and contexts have no
# source_key, and NULLs are distinct. Keyed by URI first, the new artifacts of a batch land
# near each other, where a digest first scattered them over the whole index (half of the
# pages a 20,000-vertex batch wrote into a 1M-vertex store).
Index(
    "ux_entities_source",
    *entities.c["scope", "kind", "source_uri", "source_key"],
    unique=True,
    sqlite_where=text("source_uri IS NOT NULL"),
).ddl_if(dialect="sqlite")
# PostgreSQL refuses an index entry over 2,704 bytes, and a source URI may be 2,048
# characters (8 KB of UTF-8): there the index holds the URI's first URI_KEY_CHARS characters,
# and a lookup by URI also names that prefix (uri_key). The source stays exactly as
# unique: one digest means one URI, so one prefix.
URI_KEY_CHARS = 500
# (SQL with the numbers written in, as the index's expression is: a planner matches it so)
URI_KEY = f"substr(source_uri, 1, {URI_KEY_CHARS})"
uri_key: ColumnClause[str] = literal_column(URI_KEY)
Index(
    "ux_entities_source",
    entities.c.scope,
    entities.c.kind,
    uri_key,
    entities.c.source_key,
    unique=True,
    postgresql_where=text("source_uri IS NOT NULL"),
).ddl_if(dialect="postgresql")
# Sorting by name is for actions and contexts, the entities with a name_key.
Index("ix_entities_name", *entities.c["scope", "kind", "name", "id"], **_only_rows_with("name_key"))
# NULL means "same as id": only relocated entities need the index (for MAX(topo)).
Index("ix_entities_topo", entities.c.topo, **_only_rows_with("topo"))

associations = Table(
    "associations",
    metadata,
    Column("src_id", Id, ForeignKey("entities.id"), primary_key=True),
    Column("dst_id", Id, ForeignKey("entities.id"), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("scope", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("log_id", BigInteger),  # as entities.log_id, for the AddAssociation change
    Index("ix_associations_dst", "dst_id", "src_id", "type"),
    Index("ix_associations_list", "scope", "created_at", "src_id", "dst_id"),
    sqlite_with_rowid=False,
)

changes = Table(
    "changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("scope", String(128), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("peer_arn", String(256)),  # the other end of an association change
    Column("op", String(32), nullable=False),
    Column("actor", Text, nullable=False),  # JSON UserContext
    Column("detail", Text, nullable=False),  # JSON: the new state, or old/new of what changed
    Index("ix_changes_arn", "arn", "at"),
    Index("ix_changes_at", "at"),
)
Index("ix_changes_peer_arn", *changes.c["peer_arn", "at"], **_only_rows_with("peer_arn"))

# Raw OpenLineage events, each once per account (event_id: SHA-256 of its canonical JSON).
# The capture maps them to entities and associations; they stay for reading and replaying.
openlineage_events = Table(
    "openlineage_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(128), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # run | dataset | job
    Column("event_type", String(16)),  # START, COMPLETE, ... (RunEvents)
    Column("event_time", BigInteger, nullable=False),  # µs since the epoch, UTC
    Column("received_at", BigInteger, nullable=False),
    Column("run_id", String(36)),
    Column("job_namespace", Text),
    Column("job_name", Text),
    Column("body", Text, nullable=False),  # the canonical JSON
    Index("ux_openlineage_events_id", "scope", "event_id", unique=True),
    Index("ix_openlineage_events_time", "scope", "event_time", "id"),
)
Index(
    "ix_openlineage_events_run",
    *openlineage_events.c["scope", "run_id", "event_time", "id"],
    **_only_rows_with("run_id"),
)
