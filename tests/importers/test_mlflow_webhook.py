"""The MLflow webhook receiver of ``mllineage serve``, sent to by MLflow's own delivery code
(``mlflow.webhooks.delivery.test_webhook``: MLflow's example payload, signed and posted as
MLflow's server posts every delivery). The full path, from a version registered in a real
MLflow server, is ``test_mlflow.py::test_webhook_registers_versions_live...``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mllineage import Session
from mllineage.server import mlflow_webhook
from mllineage.server.testing import ServerProcess

pytest.importorskip("mlflow", reason="the MLflow tests need mlflow (the dev extra)")

SECRET = "webhook-secret"
DELIVER = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from mlflow.entities.webhook import Webhook, WebhookEvent
from mlflow.webhooks.delivery import test_webhook
url, secret = sys.argv[1], sys.argv[2]
hook = Webhook(webhook_id="w1", name="lineage", url=url, secret=secret or None,
               events=[WebhookEvent.from_str("model_version.created")],
               creation_timestamp=0, last_updated_timestamp=0)
result = test_webhook(hook)
print(json.dumps({"status": result.response_status, "body": result.response_body}))
"""


def _deliver(url: str, secret: str) -> dict[str, object]:
    env = {
        **os.environ,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", DELIVER, url, secret], capture_output=True, text=True,
        timeout=300, check=True, env=env,
    )  # fmt: skip
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_mlflows_delivery_is_received_and_forgeries_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    with ServerProcess(db, args=["--mlflow-webhook-secret", SECRET]) as server:
        hook = f"{server.url}{mlflow_webhook.PATH}"
        assert _deliver(hook, "a guess")["status"] == 401
        assert _deliver(hook, "")["status"] == 401  # unsigned
        assert httpx.post(hook, content=b"{}").status_code == 401
        received = _deliver(hook, SECRET)
        assert received["status"] == 200, received
        with Session(server.url) as session:
            # MLflow's example: version 1 of example_model, from models:/123, run abcd1234...
            [version] = session.store.list_artifacts(SourceUri="models:/example_model/1")[
                "ArtifactSummaries"
            ]
            graph = session.store.lineage_graph(
                StartArns=[version["ArtifactArn"]], Direction="Ascendants"
            )
            names = {v["Properties"].get("action_name") for v in graph["Vertices"]}
            uris = {v["Properties"].get("source_uri") for v in graph["Vertices"]}
        assert "models:/123" in uris
        assert any(n and n.startswith("mlflow-run-") for n in names)


def test_no_secret_no_route(tmp_path: Path) -> None:
    with ServerProcess(f"sqlite:///{tmp_path / 'l.db'}") as server:
        assert httpx.post(f"{server.url}{mlflow_webhook.PATH}", content=b"{}").status_code == 404
