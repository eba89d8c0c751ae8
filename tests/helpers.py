"""Small helpers for tests: building lineage through the store API, checking refusals, and
bulk-loading large graphs for the limit tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.exceptions
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from mllineage.errors import ClientError
from mllineage.store.base import Store
from mllineage.store.common import now_us
from mllineage.store.sql.schema import associations, entities
from mllineage.store.sql.store import SqlStore

_serial = itertools.count()


def unique(prefix: str = "e") -> str:
    """A name (and ARN-safe) no other call returns."""
    return f"{prefix}-{next(_serial)}-{uuid.uuid4().hex[:6]}"


@contextmanager
def refused(error: type[ClientError], match: str) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """``pytest.raises`` that also checks the error is botocore's, with the right AWS code."""
    with pytest.raises(error, match=match) as info:
        yield info
    assert isinstance(info.value, botocore.exceptions.ClientError)
    assert info.value.response["Error"]["Code"] == error.code


def artifact(store: Store, uri: str | None = None, **request: Any) -> str:
    """Create an artifact (of type Dataset, with a unique source unless given); its ARN."""
    request.setdefault("ArtifactType", "Dataset")
    request.setdefault("Source", {"SourceUri": uri or f"s3://bucket/{unique('data')}"})
    return str(store.create_artifact(**request)["ArtifactArn"])


def action(store: Store, name: str | None = None, **request: Any) -> str:
    request.setdefault("ActionType", "Training")
    return str(store.create_action(ActionName=name or unique("act"), **request)["ActionArn"])


def context(store: Store, name: str | None = None, **request: Any) -> str:
    request.setdefault("ContextType", "Pipeline")
    return str(store.create_context(ContextName=name or unique("ctx"), **request)["ContextArn"])


def link(store: Store, source: str, destination: str, kind: str = "ContributedTo") -> None:
    store.add_association(SourceArn=source, DestinationArn=destination, AssociationType=kind)


def chain(store: Store, length: int) -> list[str]:
    """``length`` artifacts linked oldest to newest; their ARNs in order."""
    arns = [artifact(store) for _ in range(length)]
    for source, destination in itertools.pairwise(arns):
        link(store, source, destination)
    return arns


def chain_request(length: int, prefix: str) -> dict[str, Any]:
    """A PutLineage request for ``length`` new artifacts, each derived into the next."""
    made: list[dict[str, Any]] = [
        {
            "EntityKind": "artifact",
            "ArtifactType": "Dataset",
            "Source": {"SourceUri": f"s3://bulk/{prefix}/{i}"},
        }
        for i in range(length)
    ]
    links = [
        {"Source": i, "Destination": i + 1, "AssociationType": "DerivedFrom"}
        for i in range(length - 1)
    ]
    return {"Entities": made, "Associations": links}


def edges_of(store: Store) -> set[tuple[str, str]]:
    """Every association of the store's account, as (source, destination) pairs."""
    return {
        (a["SourceArn"], a["DestinationArn"])
        for a in store.paginate("list_associations", "AssociationSummaries", MaxResults=100)
    }


def is_acyclic(edges: Iterable[tuple[str, str]]) -> bool:
    """Kahn's algorithm: can every vertex be put in a topological order?"""
    out: dict[str, list[str]] = {}
    indegree: dict[str, int] = {}
    for source, destination in edges:
        out.setdefault(source, []).append(destination)
        indegree.setdefault(source, 0)
        indegree[destination] = indegree.get(destination, 0) + 1
    ready = [v for v, d in indegree.items() if d == 0]
    ordered = 0
    while ready:
        vertex = ready.pop()
        ordered += 1
        for nxt in out.get(vertex, []):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return ordered == len(indegree)


# -- bulk loading ---------------------------------------------------------------------------
# Building 10,000 entities through the API takes tens of seconds; the limit tests load the
# bulk of their graph with plain INSERTs of the rows the API would write, then cross the limit
# through the API.


def bulk_artifacts(store: Store, count: int, *, same_time: bool = False) -> list[str]:
    """Insert ``count`` artifacts of ``store``'s account directly; their ARNs, oldest first.
    With ``same_time`` they share one creation time, as writers in several processes can."""
    if not isinstance(store, SqlStore):
        pytest.skip(f"bulk loading needs direct database access, not {type(store).__name__}")
    at = now_us()
    rows = [
        {
            "scope": store.scope,
            "kind": "artifact",
            "arn": f"{store.scope}artifact/{uuid.uuid4().hex}",
            "type": "Bulk",
            "properties": "{}",
            "tags": "[]",
            "created_at": at if same_time else at + i,
            "created_by": store.actor_json,
            "modified_at": at if same_time else at + i,
            "modified_by": store.actor_json,
        }
        for i in range(count)
    ]
    store.db.run(lambda conn: conn.execute(insert(entities), rows), write=True)
    return [row["arn"] for row in rows]


def bulk_links(store: Store, pairs: Iterable[tuple[str, str]]) -> None:
    """Insert associations (source ARN, destination ARN) directly; sources must be older."""
    assert isinstance(store, SqlStore)
    pairs = list(pairs)
    arns = {arn for pair in pairs for arn in pair}
    at = now_us()

    def load(conn: Connection) -> None:
        rows = conn.execute(select(entities.c.arn, entities.c.id).where(entities.c.arn.in_(arns)))
        ids = {arn: entity_id for arn, entity_id in rows}
        conn.execute(
            insert(associations),
            [
                {
                    "src_id": ids[source],
                    "dst_id": ids[destination],
                    "type": "ContributedTo",
                    "scope": store.scope,
                    "created_at": at + i,
                    "created_by": store.actor_json,
                }
                for i, (source, destination) in enumerate(pairs)
            ],
        )

    store.db.run(load, write=True)  # the store's own transaction: BEGIN IMMEDIATE on SQLite
