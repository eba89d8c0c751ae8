"""Fixtures for the CLI and export tests: a store file with a small pipeline in it, and a way
to run ``mllineage`` in-process and see its exit code, stdout and stderr."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mllineage import Action, Artifact, Association, Context, Session
from mllineage.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> object:
    """``cli("ls", "artifacts")`` runs ``mllineage ls artifacts`` in this process."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            returned = main(list(args))
            code = returned if isinstance(returned, int) else 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty SQLite store, made the CLI's default through ``MLLINEAGE_URL``."""
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    monkeypatch.setenv("MLLINEAGE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    return url


@pytest.fixture
def session(store_url: str) -> Iterator[Session]:
    with Session(store_url) as session:
        yield session


def build_pipeline(session: Session) -> dict[str, str]:
    """raw -> prep -> clean -> train -> model -> deploy, all in a pipeline context; names and
    values with characters that every output format must escape."""
    s = session
    raw = Artifact.create(
        artifact_name='raw "customers" <2024> & #1',
        artifact_type="Dataset",
        source={
            "source_uri": "s3://bucket/raw/customers.csv",
            "source_types": [{"SourceIdType": "S3ETag", "Value": "abc123"}],
        },
        properties={"rows": "50000", "note": 'quoted "value" \\ and [markup]'},
        tags=[{"Key": "Project", "Value": "Churn"}, {"Key": "Owner", "Value": "data-team"}],
        sagemaker_session=s,
    )
    prep = Action.create(
        action_name="prep",
        action_type="Processing",
        status="Completed",
        description="clean and split",
        properties={"processor": "spark"},
        sagemaker_session=s,
    )
    clean = Artifact.create(
        artifact_name="clean",
        artifact_type="Dataset",
        source={"source_uri": "s3://bucket/clean/"},
        properties={"split": "train"},
        sagemaker_session=s,
    )
    train = Action.create(
        action_name="train",
        action_type="Training",
        status="Completed",
        source={"source_uri": "arn:aws:sagemaker:local:000000000000:training-job/t1"},
        properties={"algorithm": "xgboost"},
        sagemaker_session=s,
    )
    model = Artifact.create(
        artifact_name="model",
        artifact_type="Model",
        source={"source_uri": "s3://bucket/model.tar.gz"},
        properties={"accuracy": "0.94"},
        sagemaker_session=s,
    )
    endpoint = Context.create(
        context_name="endpoint",
        context_type="Endpoint",
        description="production",
        properties={"stage": "prod"},
        tags=[{"Key": "Tier", "Value": "gold"}],
        sagemaker_session=s,
    )
    pipeline = Context.create(context_name="pipeline", context_type="Pipeline", sagemaker_session=s)
    arns = {
        "raw": raw.artifact_arn,
        "prep": prep.action_arn,
        "clean": clean.artifact_arn,
        "train": train.action_arn,
        "model": model.artifact_arn,
        "endpoint": endpoint.context_arn,
        "pipeline": pipeline.context_arn,
    }
    for src, dst, kind in [
        ("raw", "prep", "ContributedTo"),
        ("prep", "clean", "Produced"),
        ("clean", "train", "ContributedTo"),
        ("train", "model", "Produced"),
        ("model", "endpoint", "ContributedTo"),
        ("raw", "pipeline", "AssociatedWith"),
        ("model", "pipeline", "AssociatedWith"),
    ]:
        Association.create(arns[src], arns[dst], kind, sagemaker_session=s)
    return {k: str(v) for k, v in arns.items()}


@pytest.fixture
def pipeline(session: Session) -> dict[str, str]:
    return build_pipeline(session)
