"""The entity constraints of the spec: names, properties, tags, types."""

from __future__ import annotations

from typing import Any

import pytest

from mllineage.errors import ResourceLimitExceeded, ValidationException
from mllineage.store.base import Store
from tests.helpers import action, artifact, context, refused, unique


def create(store: Store, kind: str, **request: Any) -> dict[str, Any]:
    """Create an entity of ``kind`` with a valid request, overridden by ``request``."""
    if kind == "artifact":
        base = {"ArtifactType": "Dataset", "Source": {"SourceUri": f"s3://b/{unique()}"}}
        return store.create_artifact(**(base | request))
    if kind == "action":
        return store.create_action(**({"ActionName": unique(), "ActionType": "T"} | request))
    return store.create_context(**({"ContextName": unique(), "ContextType": "P"} | request))


def describe(store: Store, kind: str, arn: str) -> dict[str, Any]:
    if kind == "artifact":
        return store.describe_artifact(ArtifactArn=arn)
    if kind == "action":
        return store.describe_action(ActionName=arn)
    return store.describe_context(ContextName=arn)


KINDS = [pytest.param(k, id=k) for k in ("artifact", "action", "context")]
NAME_KEY = {"artifact": "ArtifactName", "action": "ActionName", "context": "ContextName"}
ARN_KEY = {"artifact": "ArtifactArn", "action": "ActionArn", "context": "ContextArn"}


# -- names ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("length", [1, 2, 119, 120])
def test_names_of_1_to_120_characters(store: Store, kind: str, length: int) -> None:
    name = ("n" + unique("x").replace("-", "") + "z" * 120)[:length]
    arn = create(store, kind, **{NAME_KEY[kind]: name})[ARN_KEY[kind]]
    assert describe(store, kind, arn)[NAME_KEY[kind]] == name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("length", [0, 121, 500])
def test_names_outside_1_to_120_are_refused(store: Store, kind: str, length: int) -> None:
    with refused(ValidationException, r"1 to 120 characters"):
        create(store, kind, **{NAME_KEY[kind]: "a" * length})


@pytest.mark.parametrize("kind", ["action", "context"])
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("train-xgboost-v1", id="dashes"),
        pytest.param("ml_pipeline_2024", id="underscores"),
        pytest.param("model.v1.2", id="dots"),
        pytest.param("A1", id="short-mixed-case"),
        pytest.param("a--b__c", id="runs"),
    ],
)
def test_action_and_context_name_alphabet(store: Store, kind: str, name: str) -> None:
    arn = create(store, kind, **{NAME_KEY[kind]: name})[ARN_KEY[kind]]
    assert arn.endswith(f":{kind}/{name.lower()}")


@pytest.mark.parametrize("kind", ["action", "context"])
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("-leading", id="leading-dash"),
        pytest.param("trailing_", id="trailing-underscore"),
        pytest.param("has space", id="space"),
        pytest.param("a/b", id="slash"),
        pytest.param("a:b", id="colon"),
        pytest.param("ünïcode", id="non-ascii"),
    ],
)
def test_action_and_context_names_outside_the_alphabet(store: Store, kind: str, name: str) -> None:
    with refused(ValidationException, "must start and end with a letter or digit"):
        create(store, kind, **{NAME_KEY[kind]: name})


def test_artifact_names_are_labels_with_any_characters(store: Store) -> None:
    arn = artifact(store, ArtifactName="Training data / 2024 (v1)")
    assert store.describe_artifact(ArtifactArn=arn)["ArtifactName"] == "Training data / 2024 (v1)"


@pytest.mark.parametrize("kind", KINDS)
def test_names_must_be_strings(store: Store, kind: str) -> None:
    with refused(ValidationException, "must be a string"):
        create(store, kind, **{NAME_KEY[kind]: 42})


@pytest.mark.parametrize("kind", ["action", "context"])
def test_action_and_context_names_are_required(store: Store, kind: str) -> None:
    request = {"ActionType": "T"} if kind == "action" else {"ContextType": "P"}
    method = store.create_action if kind == "action" else store.create_context
    with refused(ValidationException, f"missing required parameter.*{NAME_KEY[kind]}"):
        method(**request)


