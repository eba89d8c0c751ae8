"""Concurrent writers: many processes ingest through the public API into one store at once
(an SQLite file, PostgreSQL, two servers in front of either), half of them one call per
entity and association, half in ``Session.bulk()`` blocks. No caller sees an error, and
afterwards every entity, property, tag and association is there.

The long run is the issue's scale: 8 processes x 2,000 entities and 2,000 associations each.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from mllineage import Artifact, Association, Context, Session
from tests.conftest import needs_postgres
from tests.helpers import is_acyclic
from tests.reliability.stores import (
    BACKINGS,
    Target,
    every_artifact,
    every_edge,
    new_key,
    server_targets,
    sql_target,
)
from tests.test_concurrency import run_together

FAST = {"processes": 4, "entities": 120}
FAST_HTTP = {"processes": 4, "entities": 40}  # a server call costs more than a store call
LONG = {"processes": 8, "entities": 2000}


BLOCK = 100  # artifacts per Session.bulk() block


def ingest(target: Target, tag: str, count: int, hub: str, barrier: Any) -> list[str]:
    """Create ``count`` artifacts (each with properties and a tag) chained by associations,
    the first one tied to the shared ``hub`` context: ``count`` entities and ``count``
    associations, one call each. Any error escapes and fails the test."""
    session = Session(store=target.open())
    try:
        barrier.wait()
        arns: list[str] = []
        for i in range(count):
            arn = Artifact.create(
                artifact_name=f"{tag}-{i}",
                artifact_type="Dataset",
                source={"source_uri": f"s3://reliability/{tag}/{i}"},
                properties={"writer": tag, "index": str(i)},
                tags=[{"Key": "writer", "Value": tag}],
                sagemaker_session=session,
            ).artifact_arn
            if arns:
                Association.create(arns[-1], arn, "ContributedTo", sagemaker_session=session)
            else:
                Association.create(arn, hub, "AssociatedWith", sagemaker_session=session)
            arns.append(arn)
        return arns
    finally:
        session.close()


def ingest_bulk(target: Target, tag: str, count: int, hub: str, barrier: Any) -> list[str]:
    """The same lineage as :func:`ingest`, written in ``Session.bulk()`` blocks."""
    session = Session(store=target.open())
    try:
        barrier.wait()
        arns: list[str] = []
        for start in range(0, count, BLOCK):
            with session.bulk() as bulk:
                refs = [
                    bulk.artifact(
                        artifact_name=f"{tag}-{i}",
                        artifact_type="Dataset",
                        source={"source_uri": f"s3://reliability/{tag}/{i}"},
                        properties={"writer": tag, "index": str(i)},
                        tags=[{"Key": "writer", "Value": tag}],
                    )
                    for i in range(start, min(start + BLOCK, count))
                ]
                if arns:
                    bulk.associate(arns[-1], refs[0], "ContributedTo")
                else:
                    bulk.associate(refs[0], hub, "AssociatedWith")
                for source, destination in zip(refs, refs[1:], strict=False):
                    bulk.associate(source, destination, "ContributedTo")
            arns.extend(ref.arn for ref in refs)
        return arns
    finally:
        session.close()


def run_writers(
    writers: list[Target], reader: Target, scale: dict[str, int], figures: dict[str, Any]
) -> None:
    processes, count = scale["processes"], scale["entities"]
    store = reader.open()
    try:
        hub = Context.create(
            context_name=f"hub-{new_key()}",
            context_type="Pipeline",
            sagemaker_session=Session(store=store),
        ).context_arn
        run = new_key()
        created = run_together(
            *[
                # Half the writers call per entity, half write bulk blocks.
                (
                    (ingest, ingest_bulk)[i % 2],
                    (writers[i % len(writers)], f"{run}-w{i}", count, hub),
                )
                for i in range(processes)
            ],
            timeout=1800,
        )
        expected = {arn for arns in created for arn in arns}
        listed = every_artifact(store)
        edges = every_edge(store)
        lost_entities = expected - listed
        chain_links = {pair for arns in created for pair in zip(arns, arns[1:], strict=False)}
        hub_links = {(arns[0], hub) for arns in created}
        lost_edges = (chain_links | hub_links) - edges
        # Properties and tags came with every entity: look at a sample of each writer's.
        sample = [
            (i, arn) for arns in created for i, arn in random.sample(list(enumerate(arns)), 25)
        ]
        for index, arn in sample:
            described = store.describe_artifact(ArtifactArn=arn)
            assert described["Properties"]["index"] == str(index)
            assert store.list_tags(ResourceArn=arn)["Tags"][0]["Key"] == "writer"
        figures.update(
            processes=processes,
            writers_via=len(writers),
            entities_written=len(expected),
            associations_written=len(chain_links | hub_links),
            writes=2 * processes * count,  # entities + associations
            errors=0,
            lost_entities=len(lost_entities),
            lost_associations=len(lost_edges),
        )
        assert len(expected) == processes * count
        assert not lost_entities
        assert not lost_edges
        assert len(edges) == processes * count
        assert is_acyclic(edges)
    finally:
        store.close()


def _backing(name: str) -> Any:
    marks = [pytest.mark.postgres, needs_postgres] if name == "postgres" else []
    return pytest.param(name, id=name, marks=marks)


def _scales(fast: dict[str, int]) -> list[Any]:
    return [pytest.param(fast, id="fast"), pytest.param(LONG, id="long", marks=pytest.mark.slow)]


@pytest.mark.parametrize("scale", _scales(FAST))
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_processes_write_one_store(
    backing: str, scale: dict[str, int], tmp_path: Path, figures: dict[str, Any]
) -> None:
    target = sql_target(backing, tmp_path)
    run_writers([target], target, scale, figures)


@pytest.mark.parametrize("scale", _scales(FAST_HTTP))
@pytest.mark.parametrize("backing", [_backing(b) for b in BACKINGS])
def test_processes_write_through_two_servers(
    backing: str, scale: dict[str, int], tmp_path: Path, figures: dict[str, Any]
) -> None:
    with server_targets(sql_target(backing, tmp_path)) as servers:
        run_writers(servers, servers[0], scale, figures)
