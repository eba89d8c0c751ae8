"""A real ``mlflow server`` (SQLite backend) for the importer tests, and runs logged to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from mllineage.server.testing import free_port


class MlflowServer:
    """``mlflow server`` on 127.0.0.1 and a free port, with its store under ``root``; its
    webhooks may call 127.0.0.1 over http (MLflow refuses both by default)."""

    def __init__(self, root: Path, startup_timeout: float = 120.0) -> None:
        self.root = root
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        mlflow = Path(sys.executable).with_name("mlflow")
        env = {
            **os.environ,
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
            "MLFLOW_WEBHOOK_CACHE_TTL": "1",
        }
        self.port = free_port()
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(mlflow), "server",
                "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
                "--default-artifact-root", str(self.root / "artifacts"),
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            ],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        log_text = (self.root / "server.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"mlflow server did not start: {log_text}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.process = None

    def __enter__(self) -> MlflowServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


LOG_RUN = r"""
import sys, warnings
warnings.simplefilter("ignore")
import mlflow, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
uri, experiment, seed, register = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment(experiment)
mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False, silent=True)
rng = np.random.default_rng(seed)
frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
frame["y"] = (frame["a"] > 0).astype(int)
with mlflow.start_run(run_name=f"train-{seed}") as run:
    train = mlflow.data.from_pandas(frame, source=f"s3://bucket/train-{seed}.csv", name="train")
    mlflow.log_input(train, context="training")
    holdout = mlflow.data.from_pandas(frame.head(10), name="holdout")  # no source location
    mlflow.log_input(holdout, context="validation")
    LogisticRegression(C=1.0 / seed).fit(frame[["a", "b", "c"]], frame["y"])
if register:
    model = mlflow.last_logged_model()
    version = mlflow.register_model(f"models:/{model.model_id}", register)
    print(version.version)
print(run.info.run_id)
"""


def log_run(tracking_uri: str, experiment: str, seed: int, register: str = "") -> list[str]:
    """One autologged scikit-learn run with two ``log_input`` datasets (one with a source
    location, one without), registered as a new version of ``register`` if given. Returns
    ``[run_id]``, or ``[version, run_id]`` when registered."""
    done = subprocess.run(
        [sys.executable, "-c", LOG_RUN, tracking_uri, experiment, str(seed), register],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"logging an MLflow run failed: {done.stderr[-3000:]}")
    words = done.stdout.split()
    return words[-2:] if register else words[-1:]
