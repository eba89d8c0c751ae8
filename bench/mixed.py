"""The mixed workload: lineage queries from random starts while another process writes.

    python -m bench --mixed                      # diamond 10k and pipeline 10k, SQLite file
    python -m bench --mixed --quick              # a smoke run (CI)
    python -m bench --mixed --big                # adds the 1M-vertex pipeline
    python -m bench --mixed --postgres URL       # adds PostgreSQL beside SQLite
    python -m bench --mixed --mlmd-python P      # adds ML Metadata on the diamond
    python -m bench --mixed --server             # adds the same through `mllineage serve`

What teams run: a plan of queries, each from a random start with a random direction
(ascendants, descendants, both) and depth (10 or 20), drawn with a fixed seed; after every
10 queries another process makes one write (alternately a property update of a random
vertex and a new association between random vertices that keeps the graph a DAG) and the
query loop waits until that write has returned, so the next query sees it. Each query is
timed alone; the report gives the median and the 99th percentile of each direction and
depth, beside the floor (the same plan as ids only: per-hop breadth-first search with raw
``sqlite3``; on PostgreSQL the better of per-hop BFS with ``psycopg`` and a recursive CTE) and
ML Metadata's ``get_lineage_subgraph`` on the same graph and plan, with the same writes.
Starts whose answer would pass the query limits (10,000 vertices) are drawn again.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness
from bench.workloads import Edge, Node, diamond, pipeline
from mllineage import LineageQuery, Session, limits
from mllineage.errors import ClientError

DIRECTIONS = ("Ascendants", "Descendants", "Both")
DEPTHS = (10, 20)
WRITE_EVERY = 10  # queries per write
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Planned:
    """One query of the plan: a start vertex (a workload key), a direction and a depth."""

    start: str
    direction: str
    depth: int


# -- the graphs ---------------------------------------------------------------------------
def graph(name: str, size: int) -> tuple[list[Node], list[Edge]]:
    return diamond(size // 2) if name == "diamond" else pipeline(size)


def new_edge(name: str, rng: random.Random, nodes: list[Node]) -> tuple[str, str, str]:
    """A random association the graph does not forbid: from an earlier dataset to a later
    action (the diamond's order, and the pipeline's runs, only ever point forward)."""
    if name == "diamond":
        actions = sum(1 for node in nodes if node.kind == "action")
        i = rng.randrange(1, actions)
        return f"d{rng.randrange(i)}", f"a{i}", "ContributedTo"
    runs = sum(1 for node in nodes if node.key.endswith("-train"))
    k = rng.randrange(1, runs)
    return f"r{rng.randrange(k)}-data", f"r{k}-train", "ContributedTo"


# -- the floor: ids only, raw drivers -----------------------------------------------------
_NEXT = {
    "Ascendants": ("SELECT src_id FROM associations WHERE dst_id IN ({})",),
    "Descendants": ("SELECT dst_id FROM associations WHERE src_id IN ({})",),
    "Both": (
        "SELECT src_id FROM associations WHERE dst_id IN ({})",
        "SELECT dst_id FROM associations WHERE src_id IN ({})",
    ),
}


def sqlite_floor(path: str) -> Callable[[int, str, int], int]:
    """Per-hop BFS over the store's own indexed association table with raw ``sqlite3``;
    returns a function (start id, direction, depth) -> vertices reached."""
    conn = sqlite3.connect(path, isolation_level=None)

    def walk(start: int, direction: str, depth: int) -> int:
        seen, frontier = {start}, [start]
        for _ in range(depth):
            if not frontier:
                break
            marks = ",".join("?" * len(frontier))
            found = []
            for sql in _NEXT[direction]:
                for (peer,) in conn.execute(sql.format(marks), frontier):
                    if peer not in seen:
                        seen.add(peer)
                        found.append(peer)
            frontier = found
        return len(seen)

    return walk


def postgres_floors(url: str) -> dict[str, Callable[[int, str, int], int]]:
    """PostgreSQL's two floors: per-hop BFS with ``psycopg`` and one recursive CTE."""
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def bfs(start: int, direction: str, depth: int) -> int:
        seen, frontier = {start}, [start]
        for _ in range(depth):
            if not frontier:
                break
            found = []
            for sql in _NEXT[direction]:
                rows = conn.execute(sql.format("SELECT unnest(%s::bigint[])"), (frontier,))
                for (peer,) in rows:
                    if peer not in seen:
                        seen.add(peer)
                        found.append(peer)
            frontier = found
        return len(seen)

    def cte(start: int, direction: str, depth: int) -> int:
        steps = {
            "Ascendants": "SELECT a.src_id FROM associations a WHERE a.dst_id = w.id",
            "Descendants": "SELECT a.dst_id FROM associations a WHERE a.src_id = w.id",
            "Both": "SELECT a.src_id FROM associations a WHERE a.dst_id = w.id"
            " UNION ALL SELECT a.dst_id FROM associations a WHERE a.src_id = w.id",
        }[direction]
        sql = (
            "WITH RECURSIVE walk(id, depth) AS (SELECT %s::bigint, 0 UNION"
            f" SELECT n.id, w.depth + 1 FROM walk w CROSS JOIN LATERAL ({steps}) AS n(id)"
            " WHERE w.depth < %s) SELECT count(DISTINCT id) FROM walk"
        )
        [(count,)] = conn.execute(sql, (start, depth)).fetchall()
        return int(count)

    return {"bfs": bfs, "cte": cte}


