"""AddTags, ListTags and DeleteTags."""

from __future__ import annotations

import pytest

from mllineage.errors import ResourceNotFound, ValidationException
from mllineage.store.base import Store
from tests.helpers import action, artifact, context, refused

MAKE = [pytest.param(m, id=m.__name__) for m in (artifact, action, context)]


@pytest.mark.parametrize("make", MAKE)
def test_add_list_delete(store: Store, make) -> None:  # noqa: ANN001
    arn = make(store, Tags=[{"Key": "a", "Value": "1"}])
    added = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}]
    assert store.add_tags(ResourceArn=arn, Tags=added) == {"Tags": added}
    assert store.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "a", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    assert store.delete_tags(ResourceArn=arn, TagKeys=["a", "absent"]) == {}
    assert store.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_a_later_duplicate_key_wins(store: Store) -> None:
    arn = artifact(store, Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert store.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "2"}]


def test_tags_do_not_change_properties_or_modified_time(store: Store) -> None:
    arn = artifact(store, Properties={"p": "1"})
    before = store.describe_artifact(ArtifactArn=arn)
    store.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert store.describe_artifact(ArtifactArn=arn) == before


def test_list_tags_pages(store: Store) -> None:
    tags = [{"Key": f"k{i:02}", "Value": str(i)} for i in range(50)]
    arn = context(store)
    store.add_tags(ResourceArn=arn, Tags=tags[:30])
    store.add_tags(ResourceArn=arn, Tags=tags[30:])
    assert list(store.paginate("list_tags", "Tags", ResourceArn=arn, MaxResults=50)) == tags
    first = store.list_tags(ResourceArn=arn, MaxResults=50)
    assert "NextToken" not in first
    with refused(ValidationException, "MaxResults must be at least 50"):
        store.list_tags(ResourceArn=arn, MaxResults=10)


def test_list_tags_token_is_for_one_resource(store: Store) -> None:
    arns = [artifact(store) for _ in range(2)]
    for arn in arns:
        store.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])
    store.delete_tags(ResourceArn=arns[0], TagKeys=["k0"])
    store.add_tags(ResourceArn=arns[0], Tags=[{"Key": "k0", "Value": "x"}])
    # 50 tags fit one page, so there is no token to misuse; a forged one is refused.
    assert "NextToken" not in store.list_tags(ResourceArn=arns[0], MaxResults=50)
    with refused(ValidationException, "NextToken"):
        store.list_tags(ResourceArn=arns[1], NextToken="bm90LWEtdG9rZW4")


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, a: s.add_tags(ResourceArn=a, Tags=[]), id="add"),
        pytest.param(lambda s, a: s.list_tags(ResourceArn=a), id="list"),
        pytest.param(lambda s, a: s.delete_tags(ResourceArn=a, TagKeys=["k"]), id="delete"),
    ],
)
def test_tags_of_a_missing_entity(store: Store, call) -> None:  # noqa: ANN001
    arn = artifact(store)
    store.delete_artifact(ArtifactArn=arn)
    with refused(ResourceNotFound, "no artifact, action or context"):
        call(store, arn)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        pytest.param([], "must list 1 to 50 keys", id="none"),
        pytest.param([f"k{i}" for i in range(51)], "must list 1 to 50 keys", id="51"),
        pytest.param(["bad#"], "may contain only", id="pattern"),
        pytest.param("k", "must be a list", id="string"),
    ],
)
def test_delete_tags_refuses_bad_keys(store: Store, keys: object, message: str) -> None:
    arn = action(store, Tags=[{"Key": "k", "Value": "v"}])
    with refused(ValidationException, message):
        store.delete_tags(ResourceArn=arn, TagKeys=keys)
    assert store.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
