"""Time travel looks ARNs up in the change log's indexes: no statement of an ``AsOf`` lineage
query or entity read walks the whole log (by table scan, by time, or through the index on
``peer_arn`` for every entity change), so its cost follows the answer, not the history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mllineage.store.common import now_us, us_to_datetime
from mllineage.store.sql.store import SqlStore
from tests.test_query_plan import sqlite_plan, sqlite_statements


def _artifact(i: int) -> dict[str, Any]:
    return {
        "EntityKind": "artifact",
        "ArtifactType": "Dataset",
        "Source": {"SourceUri": f"s3://plan/{i}"},
    }


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'plan.db'}")
    yield store
    store.close()


def test_as_of_statements_search_by_arn(sqlite_store: SqlStore) -> None:
    store = sqlite_store
    # Through the store (PutLineage), and a prune that writes its creations (kept in the live
    # rows until then) to the change log: a log of 9,000 rows.
    store.put_lineage(
        Entities=[_artifact(i) for i in range(6_000)],
        Associations=[{"Source": i, "Destination": i + 1} for i in range(0, 6_000, 2)],
    )
    store.prune_history(Before=us_to_datetime(now_us() + 1))
    # These creations stay in the live rows: their reads are index lookups too.
    root, *children = store.put_lineage(
        Entities=[_artifact(i) for i in range(6_000, 6_011)],
        Associations=[{"Source": 0, "Destination": i} for i in range(1, 11)],
    )["Arns"]
    at = us_to_datetime(now_us())
    # Changed after the instant, so that the queries replay the root's row and associations.
    store.update_artifact(ArtifactArn=root, Properties={"v": "2"})
    extra = store.create_artifact(ArtifactType="Dataset", Source={"SourceUri": "s3://plan/x"})
    store.add_association(SourceArn=root, DestinationArn=extra["ArtifactArn"])
    store.db.run(lambda conn: conn.exec_driver_sql("ANALYZE changes"), write=True)
    with sqlite_statements(store) as statements:
        for direction in ("Ascendants", "Descendants", "Both"):
            store.lineage_graph(StartArns=[children[0]], Direction=direction, AsOf=at)
        store.describe_entity(EntityKind="artifact", ArtifactArn=root, AsOf=at)
        store.list_associations_as_of(SourceArn=root, AsOf=at)
        store.list_changes(Arn=root, IncludeAssociations=False)
        store.list_changes(Arn=root)
    kept = [s for s in statements if "log_id IS NOT NULL" in s]
    assert kept
    for statement in kept:
        plan = " | ".join(sqlite_plan(store, statement))
        assert not re.search(r"SCAN (e|a|s|d|entities|associations)\b", plan), (
            f"{statement}\n  plan: {plan}"
        )
    reads = [s for s in statements if re.match(r"\s*SELECT\b.*\bFROM changes\b", s, re.S)]
    assert len(reads) > 6
    assert any("WHERE arn IN" in s for s in reads)  # replayed rows and associations
    assert any("WHERE peer_arn IN" in s for s in reads)
    for statement in reads:
        plan = " | ".join(sqlite_plan(store, statement))
        assert "SCAN changes" not in plan, f"{statement}\n  plan: {plan}"
        # What changed since the instant is a range of the time index; the rest are ARN lookups.
        index = (
            r"ix_changes_at \(at>\?"
            if "WHERE at >" in statement
            else (r"ix_changes_(arn|peer_arn) \((arn|peer_arn)=\?")
        )
        assert re.search(index, plan), f"{statement}\n  plan: {plan}"
