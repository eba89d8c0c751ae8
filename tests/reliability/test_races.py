"""Races on the DAG: two processes call ``Association.create`` between the same two entities in
opposite directions at the same instant, round after round, directly on the store and through
two servers. In every round exactly one call succeeds, and a full topological sort of the
graph afterwards proves it acyclic.

The 100-round store race of ``tests/test_concurrency.py`` is the fast variant; here run the
long one (1,000 rounds) and the two-server race. Pipelines that rerun race too: processes
calling ``get_or_create`` for the same entities and associations at once all get the same
ones back, and none sees an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mllineage import Action, Artifact, Association, Context, Session
from mllineage.store.base import Store
from mllineage.store.sql.store import SqlStore
from tests.conftest import needs_postgres
from tests.helpers import is_acyclic
from tests.reliability.stores import (
    BACKINGS,
    Target,
    every_artifact,
    every_edge,
    server_targets,
    sql_target,
)
from tests.test_concurrency import delete_each, make_artifacts, outcome, run_together


def create_each(target: Target, pairs: list[tuple[str, str]], barrier: Any) -> list[str]:
    """``Association.create`` for each pair, all workers in step: the outcome of every call."""
    session = Session(store=target.open())
    try:
        results = []
        for source, destination in pairs:
            barrier.wait()
            results.append(
                outcome(
                    lambda s=source, d=destination: Association.create(
                        s, d, "ContributedTo", sagemaker_session=session
                    )
                )
            )
        return results
    finally:
        session.close()


def race(left: Target, right: Target, reader: Target, rounds: int, figures: dict[str, Any]) -> None:
    store = reader.open()
    try:
        arns = _artifacts(store, 2 * rounds)
        pairs = [(arns[2 * i], arns[2 * i + 1]) for i in range(rounds)]
        forward, backward = run_together(
            (create_each, (left, pairs)),
            (create_each, (right, [(b, a) for a, b in pairs])),
            timeout=1800,
        )
        both = [i for i, o in enumerate(zip(forward, backward, strict=True)) if o == ("ok", "ok")]
        bad = [
            (i, o)
            for i, o in enumerate(zip(forward, backward, strict=True))
            if sorted(o) != ["ValidationException", "ok"]
        ]
        edges = every_edge(store)
        figures.update(
            processes=2,
            rounds=rounds,
            calls=2 * rounds,
            both_succeeded=len(both),
            unexpected_outcomes=len(bad),
            edges=len(edges),
            cycles=0 if is_acyclic(edges) else 1,
        )
        assert not bad, bad[:5]
        assert len(edges) == rounds
        assert is_acyclic(edges)
    finally:
        store.close()


def _artifacts(store: Store, count: int) -> list[str]:
    """``count`` new artifacts, in one write (a batch, or PutLineage through a server)."""
    if isinstance(store, SqlStore):
        return make_artifacts(store, count)
    answer = store.put_lineage(
        Entities=[
            {"EntityKind": "artifact", "ArtifactType": "Race", "Source": {"SourceUri": f"s3://{i}"}}
            for i in range(count)
        ],
        Associations=[],
    )
    return list(answer["Arns"])


def _backing(name: str) -> Any:
    marks = [pytest.mark.postgres, needs_postgres] if name == "postgres" else []
    return pytest.param(name, id=name, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_opposite_associations_race_long(
    backing: str, tmp_path: Path, figures: dict[str, Any]
) -> None:
    target = sql_target(backing, tmp_path)
    race(target, target, target, 1000, figures)


@pytest.mark.parametrize(
    "rounds", [pytest.param(30, id="fast"), pytest.param(1000, id="long", marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_opposite_associations_race_through_two_servers(
    backing: str, rounds: int, tmp_path: Path, figures: dict[str, Any]
) -> None:
    with server_targets(sql_target(backing, tmp_path)) as (one, two):
        race(one, two, one, rounds, figures)


def get_or_create_each(target: Target, names: list[str], barrier: Any) -> list[tuple[str, ...]]:
    """For each name, all workers in step: get-or-create an artifact (by source), an action
    and a context (by name) and the associations between them; the ARNs each call returned."""
    session = Session(store=target.open())
    try:
        found = []
        for name in names:
            barrier.wait()
            data = Artifact.get_or_create(
                artifact_type="Dataset",
                source={"source_uri": f"s3://rerun/{name}"},
                sagemaker_session=session,
            ).artifact_arn
            job = Action.get_or_create(
                action_name=name, action_type="Training", sagemaker_session=session
            ).action_arn
            run = Context.get_or_create(
                context_name=name, context_type="Run", sagemaker_session=session
            ).context_arn
            for source, destination in ((data, job), (job, run)):
                Association.get_or_create(source, destination, "ContributedTo", session)
            found.append((data, job, run))
        return found
    finally:
        session.close()


@pytest.mark.parametrize(
    ("processes", "rounds"),
    [pytest.param(2, 15, id="fast"), pytest.param(4, 500, id="long", marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_reruns_race_get_or_create(
    backing: str, processes: int, rounds: int, tmp_path: Path, figures: dict[str, Any]
) -> None:
    target = sql_target(backing, tmp_path)
    names = [f"rerun-{i}" for i in range(rounds)]
    results = run_together(
        *[(get_or_create_each, (target, names)) for _ in range(processes)], timeout=1800
    )
    store = target.open()
    try:
        edges = every_edge(store)
        artifacts = every_artifact(store)
    finally:
        store.close()
    disagreements = [i for i, got in enumerate(zip(*results, strict=True)) if len(set(got)) != 1]
    figures.update(
        processes=processes,
        rounds=rounds,
        calls=5 * processes * rounds,
        errors=0,
        disagreements=len(disagreements),
        duplicate_artifacts=len(artifacts) - rounds,
        associations=len(edges),
    )
    assert not disagreements
    assert len(edges) == 2 * rounds
    assert len({arns[0] for arns in results[0]}) == rounds
    assert len(artifacts) == rounds


def bulk_link_each(target: Target, arns: list[str], barrier: Any) -> list[str]:
    """For each ARN, all workers in step: a bulk block of one new artifact linked from it."""
    store = target.open()
    try:
        results = []
        for arn in arns:
            barrier.wait()
            results.append(
                outcome(
                    lambda a=arn: store.put_lineage(
                        Entities=[{"EntityKind": "artifact", "ArtifactType": "Late"}],
                        Associations=[
                            {"Source": a, "Destination": 0, "AssociationType": "ContributedTo"}
                        ],
                    )
                )
            )
        return results
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_delete_races_bulk_link(backing: str, tmp_path: Path, figures: dict[str, Any]) -> None:
    target = sql_target(backing, tmp_path)
    store = target.open()
    try:
        arns = _artifacts(store, 300)
        linked, deleted = run_together(
            (bulk_link_each, (target, arns)),
            (delete_each, (target.url, target.account, arns)),
            timeout=1800,
        )
        listed = every_artifact(store)
        edges = every_edge(store)
    finally:
        store.close()
    dangling = [edge for edge in edges if not set(edge) <= listed]
    figures.update(
        processes=2,
        rounds=len(arns),
        bulk_links_written=linked.count("ok"),
        bulk_links_refused=linked.count("ResourceNotFound"),
        deletes=deleted.count("ok"),
        dangling_associations=len(dangling),
    )
    assert deleted == ["ok"] * len(arns)
    assert set(linked) <= {"ok", "ResourceNotFound"}
    assert not dangling
    assert edges == set()  # every link that won its race went with its source
