"""The few hand-written SQL statements on the graph's hot paths.

Traversals issue one statement per hop with every frontier id in it; SQLAlchemy's statement
building would cost more than the statement itself here, so these go to the driver directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection

# SQLite allows 32,766 bound parameters per statement; stay well below.
CHUNK = 5000


def _in_list(conn: Connection, ids: Sequence[int]) -> tuple[str, tuple[Any, ...]]:
    """An ``IN (...)`` clause for SQLite or an ``= ANY(...)`` for PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return f"IN ({','.join('?' * len(ids))})", tuple(ids)
    return "= ANY(%s)", (list(ids),)


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def hop_with_topo(
    conn: Connection, frontier: Sequence[int], *, forward: bool
) -> Iterator[tuple[int, int]]:
    """(neighbour id, neighbour position) one association away from the frontier."""
    near, far = ("src_id", "dst_id") if forward else ("dst_id", "src_id")
    for part in chunks(frontier):
        clause, params = _in_list(conn, part)
        sql = (
            f"SELECT e.id, COALESCE(e.topo, e.id) FROM associations a "
            f"JOIN entities e ON e.id = a.{far} WHERE a.{near} {clause}"
        )
        for row in conn.exec_driver_sql(sql, params):
            yield row[0], row[1]


def hop_edges(
    conn: Connection, frontier: Sequence[int], *, forward: bool
) -> Iterator[tuple[int, int, str]]:
    """(source id, destination id, type) of every association leaving (``forward``) or
    entering the frontier."""
    near = "src_id" if forward else "dst_id"
    for part in chunks(frontier):
        clause, params = _in_list(conn, part)
        sql = f"SELECT src_id, dst_id, type FROM associations WHERE {near} {clause}"
        for row in conn.exec_driver_sql(sql, params):
            yield row[0], row[1], row[2]


def fetch_vertices(conn: Connection, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """(id, arn, kind, name, type, source_uri, status, properties, created_at, modified_at)."""
    for part in chunks(ids):
        clause, params = _in_list(conn, part)
        sql = (
            "SELECT id, arn, kind, name, type, source_uri, status, properties, created_at, "
            f"modified_at FROM entities WHERE id {clause}"
        )
        yield from conn.exec_driver_sql(sql, params)
