"""Create, describe, update and delete artifacts, actions and contexts; identity rules."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from mllineage.errors import ResourceNotFound, ValidationException
from mllineage.store.base import Store
from tests.helpers import action, artifact, context, link, refused

SOURCE = {
    "SourceUri": "s3://my-bucket/datasets/train.csv",
    "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "abc123"}],
}


# -- create and describe --------------------------------------------------------------------
def test_artifact_round_trip(store: Store) -> None:
    before = datetime.now(timezone.utc)
    arn = store.create_artifact(
        ArtifactName="training-dataset-v1",
        ArtifactType="Dataset",
        Source=SOURCE,
        Properties={"num_samples": "10000"},
        MetadataProperties={"CommitId": "deadbeef"},
        Tags=[{"Key": "Project", "Value": "Churn"}],
    )["ArtifactArn"]
    described = store.describe_artifact(ArtifactArn=arn)
    assert described["ArtifactArn"] == arn
    assert described["ArtifactName"] == "training-dataset-v1"
    assert described["ArtifactType"] == "Dataset"
    assert described["Source"] == SOURCE
    assert described["Properties"] == {"num_samples": "10000"}
    assert described["MetadataProperties"] == {"CommitId": "deadbeef"}
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert described["CreationTime"].tzinfo is not None
    assert before <= described["CreationTime"] <= datetime.now(timezone.utc)
    assert "CreatedBy" in described
    assert "LastModifiedBy" in described


def test_artifact_arn_is_32_hex_not_the_name(store: Store) -> None:
    arn = artifact(store, ArtifactName="my-name")
    suffix = arn.rsplit("/", 1)[1]
    assert len(suffix) == 32
    assert int(suffix, 16) >= 0
    assert arn.startswith("arn:aws:sagemaker:")
    assert ":artifact/" in arn


def test_artifact_arns_begin_with_their_creation_millisecond(store: Store) -> None:
    # (new artifacts then sit together in the ARN index) and end with 80 random bits
    arns = store.put_lineage(
        Entities=[{"EntityKind": "artifact", "ArtifactType": "Dataset"} for _ in range(50)]
    )["Arns"]
    arns.append(artifact(store))
    for arn in arns:
        suffix = arn.rsplit("/", 1)[1]
        created = store.describe_artifact(ArtifactArn=arn)["CreationTime"]
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        assert int(suffix[:12], 16) == (created - epoch) // timedelta(milliseconds=1), arn
        assert suffix == suffix.lower()
    assert len({arn.rsplit("/", 1)[1][12:] for arn in arns}) == len(arns)


def test_action_round_trip(store: Store) -> None:
    arn = store.create_action(
        ActionName="Train-XGBoost-v1",
        ActionType="Training",
        Source={"SourceUri": "arn:aws:sagemaker:us-west-2:123:training-job/j", "SourceType": "J"},
        Description="training run",
        Status="Completed",
        Properties={"algorithm": "xgboost"},
    )["ActionArn"]
    assert arn.endswith(":action/train-xgboost-v1")
    assert "artifact" not in arn
    described = store.describe_action(ActionName=arn)
    assert described["ActionName"] == "Train-XGBoost-v1"
    assert described["ActionType"] == "Training"
    assert described["Status"] == "Completed"
    assert described["Description"] == "training run"
    assert described["Source"]["SourceType"] == "J"


def test_context_round_trip(store: Store) -> None:
    arn = store.create_context(
        ContextName="ml_pipeline-2024", ContextType="Pipeline", Properties={"env": "prod"}
    )["ContextArn"]
    assert arn.endswith(":context/ml_pipeline-2024")
    described = store.describe_context(ContextName="ml_pipeline-2024")
    assert described["ContextArn"] == arn
    assert described["Properties"] == {"env": "prod"}


@pytest.mark.parametrize(
    "status", ["Unknown", "InProgress", "Completed", "Failed", "Stopping", "Stopped"]
)
def test_action_statuses(store: Store, status: str) -> None:
    arn = action(store, Status=status)
    assert store.describe_action(ActionName=arn)["Status"] == status


def test_unknown_action_status_is_refused(store: Store) -> None:
    with refused(ValidationException, "Status must be one of"):
        action(store, Status="Done")


@pytest.mark.parametrize("kind", ["action", "context"])
def test_describe_by_name_or_arn(store: Store, kind: str) -> None:
    if kind == "action":
        arn = action(store, "My-Step")
        by_name = store.describe_action(ActionName="My-Step")
        by_arn = store.describe_action(ActionName=arn)
        by_other_case = store.describe_action(ActionName="my-step")
    else:
        arn = context(store, "My-Step")
        by_name = store.describe_context(ContextName="My-Step")
        by_arn = store.describe_context(ContextName=arn)
        by_other_case = store.describe_context(ContextName="my-step")
    assert by_name == by_arn == by_other_case


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda s: s.describe_artifact(
                ArtifactArn="arn:aws:sagemaker:local:000000000000:artifact/" + "0" * 32
            ),
            id="artifact",
        ),
        pytest.param(lambda s: s.describe_action(ActionName="nope"), id="action-name"),
        pytest.param(
            lambda s: s.describe_action(ActionName="arn:aws:sagemaker:local:000000000000:action/x"),
            id="action-arn",
        ),
        pytest.param(lambda s: s.describe_context(ContextName="nope"), id="context"),
        pytest.param(lambda s: s.delete_action(ActionName="nope"), id="delete-action"),
        pytest.param(lambda s: s.delete_context(ContextName="nope"), id="delete-context"),
        pytest.param(
            lambda s: s.update_context(ContextName="nope", Description="d"), id="update-context"
        ),
    ],
)
def test_missing_entities_are_not_found(store: Store, call: object) -> None:
    assert callable(call)
    with refused(ResourceNotFound, "nope|no artifact|no action|does not exist"):
        call(store)


def test_malformed_arn_is_a_validation_error(store: Store) -> None:
    with refused(ValidationException, "is not a SageMaker artifact ARN"):
        store.describe_artifact(ArtifactArn="artifact/123")
    with refused(ValidationException, "is not a SageMaker artifact ARN"):
        store.describe_artifact(ArtifactArn=action(store))


# -- identity -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["action", "context"])
def test_action_and_context_names_are_unique(store: Store, kind: str) -> None:
    make = action if kind == "action" else context
    make(store, "step-1")
    with refused(ValidationException, "already exists"):
        make(store, "step-1")
    with refused(ValidationException, "already exists"):
        make(store, "STEP-1")  # names are unique regardless of case, as their ARNs are


def test_an_action_and_a_context_may_share_a_name(store: Store) -> None:
    assert action(store, "shared") != context(store, "shared")


def test_artifacts_may_share_a_name(store: Store) -> None:
    first = artifact(store, ArtifactName="foo")
    second = artifact(store, ArtifactName="foo")
    assert first != second


def test_artifacts_without_source_may_repeat(store: Store) -> None:
    first = store.create_artifact(ArtifactType="Model")["ArtifactArn"]
    second = store.create_artifact(ArtifactType="Model")["ArtifactArn"]
    assert first != second


def test_an_artifact_source_is_its_identity(store: Store) -> None:
    artifact(store, Source=SOURCE, ArtifactName="a")
    with refused(ValidationException, "already exists"):
        artifact(store, Source=SOURCE, ArtifactName="b", ArtifactType="Other")


def test_source_types_in_any_order_are_the_same_source(store: Store) -> None:
    types = [
        {"SourceIdType": "S3ETag", "Value": "e"},
        {"SourceIdType": "S3Version", "Value": "v"},
    ]
    artifact(store, Source={"SourceUri": "s3://b/k", "SourceTypes": types})
    with refused(ValidationException, "already exists"):
        artifact(store, Source={"SourceUri": "s3://b/k", "SourceTypes": types[::-1]})


@pytest.mark.parametrize(
    "types",
    [
        pytest.param([], id="no-types"),
        pytest.param([{"SourceIdType": "S3ETag", "Value": "other"}], id="other-value"),
        pytest.param([{"SourceIdType": "MD5Hash", "Value": "abc123"}], id="other-type"),
    ],
)
def test_same_uri_with_different_source_types_is_another_artifact(
    store: Store, types: list[dict[str, str]]
) -> None:
    first = artifact(store, Source=SOURCE)
    second = artifact(store, Source={"SourceUri": SOURCE["SourceUri"], "SourceTypes": types})
    assert first != second


def test_a_deleted_identity_can_be_reused(store: Store) -> None:
    first = artifact(store, Source=SOURCE)
    store.delete_artifact(ArtifactArn=first)
    assert artifact(store, Source=SOURCE) != first
    action(store, "again")
    store.delete_action(ActionName="again")
    action(store, "again")


# -- a failed call changes nothing ----------------------------------------------------------
def test_create_with_a_bad_tag_leaves_no_entity(store: Store) -> None:
    bad = [{"Key": "ok", "Value": "v"}, {"Key": "bad#key", "Value": "v"}]
    with refused(ValidationException, "may contain only"):
        artifact(store, Source=SOURCE, Tags=bad)
    with refused(ValidationException, "may contain only"):
        action(store, "step", Tags=bad)
    with refused(ValidationException, "may contain only"):
        context(store, "ctx", Tags=bad)
    assert store.list_artifacts()["ArtifactSummaries"] == []
    assert store.list_actions()["ActionSummaries"] == []
    assert store.list_contexts()["ContextSummaries"] == []
    # The identities were not taken either.
    artifact(store, Source=SOURCE)
    action(store, "step")
    context(store, "ctx")


def test_update_past_30_properties_keeps_the_old_ones(store: Store) -> None:
    old = {f"k{i}": "v" for i in range(25)}
    arn = artifact(store, Properties=old)
    before = store.describe_artifact(ArtifactArn=arn)
    with refused(ValidationException, "would have 31 properties; at most 30"):
        store.update_artifact(
            ArtifactArn=arn, ArtifactName="renamed", Properties={f"n{i}": "v" for i in range(6)}
        )
    assert store.describe_artifact(ArtifactArn=arn) == before


def test_update_with_a_bad_value_keeps_the_old_state(store: Store) -> None:
    arn = action(store, "step", Properties={"a": "1"}, Status="InProgress")
    before = store.describe_action(ActionName=arn)
    with refused(ValidationException, "must be a string"):
        store.update_action(ActionName="step", Status="Completed", Properties={"b": 2})
    assert store.describe_action(ActionName=arn) == before


# -- update -----------------------------------------------------------------------------------
def test_update_merges_and_removes_properties(store: Store) -> None:
    arn = artifact(store, Properties={"keep": "1", "change": "old", "drop": "x"})
    store.update_artifact(
        ArtifactArn=arn, Properties={"change": "new", "add": "2"}, PropertiesToRemove=["drop"]
    )
    assert store.describe_artifact(ArtifactArn=arn)["Properties"] == {
        "keep": "1",
        "change": "new",
        "add": "2",
    }


def test_removing_an_absent_property_is_harmless(store: Store) -> None:
    arn = context(store, "c", Properties={"a": "1"})
    store.update_context(ContextName="c", PropertiesToRemove=["missing"])
    assert store.describe_context(ContextName=arn)["Properties"] == {"a": "1"}


def test_setting_and_removing_one_key_is_refused(store: Store) -> None:
    arn = artifact(store, Properties={"a": "1"})
    with refused(ValidationException, "PropertiesToRemove names keys that Properties sets"):
        store.update_artifact(ArtifactArn=arn, Properties={"a": "2"}, PropertiesToRemove=["a"])


def test_update_can_reach_exactly_30_properties(store: Store) -> None:
    arn = artifact(store, Properties={f"k{i}": "v" for i in range(29)})
    store.update_artifact(
        ArtifactArn=arn, Properties={"new1": "v", "new2": "v"}, PropertiesToRemove=["k0"]
    )
    assert len(store.describe_artifact(ArtifactArn=arn)["Properties"]) == 30


def test_update_action_status_and_description(store: Store) -> None:
    arn = action(store, "job", Status="InProgress")
    created = store.describe_action(ActionName="job")
    assert store.update_action(ActionName="job", Status="Completed", Description="done") == {
        "ActionArn": arn
    }
    updated = store.describe_action(ActionName="job")
    assert (updated["Status"], updated["Description"]) == ("Completed", "done")
    assert updated["CreationTime"] == created["CreationTime"]
    assert updated["LastModifiedTime"] > created["LastModifiedTime"]


def test_update_artifact_name(store: Store) -> None:
    arn = artifact(store, ArtifactName="old")
    assert store.update_artifact(ArtifactArn=arn, ArtifactName="new") == {"ArtifactArn": arn}
    assert store.describe_artifact(ArtifactArn=arn)["ArtifactName"] == "new"


def test_update_context_by_arn(store: Store) -> None:
    arn = context(store, "ctx")
    store.update_context(ContextName=arn, Description="by arn")
    assert store.describe_context(ContextName="ctx")["Description"] == "by arn"


def test_update_of_a_missing_artifact(store: Store) -> None:
    arn = artifact(store)
    store.delete_artifact(ArtifactArn=arn)
    with refused(ResourceNotFound, "no artifact"):
        store.update_artifact(ArtifactArn=arn, Properties={"a": "b"})


# -- delete -----------------------------------------------------------------------------------
def test_delete_returns_the_arn(store: Store) -> None:
    a, b, c = artifact(store), action(store, "b"), context(store, "c")
    assert store.delete_artifact(ArtifactArn=a) == {"ArtifactArn": a}
    assert store.delete_action(ActionName="b") == {"ActionArn": b}
    assert store.delete_context(ContextName=c) == {"ContextArn": c}
    with refused(ResourceNotFound, "does not exist"):
        store.describe_action(ActionName="b")
    with refused(ResourceNotFound, "no context"):
        store.describe_context(ContextName=c)


def test_delete_artifact_by_source(store: Store) -> None:
    arn = artifact(store, Source=SOURCE)
    other = artifact(store, Source={"SourceUri": SOURCE["SourceUri"]})
    assert store.delete_artifact(Source=SOURCE) == {"ArtifactArn": arn}
    with refused(ResourceNotFound, "no artifact"):
        store.describe_artifact(ArtifactArn=arn)
    assert store.describe_artifact(ArtifactArn=other)["ArtifactArn"] == other
    with refused(ResourceNotFound, "no artifact with source"):
        store.delete_artifact(Source=SOURCE)


def test_delete_artifact_needs_exactly_one_of_arn_and_source(store: Store) -> None:
    arn = artifact(store, Source=SOURCE)
    with refused(ValidationException, "exactly one of ArtifactArn or Source"):
        store.delete_artifact()
    with refused(ValidationException, "exactly one of ArtifactArn or Source"):
        store.delete_artifact(ArtifactArn=arn, Source=SOURCE)
    assert store.describe_artifact(ArtifactArn=arn)["ArtifactArn"] == arn


@pytest.mark.parametrize("kind", ["artifact", "action", "context"])
def test_delete_cascades_to_associations(store: Store, kind: str) -> None:
    upstream, downstream, bystander = artifact(store), artifact(store), artifact(store)
    if kind == "artifact":
        victim = artifact(store)
    elif kind == "action":
        victim = action(store, "victim")
    else:
        victim = context(store, "victim")
    link(store, upstream, victim)
    link(store, victim, downstream)
    link(store, upstream, bystander)
    {
        "artifact": lambda: store.delete_artifact(ArtifactArn=victim),
        "action": lambda: store.delete_action(ActionName="victim"),
        "context": lambda: store.delete_context(ContextName="victim"),
    }[kind]()
    summaries = store.list_associations(MaxResults=100)["AssociationSummaries"]
    assert [(s["SourceArn"], s["DestinationArn"]) for s in summaries] == [(upstream, bystander)]
    for arn in (upstream, downstream, bystander):  # the neighbours themselves stay
        store.describe_artifact(ArtifactArn=arn)
    graph = store.query_lineage(StartArns=[upstream], Direction="Both", MaxDepth=5)
    assert {v["Arn"] for v in graph["Vertices"]} == {upstream, bystander}
    with refused(ResourceNotFound, "DestinationArn: no artifact, action or context"):
        store.delete_association(SourceArn=upstream, DestinationArn=victim)


def test_a_recreated_name_has_no_old_associations(store: Store) -> None:
    data = artifact(store)
    link(store, data, action(store, "job"))
    store.delete_action(ActionName="job")
    arn = action(store, "job")
    assert store.list_associations(DestinationArn=arn)["AssociationSummaries"] == []
    assert store.list_associations(SourceArn=data)["AssociationSummaries"] == []


def _long_uri(seed: int, tail: str = "") -> str:
    """A source URI of 2,048 characters (the most SageMaker allows) that no compression
    shortens: 6 to 8 KB of UTF-8."""
    rng = random.Random(seed)
    body = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2_048 - 7 - len(tail)))
    return f"s3://b/{body}{tail}"


def test_a_source_uri_of_2048_characters_of_any_script_is_an_identity(store: Store) -> None:
    # (PostgreSQL keeps an index entry within 2,704 bytes: its source index keys a prefix)
    first, second = _long_uri(1, "/a"), _long_uri(1, "/b")  # (the same first 2,039)
    assert len(first) == 2_048
    assert len(first.encode()) > 6_000
    arn = artifact(store, Source={"SourceUri": first})
    other = artifact(store, Source={"SourceUri": second})
    with refused(ValidationException, f"already exists: {arn}"):
        artifact(store, Source={"SourceUri": first})
    with refused(ValidationException, f"already exists: {other}"):
        store.put_lineage(
            Entities=[
                {"EntityKind": "artifact", "ArtifactType": "D", "Source": {"SourceUri": second}}
            ]
        )
    listed = store.list_artifacts(SourceUri=first)["ArtifactSummaries"]
    assert [s["ArtifactArn"] for s in listed] == [arn]
    action(store, Source={"SourceUri": first})
    assert len(store.list_actions(SourceUri=first[:-2])["ActionSummaries"]) == 1
    assert store.delete_artifact(Source={"SourceUri": second}) == {"ArtifactArn": other}
    assert artifact(store, Source={"SourceUri": second}) != other