# -- types ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_types_are_required(store: Store, kind: str) -> None:
    type_key = f"{NAME_KEY[kind][:-4]}Type"
    with refused(ValidationException, f"missing required parameter.*{type_key}"):
        create(store, kind, **{type_key: None})


@pytest.mark.parametrize("kind", KINDS)
def test_types_are_1_to_256_characters(store: Store, kind: str) -> None:
    type_key = f"{NAME_KEY[kind][:-4]}Type"
    arn = create(store, kind, **{type_key: "T" * 256})[ARN_KEY[kind]]
    assert describe(store, kind, arn)[type_key] == "T" * 256
    for bad in ("", "T" * 257):
        with refused(ValidationException, f"{type_key} must be 1 to 256"):
            create(store, kind, **{type_key: bad})


# -- properties -----------------------------------------------------------------------------
def props(count: int) -> dict[str, str]:
    return {f"k{i}": f"v{i}" for i in range(count)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("count", [0, 1, 30])
def test_up_to_30_properties(store: Store, kind: str, count: int) -> None:
    arn = create(store, kind, Properties=props(count))[ARN_KEY[kind]]
    assert describe(store, kind, arn)["Properties"] == props(count)


@pytest.mark.parametrize("kind", KINDS)
def test_31_properties_are_refused(store: Store, kind: str) -> None:
    with refused(ValidationException, "31 entries; at most 30"):
        create(store, kind, Properties=props(31))


@pytest.mark.parametrize("kind", KINDS)
def test_property_keys_and_values_of_1_to_256_characters(store: Store, kind: str) -> None:
    properties = {"k": "v", "K" * 256: "V" * 256}
    arn = create(store, kind, Properties=properties)[ARN_KEY[kind]]
    assert describe(store, kind, arn)["Properties"] == properties


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("properties", "message"),
    [
        pytest.param({"": "v"}, "key must be 1 to 256", id="empty-key"),
        pytest.param({"k" * 257: "v"}, "key must be 1 to 256", id="long-key"),
        pytest.param({"k": ""}, r"\['k'\] must be 1 to 256", id="empty-value"),
        pytest.param({"k": "v" * 257}, r"\['k'\] must be 1 to 256", id="long-value"),
        pytest.param({"k": 1}, "must be a string, got int", id="int-value"),
        pytest.param({"k": 0.5}, "must be a string, got float", id="float-value"),
        pytest.param({"k": None}, "must be a string, got NoneType", id="none-value"),
        pytest.param({"k": True}, "must be a string, got bool", id="bool-value"),
        pytest.param({1: "v"}, "key must be a string", id="int-key"),
        pytest.param(["k", "v"], "must be a dict", id="not-a-dict"),
    ],
)
def test_bad_properties_are_refused(store: Store, kind: str, properties: Any, message: str) -> None:
    with refused(ValidationException, message):
        create(store, kind, Properties=properties)


# -- tags -----------------------------------------------------------------------------------
def tags(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": f"v{i}"} for i in range(count)]


@pytest.mark.parametrize("kind", KINDS)
def test_up_to_50_tags_on_create(store: Store, kind: str) -> None:
    arn = create(store, kind, Tags=tags(50))[ARN_KEY[kind]]
    assert store.list_tags(ResourceArn=arn, MaxResults=50)["Tags"] == tags(50)


@pytest.mark.parametrize("kind", KINDS)
def test_51_tags_on_create_are_refused(store: Store, kind: str) -> None:
    with refused(ValidationException, "51 tags; at most 50"):
        create(store, kind, Tags=tags(51))


def test_add_tags_merges_up_to_50(store: Store) -> None:
    arn = artifact(store, Tags=tags(30))
    store.add_tags(ResourceArn=arn, Tags=tags(20, prefix="m"))
    store.add_tags(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "new"}])  # overwrites
    listed = store.list_tags(ResourceArn=arn, MaxResults=100)["Tags"]
    assert len(listed) == 50
    assert {"Key": "k0", "Value": "new"} in listed


