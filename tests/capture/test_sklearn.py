"""The scikit-learn hook: real fits of tiny models on data scikit-learn ships (no download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mllineage
from mllineage import Action, Artifact, Association, Session
from mllineage.capture import sklearn as lineage_sklearn


@pytest.fixture
def autolog(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """autolog() on for the test, models saved in its folder; undone afterwards."""
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "models"
    lineage_sklearn.autolog(model_dir=models, sagemaker_session=session, code=False)
    yield models
    lineage_sklearn.autolog(disable=True)


def produced(session: Session, run_arn: str) -> list[Artifact]:
    return [
        Artifact.load(a.destination_arn, sagemaker_session=session)
        for a in Association.list(
            source_arn=run_arn, association_type="Produced", sagemaker_session=session
        )
    ]


def consumed(session: Session, run_arn: str) -> list[Artifact]:
    return [
        Artifact.load(a.source_arn, sagemaker_session=session)
        for a in Association.list(
            destination_arn=run_arn, association_type="ContributedTo", sagemaker_session=session
        )
    ]


def test_a_fit_is_a_run_with_its_data_and_saved_model(session: Session, autolog: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(C=0.5, max_iter=500).fit(X, y)

    (run,) = Action.list(action_type="Training", sagemaker_session=session)
    assert run.status == "Completed"
    assert run.properties["mllineage.run_name"] == "LogisticRegression"
    assert run.properties["C"] == "0.5"
    assert run.properties["max_iter"] == "500"
    (data,) = consumed(session, str(run.action_arn))
    assert data.artifact_type == "Dataset"
    assert data.source is not None
    assert data.source["source_uri"] == lineage_sklearn.dataset_uri(X, y)
    assert (data.properties["rows"], data.properties["features"]) == ("150", "4")
    (saved,) = produced(session, str(run.action_arn))
    assert saved.artifact_type == "Model"
    path = autolog / f"{run.action_name}.joblib"
    assert saved.source is not None
    assert saved.source["source_uri"] == path.as_uri()
    reloaded = joblib.load(path)
    assert np.array_equal(reloaded.predict(X), model.predict(X))


def test_the_same_data_is_the_same_dataset(session: Session, autolog: Path) -> None:
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=500).fit(X, y)
    LogisticRegression(C=2.0, max_iter=500).fit(X.copy(), y.copy())
    LogisticRegression(max_iter=500).fit(X[:100], y[:100])
    datasets = Artifact.list(artifact_type="Dataset", sagemaker_session=session)
    assert len(datasets) == 2


def test_a_pipeline_is_one_run_and_nests_in_an_open_run(session: Session, autolog: Path) -> None:
    X, y = load_iris(return_X_y=True)
    with mllineage.run("experiment", sagemaker_session=session, code=False) as outer:
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    runs = Action.list(action_type="Training", sagemaker_session=session)
    (inner,) = [r for r in runs if r.action_arn != outer.arn]
    assert inner.properties["mllineage.run_name"] == "Pipeline"  # its steps are part of it
    assert inner.properties["mllineage.parent_run"] == outer.arn


def test_a_class_defined_later_is_recorded_and_disable_undoes_it(
    session: Session, autolog: Path
) -> None:
    class Mean(BaseEstimator):  # type: ignore[misc]
        def fit(self, X: object, y: object = None) -> Mean:
            self.mean_ = float(np.mean(np.asarray(X)))
            return self

    with pytest.warns(RuntimeWarning, match="not saved"):  # a local class: no pickle
        Mean().fit(np.arange(10.0).reshape(5, 2))
    (run,) = Action.list(sagemaker_session=session)
    assert run.status == "Completed"
    assert not produced(session, str(run.action_arn))
    lineage_sklearn.autolog(disable=True)
    Mean().fit(np.arange(10.0).reshape(5, 2))
    LogisticRegression(max_iter=500).fit(*load_iris(return_X_y=True))
    assert len(Action.list(sagemaker_session=session)) == 1
    assert not getattr(LogisticRegression.fit, "_mllineage", False)
