"""HttpStore's own duties: errors mapped back to the same classes, timestamps as aware UTC
datetimes, credentials from the environment, and the Python API through a server."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from mllineage import errors
from mllineage.api.session import Session
from mllineage.errors import ClientError, ResourceNotFound, ValidationException
from mllineage.server.testing import ServerProcess, free_port
from mllineage.store.http import HttpStore
from mllineage.store.wire import (
    PROTOCOL_ERROR_CLASSES,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnknownOperationException,
    UnrecognizedClientException,
    error_from_wire,
)
from tests.server.support import Account


def _store(server: ServerProcess, account: Account) -> HttpStore:
    return HttpStore(server.url, access_key=account.access_key, secret_key=account.secret_key)


@pytest.mark.parametrize(
    "cls",
    [*errors.ERROR_CLASSES.values(), *PROTOCOL_ERROR_CLASSES.values()],
    ids=lambda cls: cls.code,
)
def test_every_error_class_round_trips(cls: type[ClientError]) -> None:
    error = error_from_wire(cls.code, "why", "DescribeArtifact")
    assert type(error) is cls
    assert error.response["Error"] == {"Code": cls.code, "Message": "why"}
    assert error.operation_name == "DescribeArtifact"


def test_unknown_codes_keep_their_code() -> None:
    error = error_from_wire("ThrottlingException", "slow down", "ListArtifacts")
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "ThrottlingException"


def test_store_errors_come_back_as_the_same_classes(
    server: ServerProcess, account: Account
) -> None:
    store = _store(server, account)
    missing = f"arn:aws:sagemaker:us-east-1:{account.account_id}:artifact/{'0' * 32}"
    with pytest.raises(ResourceNotFound, match="no artifact") as info:
        store.describe_artifact(ArtifactArn=missing)
    assert info.value.operation_name == "DescribeArtifact"
    with pytest.raises(ValidationException, match="ArtifactType"):
        store.create_artifact(ArtifactType="", Source={"SourceUri": "s"})


def test_auth_errors_come_back_as_classes(server: ServerProcess, account: Account) -> None:
    with pytest.raises(InvalidSignatureException):
        HttpStore(server.url, access_key=account.access_key, secret_key="wrong").list_artifacts()
    with pytest.raises(UnrecognizedClientException):
        HttpStore(server.url, access_key="AKIDNOBODY", secret_key="x").list_artifacts()


def test_unsigned_store_is_refused(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLLINEAGE_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingAuthenticationTokenException):
        HttpStore(server.url).list_artifacts()


def test_credentials_from_the_environment(
    server: ServerProcess, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDNOBODY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with pytest.raises(UnrecognizedClientException):
        HttpStore(server.url).list_artifacts()
    # MLLINEAGE_* win over AWS_*.
    monkeypatch.setenv("MLLINEAGE_ACCESS_KEY_ID", account.access_key)
    monkeypatch.setenv("MLLINEAGE_SECRET_ACCESS_KEY", account.secret_key)
    assert HttpStore(server.url).list_artifacts() == {"ArtifactSummaries": []}


def test_timestamps_are_aware_utc(server: ServerProcess, account: Account) -> None:
    store = _store(server, account)
    arn = store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://t"})["ArtifactArn"]
    described = store.describe_artifact(ArtifactArn=arn)
    created = described["CreationTime"]
    assert created.tzinfo == timezone.utc
    assert abs(created - datetime.now(timezone.utc)) < timedelta(minutes=1)
    summary = store.list_artifacts()["ArtifactSummaries"][0]
    assert summary["CreationTime"] == summary["LastModifiedTime"] == created
    vertex = store.lineage_graph(StartArns=[arn])["Vertices"][0]
    assert datetime.fromisoformat(vertex["Properties"]["creation_time"]) == created


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(datetime(2000, 1, 1, tzinfo=timezone.utc), id="aware"),
        pytest.param(datetime(2000, 1, 1), id="naive"),
        pytest.param(date(2000, 1, 1), id="date"),
        pytest.param("2000-01-01T00:00:00Z", id="iso"),
        pytest.param(946684800, id="epoch"),
    ],
)
def test_timestamp_arguments(server: ServerProcess, account: Account, after: object) -> None:
    store = _store(server, account)
    store.create_artifact(ArtifactType="T", Source={"SourceUri": "s3://t"})
    assert len(store.list_artifacts(CreatedAfter=after)["ArtifactSummaries"]) == 1
    assert store.list_artifacts(CreatedBefore=after)["ArtifactSummaries"] == []


def test_bad_arguments_are_validation_errors(server: ServerProcess, account: Account) -> None:
    store = _store(server, account)
    with pytest.raises(ValidationException, match="CreatedAfter must be a datetime"):
        store.list_artifacts(CreatedAfter="not a date")
    with pytest.raises(ValidationException, match="cannot be sent as JSON"):
        store.create_artifact(ArtifactType="T", Source={"SourceUri": object()})
    with pytest.raises(ValidationException, match="Properties key must be a string"):
        store.create_artifact(ArtifactType="T", Source={"SourceUri": "s"}, Properties={1: "v"})


def test_batch_is_not_atomic_but_runs(server: ServerProcess, account: Account) -> None:
    store = _store(server, account)
    with store.batch():
        store.create_context(ContextName="first", ContextType="T")
        with pytest.raises(ValidationException):
            store.create_context(ContextName="first", ContextType="T")
        store.create_context(ContextName="second", ContextType="T")
    assert len(store.list_contexts()["ContextSummaries"]) == 2


def test_unreachable_server() -> None:
    store = HttpStore(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(EndpointConnectionError):
        store.list_artifacts()


def test_wrong_path_is_a_clear_error(server: ServerProcess, account: Account) -> None:
    store = HttpStore(
        server.url + "/not-here", access_key=account.access_key, secret_key=account.secret_key
    )
    with pytest.raises(ClientError, match="Not Found") as info:
        store.list_artifacts()
    assert info.value.response["Error"]["Code"] == "NotFoundException"


@pytest.mark.parametrize(
    "url", ["ftp://host", "http://", "localhost:8080", "http://key:secret@host:8080"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="url must be|credentials"):
        HttpStore(url)


def test_repr_hides_the_secret() -> None:
    store = HttpStore("http://127.0.0.1:1", access_key="AKID", secret_key="hidden-secret")
    assert "hidden-secret" not in repr(store)
    assert "signed" in repr(store)


def test_unknown_operation_class() -> None:
    assert UnknownOperationException.http_status == 400


def test_python_api_through_a_server(tmp_path: Path) -> None:
    from mllineage import Artifact, Context, LineageQuery, LineageQueryDirectionEnum

    with (
        ServerProcess(f"sqlite:///{tmp_path / 'lineage.db'}") as process,
        Session(process.url) as session,
    ):
        assert isinstance(session.store, HttpStore)
        data = Artifact.create(
            artifact_name="data",
            artifact_type="DataSet",
            source={"source_uri": "s3://bucket/data.csv"},
            properties={"rows": "10"},
            sagemaker_session=session,
        )
        ctx = Context.create(
            context_name="project", context_type="Project", sagemaker_session=session
        )
        ctx.add_artifact(data.artifact_arn)
        loaded = Artifact.load(data.artifact_arn, sagemaker_session=session)
        assert loaded.properties == {"rows": "10"}
        listed = Artifact.list(sagemaker_session=session)
        assert [a.artifact_arn for a in listed] == [data.artifact_arn]
        graph = LineageQuery(
            [data.artifact_arn],
            LineageQueryDirectionEnum.DESCENDANTS,
            sagemaker_session=session,
        ).query()
        assert {v["Arn"] for v in graph["Vertices"]} == {data.artifact_arn, ctx.context_arn}
