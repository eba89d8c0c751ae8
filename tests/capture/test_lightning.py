"""The PyTorch Lightning callback: real fits of a tiny model on the CPU."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from mllineage import Action, Artifact, Association, Session
from mllineage.capture.hashing import content_hash
from mllineage.capture.lightning import LineageCallback

pytestmark = [
    # Lightning's advice for real jobs, not faults of this one.
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*is smaller than the logging interval:UserWarning"),
    # lightning 2.6 on torch 2.13 uses a torch class torch has deprecated.
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning"),
]


class Line(pl.LightningModule):  # type: ignore[misc]
    """y = w x + b, fitted by SGD."""

    def __init__(self, lr: float = 0.1, fail_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(1, 1)

    def training_step(self, batch: tuple[object, object], index: int) -> object:
        if self.hparams.fail_at is not None and self.global_step == self.hparams.fail_at:
            raise FloatingPointError("loss is nan")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> object:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def data(folder: Path) -> tuple[Path, object]:
    """A data file (the recorded input) and a loader over what it holds."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, generator=generator)
    path = folder / "line.pt"
    torch.save({"x": x, "y": 3 * x + 1}, path)
    loaded = torch.load(path)
    dataset = torch.utils.data.TensorDataset(loaded["x"], loaded["y"])
    return path, torch.utils.data.DataLoader(dataset, batch_size=16)


def trainer(folder: Path, callback: LineageCallback, **options: object) -> object:
    return pl.Trainer(
        max_epochs=3,
        default_root_dir=folder,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
        **options,
    )


def test_a_fit_is_a_run_with_its_data_and_checkpoint(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path, loader = data(tmp_path)
    callback = LineageCallback(inputs=[path], sagemaker_session=session, code=False)
    trainer(tmp_path, callback).fit(Line(lr=0.2), loader)

    (run,) = Action.list(action_type="Training", sagemaker_session=session)
    assert run.status == "Completed"
    assert run.properties["mllineage.run_name"] == "Line"
    assert (run.properties["lr"], run.properties["max_epochs"]) == ("0.2", "3")
    assert float(run.properties["train_loss"]) >= 0
    (used,) = Association.list(destination_arn=run.action_arn, sagemaker_session=session)
    digest = content_hash(path)
    assert Artifact.load(used.source_arn, sagemaker_session=session).source == {
        "source_uri": path.as_uri(),
        "source_types": [{"SourceIdType": "Custom", "Value": digest}],
    }
    (made,) = Association.list(
        source_arn=run.action_arn, association_type="Produced", sagemaker_session=session
    )
    model = Artifact.load(made.destination_arn, sagemaker_session=session)
    assert model.artifact_type == "Model"
    assert model.source is not None
    assert model.source["source_uri"].endswith(".ckpt")


def test_without_checkpoints_the_weights_are_saved(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path, loader = data(tmp_path)
    callback = LineageCallback(
        inputs=[path], model_dir=tmp_path / "models", sagemaker_session=session, code=False
    )
    module = Line()
    trainer(tmp_path, callback, enable_checkpointing=False).fit(module, loader)
    (saved,) = (tmp_path / "models").glob("*.pt")
    weights = torch.load(saved)
    assert torch.equal(weights["layer.weight"], module.layer.weight)
    (model,) = Artifact.list(artifact_type="Model", sagemaker_session=session)
    assert model.source is not None
    assert model.source["source_uri"] == saved.as_uri()


def test_a_fit_that_raises_fails_the_run(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path, loader = data(tmp_path)
    callback = LineageCallback(inputs=[path], sagemaker_session=session, code=False)
    with pytest.raises(FloatingPointError, match="loss is nan"):
        trainer(tmp_path, callback).fit(Line(fail_at=2), loader)
    (run,) = Action.list(action_type="Training", sagemaker_session=session)
    assert run.status == "Failed"
    assert run.properties["mllineage.error"] == "FloatingPointError: loss is nan"
