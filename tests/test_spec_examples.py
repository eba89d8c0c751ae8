"""Every usage example of the spec, as written there (only the import line differs), on every
SQL store. Placeholder ARNs the spec leaves to the reader (``arn:...:123:artifact/abc123``,
``previous_model_arn``) are replaced by entities the test creates, as a reader would."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from mllineage import (
    Action,
    Artifact,
    Association,
    ClientError,
    Context,
    LineageQuery,
    LineageQueryDirectionEnum,
    LineageTableVisualizer,
    Session,
)

POSTGRES_URL = os.environ.get("MLLINEAGE_TEST_POSTGRES_URL")


@pytest.fixture(
    params=[
        pytest.param("sqlite-memory", id="sqlite-memory"),
        pytest.param("sqlite-file", id="sqlite-file"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(
                not POSTGRES_URL, reason="MLLINEAGE_TEST_POSTGRES_URL is not set"
            ),
        ),
    ]
)
def default_session(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Session]:
    """The spec's examples pass no session: make a fresh store the default one."""
    if request.param == "sqlite-memory":
        session = Session("sqlite://")
    elif request.param == "sqlite-file":
        session = Session(f"sqlite:///{tmp_path}/lineage.db")
    else:
        assert POSTGRES_URL
        # A fresh account per test: the tests share the database but never each other's data.
        session = Session(POSTGRES_URL, account_id=f"{uuid.uuid4().int % 10**12:012d}")
    with session, session.as_default():
        yield session


def _dataset_artifact() -> Artifact:
    return Artifact.create(
        artifact_name="training-dataset-v1",
        artifact_type="Dataset",
        source={
            "source_uri": "s3://my-bucket/datasets/train.csv",
            "source_types": [{"SourceIdType": "S3", "Value": "s3://my-bucket/datasets/train.csv"}],
        },
        properties={
            "num_samples": "10000",
            "features": "age,income,education,occupation",
            "target": "churn",
            "split": "train",
            "version": "1.0",
        },
        tags=[{"Key": "Project", "Value": "CustomerChurn"}, {"Key": "DataSource", "Value": "CRM"}],
    )


def _training_action() -> Action:
    return Action.create(
        action_name="train-xgboost-v1",
        action_type="Training",
        source={
            "source_uri": "arn:aws:sagemaker:us-west-2:123:training-job/my-job",
            "source_types": [{"SourceIdType": "ARN", "Value": "arn:aws:sagemaker:..."}],
        },
        properties={
            "algorithm": "xgboost",
            "instance_type": "ml.m5.xlarge",
            "hyperparameters": json.dumps({"max_depth": 5, "eta": 0.2, "num_round": 100}),
        },
        status="Completed",
        tags=[{"Key": "Project", "Value": "Churn"}],
    )


