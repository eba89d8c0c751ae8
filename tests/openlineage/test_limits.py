"""Must hold 4 (second half): an hourly job reading one dataset never meets the limit of 1,000
associations per entity: its runs join the job through a context per day, and read the
dataset through a partition per day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mllineage import limits
from mllineage.capture.openlineage import DATASET_TYPE, JOB_TYPE, READ_TYPE, ingest
from mllineage.store.sql.store import SqlStore
from tests.openlineage.events import T0, new_run, run_event


def degree(store: SqlStore, arn: str) -> int:
    return sum(
        1
        for side in ("SourceArn", "DestinationArn")
        for _ in store.paginate("list_associations", "AssociationSummaries", **{side: arn})
    )


def hourly_job(runs: int) -> None:
    store = SqlStore("sqlite://")
    for hour in range(runs):
        at = T0 + timedelta(hours=hour)
        ingest(
            store,
            run_event(
                "COMPLETE", new_run(), job="hourly", at=at, inputs=("events",), outputs=("agg",)
            ),
        )
    days = -(-runs // 24)
    (job,) = store.list_contexts(ContextType=JOB_TYPE)["ContextSummaries"]
    assert degree(store, job["ContextArn"]) == days
    reads = list(
        store.paginate(
            "list_artifacts", "ArtifactSummaries", ArtifactType=READ_TYPE, MaxResults=100
        )
    )
    assert len(reads) == days
    assert max(degree(store, r["ArtifactArn"]) for r in reads) == 25  # 24 runs + its version
    (unversioned,) = [
        a
        for a in store.list_artifacts(SourceUri="s3://bucket/events", ArtifactType=DATASET_TYPE)[
            "ArtifactSummaries"
        ]
    ]
    assert degree(store, unversioned["ArtifactArn"]) == days < limits.MAX_ASSOCIATIONS_PER_ENTITY
    assert store.count_entities()["AssociationCount"] == runs * 3 + days * 2
    store.close()


def test_1500_hourly_runs_of_one_job() -> None:
    hourly_job(1500)


@pytest.mark.slow
def test_10000_hourly_runs_of_one_job() -> None:
    hourly_job(10_000)
