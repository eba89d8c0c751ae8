"""PyTorch Lightning: a callback that records each ``Trainer.fit`` as a run.

``Trainer(callbacks=[LineageCallback(inputs=["data/train.pt"])])`` records, on the global
rank-0 process only:

- on ``fit`` start, a ``Training`` run named after the LightningModule (or ``name=``), with
  the module's simple ``hparams`` and ``max_epochs`` as params and ``inputs=`` (paths or URIs
  of the data, which Lightning cannot know) as inputs;
- on ``fit`` end, the final ``trainer.callback_metrics`` as logged values, and the model as a
  ``Model`` output: the best checkpoint of the trainer's ``ModelCheckpoint`` when it wrote
  one, else the module's ``state_dict`` saved with ``torch.save`` in ``model_dir`` (no
  ``trainer.save_checkpoint``: it waits for every rank, and only rank 0 records);
- an exception in ``fit`` ends the run ``Failed`` (Lightning re-raises it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from mllineage.api.entities import Context
from mllineage.api.session import Session
from mllineage.capture.artifacts import default_model_dir
from mllineage.capture.run import Run

_SIMPLE = (str, int, float, bool, type(None))


def _scalar(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


class LineageCallback(pl.Callback):
    """Record ``Trainer.fit`` as a run (see the module docstring).

    Args:
        name: the run name (default: the LightningModule's class name).
        inputs: paths or URIs of the training data.
        model_dir: where the model is saved when no checkpoint was written.
        context, code, sagemaker_session: as for :func:`mllineage.run`.

    Example:
        >>> trainer = Trainer(max_epochs=3, callbacks=[LineageCallback(inputs=["train.pt"])])
        >>> trainer.fit(model, loader)
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        inputs: Iterable[str | os.PathLike[str]] = (),
        model_dir: str | os.PathLike[str] | None = None,
        context: str | Context | None = None,
        code: bool | str | os.PathLike[str] = True,
        sagemaker_session: Session | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.inputs = list(inputs)
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.options: dict[str, Any] = {
            "context": context,
            "code": code,
            "sagemaker_session": sagemaker_session,
        }
        self.run: Run | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        params = {k: v for k, v in dict(pl_module.hparams).items() if isinstance(v, _SIMPLE)}
        params["max_epochs"] = trainer.max_epochs
        self.run = Run(
            self.name or type(pl_module).__name__,
            inputs=self.inputs,
            params=params,
            **self.options,
        ).start()

    def _model_path(self, run: Run, trainer: pl.Trainer, pl_module: pl.LightningModule) -> Path:
        checkpoint = getattr(trainer.checkpoint_callback, "best_model_path", "")
        if checkpoint and Path(checkpoint).is_file():
            return Path(checkpoint)
        self.model_dir.mkdir(parents=True, exist_ok=True)
        path = self.model_dir / f"{run.run_id}.pt"
        torch.save(pl_module.state_dict(), path)
        return path

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        run, self.run = self.run, None
        if run is None:
            return
        try:
            metrics = {k: _scalar(v) for k, v in trainer.callback_metrics.items()}
            run.log(**{k: v for k, v in metrics.items() if not k.startswith("mllineage.")})
            run.output(self._model_path(run, trainer, pl_module), artifact_type="Model")
        except BaseException as exc:
            run.end(exc)
            raise
        run.end()

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        run, self.run = self.run, None
        if run is not None:
            run.end(exception)
