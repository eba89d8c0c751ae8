"""A three-job pipeline under a parent run, emitted with openlineage-python's own classes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    dataset_version_dataset,
    error_message_run,
    job_type_job,
    parent_run,
    schema_dataset,
)

NAMESPACE = "airflow-prod"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
RAW = ("s3://raw-bucket", "events/2024-01-01.csv")
CLEAN = ("s3://lake", "clean/events.parquet")
DAILY = ("postgres://db.internal:5432", "analytics.public.daily")
MODEL = ("s3://models", "churn/model.pkl")


@dataclass
class PipelineRun:
    """The run IDs of one run of the pipeline."""

    parent: str = field(default_factory=lambda: str(uuid.uuid4()))
    extract: str = field(default_factory=lambda: str(uuid.uuid4()))
    transform: str = field(default_factory=lambda: str(uuid.uuid4()))
    train: str = field(default_factory=lambda: str(uuid.uuid4()))


def _dataset(kind: type, where: tuple[str, str], version: str | None = None) -> object:
    facets: dict[str, object] = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name="user_id", type="BIGINT")]
        )
    }
    if version is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=version
        )
    return kind(namespace=where[0], name=where[1], facets=facets)


def _event(
    state: RunState,
    at: datetime,
    run_id: str,
    job: str,
    parent: PipelineRun | None,
    inputs: list[object] = (),  # type: ignore[assignment]
    outputs: list[object] = (),  # type: ignore[assignment]
    error: str | None = None,
) -> RunEvent:
    facets: dict[str, object] = {}
    if parent is not None:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent.parent),
            job=parent_run.Job(namespace=NAMESPACE, name="etl_dag"),
        )
    if error is not None:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="python"
        )
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="AIRFLOW", jobType="TASK" if parent else "DAG"
        )
    }
    return RunEvent(
        eventType=state,
        eventTime=at.isoformat(),
        run=Run(runId=run_id, facets=facets),
        job=Job(namespace=NAMESPACE, name=job, facets=job_facets),
        producer=PRODUCER,
        inputs=list(inputs),
        outputs=list(outputs),
    )


def pipeline_events(
    ids: PipelineRun, start: datetime, clean_version: str, train_fails: bool
) -> list[RunEvent]:
    """START/COMPLETE (or FAIL) of the parent and of extract -> transform -> train."""
    t = [start + timedelta(minutes=m) for m in range(10)]
    raw_in = [_dataset(InputDataset, RAW, "raw-v1")]
    clean_out = [_dataset(OutputDataset, CLEAN, clean_version)]
    clean_in = [_dataset(InputDataset, CLEAN)]  # the latest known version is read
    daily_out = [_dataset(OutputDataset, DAILY)]  # no version: the run that wrote it is one
    daily_in = [_dataset(InputDataset, DAILY)]
    model_out = [_dataset(OutputDataset, MODEL)]
    end = RunState.FAIL if train_fails else RunState.COMPLETE
    error = "ValueError: training diverged" if train_fails else None
    return [
        _event(RunState.START, t[0], ids.parent, "etl_dag", None),
        _event(RunState.START, t[1], ids.extract, "etl_dag.extract", ids, raw_in, clean_out),
        _event(RunState.COMPLETE, t[2], ids.extract, "etl_dag.extract", ids, raw_in, clean_out),
        _event(RunState.START, t[3], ids.transform, "etl_dag.transform", ids, clean_in),
        _event(RunState.COMPLETE, t[4], ids.transform, "etl_dag.transform", ids, [], daily_out),
        _event(RunState.START, t[5], ids.train, "etl_dag.train", ids, daily_in, model_out),
        _event(end, t[6], ids.train, "etl_dag.train", ids, daily_in, model_out, error),
        _event(end, t[7], ids.parent, "etl_dag", None),
    ]


def emit_pipeline(
    client: OpenLineageClient, ids: PipelineRun, start: datetime, clean_version: str, fails: bool
) -> list[RunEvent]:
    events = pipeline_events(ids, start, clean_version, fails)
    for event in events:
        client.emit(event)
    return events


DAY1 = datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)
DAY2 = datetime(2024, 3, 2, 2, 0, tzinfo=timezone.utc)