def test_add_tags_past_50_is_refused_and_changes_nothing(store: Store) -> None:
    arn = artifact(store, Tags=tags(30))
    with refused(ResourceLimitExceeded, "would have 51 tags; at most 50"):
        store.add_tags(ResourceArn=arn, Tags=tags(21, prefix="m"))
    assert store.list_tags(ResourceArn=arn, MaxResults=100)["Tags"] == tags(30)


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param({"Key": "Project", "Value": "CustomerChurn"}, id="plain"),
        pytest.param({"Key": "a_b.c:d/e=f+g-h@i", "Value": "_.:/=+-@"}, id="punctuation"),
        pytest.param({"Key": "Ünïcødé ключ 数据", "Value": "значение 値 ٣"}, id="unicode"),
        pytest.param({"Key": "k" * 128, "Value": "v" * 256}, id="longest"),
        pytest.param({"Key": "empty", "Value": ""}, id="empty-value"),
        pytest.param({"Key": "no-value"}, id="no-value"),
    ],
)
def test_tag_key_and_value_patterns(store: Store, tag: dict[str, str]) -> None:
    arn = action(store, Tags=[tag])
    assert store.list_tags(ResourceArn=arn)["Tags"] == [{"Value": "", **tag}]


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        pytest.param({"Key": "", "Value": "v"}, "Key must be 1 to 128", id="empty-key"),
        pytest.param({"Key": "k" * 129, "Value": "v"}, "Key must be 1 to 128", id="long-key"),
        pytest.param({"Key": "k", "Value": "v" * 257}, "Value must be 0 to 256", id="long-value"),
        pytest.param({"Key": "a#b", "Value": "v"}, "may contain only", id="hash-in-key"),
        pytest.param({"Key": "k", "Value": "50%"}, "may contain only", id="percent-in-value"),
        pytest.param({"Key": "k", "Value": "a\tb"}, "control characters", id="tab"),
        pytest.param({"Key": 1, "Value": "v"}, "must be a string", id="int-key"),
        pytest.param({"Value": "v"}, "must be dicts with 'Key'", id="no-key"),
        pytest.param({"Key": "k", "Value": "v", "X": "y"}, "unknown fields", id="extra-field"),
    ],
)
def test_bad_tags_are_refused(store: Store, tag: dict[str, Any], message: str) -> None:
    with refused(ValidationException, message):
        context(store, Tags=[tag])
    arn = context(store)
    with refused(ValidationException, message):
        store.add_tags(ResourceArn=arn, Tags=[tag])
    assert store.list_tags(ResourceArn=arn)["Tags"] == []


@pytest.mark.parametrize(
    "request_",
    [
        {"MetadataProperties": {"": "x", 0: "y"}},
        {"Source": {"SourceUri": "s3://b/k", 1: "x", "y": "z"}},
        {"Tags": [{"Key": "k", "Value": "v", 2: "x", "y": "z"}]},
    ],
    ids=["metadata", "source", "tag"],
)
def test_unknown_members_of_any_key_type_are_refused(store: Store, request_: Any) -> None:
    """A dict whose unknown keys are not all strings (the Python API takes any dict) is refused
    with a message naming them (sorting mixed keys raised TypeError); a server refuses the
    keys that are not strings before that."""
    with refused(ValidationException, "unknown|must be a string"):
        create(store, "artifact", **request_)


def test_unknown_members_of_a_bulk_item_of_any_key_type_are_refused(store: Store) -> None:
    item = {"EntityKind": "action", "ActionName": unique(), "ActionType": "T", 3: "x"}
    with refused(ValidationException, "unknown|must be a string"):
        store.put_lineage(Entities=[item])
    edge = {"Source": 0, "Destination": 1, 4: "x"}
    with refused(ValidationException, "unknown|must be a string"):
        store.put_lineage(Entities=[], Associations=[edge])
