"""``mllineage import sagemaker`` against a real ``mllineage serve`` standing in for SageMaker
(the same wire protocol, through boto3)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mllineage import Artifact, Session
from mllineage.api.transfer import export_store
from mllineage.capture.importers.common import ImportRefused, SourceError
from mllineage.capture.importers.sagemaker import SageMakerImport
from mllineage.cli.demo import run_demo
from mllineage.server.testing import ServerProcess, free_port

KEY, SECRET, ACCOUNT = "AKIDSOURCE", "source-secret", "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server holding the demo's lineage in account 123456789012, region us-east-1."""
    db = tmp_path_factory.mktemp("sagemaker-source") / "source.db"
    with Session(f"sqlite:///{db}", region=REGION, account_id=ACCOUNT) as session:
        from rich.console import Console

        run_demo(session, Console(file=io.StringIO()))
    server = ServerProcess(
        f"sqlite:///{db}", credentials={KEY: (SECRET, ACCOUNT)}, args=["--region", REGION]
    )
    with server:
        yield server


def _client(url: str) -> Any:
    return boto3.client(
        "sagemaker", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, config=Config(retries={"mode": "adaptive"}),
    )  # fmt: skip


def _export(session: Session) -> list[dict[str, Any]]:
    out = io.StringIO()
    export_store(session, out)
    return [r for r in map(json.loads, out.getvalue().splitlines()) if r["record"] != "header"]


def _target(path: Path) -> Any:
    return lambda region, account: Session(f"sqlite:///{path}", region=region, account_id=account)


def _source_export(source: ServerProcess, tmp_path: Path) -> list[dict[str, Any]]:
    db = source.store.removeprefix("sqlite:///")
    with Session(f"sqlite:///{db}", region=REGION, account_id=ACCOUNT) as session:
        return _export(session)


def test_copies_the_demo_exactly(source: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    summary = SageMakerImport(_client(source.url), _target(target)).run()

    with Session(f"sqlite:///{target}", region=REGION, account_id=ACCOUNT) as session:
        copied = _export(session)
    original = _source_export(source, tmp_path)
    assert copied == original  # ARNs, times, creators, properties, tags, associations
    assert summary.added["association"] == original[-1]["counts"]["association"]
    assert summary.added["artifact"] == original[-1]["counts"]["artifact"]


def test_a_second_copy_adds_nothing_and_a_third_only_whats_new(
    source: ServerProcess, tmp_path: Path
) -> None:
    target = tmp_path / "copy.db"
    SageMakerImport(_client(source.url), _target(target)).run()
    again = SageMakerImport(_client(source.url), _target(target)).run()
    assert again.changed == 0

    client = _client(source.url)
    arn = client.create_artifact(
        ArtifactType="Dataset", Source={"SourceUri": "s3://bucket/new.csv"}
    )["ArtifactArn"]
    trained = client.list_actions(MaxResults=1)["ActionSummaries"][0]["ActionArn"]
    client.add_association(SourceArn=arn, DestinationArn=trained, AssociationType="ContributedTo")
    try:
        third = SageMakerImport(_client(source.url), _target(target)).run()
        assert third.added == {"artifact": 1, "association": 1}
        with Session(f"sqlite:///{target}", region=REGION, account_id=ACCOUNT) as session:
            assert Artifact.load(arn, sagemaker_session=session).source["source_uri"] == (
                "s3://bucket/new.csv"
            )
    finally:
        client.delete_artifact(ArtifactArn=arn)


def test_dry_run_writes_nothing(source: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    summary = SageMakerImport(_client(source.url), _target(target), dry_run=True).run()
    assert summary.added["artifact"] > 0
    with Session(f"sqlite:///{target}", region=REGION, account_id=ACCOUNT) as session:
        assert not session.store.list_artifacts()["ArtifactSummaries"]


def test_a_refused_batch_leaves_nothing_of_it(source: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    taken = _client(source.url).list_artifacts()["ArtifactSummaries"][0]["Source"]
    with Session(f"sqlite:///{target}", region=REGION, account_id=ACCOUNT) as session:
        # An artifact of the target has the source of one of the source's artifacts (under
        # another ARN): the store refuses that batch of artifacts whole.
        mine = session.store.create_artifact(ArtifactType="Local", Source=taken)["ArtifactArn"]
    with pytest.raises(ImportRefused, match="nothing of this batch was imported"):
        SageMakerImport(_client(source.url), _target(target)).run()
    with Session(f"sqlite:///{target}", region=REGION, account_id=ACCOUNT) as session:
        held = session.store.list_artifacts(MaxResults=100)["ArtifactSummaries"]
        assert [a["ArtifactArn"] for a in held] == [mine]


def test_cli_copies_through_the_endpoint(
    cli: Any, store_url: str, source: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    done = cli("import", "sagemaker", "--region", REGION, "--endpoint-url", source.url)
    assert done.code == 0, done.err
    assert "added: 5 artifacts, 3 actions, 2 contexts, 17 associations" in done.err
    with Session(store_url, region=REGION, account_id=ACCOUNT) as session:
        assert len(session.store.list_artifacts(MaxResults=100)["ArtifactSummaries"]) == 5


def test_an_unreachable_endpoint_is_one_line(
    cli: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    url = f"http://127.0.0.1:{free_port()}"
    done = cli("import", "sagemaker", "--region", REGION, "--endpoint-url", url)
    assert done.code == 1
    [line] = done.err.strip().splitlines()
    assert line.startswith(f"error: SageMaker endpoint {url} is unreachable")


def test_source_errors_are_source_errors(source: ServerProcess, tmp_path: Path) -> None:
    client = boto3.client(
        "sagemaker", endpoint_url=source.url, region_name=REGION, aws_access_key_id=KEY,
        aws_secret_access_key="wrong",
    )  # fmt: skip
    with pytest.raises(SourceError, match="refused ListContexts"):
        SageMakerImport(client, _target(tmp_path / "copy.db")).run()
