"""The store implements the whole seam, and refuses with botocore-compatible errors."""

from __future__ import annotations

import inspect

import botocore.exceptions
import pytest

from mllineage.errors import ClientError, ResourceNotFound, ValidationException
from mllineage.store.base import Store
from mllineage.store.operations import OPERATIONS, Operation
from mllineage.store.sql.store import SqlStore
from tests.helpers import artifact, refused

ABSTRACT = sorted(Store.__abstractmethods__)


def test_sql_store_is_concrete() -> None:
    assert not inspect.isabstract(SqlStore)
    assert SqlStore.__abstractmethods__ == frozenset()


@pytest.mark.parametrize("method", ABSTRACT)
def test_sql_store_implements(method: str) -> None:
    assert getattr(SqlStore, method) is not getattr(Store, method)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_wire_operation_is_a_store_method(op: Operation, store: Store) -> None:
    assert op.method in ABSTRACT
    assert callable(getattr(store, op.method))


def test_every_operation_is_in_the_wire_table() -> None:
    assert set(ABSTRACT) - {op.method for op in OPERATIONS} == {"batch"}


def test_refusal_is_a_botocore_client_error(store: Store) -> None:
    with refused(ValidationException, "ArtifactType") as info:
        store.create_artifact(ArtifactType="", Source={"SourceUri": "s3://b/x"})
    error = info.value
    assert isinstance(error, botocore.exceptions.ClientError)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["Error"]["Message"]
    assert error.operation_name == "CreateArtifact"


def test_not_found_names_the_operation(store: Store) -> None:
    arn = artifact(store)
    store.delete_artifact(ArtifactArn=arn)
    with refused(ResourceNotFound, "no artifact") as info:
        store.describe_artifact(ArtifactArn=arn)
    assert info.value.operation_name == "DescribeArtifact"
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("method", "request_"),
    [
        pytest.param("create_artifact", {"ArtifactType": "D", "Bogus": 1}, id="create"),
        pytest.param("list_artifacts", {"Colour": "red"}, id="list"),
        pytest.param("add_association", {"SourceArn": "x"}, id="missing-member"),
        pytest.param("query_lineage", {"StartArns": []}, id="query"),
    ],
)
def test_bad_requests_are_validation_errors(store: Store, method: str, request_: dict) -> None:
    with pytest.raises(ClientError) as info:
        getattr(store, method)(**request_)
    assert info.value.response["Error"]["Code"] == "ValidationException"
