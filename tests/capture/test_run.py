"""``mllineage.run``: the issue's must-holds 1-3 and 5, on every store of the contract suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import mllineage
from mllineage import (
    Action,
    Artifact,
    Association,
    LineageQuery,
    LineageQueryDirectionEnum,
    Session,
)
from tests.capture.conftest import git


def fit() -> bytes:
    """A 'training' whose model differs run to run, as a real one with a random seed does."""
    return os.urandom(64)


def train(session: Session) -> tuple[mllineage.Run, Artifact]:
    """The issue's example, as written (the session named, so each backend is used)."""
    with mllineage.run(
        "train-churn",
        inputs=["data/train.parquet", "s3://bucket/features/"],
        params={"max_depth": 5, "eta": 0.2},
        sagemaker_session=session,
    ) as run:
        Path("model.pkl").write_bytes(fit())
        model = run.output("model.pkl", artifact_type="Model", properties={"accuracy": 0.94})
    return run, model


def upstream(session: Session, artifact: Artifact, max_depth: int = 10) -> set[str]:
    graph = LineageQuery(
        [str(artifact.artifact_arn)],
        LineageQueryDirectionEnum.ASCENDANTS,
        max_depth=max_depth,
        sagemaker_session=session,
    ).query()
    return {vertex["Arn"] for vertex in graph["Vertices"]}


def arns(*entities: Artifact | mllineage.Run | None) -> set[str]:
    out = set()
    for entity in entities:
        assert entity is not None
        out.add(entity.arn if isinstance(entity, mllineage.Run) else str(entity.artifact_arn))
    return out


def test_the_example_twice_then_one_byte_changed(session: Session, repo: Path) -> None:
    data = repo / "data" / "train.parquet"
    data.write_bytes(b"PAR1 churn rows " * 64)
    first, model_1 = train(session)
    second, model_2 = train(session)

    runs = Action.list(action_type="Training", sagemaker_session=session)
    assert {r.action_name for r in runs} == {first.action.action_name, second.action.action_name}
    assert all(r.status == "Completed" for r in runs)
    datasets = Artifact.list(artifact_type="Dataset", sagemaker_session=session)
    assert len(datasets) == 2  # one per input, reused by the second run
    assert [a.artifact_arn for a in first.inputs] == [a.artifact_arn for a in second.inputs]
    models = Artifact.list(artifact_type="Model", sagemaker_session=session)
    assert {m.artifact_arn for m in models} == {model_1.artifact_arn, model_2.artifact_arn}
    assert model_1.properties["accuracy"] == "0.94"
    assert second.action.properties["max_depth"] == "5"
    assert second.action.properties["eta"] == "0.2"

    old = first.inputs[0]
    changed = bytearray(data.read_bytes())
    changed[3] ^= 1  # one byte
    data.write_bytes(bytes(changed))
    third, model_3 = train(session)
    new, features = third.inputs
    assert new.artifact_arn != old.artifact_arn
    assert features.artifact_arn == first.inputs[1].artifact_arn
    (link,) = Association.list(
        source_arn=old.artifact_arn, destination_arn=new.artifact_arn, sagemaker_session=session
    )
    assert link.association_type == "DerivedFrom"
    assert new.properties["mllineage.previous_version"] == old.artifact_arn

    # Upstream from the model: the run, the new dataset, the code (and the unchanged
    # features input): nothing of the earlier runs, their models, the environment.
    made_it = arns(model_3, third, new, features, third.code)
    assert upstream(session, model_3, max_depth=2) == made_it
    # Beyond the run's own inputs, only what the new dataset was derived from.
    assert upstream(session, model_3) == made_it | arns(old)
    # The second model (before the change) likewise.
    assert upstream(session, model_2) == arns(model_2, second, old, features, second.code)


def test_a_block_that_raises_fails_the_run_and_keeps_its_outputs(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("checkpoint.pkl").write_bytes(b"epoch 1")
    entered = []
    with pytest.raises(FloatingPointError, match="loss diverged"):  # noqa: PT012
        with mllineage.run("train", sagemaker_session=session) as run:
            entered.append(True)
            checkpoint = run.output("checkpoint.pkl")
            raise FloatingPointError("loss diverged at step 7 " + "x" * 500)
    assert entered
    action = Action.load(run.action.action_name, sagemaker_session=session)
    assert action.status == "Failed"
    error = action.properties["mllineage.error"]
    assert error.startswith("FloatingPointError: loss diverged at step 7 xxx")
    assert len(error) == 256
    assert action.description.startswith("FloatingPointError: loss diverged")
    assert "mllineage.ended_at" in action.properties
    (produced,) = Association.list(
        source_arn=run.arn, destination_arn=checkpoint.artifact_arn, sagemaker_session=session
    )
    assert produced.association_type == "Produced"


def test_the_commit_recorded_is_head_and_a_dirty_tree_is_flagged(
    session: Session, repo: Path
) -> None:
    with mllineage.run("train", sagemaker_session=session) as clean:
        pass
    assert clean.code is not None
    assert clean.code.artifact_type == "Code"
    assert clean.code.properties["commit"] == git(repo, "rev-parse", "HEAD")
    assert clean.code.properties["branch"] == "main"
    assert clean.code.properties["dirty"] == "false"
    (contributed,) = Association.list(
        source_arn=clean.code.artifact_arn, destination_arn=clean.arn, sagemaker_session=session
    )
    assert contributed.association_type == "ContributedTo"

    (repo / "train.py").write_text("print('training, changed')\n")
    with mllineage.run("train", sagemaker_session=session) as dirty:
        pass
    assert dirty.code is not None
    assert dirty.code.properties["commit"] == git(repo, "rev-parse", "HEAD")
    assert dirty.code.properties["dirty"] == "true"
    assert dirty.code.artifact_arn != clean.code.artifact_arn

    git(repo, "commit", "-qam", "second")
    with mllineage.run("train", sagemaker_session=session) as committed:
        pass
    assert committed.code is not None
    assert committed.code.properties["commit"] == git(repo, "rev-parse", "HEAD")
    assert committed.code.properties["dirty"] == "false"


def test_no_repository_no_code_artifact(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with mllineage.run("train", sagemaker_session=session) as run:
        pass
    assert run.code is None
    assert run.status == "Completed"
    assert not Artifact.list(artifact_type="Code", sagemaker_session=session)
