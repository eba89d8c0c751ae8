"""The pipeline-graph section, run in a child process per size so that its peak RSS is its own."""

from __future__ import annotations

import os
import resource
import tempfile
from datetime import datetime, timezone
from typing import Any

from bench import harness
from bench.workloads import Node, pipeline
from mllineage import Action, Association, LineageQuery, Session


def run_pipeline(size: int, repeats: int) -> dict[str, Any]:
    nodes, edges = pipeline(size)
    with tempfile.TemporaryDirectory(prefix="mllineage-pipeline-") as tmp:
        with Session(f"sqlite:///{os.path.join(tmp, 'pipeline.db')}") as session:
            rate, arns = harness.ingest_bulk(session, nodes, edges)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            runs = len([n for n in nodes if n.key.endswith("-ctx")])
            late = runs - 2
            out: dict[str, Any] = {
                "vertices": len(nodes),
                "edges": len(edges),
                "bulk_rows_per_s": rate,
                "peak_rss_mb": peak_mb,
            }
            starts = {
                "impact": (arns["raw1"], "Descendants"),
                "provenance": (arns[f"r{late}-model"], "Ascendants"),
                "both": (arns[f"r{late}-train"], "Both"),
            }
            now = datetime.now(timezone.utc)
            for label, (arn, direction) in starts.items():
                ms, graph = harness.median_ms(
                    harness.lineage_query(session, arn, direction, 10), repeats
                )
                # The same query as of an instant (now: the same answer), replayed from history.
                as_of_ms, then = harness.median_ms(
                    LineageQuery(
                        [arn], direction, max_depth=10, sagemaker_session=session, as_of=now
                    ).query,
                    repeats,
                )
                assert len(then["Vertices"]) == len(graph["Vertices"]), label
                assert len(then["Edges"]) == len(graph["Edges"]), label
                out[label] = {
                    "ms": ms,
                    "as_of_ms": as_of_ms,
                    "vertices": len(graph["Vertices"]),
                    "edges": len(graph["Edges"]),
                }
            out["associate_ms"] = _associate_ms(session, arns[f"r{late}-model"], repeats)
    return out


def _associate_ms(session: Session, model_arn: str, repeats: int) -> float:
    """Median ms of one ``Association.create`` (with its DAG check) from a late model to a
    new action, on a store of this size."""
    actions = [
        harness.create_one(session, Node(f"extra-deploy-{i}", "action", "Deployment"))
        for i in range(repeats * 20 + 1)
    ]
    pending = iter(actions)

    def associate() -> None:
        Association.create(model_arn, next(pending), "ContributedTo", sagemaker_session=session)

    ms, _ = harness.median_ms(associate, repeats * 20)
    assert Action.load(actions[0], sagemaker_session=session)
    return ms
