"""ListArtifacts, ListActions, ListContexts (and the ListEntityDetails extension): filters,
sorting and paging."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mllineage.errors import ValidationException
from mllineage.store.base import Store
from tests.helpers import action, artifact, bulk_artifacts, context, refused

LIST = {"artifact": "list_artifacts", "action": "list_actions", "context": "list_contexts"}
SUMMARIES = {
    "artifact": ("ArtifactSummaries", "ArtifactArn"),
    "action": ("ActionSummaries", "ActionArn"),
    "context": ("ContextSummaries", "ContextArn"),
}
MAKE = {"artifact": artifact, "action": action, "context": context}
KINDS = [pytest.param(k, id=k) for k in LIST]


def listed(store: Store, kind: str, **request: Any) -> list[str]:
    """The ARNs of one page of ``kind``'s list."""
    key, arn_key = SUMMARIES[kind]
    return [s[arn_key] for s in getattr(store, LIST[kind])(**request)[key]]


def every(store: Store, kind: str, **request: Any) -> list[str]:
    """The ARNs of every page, in order."""
    key, arn_key = SUMMARIES[kind]
    return [s[arn_key] for s in store.paginate(LIST[kind], key, **request)]


# -- SourceUri ------------------------------------------------------------------------------
URIS = [
    "s3://b/datasets",
    "s3://b/datasets/train.csv",
    "s3://b/datasets/sub/deep/x.parquet",
    "s3://b/datasets2/x",
    "s3://b/datasets-old/x",
    "s3://b/datasets.csv",
    "s3://b/data",
    "s3://b/Datasets/x",
    "s3://other/datasets/x",
]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        pytest.param(
            "s3://b/datasets",
            {"s3://b/datasets", "s3://b/datasets/train.csv", "s3://b/datasets/sub/deep/x.parquet"},
            id="directory",
        ),
        pytest.param(
            "s3://b/datasets/",
            {"s3://b/datasets/train.csv", "s3://b/datasets/sub/deep/x.parquet"},
            id="trailing-slash",
        ),
        pytest.param("s3://b/datasets/train.csv", {"s3://b/datasets/train.csv"}, id="exact"),
        pytest.param("s3://b/dat", set(), id="not-a-boundary"),
        pytest.param("s3://b/datasets/sub", {"s3://b/datasets/sub/deep/x.parquet"}, id="deep"),
    ],
)
def test_source_uri_matches_at_path_boundaries(
    store: Store, prefix: str, expected: set[str]
) -> None:
    by_uri = {uri: artifact(store, uri) for uri in URIS}
    found = set(listed(store, "artifact", SourceUri=prefix, MaxResults=100))
    assert found == {by_uri[uri] for uri in expected}


def test_source_uri_filters_actions_and_contexts(store: Store) -> None:
    train = action(store, Source={"SourceUri": "arn:aws:sagemaker:r:1:training-job/j"})
    action(store, Source={"SourceUri": "arn:aws:sagemaker:r:1:training-job/j2"})
    ctx = context(store, Source={"SourceUri": "arn:aws:sagemaker:r:1:endpoint/e/v1"})
    context(store)
    assert listed(store, "action", SourceUri="arn:aws:sagemaker:r:1:training-job/j") == [train]
    assert listed(store, "context", SourceUri="arn:aws:sagemaker:r:1:endpoint/e") == [ctx]


# -- type and time --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_type_filter(store: Store, kind: str) -> None:
    type_key = f"{SUMMARIES[kind][1][:-3]}Type"
    wanted = [MAKE[kind](store, **{type_key: "Model"}) for _ in range(2)]
    MAKE[kind](store, **{type_key: "Dataset"})
    MAKE[kind](store, **{type_key: "model"})
    assert sorted(listed(store, kind, **{type_key: "Model"})) == sorted(wanted)


def test_combined_filters_are_anded(store: Store) -> None:
    hit = artifact(store, "s3://b/d/1", ArtifactType="Model")
    artifact(store, "s3://b/d/2", ArtifactType="Dataset")
    artifact(store, "s3://b/e/3", ArtifactType="Model")
    assert listed(store, "artifact", SourceUri="s3://b/d", ArtifactType="Model") == [hit]