def entity_ids(url: str, arns: dict[str, str]) -> dict[str, int]:
    """The store's row id of each workload vertex (what the floors walk)."""
    by_arn = {arn: key for key, arn in arns.items()}
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = conn.execute("SELECT arn, id FROM entities").fetchall()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT arn, id FROM entities WHERE arn = ANY(%s)", (list(by_arn),)
            ).fetchall()
    return {by_arn[arn]: id_ for arn, id_ in rows if arn in by_arn}


# -- the plan -----------------------------------------------------------------------------
def make_plan(
    nodes: list[Node], ids: dict[str, int], floor: Callable[[int, str, int], int], count: int
) -> list[Planned]:
    """``count`` queries from random starts, each direction and depth equally often, every
    answer within the query limits (checked with the floor)."""
    rng = random.Random(2026)
    starts = [node.key for node in nodes if node.kind != "context"]
    plan: list[Planned] = []
    shapes = [(d, depth) for d in DIRECTIONS for depth in DEPTHS]
    tries = 0
    while len(plan) < count:
        direction, depth = shapes[len(plan) % len(shapes)]
        start = rng.choice(starts)
        tries += 1
        if floor(ids[start], direction, depth) <= limits.QUERY_MAX_VERTICES or tries > 50 * count:
            plan.append(Planned(start, direction, depth))
    return plan


