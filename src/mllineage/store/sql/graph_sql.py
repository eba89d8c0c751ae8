"""The few hand-written SQL statements on the graph's hot paths.

Traversals issue one statement per hop with every frontier id in it; SQLAlchemy's statement
building would cost more than the statement itself here, so these go to the driver directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

T = TypeVar("T")

# SQLite allows 32,766 bound parameters per statement; stay well below.
CHUNK = 5000


def placeholder(conn: Connection) -> str:
    """The driver's mark for a positional parameter."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def in_list(conn: Connection, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """An ``IN (...)`` clause for SQLite or an ``= ANY(...)`` for PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return f"IN ({','.join('?' * len(values))})", tuple(values)
    return "= ANY(%s)", (list(values),)


def _rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """All rows of a statement, straight from the driver's cursor (no result wrapping)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def fresh_ids(conn: Connection, table: str, count: int) -> Sequence[int]:
    """Ids for ``count`` new rows of ``table``, ascending: the next ones after its last on
    SQLite (the write transaction keeps other writers out), numbers drawn from the table's id
    sequence on PostgreSQL."""
    if not count:
        return []
    if conn.dialect.name == "sqlite":
        top = _rows(conn, f"SELECT MAX(id) FROM {table}", ())[0][0] or 0
        return range(top + 1, top + 1 + count)
    sql = f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)"
    return sorted(row[0] for row in _rows(conn, sql, (count,)))


def chunks(ids: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def entities_where(
    conn: Connection,
    columns: str,
    column: str,
    values: Sequence[str],
    scope: str | None = None,
    kind: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """``columns`` of the entities whose ``column`` is one of ``values`` (and in ``scope``, of
    ``kind``), straight from the driver: SQLAlchemy's expanding ``IN`` costs more than the
    lookup (at bulk sizes psycopg parses a statement of thousands of placeholders in Python),
    where PostgreSQL takes one array."""
    given = {name: v for name, v in (("scope", scope), ("kind", kind)) if v is not None}
    where = "".join(f"{name} = {placeholder(conn)} AND " for name in given)
    fixed = tuple(given.values())
    for part in chunks(values):
        clause, params = in_list(conn, part)
        sql = f"SELECT {columns} FROM entities WHERE {where}{column} {clause}"
        yield from _rows(conn, sql, (*fixed, *params))


def hop_with_topo(
    conn: Connection, frontier: Sequence[int], *, forward: bool
) -> Iterator[tuple[int, int]]:
    """(neighbour id, neighbour position) of each entity one association away from the
    frontier.

    Two statements rather than a join: knowing the neighbours' ids, the database fetches
    exactly those by primary key, where a join planned from statistics may hash every entity
    for a large frontier (PostgreSQL does), a cost that grows with the store.
    """
    near, far = ("src_id", "dst_id") if forward else ("dst_id", "src_id")
    neighbours: dict[int, None] = {}
    for part in chunks(frontier):
        clause, params = in_list(conn, part)
        sql = f"SELECT {far} FROM associations WHERE {near} {clause}"
        neighbours.update((row[0], None) for row in _rows(conn, sql, params))
    for part in chunks(list(neighbours)):
        clause, params = in_list(conn, part)
        sql = f"SELECT id, COALESCE(topo, id) FROM entities WHERE id {clause}"
        for row in _rows(conn, sql, params):
            yield row[0], row[1]


def hop_edges(
    conn: Connection, frontier: Sequence[int], *, forward: bool
) -> list[tuple[int, int, str]]:
    """(source id, destination id, type) of every association leaving (``forward``) or
    entering the frontier."""
    near = "src_id" if forward else "dst_id"
    rows: list[tuple[int, int, str]] = []
    for part in chunks(frontier):
        clause, params = in_list(conn, part)
        rows += _rows(
            conn, f"SELECT src_id, dst_id, type FROM associations WHERE {near} {clause}", params
        )
    return rows


def fetch_vertices(
    conn: Connection, keys: Sequence[Any], *, by_arn: bool = False
) -> Iterator[tuple[Any, ...]]:
    """(id, arn, kind, name, type, source_uri, status, properties, created_at, modified_at) of
    the entities with these ids (or ARNs)."""
    column = "arn" if by_arn else "id"
    for part in chunks(keys):
        clause, params = in_list(conn, part)
        sql = (
            "SELECT id, arn, kind, name, type, source_uri, status, properties, created_at, "
            f"modified_at FROM entities WHERE {column} {clause}"
        )
        yield from _rows(conn, sql, params)
