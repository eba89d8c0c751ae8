"""Concurrent events of one run from several clients duplicate nothing: the store's uniqueness
rules decide (and, on PostgreSQL, the run's advisory lock orders the mappings of one run)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mllineage.capture.openlineage import DATASET_TYPE, READ_TYPE, RUN_TYPE, run_action_name
from mllineage.server.testing import ServerProcess
from tests.openlineage.events import new_run, run_event
from tests.openlineage.support import fresh_ol_account, post_event, reader, start_server

POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set"
                ),
            ],
        ),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path / 'lineage.db'}" if request.param == "sqlite" else POSTGRES_URL
    assert url
    process = start_server(url, extra=(ACCOUNT,))
    yield process
    process.stop()


# An account of its own: the test PostgreSQL database is shared and kept between runs.
ACCOUNT = fresh_ol_account()


def test_concurrent_events_of_runs_duplicate_nothing(server: ServerProcess) -> None:
    account = ACCOUNT
    runs = [new_run() for _ in range(6)]
    texts = []
    for i, run in enumerate(runs):
        kw = {"job": "etl", "inputs": ("src", "ref"), "outputs": ("dst",)}
        texts += [
            run_event("START", run, at=i, **kw),
            run_event("RUNNING", run, at=i, inputs=("src",), job="etl"),
            run_event("RUNNING", run, at=i, outputs=("side",), job="etl"),
            run_event("OTHER", run, at=i, outputs=("dst",), job="etl"),
            run_event("COMPLETE", run, at=i + 1, **kw),
        ]
    texts += texts  # every event twice

    def send(text: str) -> int:
        return int(post_event(server, account, text).status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, texts))
    assert set(statuses) == {201}

    store = reader(server, account)
    actions = list(store.paginate("list_actions", "ActionSummaries", ActionType=RUN_TYPE))
    assert sorted(a["ActionName"] for a in actions) == sorted(run_action_name(r) for r in runs)
    assert {a["Status"] for a in actions} == {"Completed"}
    artifacts = list(store.paginate("list_artifacts", "ArtifactSummaries"))
    sources = Counter(
        (
            a["Source"]["SourceUri"],
            tuple(sorted(t["Value"] for t in a["Source"].get("SourceTypes", []))),
        )
        for a in artifacts
    )
    assert max(sources.values()) == 1  # no artifact twice
    kinds = Counter(a["ArtifactType"] for a in artifacts)
    # per run: dst and side versions; src and ref: one unversioned artifact and one partition
    assert kinds == {DATASET_TYPE: 6 * 2 + 2, READ_TYPE: 2}
    for run in runs:
        arn = store.describe_action(ActionName=run_action_name(run))["ActionArn"]
        into = list(store.paginate("list_associations", "AssociationSummaries", DestinationArn=arn))
        out = list(store.paginate("list_associations", "AssociationSummaries", SourceArn=arn))
        assert len(into) == 2  # the partitions of src and ref
        assert Counter(a["AssociationType"] for a in out) == {"Produced": 2, "AssociatedWith": 1}
    assert len(store.list_openlineage_events(MaxResults=100)["Events"]) == 30