# -- the writer: another process ----------------------------------------------------------
@contextmanager
def writer(url: str, account: str, name: str, size: int, arns_file: str) -> Iterator[Any]:
    """A process that makes one write each time it is asked (``write()``), and returns once
    the write has returned."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.mixed", "--writer", url, account, name, str(size), arns_file],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    assert process.stdout is not None

    def write() -> None:
        process.stdin.write("w\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
        answer = process.stdout.readline()  # type: ignore[union-attr]
        if answer.strip() != "ok":
            raise RuntimeError(f"the writer failed: {answer!r}")

    try:
        assert process.stdout.readline().strip() == "ready"
        yield write
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def writer_main(url: str, account: str, name: str, size: int, arns_file: str) -> None:
    """The writer process: one write per line read from stdin, ``ok`` after each."""
    arns: dict[str, str] = json.loads(Path(arns_file).read_text())
    nodes, _ = graph(name, size)
    kinds = {node.key: node.kind for node in nodes}
    rng = random.Random(99)
    keys = [key for key in arns if kinds.get(key) in ("artifact", "action")]
    session = Session(url, account_id=account)
    store = session.store
    print("ready", flush=True)
    for count, _ in enumerate(sys.stdin):
        if count % 2 == 0:  # a property update of a random vertex
            key = rng.choice(keys)
            change = {"Properties": {"bench_touch": str(count)}}
            if kinds[key] == "artifact":
                store.update_artifact(ArtifactArn=arns[key], **change)
            else:
                store.update_action(ActionName=arns[key], **change)
        else:  # a new association (another pair if that one exists or is at its limit)
            for _attempt in range(100):
                src, dst, type_ = new_edge(name, rng, nodes)
                try:
                    store.add_association(
                        SourceArn=arns[src], DestinationArn=arns[dst], AssociationType=type_
                    )
                    break
                except ClientError:
                    continue
        print("ok", flush=True)


# -- measuring ----------------------------------------------------------------------------
def summary(times: dict[tuple[str, int], list[float]]) -> dict[str, dict[str, float]]:
    """Median and 99th percentile (ms) of each direction and depth."""
    out = {}
    for (direction, depth), values in sorted(times.items()):
        values = sorted(values)
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        out[f"{direction} {depth}"] = {
            "median_ms": statistics.median(values) * 1000,
            "p99_ms": p99 * 1000,
            "queries": len(values),
        }
    return out


def run_plan(
    query: Callable[[Planned], Any], plan: list[Planned], write: Callable[[], None] | None
) -> dict[str, dict[str, float]]:
    """Time each query of the plan alone; after every ``WRITE_EVERY``, one write."""
    times: dict[tuple[str, int], list[float]] = {}
    for i, planned in enumerate(plan):
        if write is not None and i and i % WRITE_EVERY == 0:
            write()
        start = time.perf_counter()
        query(planned)
        times.setdefault((planned.direction, planned.depth), []).append(time.perf_counter() - start)
    return summary(times)


def mllineage_queries(session: Session, arns: dict[str, str]) -> Callable[[Planned], Any]:
    def query(planned: Planned) -> Any:
        return LineageQuery(
            [arns[planned.start]],
            planned.direction,
            max_depth=planned.depth,
            sagemaker_session=session,
        ).query()

    return query


def floor_queries(
    walk: Callable[[int, str, int], int], ids: dict[str, int]
) -> Callable[[Planned], Any]:
    return lambda planned: walk(ids[planned.start], planned.direction, planned.depth)


def query_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """In a process of its own (as ML Metadata's queries are): the plan through mllineage
    with the writer beside it, then the floors without it."""
    arns = json.loads(Path(spec["arns"]).read_text())
    plan = [Planned(*p) for p in json.loads(Path(spec["plan"]).read_text())]
    ids = {key: int(value) for key, value in json.loads(Path(spec["ids"]).read_text()).items()}
    out: dict[str, Any] = {}
    with Session(spec["query_url"], account_id=spec["account"]) as session:
        query = mllineage_queries(session, arns)
        query(plan[0])  # (opens the connections)
        with writer(
            spec["write_url"], spec["account"], spec["graph"], spec["size"], spec["arns"]
        ) as w:
            out["mllineage"] = run_plan(query, plan, w)
        out["repeat"] = run_plan(lambda _: query(plan[0]), plan[: len(plan) // 3], None)
    if spec.get("floor") == "sqlite":
        out["floor"] = run_plan(floor_queries(sqlite_floor(spec["path"]), ids), plan, None)
    elif spec.get("floor") == "postgres":
        floors = postgres_floors(spec["query_url"])
        both = {
            name: run_plan(floor_queries(walk, ids), plan, None) for name, walk in floors.items()
        }
        out["floor"] = {
            shape: min((both[name][shape] for name in both), key=lambda s: s["median_ms"])
            | {"floor": min(both, key=lambda name: both[name][shape]["median_ms"])}
            for shape in both["bfs"]
        }
    return out


GRAPHS = {  # name -> sizes (vertices) by run kind
    "quick": [("diamond", 1_000), ("pipeline", 2_000)],
    "normal": [("diamond", 20_000), ("pipeline", 10_000)],
    "big": [("diamond", 20_000), ("pipeline", 10_000), ("pipeline", 1_000_000)],
}
KEY_ID, SECRET = "AKIDBENCHMIXED", "bench-mixed-secret"


def _worker(spec: dict[str, Any], tmp: str, env: dict[str, str] | None = None) -> Any:
    path = Path(tmp) / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    answer = subprocess.run(
        [sys.executable, "-m", "bench.mixed", "--query-worker", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    if answer.returncode:
        raise RuntimeError(answer.stderr)
    return json.loads(answer.stdout)


def _mlmd(python: str, name: str, size: int, plan_file: str, tmp: str) -> Any:
    answer = subprocess.run(
        [
            python,
            str(ROOT / "bench" / "mlmd_diamond.py"),
            "--n",
            str(size // 2),
            "--db",
            os.path.join(tmp, f"mlmd-mixed-{name}.db"),
            "--mixed",
            plan_file,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout)


def _build(url: str, account: str, nodes: list[Node], edges: list[Edge], tmp: str, tag: str) -> str:
    """Bulk-build the graph into ``url`` (``account``); returns the file of its ARNs."""
    with Session(url, account_id=account) as session:
        _, arns = harness.ingest_bulk(session, nodes, edges)
    arns_file = os.path.join(tmp, f"arns-{tag}.json")
    Path(arns_file).write_text(json.dumps(arns))
    return arns_file


def run_mixed(
    kind: str, queries: int, tmp: str, postgres: str | None, mlmd_python: str | None, server: bool
) -> list[dict[str, Any]]:
    """The mixed workload on every graph of ``kind``, on each store and client asked for."""
    from mllineage.server.testing import ServerProcess

    results = []
    for name, size in GRAPHS[kind]:
        nodes, edges = graph(name, size)
        tag = f"{name}-{size}"
        url, path = f"sqlite:///{tmp}/mixed-{tag}.db", f"{tmp}/mixed-{tag}.db"
        account = "000000000000"
        arns_file = _build(url, account, nodes, edges, tmp, tag)
        arns = json.loads(Path(arns_file).read_text())
        ids = entity_ids(url, arns)
        plan = make_plan(nodes, ids, sqlite_floor(path), queries)
        plan_file = os.path.join(tmp, f"plan-{tag}.json")
        Path(plan_file).write_text(json.dumps([[p.start, p.direction, p.depth] for p in plan]))
        ids_file = os.path.join(tmp, f"ids-{tag}.json")
        Path(ids_file).write_text(json.dumps(ids))
        base = {"arns": arns_file, "plan": plan_file, "ids": ids_file, "graph": name}
        base |= {"size": size, "account": account, "path": path}
        row: dict[str, Any] = {"graph": name, "vertices": len(nodes), "edges": len(edges)}
        row["sqlite"] = _worker(base | {"query_url": url, "write_url": url, "floor": "sqlite"}, tmp)
        if server:
            with ServerProcess(url, credentials={KEY_ID: (SECRET, account)}) as process:
                env = {"MLLINEAGE_ACCESS_KEY_ID": KEY_ID, "MLLINEAGE_SECRET_ACCESS_KEY": SECRET}
                spec = base | {"query_url": process.url, "write_url": process.url}
                row["sqlite_server"] = _worker(spec, tmp, env)
        if postgres:
            pg_account = f"{random.Random(size).randrange(10**12):012d}"
            pg_arns = _build(postgres, pg_account, nodes, edges, tmp, f"pg-{tag}")
            pg_ids_file = os.path.join(tmp, f"pg-ids-{tag}.json")
            Path(pg_ids_file).write_text(
                json.dumps(entity_ids(postgres, json.loads(Path(pg_arns).read_text())))
            )
            spec = base | {"arns": pg_arns, "ids": pg_ids_file, "account": pg_account}
            row["postgres"] = _worker(
                spec | {"query_url": postgres, "write_url": postgres, "floor": "postgres"}, tmp
            )
        if mlmd_python and name == "diamond":
            row["mlmd"] = _mlmd(mlmd_python, name, size, plan_file, tmp)
        results.append(row)
    return results


def _cell(figures: dict[str, float] | None, floor: dict[str, float] | None = None) -> str:
    if not figures:
        return ""
    text = f"{figures['median_ms']:.2f} / {figures['p99_ms']:.2f} ms"
    if floor:
        text += (
            f" ({figures['median_ms'] / floor['median_ms']:.1f}×"
            f" / {figures['p99_ms'] / floor['median_ms']:.1f}× floor)"
        )
    return text


def table(results: list[dict[str, Any]]) -> str:
    """The mixed workload's markdown: one table per graph, a row per direction and depth."""
    lines = [
        "Each cell: median / 99th percentile of the queries of that direction and depth, from"
        f" random starts, with one write by another process after every {WRITE_EVERY} queries"
        " (× floor: to the floor's median). Floors are ids only: per-hop BFS with raw sqlite3;"
        " on PostgreSQL the better of per-hop BFS and a recursive CTE. Warm: every store and"
        " client was opened and asked one query first; the operating system's file cache is"
        " warm (the graph was just built). SQLite with synchronous=NORMAL (WAL)."
    ]
    for row in results:
        stores = [
            (key, label)
            for key, label in (
                ("sqlite", "mllineage, SQLite file"),
                ("sqlite_server", "through the server (SQLite, SigV4)"),
                ("postgres", "mllineage, PostgreSQL"),
            )
            if key in row
        ]
        header = "| direction, depth |" + "".join(
            f" {label} | floor ({'PostgreSQL' if key == 'postgres' else 'SQLite'}) |"
            if "floor" in row[key]
            else f" {label} |"
            for key, label in stores
        )
        if "mlmd" in row:
            header += " ML Metadata 1.17.1 | mllineage SQLite ÷ MLMD (median) |"
        lines += ["", f"**{row['graph']}**, {row['vertices']:,} vertices, {row['edges']:,} edges:"]
        lines += ["", header, "|" + "---|" * (header.count("|") - 1)]
        for shape in row["sqlite"]["mllineage"]:
            cells = ""
            for key, _ in stores:
                part = row[key]
                floor = part.get("floor", {}).get(shape) if "floor" in part else None
                cells += f" {_cell(part['mllineage'].get(shape), floor)} |"
                if "floor" in part:
                    cells += f" {_cell(floor)} |"
            if "mlmd" in row:
                m = row["mlmd"].get(shape)
                ratio = row["sqlite"]["mllineage"][shape]["median_ms"] / m["median_ms"] if m else 0
                cells += f" {_cell(m)} | {ratio:.2f}× |"
            lines.append(f"| {shape} |{cells}")
        repeat = row["sqlite"]["repeat"]
        first = next(iter(repeat.values()))
        lines += [
            "",
            f"Repeats of one query (the first of the plan, {next(iter(repeat))}) with no writes:"
            f" {first['median_ms']:.2f} ms median on the SQLite file: what a cache of answers"
            " gives when nothing changes, not what the workload above sees.",
        ]
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1] == "--writer":
        url, account, name, size, arns_file = sys.argv[2:7]
        writer_main(url, account, name, int(size), arns_file)
    elif sys.argv[1] == "--query-worker":
        print(json.dumps(query_worker(json.loads(Path(sys.argv[2]).read_text()))))


if __name__ == "__main__":
    main()
