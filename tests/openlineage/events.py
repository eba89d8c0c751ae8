"""OpenLineage events made with openlineage-python's own classes and serializer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import dataset_version_dataset, nominal_time_run
from openlineage.client.serde import Serde

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def new_run() -> str:
    return str(uuid.uuid4())


def run_event(
    state: str,
    run_id: str,
    *,
    job: str = "job",
    namespace: str = "scheduler",
    at: datetime | int = 0,
    inputs: tuple[str, ...] = (),
    outputs: tuple[str, ...] = (),
    versions: dict[str, str] | None = None,
    nominal: datetime | None = None,
) -> str:
    """The JSON text of a RunEvent; ``at`` is a datetime or minutes after T0; datasets are
    names in the ``s3://bucket`` namespace, ``versions`` names some of their versions."""
    when = at if isinstance(at, datetime) else T0 + timedelta(minutes=at)
    versions = versions or {}

    def facets(name: str) -> dict[str, object]:
        if name not in versions:
            return {}
        return {
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=versions[name]
            )
        }

    run_facets: dict[str, object] = {}
    if nominal is not None:
        run_facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=nominal.isoformat()
        )
    event = RunEvent(
        eventType=RunState(state),
        eventTime=when.isoformat(),
        run=Run(runId=run_id, facets=run_facets),
        job=Job(namespace=namespace, name=job),
        producer=PRODUCER,
        inputs=[InputDataset("s3://bucket", n, facets=facets(n)) for n in inputs],
        outputs=[OutputDataset("s3://bucket", n, facets=facets(n)) for n in outputs],
    )
    return str(Serde.to_json(event))
