"""The SageMaker Python SDK's own lineage classes (``sagemaker.core.lineage``, package
``sagemaker-core``) against the server: only the session's ``sagemaker_client`` differs from
what a SageMaker user writes. Skipped where sagemaker-core is not installed."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from mllineage.server.testing import ServerProcess
from tests.server.support import REGION, Account, client_for

lineage = pytest.importorskip("sagemaker.core.lineage", reason="sagemaker-core is not installed")
pytest.importorskip("pandas", reason="LineageTableVisualizer needs pandas")

from sagemaker.core.helper.session_helper import Session  # noqa: E402
from sagemaker.core.lineage.action import Action  # noqa: E402
from sagemaker.core.lineage.artifact import Artifact  # noqa: E402
from sagemaker.core.lineage.association import Association  # noqa: E402
from sagemaker.core.lineage.context import Context  # noqa: E402
from sagemaker.core.lineage.query import (  # noqa: E402
    LineageFilter,
    LineageQuery,
    LineageQueryDirectionEnum,
)
from sagemaker.core.lineage.visualizer import LineageTableVisualizer  # noqa: E402


@pytest.fixture
def session(server: ServerProcess, account: Account) -> Any:
    """A SageMaker SDK session whose SageMaker client points at the server."""
    boto_session = boto3.Session(
        aws_access_key_id=account.access_key,
        aws_secret_access_key=account.secret_key,
        region_name=REGION,
    )
    return Session(boto_session=boto_session, sagemaker_client=client_for(server, account))


def _uri() -> str:
    return f"s3://bucket/{uuid.uuid4().hex}"


def test_artifacts(session: Any) -> None:
    uri = _uri()
    artifact = Artifact.create(
        artifact_name="dataset",
        source_uri=uri,
        artifact_type="DataSet",
        properties={"rows": "10"},
        sagemaker_session=session,
    )
    assert artifact.artifact_arn.startswith("arn:aws:sagemaker:")
    loaded = Artifact.load(artifact.artifact_arn, sagemaker_session=session)
    assert loaded.source.source_uri == uri
    assert loaded.properties == {"rows": "10"}
    loaded.properties = {"rows": "20"}
    loaded.save()
    assert Artifact.load(artifact.artifact_arn, sagemaker_session=session).properties == {
        "rows": "20"
    }
    # Two artifacts may share a name.
    twin = Artifact.create(
        artifact_name="dataset",
        source_uri=_uri(),
        artifact_type="DataSet",
        sagemaker_session=session,
    )
    listed = list(Artifact.list(sagemaker_session=session))
    assert {a.artifact_arn for a in listed} == {artifact.artifact_arn, twin.artifact_arn}
    by_uri = list(Artifact.list(source_uri=uri, sagemaker_session=session))
    assert [a.artifact_arn for a in by_uri] == [artifact.artifact_arn]
    assert artifact.set_tag({"Key": "team", "Value": "ml"}) == [{"Key": "team", "Value": "ml"}]
    twin.delete()
    assert [a.artifact_arn for a in Artifact.list(sagemaker_session=session)] == [
        artifact.artifact_arn
    ]


def test_actions_contexts_and_associations(session: Any) -> None:
    data = Artifact.create(source_uri=_uri(), artifact_type="DataSet", sagemaker_session=session)
    action = Action.create(
        action_name="train",
        source_uri="arn:aws:sagemaker:us-east-1:123456789012:training-job/t",
        action_type="Training",
        status="InProgress",
        sagemaker_session=session,
    )
    action.status = "Completed"
    action.save()
    assert Action.load("train", sagemaker_session=session).status == "Completed"
    context = Context.create(
        context_name="endpoint",
        source_uri="arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
        context_type="Endpoint",
        sagemaker_session=session,
    )
    context.set_tags([{"Key": "stage", "Value": "prod"}])
    Association.create(
        source_arn=data.artifact_arn,
        destination_arn=action.action_arn,
        association_type="ContributedTo",
        sagemaker_session=session,
    )
    Association.create(
        source_arn=action.action_arn,
        destination_arn=context.context_arn,
        sagemaker_session=session,
    )
    outgoing = list(Association.list(source_arn=data.artifact_arn, sagemaker_session=session))
    assert [(a.destination_arn, a.source_type) for a in outgoing] == [
        (action.action_arn, "DataSet")
    ]
    assert [a.action_arn for a in Action.list(sagemaker_session=session)] == [action.action_arn]
    assert [c.context_arn for c in Context.list(sagemaker_session=session)] == [context.context_arn]

    # delete(disassociate=True) removes the entity's associations first, then the entity.
    action.delete(disassociate=True)
    assert list(Association.list(source_arn=data.artifact_arn, sagemaker_session=session)) == []
    assert (
        list(Association.list(destination_arn=context.context_arn, sagemaker_session=session)) == []
    )
    context.delete()
    data.delete()


def test_lineage_query_and_table_visualizer(session: Any) -> None:
    data = Artifact.create(source_uri=_uri(), artifact_type="DataSet", sagemaker_session=session)
    model = Artifact.create(source_uri=_uri(), artifact_type="Model", sagemaker_session=session)
    job = Action.create(
        action_name="job", source_uri="j", action_type="Training", sagemaker_session=session
    )
    for source, destination in ((data, job), (job, model)):
        Association.create(
            source_arn=getattr(source, "artifact_arn", None) or source.action_arn,
            destination_arn=getattr(destination, "artifact_arn", None) or destination.action_arn,
            sagemaker_session=session,
        )
    result = LineageQuery(session).query(
        start_arns=[model.artifact_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        include_edges=True,
    )
    assert {v.arn for v in result.vertices} == {
        model.artifact_arn,
        job.action_arn,
        data.artifact_arn,
    }
    assert len(result.edges) == 2
    only_data = LineageQuery(session).query(
        start_arns=[model.artifact_arn],
        direction=LineageQueryDirectionEnum.ASCENDANTS,
        query_filter=LineageFilter(sources=["DataSet"]),
    )
    assert [v.arn for v in only_data.vertices] == [data.artifact_arn]

    table = LineageTableVisualizer(session).show(artifact_arn=model.artifact_arn)
    assert len(table) >= 1
