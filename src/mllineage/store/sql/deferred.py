"""Deferred creations: the change-log rows of creations, kept in the live rows they made.

A PutLineage creates thousands of entities and associations, and a change row for each (the
whole state of every entity, both ARNs of every association, three indexes) was more than
half of what the call wrote. Yet until something alters a new row, its creation change says
nothing the row does not: an entity's creation state is its row, an ``AddAssociation`` is the
association's type, time and creator. So a PutLineage only gives each new row, in ``log_id``,
the id its creation change has in the log, and the change is derived from the row on reading.

Ids are drawn as if the changes were written: on SQLite a block above the log's last id, kept
from later changes by a marker row at its top; on PostgreSQL from the id sequence. The log reads
in the same order whichever way a change is kept. Single creates on an SQLite file do the same
(:func:`take_log_id`): the group-committed calls of one group share a block, so a create writes
its row and no change row.

Before anything updates or deletes such a row, the change is written to ``changes`` under its
id (:func:`write_entity`, :func:`write_edges`); a prune writes every one it reaches. Readers of
the log take both sources: :func:`entity_changes` and :func:`edge_changes` give deferred
changes in the shape of ``changes`` rows (:class:`Change`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from mllineage.store.common import dumps
from mllineage.store.sql.engine import RowInsert, Statement
from mllineage.store.sql.graph_sql import _rows, fresh_ids, placeholder
from mllineage.store.sql.group_commit import GROUP_STATE
from mllineage.store.sql.schema import changes

#: The op of the marker row that keeps a block of ids free on SQLite. Its ARN is the scope,
#: which no reader by ARN can ask for.
MARKER = "PutLineage"
_CREATE = {"artifact": "CreateArtifact", "action": "CreateAction", "context": "CreateContext"}
_INSERT = RowInsert(changes, tuple(c.name for c in changes.columns))
_LAST_ID = Statement("SELECT MAX(id) FROM changes")
_ENTITY_COLUMNS = (
    "e.id, e.log_id, e.created_at, e.scope, e.arn, e.kind, e.created_by, e.name, e.type, "
    "e.source, e.description, e.status, e.properties, e.metadata, e.tags"
)
_EDGE_COLUMNS = (
    "a.src_id, a.dst_id, a.log_id, a.created_at, a.scope, s.arn, d.arn, a.created_by, a.type"
)
_EDGE_JOIN = "associations a JOIN entities s ON s.id = a.src_id JOIN entities d ON d.id = a.dst_id"


class Change(NamedTuple):
    """A row of ``changes``, in its column order."""

    id: int
    at: int
    scope: str
    arn: str
    peer_arn: str | None
    op: str
    actor: str
    detail: str


def reserve(conn: Connection, count: int, at: int, scope: str, actor: str) -> Sequence[int]:
    """Ids for ``count`` changes kept in live rows, ascending. On SQLite (whose write
    transaction keeps other writers out) the block above the last id, with a marker written at
    its top so that later changes take ids above it."""
    if conn.dialect.name != "sqlite":
        return fresh_ids(conn, "changes", count)
    block = fresh_ids(conn, "changes", count + 1)  # (the last for the marker)
    span = dumps({"deferred": [block[0], block[-2]]})
    _INSERT.run_many(conn, [(block[-1], at, scope, scope, None, MARKER, actor, span)])
    return block[:-1]


#: Change ids a group-committed call reserves at once for the creations of the calls of its
#: group (one marker row per block instead of a change row per creation).
LOG_ID_BLOCK = 1024


def take_log_id(conn: Connection, at: int, scope: str, actor: str) -> int | None:
    """A change id for the creation a single call is making, to keep in its row: from the open
    group's block (reserved by the first call that needs one, its marker written by that call
    so that the crash journal replays it), or None outside a group-committed call (PostgreSQL,
    an in-memory store, a ``batch()``): log the creation then."""
    state = GROUP_STATE.get()
    if state is None:
        return None
    block = state.get("log_ids")
    if block is None or block[0] >= block[1]:
        ids = reserve(conn, LOG_ID_BLOCK, at, scope, actor)
        block = state["log_ids"] = [ids[0], ids[-1] + 1]
    log_id: int = block[0]
    block[0] += 1
    return log_id


def keep_ids_free(conn: Connection, at: int, scope: str, actor: str) -> None:
    """After a prune deleted old changes (markers among them): on SQLite, if the log's last id
    is now below an id kept in a live row, a marker above that id keeps later changes from
    taking it. (Two scans of the live tables: a prune reads the whole log anyway.)"""
    if conn.dialect.name != "sqlite":
        return  # (a sequence never gives an id twice)
    kept = [
        _rows(conn, f"SELECT MAX(log_id) FROM {table}", ())[0][0]
        for table in ("entities", "associations")
    ]
    top = max((k for k in kept if k is not None), default=None)
    last = _LAST_ID.run(conn, {}).fetchone()[0] or 0
    if top is not None and last <= top:
        span = dumps({"deferred": [top, top]})
        _INSERT.run_many(conn, [(top + 1, at, scope, scope, None, MARKER, actor, span)])
    forget_log_ids()


def forget_log_ids() -> None:
    """Drop the open group's block (a prune may have deleted its marker)."""
    state = GROUP_STATE.get()
    if state is not None:
        state.pop("log_ids", None)


def creation_detail(row: Sequence[Any]) -> str:
    """The detail of an entity's creation change, from its row's name ... tags (stored JSON is
    spliced in as it is: the text is the one the create would have logged)."""
    name, entity_type, source, description, status, properties, metadata, tags = row
    return (
        f'{{"name":{dumps(name)},"type":{dumps(entity_type)},"source":{source or "null"},'
        f'"description":{dumps(description)},"status":{dumps(status)},'
        f'"properties":{properties},"metadata":{metadata or "null"},"tags":{tags}}}'
    )


