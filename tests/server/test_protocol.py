"""The wire protocol itself, with raw HTTP requests: refusals of malformed requests, the GET
routes, and response bodies checked member by member against botocore's model."""

from __future__ import annotations

import uuid
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from mllineage.server.testing import ServerProcess
from mllineage.store.operations import AWS_OPERATIONS
from mllineage.store.wire import (
    FILTER_TIMESTAMP_MEMBERS,
    REQUEST_TIMESTAMP_MEMBERS,
    RESPONSE_TIMESTAMP_KEYS,
    encode_body,
)
from tests.server.support import Account, call, send, signed_request

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"__type", "message"}
    assert response.headers["x-amzn-ErrorType"] == body["__type"]
    assert "Traceback" not in body["message"]
    return response.status_code, body["__type"], body["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"{", "not valid JSON", id="truncated"),
        pytest.param(b"\xff\xfe", "not valid JSON", id="not-utf8"),
        pytest.param(b'{"MaxResults": NaN}', "not valid JSON", id="nan"),
        pytest.param(b"[1, 2]", "must be a JSON object, got a JSON array", id="array"),
        pytest.param(b'"text"', "got a JSON string", id="string"),
        pytest.param(b"null", "got a JSON literal", id="null"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nests deeper", id="deep"),
        pytest.param(b'{"a":' * 70 + b"1" + b"}" * 70, "nests deeper", id="deep-object"),
    ],
)
def test_malformed_bodies_are_refused(
    server: ServerProcess, account: Account, body: bytes, message: str
) -> None:
    status, code, text = _error(call(server, account, "SageMaker.ListArtifacts", body))
    assert (status, code) == (400, "SerializationException")
    assert message in text


def test_empty_body_means_no_members(server: ServerProcess, account: Account) -> None:
    response = call(server, account, "SageMaker.ListArtifacts", b"")
    assert response.status_code == 200
    assert response.json() == {"ArtifactSummaries": []}


@pytest.mark.parametrize(
    "target",
    ["SageMaker.CreateTrainingJob", "SageMaker.", "Mllineage.CreateArtifact", "x" * 5000],
)
def test_unknown_targets(server: ServerProcess, account: Account, target: str) -> None:
    status, code, message = _error(call(server, account, target, {}))
    assert (status, code) == (400, "UnknownOperationException")
    assert "unknown operation" in message
    assert len(message) < 2000


def test_missing_target(server: ServerProcess, account: Account) -> None:
    request = signed_request(server.url, None, b"{}", account)
    status, code, message = _error(send(request))
    assert (status, code) == (400, "UnknownOperationException")
    assert "X-Amz-Target header is missing" in message


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_wrong_content_type(server: ServerProcess, account: Account, content_type: str) -> None:
    request = signed_request(
        server.url, "SageMaker.ListArtifacts", b"{}", account, content_type=content_type
    )
    status, code, _ = _error(send(request))
    assert (status, code) == (415, "UnsupportedMediaTypeException")


@pytest.mark.parametrize(
    "content_type",
    ["application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json; charset=utf-8"],
)
def test_accepted_content_types(server: ServerProcess, account: Account, content_type: str) -> None:
    request = signed_request(
        server.url, "SageMaker.ListArtifacts", b"{}", account, content_type=content_type
    )
    assert send(request).status_code == 200


def test_oversized_body(server: ServerProcess, account: Account) -> None:
    body = encode_body({"ArtifactType": "x" * (2 * 1024 * 1024)})
    status, code, message = _error(call(server, account, "SageMaker.ListArtifacts", body))
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert message == "the request body is larger than the server's limit of 1048576 bytes"


def test_oversized_chunked_body(server: ServerProcess) -> None:
    # No Content-Length: the server must count while reading.
    def chunks() -> Any:
        for _ in range(300):
            yield b"x" * 8192

    response = httpx.post(
        server.url + "/",
        content=chunks(),
        headers={"X-Amz-Target": "SageMaker.ListArtifacts", "Content-Type": "application/json"},
    )
    assert _error(response)[:2] == (413, "RequestEntityTooLargeException")


def test_wrong_json_types_are_validation_errors(server: ServerProcess, account: Account) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("SageMaker.CreateArtifact", {"ArtifactType": 5, "Source": {"SourceUri": "s"}}),
        ("SageMaker.CreateArtifact", {"ArtifactType": "T", "Source": "s3://x"}),
        ("SageMaker.CreateArtifact", {"ArtifactType": "T", "Source": {"SourceUri": ["s"]}}),
        ("SageMaker.CreateAction", {"ActionName": {}, "ActionType": "T", "Source": {}}),
        ("SageMaker.ListArtifacts", {"MaxResults": "10"}),
        ("SageMaker.ListArtifacts", {"MaxResults": 2.5}),
        ("SageMaker.ListArtifacts", {"CreatedAfter": [1]}),
        ("SageMaker.ListArtifacts", {"CreatedAfter": 1e300}),
        ("SageMaker.ListArtifacts", {"CreatedAfter": "yesterday"}),
        ("SageMaker.QueryLineage", {"StartArns": "arn"}),
        ("SageMaker.QueryLineage", {"StartArns": [], "IncludeEdges": "yes"}),
        ("SageMaker.AddTags", {"ResourceArn": "a", "Tags": {"Key": "k"}}),
        ("SageMaker.ListTags", {"ResourceArn": 1}),
        ("Mllineage.ListEntityDetails", {"EntityKind": ["artifact"]}),
        ("Mllineage.LineageGraph", {"StartArns": [{}]}),
    ]
    for target, body in cases:
        status, code, _ = _error(call(server, account, target, body))
        assert (status, code) == (400, "ValidationException"), (target, body)


