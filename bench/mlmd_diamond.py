"""ML Metadata on the diamond DAG: per-call ingest and upstream lineage queries.

Runs under a separate Python with ml-metadata installed (it pins old protobuf and Python):

    python3.11 -m venv .mlmd-venv && .mlmd-venv/bin/pip install ml-metadata==1.17.1
    .mlmd-venv/bin/python bench/mlmd_diamond.py --n 10000 --db /tmp/mlmd.db

Prints one JSON object: calls/s of per-call ingest and the median ms of each query depth.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ml_metadata.metadata_store import metadata_store  # noqa: E402
from ml_metadata.proto import metadata_store_pb2 as pb  # noqa: E402

from bench.workloads import diamond  # noqa: E402


def open_store(path: str) -> tuple[Any, int, int]:
    """A fresh ML Metadata SQLite store and its two types."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = 3
    store = metadata_store.MetadataStore(config)
    dataset_type = store.put_artifact_type(pb.ArtifactType(name="Dataset"))
    processing_type = store.put_execution_type(pb.ExecutionType(name="Processing"))
    return store, dataset_type, processing_type


def ingest(path: str, n: int, budget: int | None = None) -> tuple[Any, dict[str, int], float]:
    """One put call per node, then per edge, of the diamond of ``n`` (the first ``budget``
    calls, as mllineage's per-call figure): the store, its ids and the calls per second."""
    store, dataset_type, processing_type = open_store(path)
    nodes, edges = diamond(n)
    budget = budget or len(nodes) + len(edges)
    ids: dict[str, int] = {}
    calls = 0
    start = time.perf_counter()
    for node in nodes[:budget]:
        if node.kind == "artifact":
            [ids[node.key]] = store.put_artifacts(
                [pb.Artifact(type_id=dataset_type, uri=node.uri, name=node.key)]
            )
        else:
            [ids[node.key]] = store.put_executions(
                [pb.Execution(type_id=processing_type, name=node.key)]
            )
        calls += 1
    for edge in edges:
        if calls >= budget:
            break
        if edge.src not in ids or edge.dst not in ids:
            continue
        if edge.src.startswith("d"):  # dataset -> action: an input event
            event = pb.Event(
                artifact_id=ids[edge.src], execution_id=ids[edge.dst], type=pb.Event.INPUT
            )
        else:
            event = pb.Event(
                artifact_id=ids[edge.dst], execution_id=ids[edge.src], type=pb.Event.OUTPUT
            )
        store.put_events([event])
        calls += 1
    return store, ids, calls / (time.perf_counter() - start)


_DIRECTIONS = {
    "Ascendants": pb.LineageSubgraphQueryOptions.Direction.UPSTREAM,
    "Descendants": pb.LineageSubgraphQueryOptions.Direction.DOWNSTREAM,
    "Both": pb.LineageSubgraphQueryOptions.Direction.BIDIRECTIONAL,
}


def mixed(store: Any, ids: dict[str, int], n: int, plan_file: str) -> dict[str, Any]:
    """bench/mixed.py's plan on ML Metadata: each query timed alone, and after every 10 one
    write (alternately a custom property of a random dataset and a new input event from an
    earlier dataset to a later action), as mllineage's writer process makes them."""
    import random

    with open(plan_file) as f:
        plan = json.load(f)
    rng = random.Random(99)
    times: dict[str, list[float]] = {}
    for i, (start, direction, depth) in enumerate(plan):
        if i and i % 10 == 0:
            if i % 20 == 0:
                [artifact] = store.get_artifacts_by_id([ids[f"d{rng.randrange(n + 1)}"]])
                artifact.custom_properties["bench_touch"].string_value = str(i)
                store.put_artifacts([artifact])
            else:
                a = rng.randrange(1, n)
                event = pb.Event(
                    artifact_id=ids[f"d{rng.randrange(a)}"],
                    execution_id=ids[f"a{a}"],
                    type=pb.Event.INPUT,
                )
                try:
                    store.put_events([event])
                except Exception:  # noqa: BLE001 - an event that exists: as mllineage's writer
                    pass
        nodes = pb.LineageSubgraphQueryOptions.StartingNodes(filter_query=f"id = {ids[start]}")
        options = pb.LineageSubgraphQueryOptions(
            max_num_hops=depth, direction=_DIRECTIONS[direction]
        )
        if start.startswith("d"):
            options.starting_artifacts.CopyFrom(nodes)
        else:
            options.starting_executions.CopyFrom(nodes)
        t = time.perf_counter()
        store.get_lineage_subgraph(query_options=options)
        times.setdefault(f"{direction} {depth}", []).append(time.perf_counter() - t)
    out = {}
    for shape, values in sorted(times.items()):
        values.sort()
        out[shape] = {
            "median_ms": statistics.median(values) * 1000,
            "p99_ms": values[min(len(values) - 1, round(0.99 * (len(values) - 1)))] * 1000,
            "queries": len(values),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", required=True)
    parser.add_argument("--depths", default="10,20")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--calls", type=int, help="also time this many per-call writes as mllineage does"
    )
    parser.add_argument("--call-runs", type=int, default=1, help="the median of this many")
    parser.add_argument("--mixed", help="a plan of bench/mixed.py: run it, with its writes")
    args = parser.parse_args()
    if args.mixed:
        store, ids, _ = ingest(args.db, args.n)
        print(json.dumps(mixed(store, ids, args.n, args.mixed)))
        return
    out: dict[str, Any] = {}
    if args.calls:
        out["per_call_calls_per_s"] = statistics.median(
            ingest(f"{args.db}.calls{run}", max(10, args.calls // 3), args.calls)[2]
            for run in range(args.call_runs)
        )
    store, ids, out["ingest_calls_per_s"] = ingest(args.db, args.n)

    last = ids[f"d{args.n}"]
    queries = {}
    for depth in (int(d) for d in args.depths.split(",")):
        options = pb.LineageSubgraphQueryOptions(
            starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(
                filter_query=f"id = {last}"
            ),
            max_num_hops=depth,
            direction=pb.LineageSubgraphQueryOptions.Direction.UPSTREAM,
        )
        # As mllineage's queries are timed (bench/harness.py): after one warm-up call, at
        # least --repeats calls and at least 0.25 s of them.
        store.get_lineage_subgraph(query_options=options)
        times, size = [], 0
        while len(times) < args.repeats or (sum(times) < 0.25 and len(times) < 2_000):
            t = time.perf_counter()
            graph = store.get_lineage_subgraph(query_options=options)
            times.append(time.perf_counter() - t)
            size = len(graph.artifacts) + len(graph.executions)
        queries[str(depth)] = {
            "ms": statistics.median(times) * 1000,
            "vertices": size,
            "edges": len(graph.events),
        }
    print(json.dumps(out | {"queries": queries}))


if __name__ == "__main__":
    main()