def entity_changes(conn: Connection, where: str, params: Sequence[Any]) -> list[Change]:
    """The deferred creations of the entities ``e`` that match ``where``."""
    return [change for _, change in _entities(conn, where, params)]


def edge_changes(conn: Connection, where: str, params: Sequence[Any]) -> list[Change]:
    """The deferred ``AddAssociation`` of the associations ``a`` (from ``s`` to ``d``) that
    match ``where``."""
    return [change for _, change in _edges(conn, where, params)]


def changed_since(
    conn: Connection, scope: str, at: int, limit: int
) -> list[tuple[str, str | None]]:
    """(arn, peer_arn) of the deferred changes of ``scope`` after ``at``: at most ``limit``
    entity changes and ``limit`` association changes."""
    mark = placeholder(conn)
    entity_sql = (
        f"SELECT arn, NULL FROM entities WHERE scope = {mark} "
        f"AND kind IN ('artifact', 'action', 'context') AND created_at > {mark} "
        f"AND log_id IS NOT NULL LIMIT {int(limit)}"
    )
    edge_sql = (
        f"SELECT s.arn, d.arn FROM {_EDGE_JOIN} WHERE a.scope = {mark} AND a.created_at > {mark} "
        f"AND a.log_id IS NOT NULL LIMIT {int(limit)}"
    )
    return [*_rows(conn, entity_sql, (scope, at)), *_rows(conn, edge_sql, (scope, at))]


def edge_sources(conn: Connection, scope: str, at: int) -> list[str]:
    """The source ARN of every deferred ``AddAssociation`` of ``scope`` at or before ``at``."""
    mark = placeholder(conn)
    sql = (
        "SELECT DISTINCT s.arn FROM associations a JOIN entities s ON s.id = a.src_id "
        f"WHERE a.scope = {mark} AND a.created_at <= {mark} AND a.log_id IS NOT NULL"
    )
    return [arn for (arn,) in _rows(conn, sql, (scope, at))]


def type_detail(association_type: str) -> str:
    """The detail of an ``AddAssociation`` change (the same few strings, made once each)."""
    detail = _TYPE_DETAILS.get(association_type)
    if detail is None:
        detail = _TYPE_DETAILS[association_type] = dumps({"type": association_type})
    return detail


_TYPE_DETAILS: dict[str, str] = {}


def write_entity(conn: Connection, entity_id: int) -> None:
    """Write the entity's deferred creation to the log, if it has one (before it changes)."""
    _write(conn, _entities(conn, f"e.id = {placeholder(conn)}", (entity_id,)), _KEEP_ENTITY)


def write_edges(conn: Connection, entity_id: int, other_id: int | None = None) -> None:
    """Write to the log the deferred creations of the entity's associations (or of its one
    association to ``other_id``), before they are removed."""
    mark = placeholder(conn)
    if other_id is not None:
        found = _edges(conn, f"a.src_id = {mark} AND a.dst_id = {mark}", (entity_id, other_id))
    else:  # (two lookups, each by an index: the planner may scan for an OR)
        found = _edges(conn, f"a.src_id = {mark}", (entity_id,))
        found += _edges(conn, f"a.dst_id = {mark}", (entity_id,))
    _write(conn, found, _KEEP_EDGE)


def write_before(conn: Connection, scope: str, before: int) -> None:
    """Write every deferred creation of ``scope`` made before ``before`` (for a prune)."""
    mark = placeholder(conn)
    entity_where = (
        f"e.scope = {mark} AND e.kind IN ('artifact', 'action', 'context') "
        f"AND e.created_at < {mark}"
    )
    _write(conn, _entities(conn, entity_where, (scope, before)), _KEEP_ENTITY)
    edge_where = f"a.scope = {mark} AND a.created_at < {mark}"
    _write(conn, _edges(conn, edge_where, (scope, before)), _KEEP_EDGE)


_KEEP_ENTITY = Statement("UPDATE entities SET log_id = NULL WHERE id = :id")
_KEEP_EDGE = Statement("UPDATE associations SET log_id = NULL WHERE src_id = :s AND dst_id = :d")

Found = list[tuple[dict[str, int], Change]]  # (the row's key, its deferred change)


def _entities(conn: Connection, where: str, params: Sequence[Any]) -> Found:
    sql = f"SELECT {_ENTITY_COLUMNS} FROM entities e WHERE e.log_id IS NOT NULL AND {where}"
    return [
        (
            {"id": r[0]},
            Change(r[1], r[2], r[3], r[4], None, _CREATE[r[5]], r[6], creation_detail(r[7:])),
        )
        for r in _rows(conn, sql, tuple(params))
    ]


def _edges(conn: Connection, where: str, params: Sequence[Any]) -> Found:
    sql = f"SELECT {_EDGE_COLUMNS} FROM {_EDGE_JOIN} WHERE a.log_id IS NOT NULL AND {where}"
    return [
        (
            {"s": r[0], "d": r[1]},
            Change(r[2], r[3], r[4], r[5], r[6], "AddAssociation", r[7], type_detail(r[8])),
        )
        for r in _rows(conn, sql, tuple(params))
    ]


def _write(conn: Connection, found: Found, keep: Statement) -> None:
    """Write deferred changes to the log, and clear the rows' ``log_id``."""
    if not found:
        return
    _INSERT.run_many(conn, [tuple(change) for _, change in found])  # (the journal's types)
    keep.run_many(conn, [key for key, _ in found])