def test_artifact_usage(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    dataset_artifact = _dataset_artifact()
    print(f"Artifact created: {dataset_artifact.artifact_arn}")

    artifact = Artifact.load(artifact_arn=dataset_artifact.artifact_arn)

    datasets = Artifact.list(
        source_uri="s3://my-bucket/datasets",
        artifact_type="Dataset",
        sort_by="CreationTime",
        sort_order="Descending",
        max_results=50,
    )
    print(f"Found {len(datasets)} dataset artifacts")

    artifact.properties["version"] = "2.0"
    artifact.properties["last_updated"] = "2024-01-15"
    artifact.save()

    out = capsys.readouterr().out
    assert f"Artifact created: {dataset_artifact.artifact_arn}" in out
    assert "Found 1 dataset artifacts" in out
    reloaded = Artifact.load(dataset_artifact.artifact_arn)
    assert reloaded.properties["version"] == "2.0"
    assert reloaded.properties["last_updated"] == "2024-01-15"
    assert reloaded.properties["num_samples"] == "10000"
    assert {"Key": "DataSource", "Value": "CRM"} in reloaded.tags
    assert reloaded.source == {
        "source_uri": "s3://my-bucket/datasets/train.csv",
        "source_types": [{"SourceIdType": "S3", "Value": "s3://my-bucket/datasets/train.csv"}],
    }
    with pytest.raises(ClientError, match="ResourceNotFound"):
        Artifact.load(artifact_arn="arn:aws:sagemaker:us-west-2:123456789012:artifact/abc123")


def test_action_usage(default_session: Session) -> None:
    training_action = _training_action()

    training_action.status = "InProgress"
    training_action.save()
    assert Action.load(training_action.action_arn).status == "InProgress"

    training_action.status = "Completed"
    training_action.properties["accuracy"] = "0.94"
    training_action.save()

    training_actions = Action.list(
        action_type="Training", created_after="2024-01-01", sort_by="CreationTime"
    )
    assert [a.action_arn for a in training_actions] == [training_action.action_arn]
    loaded = training_actions[0]
    assert loaded.status == "Completed"
    assert loaded.properties["accuracy"] == "0.94"
    assert json.loads(loaded.properties["hyperparameters"])["max_depth"] == 5


def test_association_usage(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    dataset_artifact = _dataset_artifact()
    training_action = _training_action()
    previous_model_arn = Artifact.create(
        artifact_name="churn-model-v0",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/model-v0.tar.gz"},
    ).artifact_arn

    Association.create(
        source_arn=dataset_artifact.artifact_arn,
        destination_arn=training_action.action_arn,
        association_type="ContributedTo",
    )
    model_artifact = Artifact.create(
        artifact_name="churn-model-v1",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/model.tar.gz"},
    )
    Association.create(
        source_arn=training_action.action_arn,
        destination_arn=model_artifact.artifact_arn,
        association_type="Produced",
    )
    previous_model = Artifact.load(previous_model_arn)
    Association.create(
        source_arn=previous_model.artifact_arn,
        destination_arn=model_artifact.artifact_arn,
        association_type="DerivedFrom",
    )
    associations = Association.list(
        source_arn=dataset_artifact.artifact_arn, association_type="ContributedTo"
    )
    print(f"Dataset used in {len(associations)} training jobs")
    Association.delete(
        source_arn=dataset_artifact.artifact_arn, destination_arn=training_action.action_arn
    )

    assert "Dataset used in 1 training jobs" in capsys.readouterr().out
    assert associations[0].destination_name == "train-xgboost-v1"
    assert associations[0].source_type == "Dataset"
    remaining = {(a.source_arn, a.destination_arn) for a in Association.list()}
    assert remaining == {
        (training_action.action_arn, model_artifact.artifact_arn),
        (previous_model_arn, model_artifact.artifact_arn),
    }


def test_context_usage(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    raw_dataset_artifact = Artifact.create(
        artifact_type="Dataset", source={"source_uri": "s3://bucket/raw/"}
    )
    preprocess_action = Action.create(action_name="preprocess", action_type="Processing")
    processed_dataset_artifact = Artifact.create(
        artifact_type="Dataset", source={"source_uri": "s3://bucket/processed/"}
    )
    training_action = _training_action()
    model_artifact = Artifact.create(
        artifact_type="Model", source={"source_uri": "s3://bucket/model.tar.gz"}
    )
    deployment_action = Action.create(action_name="deploy", action_type="Deployment")

    pipeline_context = Context.create(
        context_name="customer-churn-pipeline-v1",
        context_type="Pipeline",
        properties={
            "pipeline_version": "v1.0",
            "environment": "production",
            "owner": "data-science-team",
            "schedule": "daily",
        },
        tags=[{"Key": "Project", "Value": "CustomerChurn"}],
    )
    pipeline_context.add_artifact(raw_dataset_artifact.artifact_arn, "AssociatedWith")
    pipeline_context.add_action(preprocess_action.action_arn, "AssociatedWith")
    pipeline_context.add_artifact(processed_dataset_artifact.artifact_arn, "AssociatedWith")
    pipeline_context.add_action(training_action.action_arn, "AssociatedWith")
    pipeline_context.add_artifact(model_artifact.artifact_arn, "AssociatedWith")
    pipeline_context.add_action(deployment_action.action_arn, "AssociatedWith")
    print(f"Pipeline context created: {pipeline_context.context_arn}")

    pipeline_contexts = Context.list(
        context_type="Pipeline", sort_by="CreationTime", sort_order="Descending"
    )
    print("Recent pipelines:")
    for ctx in pipeline_contexts[:5]:
        print(f"  {ctx.context_name}: {ctx.properties.get('environment')}")

    out = capsys.readouterr().out
    assert "  customer-churn-pipeline-v1: production" in out
    members = Association.list(destination_arn=pipeline_context.context_arn)
    assert len(members) == 6
    assert {m.association_type for m in members} == {"AssociatedWith"}


def test_lineage_query_and_visualizer_usage(
    default_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset_artifact = _dataset_artifact()
    training_action = _training_action()
    model_artifact = Artifact.create(
        artifact_name="trained-model-v1",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/model.tar.gz"},
    )
    Association.create(dataset_artifact.artifact_arn, training_action.action_arn, "ContributedTo")
    Association.create(training_action.action_arn, model_artifact.artifact_arn, "Produced")

    query = LineageQuery(
        start_arns=[dataset_artifact.artifact_arn],
        direction=LineageQueryDirectionEnum.DESCENDANTS,
        include_edges=True,
        max_depth=10,
    )
    result = query.query()
    print("Lineage graph:")
    print(f"  Vertices: {len(result['Vertices'])}")
    print(f"  Edges: {len(result['Edges'])}")
    for vertex in result["Vertices"]:
        print(
            f"\n{vertex['Type']}: {vertex.get('Properties', {}).get('artifact_name') or vertex.get('Properties', {}).get('action_name')}"  # noqa: E501
        )

    upstream_query = LineageQuery(
        start_arns=[model_artifact.artifact_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        include_edges=True,
        max_depth=10,
    )
    upstream = upstream_query.query()
    print("\nModel trained from:")
    for vertex in upstream["Vertices"]:
        if vertex["Type"] == "Artifact" and "Dataset" in vertex.get("Properties", {}).get(
            "artifact_type", ""
        ):
            print(f"  - Dataset: {vertex['Properties']['artifact_name']}")

    full_query = LineageQuery(
        start_arns=[training_action.action_arn],
        direction=LineageQueryDirectionEnum.BOTH,
        include_edges=True,
    )
    full_lineage = full_query.query()

    query = LineageQuery(
        start_arns=[model_artifact.artifact_arn], direction=LineageQueryDirectionEnum.BOTH
    )
    graph = query.query()
    visualizer = LineageTableVisualizer()
    frame = visualizer.show(graph)

    out = capsys.readouterr().out
    assert "  Vertices: 3\n  Edges: 2" in out
    assert "Action: train-xgboost-v1" in out
    assert "  - Dataset: training-dataset-v1" in out
    assert len(full_lineage["Vertices"]) == 3
    for name in ("training-dataset-v1", "train-xgboost-v1", "trained-model-v1"):
        assert name in out
    for header in ("| Type ", "| Name ", "| ARN "):
        assert header in out
    assert list(frame["Name"]) == ["trained-model-v1", "train-xgboost-v1", "training-dataset-v1"]


def _pipeline() -> dict[str, object]:
    """The spec's "End-to-End Pipeline Tracking" example, verbatim."""
    pipeline_context = Context.create(
        context_name="ml-pipeline-2024-01-15",
        context_type="Pipeline",
        properties={"version": "v2.0", "environment": "production"},
    )
    raw_data = Artifact.create(
        artifact_name="raw-customer-data-2024-01-15",
        artifact_type="Dataset",
        source={"source_uri": "s3://bucket/raw/2024-01-15/"},
        properties={"source": "CRM_system", "record_count": "50000", "date": "2024-01-15"},
    )
    preprocess = Action.create(
        action_name="preprocess-2024-01-15",
        action_type="Processing",
        properties={
            "processor": "spark",
            "transformations": "cleaning,feature_engineering,splitting",
        },
        status="Completed",
    )
    Association.create(raw_data.artifact_arn, preprocess.action_arn, "ContributedTo")
    processed_data = Artifact.create(
        artifact_name="processed-data-2024-01-15",
        artifact_type="Dataset",
        source={"source_uri": "s3://bucket/processed/2024-01-15/"},
        properties={"train_samples": "35000", "val_samples": "7500", "test_samples": "7500"},
    )
    Association.create(preprocess.action_arn, processed_data.artifact_arn, "Produced")
    train = Action.create(
        action_name="train-2024-01-15",
        action_type="Training",
        properties={
            "algorithm": "xgboost",
            "instance_type": "ml.m5.2xlarge",
            "training_time_seconds": "1200",
        },
        status="Completed",
    )
    Association.create(processed_data.artifact_arn, train.action_arn, "ContributedTo")
    model = Artifact.create(
        artifact_name="churn-model-2024-01-15",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/models/2024-01-15/model.tar.gz"},
        properties={
            "accuracy": "0.94",
            "f1_score": "0.92",
            "framework": "xgboost",
            "version": "1.7.3",
        },
    )
    Association.create(train.action_arn, model.artifact_arn, "Produced")
    for arn in [
        raw_data.artifact_arn,
        preprocess.action_arn,
        processed_data.artifact_arn,
        train.action_arn,
        model.artifact_arn,
    ]:
        if "artifact" in arn:
            pipeline_context.add_artifact(arn, "AssociatedWith")
        else:
            pipeline_context.add_action(arn, "AssociatedWith")
    print(f"Complete pipeline tracked in context: {pipeline_context.context_arn}")
    return {"context": pipeline_context, "model": model, "train": train, "raw": raw_data}


def test_end_to_end_pipeline(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    made = _pipeline()
    context = made["context"]
    assert isinstance(context, Context)
    assert f"Complete pipeline tracked in context: {context.context_arn}" in (
        capsys.readouterr().out
    )
    members = Association.list(destination_arn=context.context_arn)
    assert len(members) == 5
    kinds = {m.source_arn.split(":")[-1].split("/")[0] for m in members}
    assert kinds == {"artifact", "action"}


def test_model_governance(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    model_v1 = Artifact.create(
        artifact_name="customer-churn-model-v1.0",
        artifact_type="Model",
        source={"source_uri": "s3://models/churn-v1.0.tar.gz"},
        properties={
            "accuracy": "0.85",
            "approved": "true",
            "approver": "john.doe@company.com",
            "approval_date": "2024-01-10",
            "production_deployment": "endpoint-prod-v1",
        },
    )
    model_v2 = Artifact.create(
        artifact_name="customer-churn-model-v2.0",
        artifact_type="Model",
        source={"source_uri": "s3://models/churn-v2.0.tar.gz"},
        properties={
            "accuracy": "0.89",
            "f1_score": "0.87",
            "approved": "pending",
            "reviewer": "jane.smith@company.com",
            "improvements": "better_feature_engineering,larger_dataset",
        },
    )
    Association.create(model_v1.artifact_arn, model_v2.artifact_arn, "DerivedFrom")
    models = Artifact.list(artifact_type="Model", sort_by="CreationTime", sort_order="Descending")
    print("Model version history:")
    for model in models:
        approval = model.properties.get("approved", "unknown")
        accuracy = model.properties.get("accuracy", "N/A")
        print(f"  {model.artifact_name}: accuracy={accuracy}, approved={approval}")

    assert capsys.readouterr().out.splitlines() == [
        "Model version history:",
        "  customer-churn-model-v2.0: accuracy=0.89, approved=pending",
        "  customer-churn-model-v1.0: accuracy=0.85, approved=true",
    ]


def test_data_provenance(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    made = _pipeline()
    model = made["model"]
    assert isinstance(model, Artifact)
    prod_model_arn = model.artifact_arn  # the spec's placeholder ARN, made real

    provenance_query = LineageQuery(
        start_arns=[prod_model_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        max_depth=20,
    )
    lineage = provenance_query.query()
    datasets = []
    for vertex in lineage["Vertices"]:
        if vertex.get("Type") == "Artifact":
            artifact_type = vertex.get("Properties", {}).get("artifact_type", "")
            if "Dataset" in artifact_type:
                datasets.append(
                    {
                        "name": vertex["Properties"].get("artifact_name"),
                        "uri": vertex["Properties"].get("source_uri"),
                        "samples": vertex["Properties"].get("num_samples"),
                    }
                )
    print(f"Production model trained from {len(datasets)} datasets:")
    for ds in datasets:
        print(f"  - {ds['name']}: {ds['samples']} samples")
        print(f"    Source: {ds['uri']}")

    out = capsys.readouterr().out
    assert "Production model trained from 2 datasets:" in out
    assert "    Source: s3://bucket/raw/2024-01-15/" in out
    assert "  - processed-data-2024-01-15: None samples" in out


def test_compliance_reporting(default_session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    _pipeline()
    thirty_days_ago = datetime.now() - timedelta(days=30)
    recent_models = Artifact.list(
        artifact_type="Model",
        created_after=thirty_days_ago.isoformat(),
        sort_by="CreationTime",
        sort_order="Descending",
    )
    print("=== Model Compliance Report ===\n")
    for model in recent_models:
        print(f"Model: {model.artifact_name}")
        print(f"  Created: {model.creation_time}")
        print(f"  Approval: {model.properties.get('approved', 'unknown')}")
        query = LineageQuery(
            start_arns=[model.artifact_arn], direction=LineageQueryDirectionEnum.ASCENDANTS
        )
        lineage = query.query()
        datasets = sum(
            1
            for v in lineage["Vertices"]
            if v["Type"] == "Artifact"
            and "Dataset" in v.get("Properties", {}).get("artifact_type", "")
        )
        training_jobs = sum(
            1
            for v in lineage["Vertices"]
            if v["Type"] == "Action" and v.get("Properties", {}).get("action_type") == "Training"
        )
        print(f"  Data sources: {datasets}")
        print(f"  Training jobs: {training_jobs}")
        if model.properties.get("approved") != "true":
            print("  WARNING: Model not approved for production!")
        print()

    out = capsys.readouterr().out
    assert "Model: churn-model-2024-01-15" in out
    assert "  Data sources: 2\n  Training jobs: 1" in out
    assert "  WARNING: Model not approved for production!" in out


def test_reproduce_training_from_lineage(
    default_session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    made = _pipeline()
    model = made["model"]
    assert isinstance(model, Artifact)
    model_arn = model.artifact_arn

    query = LineageQuery(
        start_arns=[model_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        include_edges=True,
    )
    lineage = query.query()
    training_info = {}
    for vertex in lineage["Vertices"]:
        if (
            vertex["Type"] == "Action"
            and vertex.get("Properties", {}).get("action_type") == "Training"
        ):
            properties = vertex["Properties"]
            training_info = {
                "algorithm": properties.get("algorithm"),
                "hyperparameters": json.loads(properties.get("hyperparameters", "{}")),
                "instance_type": properties.get("instance_type"),
                "training_time": properties.get("training_time_seconds"),
            }
        elif vertex["Type"] == "Artifact" and "Dataset" in vertex.get("Properties", {}).get(
            "artifact_type", ""
        ):
            training_info["dataset_uri"] = vertex["Properties"].get("source_uri")
    print("Training configuration for reproduction:")
    print(json.dumps(training_info, indent=2))
    # The spec's last lines hand this to SageMaker's ModelTrainer: out of scope here.

    assert training_info["algorithm"] == "xgboost"
    assert training_info["instance_type"] == "ml.m5.2xlarge"
    assert training_info["training_time"] == "1200"
    assert training_info["dataset_uri"] in (
        "s3://bucket/raw/2024-01-15/",
        "s3://bucket/processed/2024-01-15/",
    )
    assert "Training configuration for reproduction:" in capsys.readouterr().out