@pytest.mark.parametrize("as_text", [False, True], ids=["datetime", "iso-string"])
@pytest.mark.parametrize("kind", KINDS)
def test_created_after_and_before_are_inclusive(store: Store, kind: str, as_text: bool) -> None:
    arns = [MAKE[kind](store) for _ in range(3)]
    key, _ = SUMMARIES[kind]
    times = {
        s[SUMMARIES[kind][1]]: s["CreationTime"]
        for s in getattr(store, LIST[kind])(MaxResults=100)[key]
    }
    first, middle, last = (times[a] for a in arns)
    assert first < middle < last

    def at(t: Any) -> Any:
        return t.isoformat() if as_text else t

    assert set(listed(store, kind, CreatedAfter=at(middle))) == {arns[1], arns[2]}
    assert set(listed(store, kind, CreatedBefore=at(middle))) == {arns[0], arns[1]}
    assert listed(store, kind, CreatedAfter=at(middle), CreatedBefore=at(middle)) == [arns[1]]
    one_us = timedelta(microseconds=1)
    assert listed(store, kind, CreatedAfter=at(last + one_us)) == []
    assert listed(store, kind, CreatedBefore=at(first - one_us)) == []


def test_created_after_accepts_a_date_string(store: Store) -> None:
    arn = artifact(store)
    assert listed(store, "artifact", CreatedAfter="2024-01-01") == [arn]
    assert listed(store, "artifact", CreatedBefore="2024-01-01") == []
    assert listed(store, "artifact", CreatedAfter="2024-01-01T00:00:00Z") == [arn]


def test_a_bad_time_is_refused(store: Store) -> None:
    with refused(ValidationException, "CreatedAfter must be a datetime or an ISO 8601 string"):
        store.list_artifacts(CreatedAfter="last tuesday")


# -- sorting --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_newest_first_by_default(store: Store, kind: str) -> None:
    arns = [MAKE[kind](store) for _ in range(5)]
    assert listed(store, kind) == arns[::-1]
    assert listed(store, kind, SortBy="CreationTime", SortOrder="Ascending") == arns
    assert listed(store, kind, SortOrder="Descending") == arns[::-1]


@pytest.mark.parametrize("kind", ["action", "context"])
def test_sort_by_name(store: Store, kind: str) -> None:
    names = ["delta", "Alpha", "charlie", "bravo", "Echo"]
    by_name = {name: MAKE[kind](store, name) for name in names}
    expected = [by_name[n] for n in sorted(names)]
    assert listed(store, kind, SortBy="Name", SortOrder="Ascending") == expected
    assert listed(store, kind, SortBy="Name", SortOrder="Descending") == expected[::-1]
    assert every(store, kind, SortBy="Name", SortOrder="Ascending", MaxResults=2) == expected


@pytest.mark.parametrize(
    ("kind", "request_", "message"),
    [
        pytest.param("artifact", {"SortBy": "Name"}, "SortBy must be one of", id="artifact-name"),
        pytest.param("action", {"SortBy": "Type"}, "SortBy must be one of", id="action-type"),
        pytest.param("context", {"SortOrder": "Up"}, "SortOrder must be one of", id="order"),
    ],
)
def test_bad_sorts_are_refused(
    store: Store, kind: str, request_: dict[str, str], message: str
) -> None:
    with refused(ValidationException, message):
        getattr(store, LIST[kind])(**request_)


# -- paging ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_max_results_1_to_100(store: Store, kind: str) -> None:
    arns = [MAKE[kind](store) for _ in range(3)]
    assert listed(store, kind, MaxResults=1) == arns[-1:]
    assert listed(store, kind, MaxResults=100) == arns[::-1]
    for bad in (0, 101, -1):
        with refused(ValidationException, "MaxResults must be between 1 and 100"):
            listed(store, kind, MaxResults=bad)
    with refused(ValidationException, "MaxResults must be an integer"):
        listed(store, kind, MaxResults="5")


