"""``mllineage demo``: record a realistic ML pipeline run, then show its lineage."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from rich.console import Console

from mllineage.api.association import Association
from mllineage.api.entities import Action, Artifact, Context, _LineageEntity
from mllineage.api.query import LineageFilter, LineageQuery, LineageQueryDirectionEnum
from mllineage.api.session import Session
from mllineage.viz.style import vertex_name
from mllineage.viz.visualize import LineageTableVisualizer

RAW_URIS = (
    "s3://demo-bucket/raw/customers/2024-06-01/",
    "s3://demo-bucket/raw/transactions/2024-06-01/",
)


def run_demo(session: Session, console: Console) -> dict[str, str]:
    """Record one run of a churn-model pipeline; return the ARNs of its main entities.

    Raw datasets and the serving endpoint are shared between runs (``get_or_create``), so the
    demo can be rerun: each run adds a new model version derived from the previous one.
    """
    s = session
    runs = sum(
        1
        for c in Context.list_all(context_type="Pipeline", sagemaker_session=s)
        if c.properties.get("pipeline") == "churn-demo"
    )
    # A short, readable run id; the random part keeps two demos at once from colliding.
    run = f"{runs + 1}-{uuid.uuid4().hex[:4]}"
    previous = Artifact.list(artifact_type="Model", max_results=1, sagemaker_session=s)
    previous_models = [m for m in previous if m.properties.get("pipeline") == "churn-demo"]

    with s.batch():
        pipeline = Context.create(
            context_name=f"churn-pipeline-{run}",
            context_type="Pipeline",
            properties={
                "pipeline": "churn-demo",
                "environment": "production",
                "run": run,
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            tags=[{"Key": "Project", "Value": "CustomerChurn"}],
            sagemaker_session=s,
        )
        raw = [
            Artifact.get_or_create(
                artifact_name=uri.rstrip("/").rsplit("/", 2)[-2] + "-raw",
                artifact_type="Dataset",
                source={"source_uri": uri},
                properties={"source": "CRM_system", "format": "parquet"},
                sagemaker_session=s,
            )
            for uri in RAW_URIS
        ]
        preprocess = Action.create(
            action_name=f"preprocess-{run}",
            action_type="Processing",
            status="Completed",
            properties={"processor": "spark", "transformations": "cleaning,features,split"},
            sagemaker_session=s,
        )
        train_data = Artifact.create(
            artifact_name=f"train-{run}",
            artifact_type="Dataset",
            source={"source_uri": f"s3://demo-bucket/processed/{run}/train/"},
            properties={"split": "train", "num_samples": "35000"},
            sagemaker_session=s,
        )
        val_data = Artifact.create(
            artifact_name=f"validation-{run}",
            artifact_type="Dataset",
            source={"source_uri": f"s3://demo-bucket/processed/{run}/validation/"},
            properties={"split": "validation", "num_samples": "7500"},
            sagemaker_session=s,
        )
        train = Action.create(
            action_name=f"train-xgboost-{run}",
            action_type="Training",
            status="Completed",
            properties={
                "algorithm": "xgboost",
                "instance_type": "ml.m5.2xlarge",
                "hyperparameters": json.dumps({"max_depth": 5, "eta": 0.2}),
            },
            sagemaker_session=s,
        )
        model = Artifact.create(
            artifact_name=f"churn-model-{run}",
            artifact_type="Model",
            source={"source_uri": f"s3://demo-bucket/models/{run}/model.tar.gz"},
            properties={
                "pipeline": "churn-demo",
                "accuracy": "0.94",
                "f1_score": "0.92",
                "approved": "true",
                "framework": "xgboost",
            },
            sagemaker_session=s,
        )
        deploy = Action.create(
            action_name=f"deploy-{run}",
            action_type="Deployment",
            status="Completed",
            properties={"instance_type": "ml.c5.xlarge", "instance_count": "2"},
            sagemaker_session=s,
        )
        endpoint = Context.get_or_create(
            context_name="churn-endpoint-prod",
            context_type="Endpoint",
            properties={"stage": "production"},
            sagemaker_session=s,
        )

        edges = [(d, preprocess, "ContributedTo") for d in raw] + [
            (preprocess, train_data, "Produced"),
            (preprocess, val_data, "Produced"),
            (train_data, train, "ContributedTo"),
            (val_data, train, "ContributedTo"),
            (train, model, "Produced"),
            (model, deploy, "ContributedTo"),
            (deploy, endpoint, "Produced"),
        ]
        edges += [(old, model, "DerivedFrom") for old in previous_models]
        for src, dst, kind in edges:
            Association.create(_arn(src), _arn(dst), kind, sagemaker_session=s)
        for member in (*raw, preprocess, train_data, val_data, train, model, deploy):
            if isinstance(member, Artifact):
                pipeline.add_artifact(_arn(member))
            else:
                pipeline.add_action(_arn(member))

    console.print(f"[bold]Recorded pipeline run {run}[/] in {s.url}\n")
    console.print(f"[bold]Lineage around model {model.artifact_name}[/] (both directions):")
    graph = LineageQuery(
        [_arn(model)], LineageQueryDirectionEnum.BOTH, max_depth=3, sagemaker_session=s
    ).query()
    LineageTableVisualizer(console).show(graph)

    console.print("\n[bold]Upstream query:[/] which datasets trained this model?")
    upstream = LineageQuery(
        [_arn(model)],
        LineageQueryDirectionEnum.ASCENDANTS,
        filters=LineageFilter(sources=["Dataset"]),
        sagemaker_session=s,
    ).query()
    for vertex in upstream["Vertices"]:
        console.print(f"  - {vertex_name(vertex)}: {vertex['Properties'].get('source_uri')}")
    return {"pipeline": _arn(pipeline), "model": _arn(model), "endpoint": _arn(endpoint)}


def _arn(entity: _LineageEntity) -> str:
    return entity._arn
