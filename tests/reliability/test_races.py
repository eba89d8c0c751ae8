"""Races on the DAG: two processes call ``Association.create`` between the same two entities in
opposite directions at the same instant, round after round, directly on the store and through
two servers. In every round exactly one call succeeds, and a full topological sort of the
graph afterwards proves it acyclic.

The 100-round store race of ``tests/test_concurrency.py`` is the fast variant; here run the
long one (1,000 rounds) and the two-server race.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mllineage import Association, Session
from mllineage.store.base import Store
from mllineage.store.sql.store import SqlStore
from tests.conftest import needs_postgres
from tests.helpers import is_acyclic
from tests.reliability.stores import BACKINGS, Target, every_edge, server_targets, sql_target
from tests.test_concurrency import make_artifacts, outcome, run_together


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