def test_default_page_is_10(store: Store) -> None:
    arns = [artifact(store) for _ in range(12)]
    page = store.list_artifacts()
    assert len(page["ArtifactSummaries"]) == 10
    assert "NextToken" in page
    rest = store.list_artifacts(NextToken=page["NextToken"])
    assert [s["ArtifactArn"] for s in rest["ArtifactSummaries"]] == arns[1::-1]
    assert "NextToken" not in rest


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
@pytest.mark.parametrize("page_size", [1, 7, 20])
@pytest.mark.parametrize("kind", KINDS)
def test_paging_visits_everything_once(store: Store, kind: str, page_size: int, order: str) -> None:
    arns = [MAKE[kind](store) for _ in range(20)]
    seen = every(store, kind, SortOrder=order, MaxResults=page_size)
    assert seen == (arns if order == "Ascending" else arns[::-1])


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_paging_through_ties(store: Store, order: str) -> None:
    # Ties are broken in creation order, the sort's way: Descending is Ascending reversed.
    tied = bulk_artifacts(store, 12, same_time=True)
    later = [artifact(store), artifact(store)]
    expected = [*tied, *later] if order == "Ascending" else [*later[::-1], *tied[::-1]]
    for size in (1, 5, 12):
        assert every(store, "artifact", SortOrder=order, MaxResults=size) == expected


def test_paging_with_filters(store: Store) -> None:
    wanted = [artifact(store, f"s3://b/in/{i}") for i in range(9)]
    for i in range(9):
        artifact(store, f"s3://b/out/{i}")
    assert every(store, "artifact", SourceUri="s3://b/in", MaxResults=4) == wanted[::-1]


def test_paging_while_entities_are_added(store: Store) -> None:
    arns = [artifact(store) for _ in range(6)]
    first = store.list_artifacts(SortOrder="Ascending", MaxResults=3)
    arns.append(artifact(store))
    rest = [
        s["ArtifactArn"]
        for s in store.paginate(
            "list_artifacts",
            "ArtifactSummaries",
            SortOrder="Ascending",
            MaxResults=3,
            NextToken=first["NextToken"],
        )
    ]
    assert [s["ArtifactArn"] for s in first["ArtifactSummaries"]] + rest == arns


def test_a_token_from_another_request_is_refused(store: Store) -> None:
    for _ in range(3):
        artifact(store, ArtifactType="Model")
        action(store)
    token = store.list_artifacts(ArtifactType="Model", MaxResults=1)["NextToken"]
    with refused(ValidationException, "NextToken was issued for a different request"):
        store.list_artifacts(ArtifactType="Dataset", MaxResults=1, NextToken=token)
    with refused(ValidationException, "NextToken was issued for a different request"):
        store.list_artifacts(ArtifactType="Model", SortOrder="Ascending", NextToken=token)
    with refused(ValidationException, "NextToken was issued for a different request"):
        store.list_actions(NextToken=token)
    # The same request with another page size is the same request.
    assert store.list_artifacts(ArtifactType="Model", MaxResults=5, NextToken=token)


@pytest.mark.parametrize("token", ["", "garbage", "e30", 42])
def test_a_forged_token_is_refused(store: Store, token: Any) -> None:
    with refused(ValidationException, "NextToken"):
        store.list_contexts(NextToken=token)


# -- summaries and details ------------------------------------------------------------------
def test_summaries_carry_the_list_fields(store: Store) -> None:
    arn = action(store, "job", Status="Completed", Source={"SourceUri": "s3://x"})
    [summary] = store.list_actions()["ActionSummaries"]
    assert summary["ActionArn"] == arn
    assert summary["ActionName"] == "job"
    assert summary["ActionType"] == "Training"
    assert summary["Status"] == "Completed"
    assert summary["Source"] == {"SourceUri": "s3://x"}
    assert summary["CreationTime"] == summary["LastModifiedTime"]


def test_list_entity_details_pages_full_descriptions(store: Store) -> None:
    arns = [artifact(store, Properties={"i": str(i)}) for i in range(5)]
    details = list(
        store.paginate("list_entity_details", "Entities", EntityKind="artifact", MaxResults=2)
    )
    assert [d["ArtifactArn"] for d in details] == arns[::-1]
    assert details[0] == store.describe_artifact(ArtifactArn=arns[-1])
    with refused(ValidationException, "EntityKind must be one of"):
        store.list_entity_details(EntityKind="association")


def test_lists_see_only_their_kind(store: Store) -> None:
    a, b, c = artifact(store), action(store, "same"), context(store, "same")
    assert listed(store, "artifact") == [a]
    assert listed(store, "action") == [b]
    assert listed(store, "context") == [c]
