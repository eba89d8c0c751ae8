"""AddAssociation, DeleteAssociation and ListAssociations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mllineage.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException
from mllineage.store.base import Store
from tests.helpers import (
    action,
    artifact,
    bulk_artifacts,
    bulk_links,
    context,
    edges_of,
    link,
    refused,
)

TYPES = ["ContributedTo", "AssociatedWith", "DerivedFrom", "Produced", "SameAs"]


@pytest.mark.parametrize("association_type", TYPES)
def test_every_association_type(store: Store, association_type: str) -> None:
    source, destination = artifact(store), action(store)
    assert store.add_association(
        SourceArn=source, DestinationArn=destination, AssociationType=association_type
    ) == {"SourceArn": source, "DestinationArn": destination}
    [summary] = store.list_associations()["AssociationSummaries"]
    assert summary["AssociationType"] == association_type


def test_association_type_defaults_to_associated_with(store: Store) -> None:
    source, destination = artifact(store), context(store)
    store.add_association(SourceArn=source, DestinationArn=destination)
    [summary] = store.list_associations()["AssociationSummaries"]
    assert summary["AssociationType"] == "AssociatedWith"


@pytest.mark.parametrize("bad", ["associatedwith", "Contains", "", "SAMEAS", 1])
def test_other_association_types_are_refused(store: Store, bad: object) -> None:
    source, destination = artifact(store), artifact(store)
    with refused(ValidationException, "AssociationType must be one of"):
        store.add_association(SourceArn=source, DestinationArn=destination, AssociationType=bad)
    assert edges_of(store) == set()


@pytest.mark.parametrize(
    ("make_source", "make_destination"),
    [
        pytest.param(artifact, action, id="artifact-action"),
        pytest.param(action, artifact, id="action-artifact"),
        pytest.param(artifact, artifact, id="artifact-artifact"),
        pytest.param(action, action, id="action-action"),
        pytest.param(artifact, context, id="artifact-context"),
        pytest.param(context, context, id="context-context"),
        pytest.param(context, action, id="context-action"),
    ],
)
def test_any_kinds_can_be_associated(store: Store, make_source, make_destination) -> None:  # noqa: ANN001
    source, destination = make_source(store), make_destination(store)
    link(store, source, destination)
    assert edges_of(store) == {(source, destination)}


def test_duplicates_are_refused(store: Store) -> None:
    source, destination = artifact(store), action(store)
    link(store, source, destination, "ContributedTo")
    with refused(ValidationException, "already exists"):
        link(store, source, destination, "ContributedTo")
    with refused(ValidationException, "already exists"):
        link(store, source, destination, "Produced")  # one association per ordered pair
    [summary] = store.list_associations()["AssociationSummaries"]
    assert summary["AssociationType"] == "ContributedTo"


@pytest.mark.parametrize("end", ["source", "destination"])
def test_missing_ends_are_not_found(store: Store, end: str) -> None:
    present = artifact(store)
    missing = artifact(store)
    store.delete_artifact(ArtifactArn=missing)
    pair = (missing, present) if end == "source" else (present, missing)
    arg = "SourceArn" if end == "source" else "DestinationArn"
    with refused(ResourceNotFound, f"{arg}: no artifact, action or context"):
        link(store, *pair)
    ghost = "arn:aws:sagemaker:local:000000000000:action/ghost"
    with refused(ResourceNotFound, "no artifact, action or context"):
        link(store, *((ghost, present) if end == "source" else (present, ghost)))


@pytest.mark.parametrize(
    "arn",
    [
        pytest.param("not-an-arn", id="garbage"),
        pytest.param("arn:aws:sagemaker:local:000000000000:endpoint/x", id="endpoint"),
        pytest.param("arn:aws:sagemaker:local:123:artifact/x", id="short-account"),
    ],
)
def test_malformed_arns_are_validation_errors(store: Store, arn: str) -> None:
    with refused(ValidationException, "is not a SageMaker"):
        link(store, arn, artifact(store))


def test_experiment_arns_parse_but_are_not_stored(store: Store) -> None:
    trial = "arn:aws:sagemaker:local:000000000000:experiment-trial-component/tc"
    with refused(ResourceNotFound, "SourceArn: no artifact"):
        link(store, trial, artifact(store))


# -- delete ---------------------------------------------------------------------------------
def test_delete_association_keeps_the_entities(store: Store) -> None:
    source, destination = artifact(store), action(store, "job")
    link(store, source, destination)
    assert store.delete_association(SourceArn=source, DestinationArn=destination) == {
        "SourceArn": source,
        "DestinationArn": destination,
    }
    assert edges_of(store) == set()
    store.describe_artifact(ArtifactArn=source)
    store.describe_action(ActionName="job")
    link(store, destination, source)  # the old edge no longer constrains the DAG


def test_delete_of_a_missing_association(store: Store) -> None:
    source, destination = artifact(store), artifact(store)
    link(store, source, destination)
    with refused(ResourceNotFound, "no association"):
        store.delete_association(SourceArn=destination, DestinationArn=source)
    assert edges_of(store) == {(source, destination)}


# -- the per-entity limit -------------------------------------------------------------------
def test_at_most_1000_associations_per_entity(store: Store) -> None:
    # 400 inputs older than the hub, the hub, then 600 outputs: 999 associations loaded
    # directly, the 1000th and the refused ones through the API.
    inputs = bulk_artifacts(store, 400)
    [hub] = bulk_artifacts(store, 1)
    outputs = bulk_artifacts(store, 600)
    bulk_links(store, [(i, hub) for i in inputs] + [(hub, o) for o in outputs[:-1]])
    link(store, hub, outputs[-1])  # the 1000th: in and out both count
    late_input = artifact(store)
    with refused(ResourceLimitExceeded, "already has 1000 associations; at most 1000"):
        link(store, hub, artifact(store))
    with refused(ResourceLimitExceeded, "already has 1000 associations"):
        link(store, late_input, hub)
    store.delete_association(SourceArn=hub, DestinationArn=outputs[0])
    link(store, late_input, hub)  # room again


def test_the_limit_counts_both_ends(store: Store) -> None:
    [busy] = bulk_artifacts(store, 1)
    bulk_links(store, [(busy, o) for o in bulk_artifacts(store, 1000)])
    quiet = artifact(store)
    with refused(ResourceLimitExceeded, f"{busy} already has 1000"):
        link(store, quiet, busy)
    assert store.list_associations(SourceArn=quiet)["AssociationSummaries"] == []


# -- list -------------------------------------------------------------------------------------
def test_summaries(store: Store) -> None:
    data = artifact(store, ArtifactName="train-data", ArtifactType="DataSet")
    job = action(store, "train-job", ActionType="Training")
    link(store, data, job, "ContributedTo")
    [summary] = store.list_associations(SourceArn=data)["AssociationSummaries"]
    assert summary["SourceArn"] == data
    assert summary["DestinationArn"] == job
    assert summary["SourceType"] == "DataSet"
    assert summary["DestinationType"] == "Training"
    assert summary["SourceName"] == "train-data"
    assert summary["DestinationName"] == "train-job"
    assert summary["AssociationType"] == "ContributedTo"
    assert summary["CreationTime"].tzinfo is not None
    assert "CreatedBy" in summary


def test_summaries_of_unnamed_artifacts_have_no_name(store: Store) -> None:
    model = store.create_artifact(ArtifactType="Model")["ArtifactArn"]
    link(store, model, context(store))
    [summary] = store.list_associations()["AssociationSummaries"]
    assert "SourceName" not in summary
    assert summary["SourceType"] == "Model"


@pytest.fixture
def small_graph(store: Store) -> dict[str, str]:
    arns = {
        "raw": artifact(store, ArtifactType="Dataset"),
        "clean": artifact(store, ArtifactType="Dataset"),
        "prep": action(store, "prep", ActionType="Processing"),
        "train": action(store, "train", ActionType="Training"),
        "model": artifact(store, ArtifactType="Model"),
        "pipe": context(store, "pipe", ContextType="Pipeline"),
    }
    for source, destination, kind in [
        ("raw", "prep", "ContributedTo"),
        ("prep", "clean", "Produced"),
        ("clean", "train", "ContributedTo"),
        ("train", "model", "Produced"),
        ("raw", "model", "DerivedFrom"),
        ("model", "pipe", "AssociatedWith"),
        ("train", "pipe", "AssociatedWith"),
    ]:
        link(store, arns[source], arns[destination], kind)
    return arns


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param({"SourceArn": "raw"}, {("raw", "prep"), ("raw", "model")}, id="source"),
        pytest.param(
            {"DestinationArn": "pipe"}, {("model", "pipe"), ("train", "pipe")}, id="destination"
        ),
        pytest.param(
            {"SourceArn": "raw", "DestinationArn": "model"}, {("raw", "model")}, id="pair"
        ),
        pytest.param(
            {"SourceType": "Dataset"},
            {("raw", "prep"), ("raw", "model"), ("clean", "train")},
            id="source-type",
        ),
        pytest.param(
            {"DestinationType": "Model"}, {("train", "model"), ("raw", "model")}, id="dest-type"
        ),
        pytest.param(
            {"AssociationType": "Produced"}, {("prep", "clean"), ("train", "model")}, id="type"
        ),
        pytest.param(
            {"SourceType": "Training", "AssociationType": "AssociatedWith"},
            {("train", "pipe")},
            id="anded",
        ),
        pytest.param({"SourceType": "dataset"}, set(), id="case-sensitive-type"),
    ],
)
def test_list_filters(
    store: Store,
    small_graph: dict[str, str],
    request_: dict[str, str],
    expected: set[tuple[str, str]],
) -> None:
    arn_request = {k: small_graph[v] if k.endswith("Arn") else v for k, v in request_.items()}
    found = {
        (a["SourceArn"], a["DestinationArn"])
        for a in store.list_associations(MaxResults=100, **arn_request)["AssociationSummaries"]
    }
    assert found == {(small_graph[s], small_graph[d]) for s, d in expected}


def test_list_created_after_and_before_are_inclusive(store: Store) -> None:
    arns = [artifact(store) for _ in range(4)]
    for source, destination in zip(arns, arns[1:], strict=False):
        link(store, source, destination)
    summaries = store.list_associations(SortOrder="Ascending")["AssociationSummaries"]
    middle = summaries[1]["CreationTime"]
    after = store.list_associations(CreatedAfter=middle)["AssociationSummaries"]
    before = store.list_associations(CreatedBefore=middle.isoformat())["AssociationSummaries"]
    assert [a["SourceArn"] for a in after] == [arns[2], arns[1]]
    assert [a["SourceArn"] for a in before] == [arns[1], arns[0]]
    later = middle + timedelta(microseconds=1)
    assert len(store.list_associations(CreatedAfter=later)["AssociationSummaries"]) == 1


@pytest.mark.parametrize(
    "sort_by", ["SourceArn", "DestinationArn", "SourceType", "DestinationType", "CreationTime"]
)
@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_list_sorts_and_pages_through_ties(store: Store, sort_by: str, order: str) -> None:
    hubs = [artifact(store, ArtifactType=t) for t in ("B", "A")]
    leaves = [action(store, ActionType=t) for t in ("Y", "X", "Y", "X")]
    for hub in hubs:
        for leaf in leaves:
            link(store, hub, leaf)
    full = store.list_associations(SortBy=sort_by, SortOrder=order, MaxResults=100)[
        "AssociationSummaries"
    ]
    assert len(full) == 8
    keys = [a[sort_by] for a in full]
    assert keys == sorted(keys, reverse=order == "Descending")
    for size in (1, 3):
        paged = list(
            store.paginate(
                "list_associations",
                "AssociationSummaries",
                SortBy=sort_by,
                SortOrder=order,
                MaxResults=size,
            )
        )
        assert paged == full


def test_list_default_is_newest_first(store: Store) -> None:
    arns = [artifact(store) for _ in range(4)]
    for source, destination in zip(arns, arns[1:], strict=False):
        link(store, source, destination)
    summaries = store.list_associations()["AssociationSummaries"]
    assert [a["SourceArn"] for a in summaries] == arns[-2::-1]


def test_list_token_from_another_request_is_refused(store: Store) -> None:
    source = artifact(store)
    for _ in range(3):
        link(store, source, artifact(store))
    token = store.list_associations(SourceArn=source, MaxResults=1)["NextToken"]
    with refused(ValidationException, "NextToken was issued for a different request"):
        store.list_associations(MaxResults=1, NextToken=token)
    with refused(ValidationException, "NextToken was issued for a different request"):
        store.list_artifacts(NextToken=token)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param({"MaxResults": 0}, "MaxResults must be between 1 and 100", id="zero"),
        pytest.param({"MaxResults": 101}, "MaxResults must be between 1 and 100", id="101"),
        pytest.param({"SortBy": "Name"}, "SortBy must be one of", id="sort-by"),
        pytest.param({"AssociationType": "X"}, "AssociationType must be one of", id="type"),
        pytest.param({"SourceArn": "x"}, "is not a SageMaker", id="arn"),
    ],
)
def test_list_refuses_bad_requests(store: Store, request_: dict[str, object], message: str) -> None:
    with refused(ValidationException, message):
        store.list_associations(**request_)
