"""Measurements shared by the benchmark sections: ingest, queries, the raw floor."""

from __future__ import annotations

import functools
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.workloads import Edge, Node
from mllineage import Action, Artifact, Association, Context, LineageQuery, Session

# A median is taken of at least this many seconds of calls (and at least ``repeats`` calls):
# five calls of a 0.4 ms query last 2 ms, and one busy moment of the machine moves their median.
MIN_SECONDS = 0.25
MAX_CALLS = 2_000


def median_ms(
    fn: Callable[[], Any], repeats: int, min_seconds: float = MIN_SECONDS
) -> tuple[float, Any]:
    """The median wall time of ``fn`` in ms (after one warm-up call) and its last result:
    ``repeats`` calls, or more until they add up to ``min_seconds``."""
    result = fn()
    times: list[float] = []
    while len(times) < repeats or (sum(times) < min_seconds and len(times) < MAX_CALLS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def pg_session(url: str) -> Session:
    """A session on the PostgreSQL database at ``url``, in an account of its own (the runs of
    a benchmark share one database)."""
    return Session(url, account_id=f"{uuid.uuid4().int % 10**12:012d}")


def create_one(session: Session, node: Node) -> str:
    """One public-API create call for a workload node; returns its ARN."""
    if node.kind == "artifact":
        return Artifact.create(
            artifact_name=node.key,
            artifact_type=node.type,
            source={"source_uri": node.uri},
            sagemaker_session=session,
        ).artifact_arn
    if node.kind == "action":
        return Action.create(
            action_name=node.key, action_type=node.type, sagemaker_session=session
        ).action_arn
    return Context.create(
        context_name=node.key, context_type=node.type, sagemaker_session=session
    ).context_arn


def ingest_per_call(
    session: Session, nodes: list[Node], edges: list[Edge], max_calls: int | None = None
) -> tuple[float, dict[str, str]]:
    """Calls per second of ``Artifact.create``/``Action.create``/``Association.create``, one
    transaction each, in the workload's order (every node, then every edge)."""
    arns: dict[str, str] = {}
    calls = 0
    budget = max_calls if max_calls is not None else len(nodes) + len(edges)
    start = time.perf_counter()
    for node in nodes:
        if calls >= budget:
            break
        arns[node.key] = create_one(session, node)
        calls += 1
    for edge in edges:
        if calls >= budget:
            break
        if edge.src in arns and edge.dst in arns:
            Association.create(arns[edge.src], arns[edge.dst], edge.type, sagemaker_session=session)
            calls += 1
    return calls / (time.perf_counter() - start), arns


def _batches(
    nodes: list[Node], edges: list[Edge], batch_nodes: int
) -> Iterator[tuple[list[Node], list[Edge]]]:
    """The workload in batches of ``batch_nodes`` vertices, each with the edges whose later
    end it creates."""
    batch_of = {node.key: i // batch_nodes for i, node in enumerate(nodes)}
    edges_of: dict[int, list[Edge]] = {}
    for edge in edges:
        edges_of.setdefault(max(batch_of[edge.src], batch_of[edge.dst]), []).append(edge)
    for batch, first in enumerate(range(0, len(nodes), batch_nodes)):
        yield nodes[first : first + batch_nodes], edges_of.get(batch, [])


def ingest_bulk(
    session: Session, nodes: list[Node], edges: list[Edge], batch_nodes: int = 20_000
) -> tuple[float, dict[str, str]]:
    """Rows (entities + associations) per second through ``Session.bulk()``; a batch is
    one atomic call. An edge goes with the batch that creates the later of its two ends."""
    arns: dict[str, str] = {}
    rows = 0
    batches = list(_batches(nodes, edges, batch_nodes))  # (the workload's split: not timed)
    start = time.perf_counter()
    for part, links in batches:
        with session.bulk() as bulk:
            refs: dict[str, Any] = {}
            for node in part:
                if node.kind == "artifact":
                    refs[node.key] = bulk.artifact(
                        artifact_name=node.key,
                        artifact_type=node.type,
                        source={"source_uri": node.uri},
                    )
                elif node.kind == "action":
                    refs[node.key] = bulk.action(action_name=node.key, action_type=node.type)
                else:
                    refs[node.key] = bulk.context(context_name=node.key, context_type=node.type)
            for edge in links:
                bulk.associate(
                    refs.get(edge.src) or arns[edge.src],
                    refs.get(edge.dst) or arns[edge.dst],
                    edge.type,
                )
        arns.update((key, ref.arn) for key, ref in refs.items())
        rows += len(part) + len(links)
    return rows / (time.perf_counter() - start), arns


def ingest_put_lineage(
    session: Session, nodes: list[Node], edges: list[Edge], batch_nodes: int = 20_000
) -> float:
    """Rows per second through PutLineage requests (``session.store.put_lineage``: what a
    ``Session.bulk()`` block sends, without its calls per item), in the same batches; making
    each request from the workload is timed too."""
    arns: dict[str, str] = {}
    rows = 0
    batches = list(_batches(nodes, edges, batch_nodes))
    start = time.perf_counter()
    for part, links in batches:
        index = {node.key: i for i, node in enumerate(part)}
        entities = [_entity_request(node) for node in part]
        associations = [
            {
                "Source": index[edge.src] if edge.src in index else arns[edge.src],
                "Destination": index[edge.dst] if edge.dst in index else arns[edge.dst],
                "AssociationType": edge.type,
            }
            for edge in links
        ]
        answer = session.store.put_lineage(Entities=entities, Associations=associations)
        arns.update(zip(index, answer["Arns"], strict=True))
        rows += len(entities) + len(associations)
    return rows / (time.perf_counter() - start)


def _entity_request(node: Node) -> dict[str, Any]:
    if node.kind == "artifact":
        return {
            "EntityKind": "artifact",
            "ArtifactName": node.key,
            "ArtifactType": node.type,
            "Source": {"SourceUri": node.uri},
        }
    noun = node.kind.capitalize()
    return {"EntityKind": node.kind, f"{noun}Name": node.key, f"{noun}Type": node.type}


def lineage_query(
    session: Session, arn: str, direction: str, depth: int
) -> Callable[[], dict[str, Any]]:
    query = LineageQuery([arn], direction, max_depth=depth, sagemaker_session=session)
    return query.query


def first_query_ms(url: str, arn: str, direction: str, depth: int) -> float:
    """The wall time in ms of the first query of a newly opened session (nothing cached yet)."""
    with Session(url) as session:
        query = lineage_query(session, arn, direction, depth)
        start = time.perf_counter()
        query()
        return (time.perf_counter() - start) * 1000


def floor_query(db_path: str, start_arn: str, depth: int) -> Callable[[], int]:
    """The same upstream traversal as ids only: per-hop BFS with raw sqlite3 on the store's own
    indexed association table. Returns the number of vertices reached."""
    conn = sqlite3.connect(db_path)
    [start] = conn.execute("SELECT id FROM entities WHERE arn = ?", (start_arn,)).fetchone()

    def run() -> int:
        seen = {start}
        frontier = [start]
        for _ in range(depth):
            if not frontier:
                break
            marks = ",".join("?" * len(frontier))
            found = []
            for (src,) in conn.execute(
                f"SELECT src_id FROM associations WHERE dst_id IN ({marks})", frontier
            ):
                if src not in seen:
                    seen.add(src)
                    found.append(src)
            frontier = found
        return len(seen)

    return run


def largest_depth(db_path: str, start_arn: str, max_vertices: int, max_depth: int) -> int:
    """The deepest walk upstream of ``start_arn`` (at most ``max_depth``) that reaches at most
    ``max_vertices`` vertices: a query with the largest answer a query may give (deeper, it
    grows no more or is refused)."""
    walk = functools.partial(floor_query, db_path, start_arn)
    depth, reached = 1, walk(1)()
    while depth < max_depth:
        deeper = walk(depth + 1)()
        if deeper > max_vertices or deeper == reached:
            break
        depth, reached = depth + 1, deeper
    return depth


def query_memory(url: str, arn: str, depth: int) -> dict[str, Any]:
    """The memory a process takes to answer one lineage query (ascendants of ``arn`` at
    ``depth``, full Properties and edges) right after opening the store: its resident set
    before the query, after it (the answer still held) and at its peak during the query (the
    high-water mark is reset to the current size first, so the imports' peak is not read)."""
    with Session(url) as session:
        query = lineage_query(session, arn, "Ascendants", depth)
        before = _memory_mb()["VmRSS"]
        Path("/proc/self/clear_refs").write_text("5")  # (resets the peak: Linux 4.0+)
        start = time.perf_counter()
        graph = query()
        ms = (time.perf_counter() - start) * 1000
        after = _memory_mb()
    return {
        "depth": depth,
        "vertices": len(graph["Vertices"]),
        "edges": len(graph["Edges"]),
        "ms": ms,
        "rss_before_mb": before,
        "rss_after_mb": after["VmRSS"],
        "peak_rss_mb": after["VmHWM"],
    }


def _memory_mb() -> dict[str, float]:
    """The current (VmRSS) and peak (VmHWM) resident set of this process, in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) / 1024 for name, value in fields.items()}


def bulk_floor(db_path: str, scratch_path: str, runs: int) -> float:
    """The floor of bulk ingest, in rows per second: raw ``sqlite3`` writing the rows of a
    bulk-built store again, as tuples read back from it (in key order), into an empty copy of
    the same schema (its constraints and foreign keys, the store's pragmas), one
    ``executemany`` per table, then the tables' indexes built from the rows (faster than
    inserting into them), and one commit; the median of ``runs``. No checks, no identities,
    no change log: what the schema costs in the driver and in SQLite, done the fast way."""
    source = sqlite3.connect(db_path)
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
            " ORDER BY type = 'index'"  # (tables first)
        )
    ]
    indexes = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('entities', 'associations') ORDER BY name"
        )
    ]
    tables = {
        table: (columns, source.execute(f"SELECT {columns} FROM {table}").fetchall())
        for table in ("entities", "associations")
        for columns in [", ".join(row[1] for row in source.execute(f"PRAGMA table_info({table})"))]
    }
    source.close()
    rates = []
    for _ in range(runs):
        for suffix in ("", "-wal", "-shm"):
            Path(scratch_path + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(scratch_path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "wal_autocheckpoint=10000",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "cache_size=-65536",
        ):
            conn.execute(f"PRAGMA {pragma}")
        for sql in schema:
            if sql not in indexes:
                conn.execute(sql)
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, (columns, rows) in tables.items():
            marks = ", ".join("?" * len(rows[0]))
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        for sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        rates.append(sum(len(rows) for _, rows in tables.values()) / (time.perf_counter() - start))
        conn.close()
    return statistics.median(rates)