def test_epoch_timestamps_in_requests(server: ServerProcess, account: Account) -> None:
    created = call(
        server,
        account,
        "SageMaker.CreateArtifact",
        {"ArtifactType": "T", "Source": {"SourceUri": "s3://a"}},
    ).json()["ArtifactArn"]
    listed = call(server, account, "SageMaker.ListArtifacts", {}).json()["ArtifactSummaries"]
    moment = listed[0]["CreationTime"]
    assert isinstance(moment, float)
    for after, before, count in [(moment, moment, 1), (moment + 1e-6, None, 0), (0, 4e9, 1)]:
        request = {"CreatedAfter": after} | ({"CreatedBefore": before} if before else {})
        found = call(server, account, "SageMaker.ListArtifacts", request).json()
        assert len(found["ArtifactSummaries"]) == count, request
    iso = call(server, account, "SageMaker.ListArtifacts", {"CreatedAfter": "2000-01-01T00:00Z"})
    assert iso.json()["ArtifactSummaries"][0]["ArtifactArn"] == created


def test_get_index(server: ServerProcess) -> None:
    info = httpx.get(server.url + "/").json()
    assert info["name"] == "mllineage"
    assert info["authentication"] == "sigv4"
    assert "SageMaker.QueryLineage" in info["operations"]
    page = httpx.get(server.url + "/", headers={"Accept": "text/html"})
    assert page.status_code == 307
    assert page.headers["location"] == "/ui/"


