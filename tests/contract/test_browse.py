"""The browsing extensions: CountEntities, and ListEntityDetails' NamePrefix, Properties,
IncludeTags and name sorting of artifacts."""

from __future__ import annotations

from typing import Any

import pytest

from mllineage.errors import ValidationException
from mllineage.store.base import Store
from mllineage.store.sql.browse import prefix_upper_bound
from tests.helpers import action, artifact, context, link, refused, unique


def names(store: Store, kind: str, **request: Any) -> list[str | None]:
    key = {"artifact": "ArtifactName", "action": "ActionName", "context": "ContextName"}[kind]
    entities = store.paginate("list_entity_details", "Entities", EntityKind=kind, **request)
    return [e.get(key) for e in entities]


def test_count_entities(store: Store, other_account: Store) -> None:
    assert store.count_entities() == {"Counts": [], "AssociationCount": 0}
    a, b = artifact(store), artifact(store, ArtifactType="Model")
    artifact(store)
    job = action(store)
    context(store)
    link(store, a, job)
    link(store, job, b, "Produced")
    artifact(other_account)
    assert store.count_entities() == {
        "Counts": [
            {"EntityKind": "action", "Type": "Training", "Count": 1},
            {"EntityKind": "artifact", "Type": "Dataset", "Count": 2},
            {"EntityKind": "artifact", "Type": "Model", "Count": 1},
            {"EntityKind": "context", "Type": "Pipeline", "Count": 1},
        ],
        "AssociationCount": 2,
    }
    with refused(ValidationException, "unknown parameter"):
        store.count_entities(EntityKind="artifact")


def test_name_prefix_is_case_sensitive(store: Store) -> None:
    for name in ("train", "training", "Train-b", "test", "t"):
        action(store, name)
    found = names(store, "action", NamePrefix="trai", SortBy="Name", SortOrder="Ascending")
    assert found == ["train", "training"]
    assert names(store, "action", NamePrefix="x") == []
    with refused(ValidationException, "NamePrefix must be 1 to 120 characters"):
        store.list_entity_details(EntityKind="action", NamePrefix="")


def test_name_prefix_and_properties_are_not_aws_members(store: Store) -> None:
    with refused(ValidationException, "unknown parameter"):
        store.list_actions(NamePrefix="a")
    with refused(ValidationException, "unknown parameter"):
        store.list_artifacts(Properties={"a": "b"})


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        pytest.param({"team": "a"}, ["one", "two"], id="one-key"),
        pytest.param({"team": "a", "stage": "prod"}, ["two"], id="all-keys"),
        pytest.param({"team": "A"}, [], id="exact-case"),
        pytest.param({'odd "key".$[0]': "v'1"}, ["three"], id="odd-characters"),
        pytest.param({}, ["one", "two", "three"], id="empty"),
    ],
)
def test_properties_filter(store: Store, wanted: dict[str, str], expected: list[str]) -> None:
    context(store, "one", Properties={"team": "a"})
    context(store, "two", Properties={"team": "a", "stage": "prod"})
    context(store, "three", Properties={"team": "b", 'odd "key".$[0]': "v'1"})
    found = names(store, "context", Properties=wanted, SortBy="Name", SortOrder="Ascending")
    assert sorted(found, key=str) == sorted(expected)


def test_artifacts_sort_by_name_across_pages(store: Store) -> None:
    for name in ("b", None, "a", "c", None):
        artifact(store, **({"ArtifactName": name} if name else {}))
    found = names(store, "artifact", SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert found == [None, None, "a", "b", "c"]
    with refused(ValidationException, "SortBy must be one of CreationTime"):
        store.list_artifacts(SortBy="Name")


def test_filters_combine_with_paging(store: Store) -> None:
    for i in range(7):
        artifact(store, ArtifactName=f"m-{i}", Properties={"even": str(i % 2 == 0)})
    found = names(store, "artifact", NamePrefix="m-", Properties={"even": "True"}, MaxResults=2)
    assert found == ["m-6", "m-4", "m-2", "m-0"]


def test_prefix_upper_bound() -> None:
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None


def test_details_include_the_tags_when_asked(store: Store) -> None:
    arn = store.create_context(
        ContextName=unique(), ContextType="Pipeline", Tags=[{"Key": "team", "Value": "ml"}]
    )["ContextArn"]
    store.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}])
    [entry] = store.list_entity_details(EntityKind="context", IncludeTags=True)["Entities"]
    assert entry["Tags"] == store.list_tags(ResourceArn=arn)["Tags"]
    assert len(entry["Tags"]) == 2
    [plain] = store.list_entity_details(EntityKind="context", IncludeTags=False)["Entities"]
    assert "Tags" not in plain
    assert plain == {k: v for k, v in entry.items() if k != "Tags"}
    with refused(ValidationException, "IncludeTags"):
        store.list_entity_details(EntityKind="context", IncludeTags="yes")
