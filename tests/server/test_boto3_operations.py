"""Every lineage operation through a real boto3 SageMaker client and a real server process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mllineage.server.testing import ServerProcess
from tests.server.support import REGION, Account, client_for


def _uri(label: str = "data") -> str:
    return f"s3://bucket/{label}/{uuid.uuid4().hex}"


def _artifact(sm: Any, **request: Any) -> str:
    request.setdefault("ArtifactType", "Dataset")
    request.setdefault("Source", {"SourceUri": _uri()})
    return str(sm.create_artifact(**request)["ArtifactArn"])


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_artifact_round_trip(sm: Any, account: Account) -> None:
    uri = _uri()
    arn = _artifact(
        sm,
        ArtifactName="train-data",
        Source={"SourceUri": uri, "SourceTypes": [{"SourceIdType": "MD5Hash", "Value": "abc"}]},
        Properties={"rows": "10"},
        MetadataProperties={"CommitId": "c0ffee", "Repository": "git://repo"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    assert arn.startswith(f"arn:aws:sagemaker:{REGION}:{account.account_id}:artifact/")
    described = sm.describe_artifact(ArtifactArn=arn)
    assert described["ArtifactName"] == "train-data"
    assert described["Source"]["SourceUri"] == uri
    assert described["Source"]["SourceTypes"] == [{"SourceIdType": "MD5Hash", "Value": "abc"}]
    assert described["Properties"] == {"rows": "10"}
    assert described["MetadataProperties"] == {"CommitId": "c0ffee", "Repository": "git://repo"}
    assert described["CreatedBy"]["UserProfileName"] == account.access_key
    assert described["CreatedBy"]["IamIdentity"]["PrincipalId"] == account.access_key
    created = described["CreationTime"]
    assert abs(created - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert described["LastModifiedTime"] == created


def test_update_artifact(sm: Any) -> None:
    arn = _artifact(sm, Properties={"k1": "v1", "k2": "v2"})
    assert (
        sm.update_artifact(
            ArtifactArn=arn,
            ArtifactName="renamed",
            Properties={"k3": "v3"},
            PropertiesToRemove=["k1"],
        )["ArtifactArn"]
        == arn
    )
    described = sm.describe_artifact(ArtifactArn=arn)
    assert described["ArtifactName"] == "renamed"
    assert described["Properties"] == {"k2": "v2", "k3": "v3"}
    assert described["LastModifiedTime"] > described["CreationTime"]


def test_two_artifacts_may_share_a_name(sm: Any) -> None:
    first = _artifact(sm, ArtifactName="foo")
    second = _artifact(sm, ArtifactName="foo")
    assert first != second


def test_second_artifact_with_the_same_source_is_refused(sm: Any) -> None:
    source = {"SourceUri": _uri(), "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "e1"}]}
    _artifact(sm, Source=source)
    with pytest.raises(ClientError, match="already exists") as info:
        _artifact(sm, Source=source)
    assert _code(info) == "ValidationException"
    # Another source type makes another source.
    _artifact(sm, Source={**source, "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "e2"}]})


def test_delete_artifact_by_arn_and_by_source(sm: Any) -> None:
    arn = _artifact(sm)
    assert sm.delete_artifact(ArtifactArn=arn)["ArtifactArn"] == arn
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_artifact(ArtifactArn=arn)
    source = {"SourceUri": _uri()}
    arn = _artifact(sm, Source=source)
    assert sm.delete_artifact(Source=source)["ArtifactArn"] == arn


def test_list_artifacts_filters(sm: Any) -> None:
    uri = _uri("models")
    model = _artifact(sm, ArtifactType="Model", Source={"SourceUri": uri})
    _artifact(sm, ArtifactType="Dataset")
    by_type = sm.list_artifacts(ArtifactType="Model")["ArtifactSummaries"]
    assert [s["ArtifactArn"] for s in by_type] == [model]
    by_uri = sm.list_artifacts(SourceUri=uri)["ArtifactSummaries"]
    assert [s["ArtifactArn"] for s in by_uri] == [model]
    summary = by_uri[0]
    assert set(summary) == {
        "ArtifactArn",
        "Source",
        "ArtifactType",
        "CreationTime",
        "LastModifiedTime",
    }
    created = summary["CreationTime"]
    same_instant = sm.list_artifacts(CreatedAfter=created, CreatedBefore=created)
    assert len(same_instant["ArtifactSummaries"]) == 1
    later = created + timedelta(seconds=1)
    assert sm.list_artifacts(CreatedAfter=later)["ArtifactSummaries"] == []


def test_action_round_trip_by_name_and_arn(sm: Any, account: Account) -> None:
    arn = sm.create_action(
        ActionName="Train-Model",
        ActionType="Training",
        Source={"SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"},
        Status="InProgress",
        Description="training",
        Properties={"epochs": "3"},
    )["ActionArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{account.account_id}:action/train-model"
    by_name = sm.describe_action(ActionName="Train-Model")
    assert sm.describe_action(ActionName=arn)["ActionArn"] == by_name["ActionArn"] == arn
    assert by_name["Status"] == "InProgress"
    sm.update_action(ActionName="Train-Model", Status="Completed", Properties={"loss": "0.1"})
    updated = sm.describe_action(ActionName=arn)
    assert updated["Status"] == "Completed"
    assert updated["Properties"] == {"epochs": "3", "loss": "0.1"}
    summaries = sm.list_actions(ActionType="Training")["ActionSummaries"]
    assert [(s["ActionArn"], s["Status"]) for s in summaries] == [(arn, "Completed")]
    assert sm.delete_action(ActionName="Train-Model")["ActionArn"] == arn
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_action(ActionName=arn)


def test_context_round_trip(sm: Any) -> None:
    arn = sm.create_context(
        ContextName="my_endpoint",
        ContextType="Endpoint",
        Source={"SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"},
        Description="prod",
    )["ContextArn"]
    described = sm.describe_context(ContextName="my_endpoint")
    assert described["ContextArn"] == arn
    assert described["Description"] == "prod"
    sm.update_context(ContextName="my_endpoint", Description="staging")
    assert sm.describe_context(ContextName=arn)["Description"] == "staging"
    listed = sm.list_contexts(ContextType="Endpoint", SortBy="Name")["ContextSummaries"]
    assert [s["ContextName"] for s in listed] == ["my_endpoint"]
    assert sm.delete_context(ContextName="my_endpoint")["ContextArn"] == arn


def test_duplicate_action_name_is_refused(sm: Any) -> None:
    sm.create_action(ActionName="job", ActionType="T", Source={"SourceUri": "s3://x"})
    with pytest.raises(ClientError, match="already exists") as info:
        sm.create_action(ActionName="job", ActionType="T", Source={"SourceUri": "s3://y"})
    assert _code(info) == "ValidationException"


def test_associations_and_cascading_delete(sm: Any) -> None:
    data = _artifact(sm, ArtifactName="data", ArtifactType="DataSet")
    job = sm.create_action(ActionName="train", ActionType="Training", Source={"SourceUri": "j"})[
        "ActionArn"
    ]
    model = _artifact(sm, ArtifactName="model", ArtifactType="Model")
    added = sm.add_association(SourceArn=data, DestinationArn=job, AssociationType="ContributedTo")
    assert (added["SourceArn"], added["DestinationArn"]) == (data, job)
    sm.add_association(SourceArn=job, DestinationArn=model, AssociationType="Produced")
    listed = sm.list_associations(SourceArn=data)["AssociationSummaries"]
    assert len(listed) == 1
    assert listed[0]["DestinationArn"] == job
    assert listed[0]["SourceType"] == "DataSet"
    assert listed[0]["DestinationType"] == "Training"
    assert listed[0]["SourceName"] == "data"
    assert listed[0]["DestinationName"] == "train"
    assert listed[0]["AssociationType"] == "ContributedTo"
    assert isinstance(listed[0]["CreationTime"], datetime)

    with pytest.raises(ClientError) as info:
        sm.add_association(SourceArn=model, DestinationArn=data)
    assert _code(info) == "ValidationException"  # would close a cycle
    with pytest.raises(ClientError) as info:
        sm.add_association(SourceArn=data, DestinationArn=job)
    assert _code(info) == "ValidationException"  # duplicate

    sm.delete_action(ActionName="train")
    assert sm.list_associations(SourceArn=data)["AssociationSummaries"] == []
    assert sm.list_associations(DestinationArn=model)["AssociationSummaries"] == []
    sm.add_association(SourceArn=data, DestinationArn=model, AssociationType="DerivedFrom")
    sm.delete_association(SourceArn=data, DestinationArn=model)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.delete_association(SourceArn=data, DestinationArn=model)


def test_query_lineage(sm: Any) -> None:
    raw = _artifact(sm, ArtifactType="DataSet")
    job = sm.create_action(ActionName="job", ActionType="Training", Source={"SourceUri": "j"})[
        "ActionArn"
    ]
    model = _artifact(sm, ArtifactType="Model")
    endpoint = sm.create_context(
        ContextName="endpoint", ContextType="Endpoint", Source={"SourceUri": "e"}
    )["ContextArn"]
    sm.add_association(SourceArn=raw, DestinationArn=job, AssociationType="ContributedTo")
    sm.add_association(SourceArn=job, DestinationArn=model, AssociationType="Produced")
    sm.add_association(SourceArn=model, DestinationArn=endpoint, AssociationType="AssociatedWith")

    answer = sm.query_lineage(StartArns=[model], Direction="Ascendants", IncludeEdges=True)
    assert {v["Arn"] for v in answer["Vertices"]} == {model, job, raw}
    assert {"Arn": job, "Type": "Training", "LineageType": "Action"} in answer["Vertices"]
    assert {
        "SourceArn": raw,
        "DestinationArn": job,
        "AssociationType": "ContributedTo",
    } in answer["Edges"]

    down = sm.query_lineage(StartArns=[raw], Direction="Descendants", MaxDepth=2)
    assert {v["Arn"] for v in down["Vertices"]} == {raw, job, model}
    filtered = sm.query_lineage(
        StartArns=[raw],
        Direction="Descendants",
        Filters={"LineageTypes": ["Context"], "CreatedAfter": datetime(2000, 1, 1)},
    )
    assert [v["Arn"] for v in filtered["Vertices"]] == [endpoint]

    pages: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StartArns": [raw], "Direction": "Both", "MaxResults": 1}
    while True:
        page = sm.query_lineage(**request)
        pages.append(page)
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert len(pages) == 4
    assert {v["Arn"] for p in pages for v in p["Vertices"]} == {raw, job, model, endpoint}
    assert sum(len(p["Edges"]) for p in pages) == 3


def test_tags(sm: Any) -> None:
    arn = _artifact(sm, Tags=[{"Key": "a", "Value": "1"}])
    tags = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}]
    assert sm.add_tags(ResourceArn=arn, Tags=tags)["Tags"] == tags
    assert sorted((t["Key"], t["Value"]) for t in sm.list_tags(ResourceArn=arn)["Tags"]) == [
        ("a", "3"),
        ("b", "2"),
    ]
    response = sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert set(response) == {"ResponseMetadata"}
    assert sm.list_tags(ResourceArn=arn, MaxResults=50)["Tags"] == [{"Key": "b", "Value": "2"}]


@pytest.mark.parametrize(
    ("operation", "result_key", "create"),
    [
        pytest.param(
            "list_artifacts",
            "ArtifactSummaries",
            lambda sm, i: _artifact(sm),
            id="artifacts",
        ),
        pytest.param(
            "list_actions",
            "ActionSummaries",
            lambda sm, i: sm.create_action(
                ActionName=f"a{i}", ActionType="T", Source={"SourceUri": "s"}
            )["ActionArn"],
            id="actions",
        ),
        pytest.param(
            "list_contexts",
            "ContextSummaries",
            lambda sm, i: sm.create_context(
                ContextName=f"c{i}", ContextType="T", Source={"SourceUri": "s"}
            )["ContextArn"],
            id="contexts",
        ),
    ],
)
def test_list_pagination(sm: Any, operation: str, result_key: str, create: Any) -> None:
    arns = [create(sm, i) for i in range(23)]
    first = getattr(sm, operation)()
    assert len(first[result_key]) == 10  # SageMaker's default page size
    paginator = sm.get_paginator(operation)
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p[result_key]) for p in pages] == [7, 7, 7, 2]
    listed = [s[next(k for k in s if k.endswith("Arn"))] for p in pages for s in p[result_key]]
    assert listed == arns[::-1]  # newest first
    ascending = list(paginator.paginate(SortOrder="Ascending").search(f"{result_key}[]"))
    assert [s[next(k for k in s if k.endswith("Arn"))] for s in ascending] == arns


def test_list_associations_pagination(sm: Any) -> None:
    hub = _artifact(sm)
    sources = [_artifact(sm) for _ in range(12)]
    for source in sources:
        sm.add_association(SourceArn=source, DestinationArn=hub)
    paginator = sm.get_paginator("list_associations")
    pages = list(paginator.paginate(DestinationArn=hub, PaginationConfig={"PageSize": 5}))
    assert [len(p["AssociationSummaries"]) for p in pages] == [5, 5, 2]
    seen = {s["SourceArn"] for p in pages for s in p["AssociationSummaries"]}
    assert seen == set(sources)


def test_resource_not_found(sm: Any, account: Account) -> None:
    missing = f"arn:aws:sagemaker:{REGION}:{account.account_id}:artifact/{'0' * 32}"
    with pytest.raises(sm.exceptions.ResourceNotFound, match="no artifact"):
        sm.describe_artifact(ArtifactArn=missing)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_context(ContextName="nope")


def test_validation_exception(sm: Any) -> None:
    with pytest.raises(ClientError, match="ActionName") as info:
        sm.create_action(ActionName="bad name!", ActionType="T", Source={"SourceUri": "s"})
    assert _code(info) == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # botocore does not check maxima client-side; the server does.
    with pytest.raises(ClientError, match="MaxDepth") as info:
        sm.query_lineage(StartArns=[_artifact(sm)], MaxDepth=1000)
    assert _code(info) == "ValidationException"


def test_resource_limit_exceeded(sm: Any) -> None:
    arn = _artifact(sm, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(sm.exceptions.ResourceLimitExceeded, match="at most 50"):
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])


def test_accounts_are_isolated(
    server: ServerProcess, sm: Any, new_account: Callable[[], Account]
) -> None:
    other = client_for(server, new_account())
    arn = _artifact(sm)
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.describe_artifact(ArtifactArn=arn)
    assert other.list_artifacts()["ArtifactSummaries"] == []
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.delete_artifact(ArtifactArn=arn)
    with pytest.raises(other.exceptions.ResourceNotFound):
        other.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert sm.describe_artifact(ArtifactArn=arn)["ArtifactArn"] == arn
