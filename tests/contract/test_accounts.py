"""Accounts sharing one database never see or touch each other's lineage."""

from __future__ import annotations

import pytest

from mllineage.errors import ResourceNotFound
from mllineage.store.base import Store
from tests.helpers import action, artifact, context, edges_of, link, refused

SOURCE = {"SourceUri": "s3://shared/data.csv"}


@pytest.fixture
def theirs(other_account: Store) -> dict[str, str]:
    """Lineage of the other account."""
    data = artifact(other_account, Source=SOURCE, ArtifactName="data")
    job = action(other_account, "job")
    ctx = context(other_account, "ctx")
    link(other_account, data, job)
    link(other_account, job, ctx)
    return {"data": data, "job": job, "ctx": ctx}


def test_arns_carry_the_account(store: Store, other_account: Store) -> None:
    mine, yours = action(store, "same"), action(other_account, "same")
    assert mine != yours
    assert mine.split(":")[4] != yours.split(":")[4]


def test_lists_see_one_account(store: Store, theirs: dict[str, str]) -> None:
    assert store.list_artifacts()["ArtifactSummaries"] == []
    assert store.list_actions()["ActionSummaries"] == []
    assert store.list_contexts()["ContextSummaries"] == []
    assert store.list_associations()["AssociationSummaries"] == []
    assert store.list_entity_details(EntityKind="artifact")["Entities"] == []


def test_names_and_sources_are_per_account(
    store: Store, other_account: Store, theirs: dict[str, str]
) -> None:
    mine = artifact(store, Source=SOURCE)  # the same source in another account is no clash
    action(store, "job")
    context(store, "ctx")
    assert mine != theirs["data"]
    assert store.delete_artifact(Source=SOURCE) == {"ArtifactArn": mine}
    other_account.describe_artifact(ArtifactArn=theirs["data"])


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, t: s.describe_artifact(ArtifactArn=t["data"]), id="describe"),
        pytest.param(lambda s, t: s.describe_action(ActionName=t["job"]), id="describe-arn"),
        pytest.param(lambda s, t: s.describe_context(ContextName=t["ctx"]), id="context-arn"),
        pytest.param(
            lambda s, t: s.update_artifact(ArtifactArn=t["data"], Properties={"a": "b"}),
            id="update",
        ),
        pytest.param(lambda s, t: s.delete_artifact(ArtifactArn=t["data"]), id="delete"),
        pytest.param(lambda s, t: s.delete_artifact(Source=SOURCE), id="delete-by-source"),
        pytest.param(lambda s, t: s.delete_action(ActionName=t["job"]), id="delete-action"),
        pytest.param(lambda s, t: s.describe_action(ActionName="job"), id="by-name"),
        pytest.param(
            lambda s, t: s.add_association(SourceArn=t["data"], DestinationArn=t["ctx"]),
            id="associate",
        ),
        pytest.param(
            lambda s, t: s.delete_association(SourceArn=t["data"], DestinationArn=t["job"]),
            id="disassociate",
        ),
        pytest.param(lambda s, t: s.query_lineage(StartArns=[t["job"]]), id="query"),
        pytest.param(lambda s, t: s.lineage_graph(StartArns=[t["job"]]), id="graph"),
        pytest.param(
            lambda s, t: s.add_tags(ResourceArn=t["data"], Tags=[{"Key": "k", "Value": "v"}]),
            id="add-tags",
        ),
        pytest.param(lambda s, t: s.list_tags(ResourceArn=t["data"]), id="list-tags"),
        pytest.param(
            lambda s, t: s.delete_tags(ResourceArn=t["data"], TagKeys=["k"]), id="delete-tags"
        ),
    ],
)
def test_another_accounts_entities_are_not_found(
    store: Store, other_account: Store, theirs: dict[str, str], call: object
) -> None:
    assert callable(call)
    with refused(ResourceNotFound, "no |does not exist"):
        call(store, theirs)
    assert edges_of(other_account) == {
        (theirs["data"], theirs["job"]),
        (theirs["job"], theirs["ctx"]),
    }
    assert other_account.describe_artifact(ArtifactArn=theirs["data"])["Properties"] == {}
    assert other_account.list_tags(ResourceArn=theirs["data"])["Tags"] == []


def test_no_association_across_accounts(
    store: Store, other_account: Store, theirs: dict[str, str]
) -> None:
    mine = artifact(store)
    with refused(ResourceNotFound, "DestinationArn: no artifact"):
        link(store, mine, theirs["job"])
    with refused(ResourceNotFound, "SourceArn: no artifact"):
        link(other_account, mine, theirs["job"])
    assert store.list_associations()["AssociationSummaries"] == []