def test_health(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_other_routes_and_methods(server: ServerProcess) -> None:
    missing = httpx.get(server.url + "/nope")
    assert _error(missing)[:2] == (404, "NotFoundException")
    wrong_method = httpx.put(server.url + "/", content=b"{}")
    assert _error(wrong_method)[:2] == (405, "MethodNotAllowedException")


def test_request_ids(server: ServerProcess, account: Account) -> None:
    first = call(server, account, "SageMaker.ListArtifacts", {})
    second = call(server, account, "SageMaker.ListArtifacts", {})
    assert uuid.UUID(first.headers["x-amzn-RequestId"]) != uuid.UUID(
        second.headers["x-amzn-RequestId"]
    )


# -- response shapes against the model ---------------------------------------------------------
def _check(value: Any, shape: Shape, path: str) -> None:
    """``value`` (decoded JSON) has exactly the members and JSON types ``shape`` allows."""
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in {shape.name}: {unknown}"
        for name, member in value.items():
            _check(member, shape.members[name], f"{path}.{name}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            _check(item, shape.member, f"{path}[{i}]")
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), path
        for key, item in value.items():
            _check(item, shape.value, f"{path}[{key}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, path
    elif shape.type_name == "timestamp":
        assert isinstance(value, (int, float)), path
        assert not isinstance(value, bool), path
    elif shape.type_name == "integer":
        assert isinstance(value, int), path
    elif shape.type_name == "boolean":
        assert isinstance(value, bool), path
    else:
        raise AssertionError(f"{path}: unexpected shape type {shape.type_name}")


def test_every_response_matches_the_model(server: ServerProcess, account: Account) -> None:
    def op(target: str, body: dict[str, Any]) -> dict[str, Any]:
        response = call(server, account, f"SageMaker.{target}", body)
        assert response.status_code == 200, response.text
        decoded: dict[str, Any] = response.json()
        _check(decoded, MODEL.operation_model(target).output_shape, target)
        seen.add(target)
        return decoded

    seen: set[str] = set()
    tags = [{"Key": "k", "Value": "v"}]
    artifact = op(
        "CreateArtifact",
        {
            "ArtifactName": "a",
            "ArtifactType": "Dataset",
            "Source": {
                "SourceUri": "s3://x",
                "SourceTypes": [{"SourceIdType": "Custom", "Value": "1"}],
            },
            "Properties": {"p": "1"},
            "MetadataProperties": {"CommitId": "c"},
            "Tags": tags,
        },
    )["ArtifactArn"]
    action = op(
        "CreateAction",
        {
            "ActionName": "act",
            "ActionType": "Training",
            "Source": {"SourceUri": "s", "SourceType": "t", "SourceId": "i"},
            "Status": "Completed",
            "Description": "d",
            "Properties": {"p": "1"},
            "MetadataProperties": {"Repository": "r"},
            "Tags": tags,
        },
    )["ActionArn"]
    context = op(
        "CreateContext",
        {
            "ContextName": "ctx",
            "ContextType": "Endpoint",
            "Source": {"SourceUri": "s"},
            "Description": "d",
            "Properties": {"p": "1"},
            "Tags": tags,
        },
    )["ContextArn"]
    op("DescribeArtifact", {"ArtifactArn": artifact})
    op("DescribeAction", {"ActionName": "act"})
    op("DescribeContext", {"ContextName": context})
    op("UpdateArtifact", {"ArtifactArn": artifact, "Properties": {"q": "2"}})
    op("UpdateAction", {"ActionName": "act", "Status": "Failed"})
    op("UpdateContext", {"ContextName": "ctx", "Description": "e"})
    op("AddAssociation", {"SourceArn": artifact, "DestinationArn": action})
    op("AddAssociation", {"SourceArn": action, "DestinationArn": context})
    for name in ("ListArtifacts", "ListActions", "ListContexts"):
        assert op(name, {"MaxResults": 1})
    op("ListAssociations", {"SourceArn": artifact})
    op("QueryLineage", {"StartArns": [artifact], "Direction": "Both", "MaxResults": 1})
    op("QueryLineage", {"StartArns": [artifact], "IncludeEdges": False})
    op("AddTags", {"ResourceArn": artifact, "Tags": [{"Key": "x", "Value": ""}]})
    op("ListTags", {"ResourceArn": artifact})
    op("DeleteTags", {"ResourceArn": artifact, "TagKeys": ["x"]})
    op("DeleteAssociation", {"SourceArn": action, "DestinationArn": context})
    op("DeleteArtifact", {"ArtifactArn": artifact})
    op("DeleteAction", {"ActionName": "act"})
    op("DeleteContext", {"ContextName": "ctx"})
    assert seen == {o.name for o in AWS_OPERATIONS}


# -- the wire codec's timestamp members against the model --------------------------------------
def _timestamp_paths(shape: Shape, prefix: str = "", depth: int = 0) -> set[str]:
    if depth > 6:
        return set()
    if isinstance(shape, StructureShape):
        out: set[str] = set()
        for name, member in shape.members.items():
            if member.type_name == "timestamp":
                out.add(prefix + name)
            out |= _timestamp_paths(member, f"{prefix}{name}.", depth + 1)
        return out
    if isinstance(shape, ListShape):
        return _timestamp_paths(shape.member, f"{prefix}[].", depth + 1)
    if isinstance(shape, MapShape):
        return _timestamp_paths(shape.value, f"{prefix}{{}}.", depth + 1)
    return set()


def test_request_timestamp_members_match_the_model() -> None:
    known = set(REQUEST_TIMESTAMP_MEMBERS) | {f"Filters.{m}" for m in FILTER_TIMESTAMP_MEMBERS}
    found: set[str] = set()
    for operation in AWS_OPERATIONS:
        found |= _timestamp_paths(MODEL.operation_model(operation.name).input_shape)
    assert found == known


def test_response_timestamp_members_match_the_model() -> None:
    names: set[str] = set()
    for operation in AWS_OPERATIONS:
        paths = _timestamp_paths(MODEL.operation_model(operation.name).output_shape)
        names |= {path.rsplit(".", 1)[-1] for path in paths}
    assert names == set(RESPONSE_TIMESTAMP_KEYS)


def test_a_bulk_call_may_be_larger_than_other_calls(
    server: ServerProcess, account: Account
) -> None:
    # PutLineage (a Session.bulk() block, one request) has a limit of its own: 32 MiB.
    bucket = f"s3://bulk-{uuid.uuid4().hex}"
    entities = [
        {
            "EntityKind": "artifact",
            "ArtifactType": "Shard",
            "Source": {"SourceUri": f"{bucket}/{i}"},
        }
        for i in range(15_000)
    ]
    body = encode_body({"Entities": entities})
    assert len(body) > 1024 * 1024
    response = call(server, account, "Mllineage.PutLineage", body)
    assert response.status_code == 200, response.text
    assert len(response.json()["Arns"]) == 15_000

    def chunks() -> Any:  # (no Content-Length: counted while read)
        for _ in range(33 * 128):
            yield b"x" * 8192

    response = httpx.post(
        server.url + "/",
        content=chunks(),
        headers={"X-Amz-Target": "Mllineage.PutLineage", "Content-Type": "application/json"},
    )
    status, code, message = _error(response)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert "PutLineage request body is larger than the server's limit of 33554432" in message
    assert "--max-bulk-body-bytes" in message
