"""Keeping the association graph acyclic, at a cost that does not grow with the store.

Every entity carries a position ``topo`` in a topological order (NULL means its id, which is
where a new entity starts: after every older entity). An edge ``u -> v`` with
``topo(u) < topo(v)`` can never close a cycle, which is the common case in lineage (inputs are
older than outputs), so it is accepted after two row reads. Otherwise ``v`` must move after
``u``:

* First choice: walk everything downstream of ``v`` (its descendant closure). Reaching ``u``
  means a cycle. Otherwise give the closure fresh positions above every position in use,
  keeping its internal order. Lineage edges that arrive "backwards" mostly point at new
  outputs with few descendants, so this costs a hop or two.
* When that closure is large, repair the order with the Pearce-Kelly algorithm instead: search
  forward from ``v`` and backward from ``u`` only through positions between the two, and
  reassign those positions among themselves.

Either way the work is bounded by the part of the graph that is out of order, never by the
size of the store. Fresh positions start at ``RELOCATED_BASE``, far above any id, so they
never collide with the id-derived positions of entities created later.

Callers must hold the store's writer lock (SQLite's write transaction, PostgreSQL's advisory
lock) so that no other writer changes the order meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from mllineage.store.sql.engine import Statement
from mllineage.store.sql.graph_sql import hop_with_topo

RELOCATED_BASE = 1 << 48
CLOSURE_BUDGET = 2_000


class CycleError(Exception):
    """The new edge would close a cycle."""


def _descendants(
    conn: Connection, start: int, start_topo: int, *, target: int, budget: int
) -> dict[int, int] | None:
    """``start`` and everything downstream of it, or ``None`` past ``budget`` entities.
    Raises :class:`CycleError` on reaching ``target``."""
    seen = {start: start_topo}
    frontier = [start]
    while frontier:
        found: list[int] = []
        for node, topo in hop_with_topo(conn, frontier, forward=True):
            if node == target:
                raise CycleError
            if node not in seen:
                seen[node] = topo
                found.append(node)
        if len(seen) > budget:
            return None
        frontier = found
    return seen


# Only relocated entities have a position stored: the index on it leaves out the rest.
_TOP = Statement("SELECT MAX(topo) FROM entities WHERE topo IS NOT NULL")
_MOVE = Statement("UPDATE entities SET topo = :topo WHERE id = :node")


def top_position(conn: Connection) -> int:
    """The highest position in use; fresh positions go above it."""
    [top] = _TOP.run(conn, {}).fetchone()
    return max(int(top or 0), RELOCATED_BASE)


def _relocate_to_top(conn: Connection, closure: dict[int, int]) -> None:
    """Give a descendant-closed set the next fresh positions, in its current order."""
    base = top_position(conn)
    ordered = sorted(closure, key=closure.__getitem__)
    _write_positions(conn, [(node, base + 1 + i) for i, node in enumerate(ordered)])


def order_for_edge(
    conn: Connection, src_id: int, src_topo: int, dst_id: int, dst_topo: int
) -> None:
    """Make ``src`` come before ``dst`` in the order, or raise :class:`CycleError`."""
    if src_id == dst_id:
        raise CycleError
    if src_topo < dst_topo:
        return
    closure = _descendants(conn, dst_id, dst_topo, target=src_id, budget=CLOSURE_BUDGET)
    if closure is not None:
        _relocate_to_top(conn, closure)
        return
    lower, upper = dst_topo, src_topo
    forward = _reach(
        conn, {dst_id: dst_topo}, forward=True, keep=lambda topo: topo <= upper, target=src_id
    )
    backward = _reach(
        conn, {src_id: src_topo}, forward=False, keep=lambda topo: topo >= lower, target=None
    )
    _reassign(conn, backward, forward)


def _reach(
    conn: Connection,
    start: dict[int, int],
    *,
    forward: bool,
    keep: object,
    target: int | None,
) -> dict[int, int]:
    """Entities reachable from ``start`` through positions that ``keep`` accepts."""
    assert callable(keep)
    seen = dict(start)
    frontier = list(start)
    while frontier:
        found: list[int] = []
        for node, topo in hop_with_topo(conn, frontier, forward=forward):
            if node == target:
                raise CycleError
            if node not in seen and keep(topo):
                seen[node] = topo
                found.append(node)
        frontier = found
    return seen


def _reassign(conn: Connection, backward: dict[int, int], forward: dict[int, int]) -> None:
    """Give the backward set the lowest of the pooled positions, the forward set the rest,
    each keeping its internal order."""
    ordered = sorted(backward, key=backward.__getitem__) + sorted(forward, key=forward.__getitem__)
    pool = sorted([*backward.values(), *forward.values()])
    current = {**backward, **forward}
    pairs = zip(ordered, pool, strict=True)
    moves = [(node, topo) for node, topo in pairs if current[node] != topo]
    _write_positions(conn, moves)


def _write_positions(conn: Connection, moves: Iterable[tuple[int, int]]) -> None:
    _MOVE.run_many(conn, [{"topo": topo, "node": node} for node, topo in moves])
