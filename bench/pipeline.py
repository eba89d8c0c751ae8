"""The pipeline-graph section, run in a child process per size so that its peak RSS is its own."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

from bench import harness
from bench.workloads import Node, pipeline
from mllineage import Action, Artifact, Association, LineageQuery, Session

# The first page (50) of each list, through the public API.
LISTS: dict[str, dict[str, Any]] = {
    "models": {"artifact_type": "Model"},  # newest first
    "raw": {"source_uri": "s3://bench/raw"},  # under a source URI, newest first
    "oldest_datasets": {"artifact_type": "Dataset", "sort_order": "Ascending"},
}


def run_pipeline(size: int, repeats: int, postgres: str | None = None) -> dict[str, Any]:
    """The section on a new SQLite file, or in a new account of the PostgreSQL database at
    ``postgres``."""
    nodes, edges = pipeline(size)
    with tempfile.TemporaryDirectory(prefix="mllineage-pipeline-") as tmp:
        with (
            Session(f"sqlite:///{os.path.join(tmp, 'pipeline.db')}")
            if postgres is None
            else harness.pg_session(postgres)
        ) as session:
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
            reached: list[str] = []
            for label, (arn, direction) in starts.items():
                # The same query as of an instant (now: the same answer), then with changes
                # made after that instant (replayed from history where they touch it).
                ms, graph, as_of_ms, first_ms = _live_and_as_of(
                    session, arn, direction, now, repeats
                )
                reached += [v["Arn"] for v in graph["Vertices"]]
                out[label] = {
                    "ms": ms,
                    "as_of_ms": as_of_ms,
                    "first_as_of_ms": first_ms,
                    "vertices": len(graph["Vertices"]),
                    "edges": len(graph["Edges"]),
                }
            out["lists"] = _list_ms(session, repeats)
            out["changes_after"] = _change_some(session, reached)
            for label, (arn, direction) in starts.items():
                ms, _graph, as_of_ms, first_ms = _live_and_as_of(
                    session, arn, direction, now, repeats, expect=out[label]
                )
                out[label] |= {
                    "changed_ms": ms,
                    "changed_as_of_ms": as_of_ms,
                    "changed_first_as_of_ms": first_ms,
                }
            out["associate_ms"] = _associate_ms(session, arns[f"r{late}-model"], repeats)
    return out


def _live_and_as_of(
    session: Session,
    arn: str,
    direction: str,
    at: datetime,
    repeats: int,
    expect: dict[str, Any] | None = None,
) -> tuple[float, dict[str, Any], float, float]:
    """Median ms of the live query, its answer, median ms of the query ``as_of`` ``at`` (whose
    answer is the live one, or ``expect``'s size when there were changes since) and ms of the
    first of those."""
    ms, graph = harness.median_ms(harness.lineage_query(session, arn, direction, 10), repeats)
    as_of = LineageQuery([arn], direction, max_depth=10, sagemaker_session=session, as_of=at)
    start = time.perf_counter()
    as_of.query()  # the first at this instant: nothing replayed is cached yet
    first_ms = (time.perf_counter() - start) * 1000
    as_of_ms, then = harness.median_ms(as_of.query, repeats)
    size = expect or {"vertices": len(graph["Vertices"]), "edges": len(graph["Edges"])}
    assert len(then["Vertices"]) == size["vertices"], arn
    assert len(then["Edges"]) == size["edges"], arn
    return ms, graph, as_of_ms, first_ms


def _list_ms(session: Session, repeats: int) -> dict[str, dict[str, Any]]:
    """Median ms of each of ``LISTS`` and how many artifacts it returned."""
    out = {}
    for label, filters in LISTS.items():

        def page(filters: dict[str, Any] = filters) -> list[Artifact]:
            return list(Artifact.list(max_results=50, sagemaker_session=session, **filters))

        ms, found = harness.median_ms(page, repeats)
        out[label] = {"ms": ms, "count": len(found)}
    return out


def _change_some(session: Session, reached: list[str], updates: int = 300, links: int = 50) -> str:
    """Change the graph where the queries walk: update the properties of ``updates``
    artifacts they reach, and link ``links`` of them to new actions. What was done, for the
    report."""
    artifacts = [a for a in dict.fromkeys(reached) if ":artifact/" in a][:updates]
    for i, arn in enumerate(artifacts):
        session.store.update_artifact(ArtifactArn=arn, Properties={"reviewed": str(i)})
    for i, arn in enumerate(artifacts[:links]):
        review = harness.create_one(session, Node(f"review-{i}", "action", "Review"))
        Association.create(arn, review, "ContributedTo", sagemaker_session=session)
    return f"{len(artifacts)} property updates and {min(links, len(artifacts))} new associations"


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

    ms, _ = harness.median_ms(associate, repeats * 20, min_seconds=0)  # (one action a call)
    assert Action.load(actions[0], sagemaker_session=session)
    return ms
