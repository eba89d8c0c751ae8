"""``mllineage import mlflow`` and the webhook receiver against a real ``mlflow server``.

One MLflow server (SQLite backend) for the module: two autologged scikit-learn runs with
``mlflow.log_input`` datasets, registered as versions 1 and 2 of ``churn-model``, and the
alias ``champion`` on version 2. Logging a run takes MLflow tens of seconds here, so the
tests share it and run in order (the last one registers a third version).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mllineage import Session
from mllineage.capture.importers.mlflow import MlflowImport
from mllineage.server import mlflow_webhook
from mllineage.server.testing import ServerProcess, free_port
from mllineage.store.base import Store
from tests.importers.mlflow_support import MlflowServer, log_run

pytest.importorskip("mlflow", reason="the MLflow tests need mlflow (the dev extra)")
pytest.importorskip("sklearn", reason="the MLflow tests need scikit-learn (the dev extra)")

# One worker runs them all, in order, on one MLflow server.
pytestmark = pytest.mark.xdist_group("mlflow")

MODEL = "churn-model"
SECRET = "webhook-secret"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("mlflow")
    with MlflowServer(root) as server:
        first = log_run(server.url, "churn", 1, MODEL)
        second = log_run(server.url, "churn", 2, MODEL)
        httpx.post(
            f"{server.url}/api/2.0/mlflow/registered-models/alias",
            json={"name": MODEL, "alias": "champion", "version": second[0]},
        ).raise_for_status()
        yield {"server": server, "url": server.url, "runs": {1: first[1], 2: second[1]}}


def _upstream(store: Store, version: str) -> dict[str, set[str]]:
    [arn] = [
        a["ArtifactArn"]
        for a in store.list_artifacts(SourceUri=f"models:/{MODEL}/{version}")["ArtifactSummaries"]
    ]
    graph = store.lineage_graph(StartArns=[arn], Direction="Ascendants", MaxDepth=10)
    props = [v["Properties"] for v in graph["Vertices"]]
    return {
        "runs": {p["action_name"] for p in props if "action_name" in p},
        "uris": {p["source_uri"] for p in props if "source_uri" in p},
    }


def _version(store: Store, version: str) -> dict[str, Any]:
    [found] = store.paginate(
        "list_entity_details", "Entities", EntityKind="artifact",
        SourceUri=f"models:/{MODEL}/{version}", MaxResults=10,
    )  # fmt: skip
    return found  # type: ignore[no-any-return]


def test_import_then_again_then_after_a_new_run(
    cli: Any, store_url: str, mlflow_server: dict[str, Any]
) -> None:
    url, runs = mlflow_server["url"], mlflow_server["runs"]
    first = cli("import", "mlflow", "--tracking-uri", url)
    assert first.code == 0, first.err
    with Session(store_url) as session:
        for version, seed in (("1", 1), ("2", 2)):
            reached = _upstream(session.store, version)
            assert f"mlflow-run-{runs[seed]}" in reached["runs"]
            assert f"s3://bucket/train-{seed}.csv" in reached["uris"]  # logged with a source
            assert f"runs:/{runs[seed]}/datasets/holdout" in reached["uris"]  # without one
        assert _version(session.store, "2")["Properties"]["mlflow.aliases"] == "champion"
        assert "mlflow.aliases" not in _version(session.store, "1")["Properties"]
        run = session.store.describe_action(ActionName=f"mlflow-run-{runs[1]}")
        assert run["Status"] == "Completed"
        assert run["Properties"]["param.C"] == "1.0"
        assert run["Properties"]["input.train"] == "training"
        assert "metric.training_accuracy_score" in run["Properties"]

    again = cli("import", "mlflow", "--tracking-uri", url)
    assert again.code == 0, again.err
    assert "added: nothing" in again.err
    assert "updated: nothing" in again.err

    [third] = log_run(url, "churn", 3)
    after = cli("import", "mlflow", "--tracking-uri", url)
    assert after.code == 0, after.err
    # the run, its two logged datasets plus autolog's, its logged model, and their links
    assert "added: 4 artifacts, 1 actions, 4 associations" in after.err
    assert "updated: nothing" in after.err
    with Session(store_url) as session:
        assert session.store.describe_action(ActionName=f"mlflow-run-{third}")


def test_dry_run_and_since(cli: Any, store_url: str, mlflow_server: dict[str, Any]) -> None:
    url = mlflow_server["url"]
    dry = cli("import", "mlflow", "--tracking-uri", url, "--dry-run")
    assert dry.code == 0, dry.err
    assert "would add:" in dry.err
    with Session(store_url) as session:
        assert not session.store.list_actions()["ActionSummaries"]
    unknown = cli("import", "mlflow", "--tracking-uri", url, "--experiment", "nope")
    assert unknown.code == 1
    assert f"error: MLflow server {url} has no experiment 'nope'" in unknown.err
    later = cli("import", "mlflow", "--tracking-uri", url, "--since", "2999-01-01")
    assert later.code == 0, later.err
    with Session(store_url) as session:
        # No run started since: only the runs the model versions name, bare (Unknown)
        bare = session.store.paginate("list_entity_details", "Entities", EntityKind="action")
        assert {(a["Status"], len(a["Properties"])) for a in bare} == {("Unknown", 1)}
        assert session.store.list_contexts(MaxResults=10)["ContextSummaries"]  # the registry


def _new_run(url: str, experiment_id: str) -> str:
    answer = httpx.post(
        f"{url}/api/2.0/mlflow/runs/create",
        json={"experiment_id": experiment_id, "start_time": int(time.time() * 1000)},
    )
    answer.raise_for_status()
    return str(answer.json()["run"]["info"]["run_id"])


def test_follow_picks_up_new_and_finished_runs(store: Store, mlflow_server: dict[str, Any]) -> None:
    url = mlflow_server["url"]
    experiment = httpx.get(
        f"{url}/api/2.0/mlflow/runs/get", params={"run_id": mlflow_server["runs"][1]}
    ).json()["run"]["info"]["experiment_id"]
    running = _new_run(url, experiment)
    started: list[str] = []

    def between_passes(seconds: float) -> None:
        httpx.post(
            f"{url}/api/2.0/mlflow/runs/update",
            json={"run_id": running, "status": "FINISHED", "end_time": int(time.time() * 1000)},
        ).raise_for_status()
        started.append(_new_run(url, experiment))

    passes: list[dict[str, Any]] = []
    job = MlflowImport(store, url)
    job.follow(None, None, 30, passes=2, on_pass=lambda s: passes.append(s.as_dict()),
               sleep=between_passes)  # fmt: skip
    job.close()
    assert store.describe_action(ActionName=f"mlflow-run-{running}")["Status"] == "Completed"
    assert store.describe_action(ActionName=f"mlflow-run-{started[0]}")["Status"] == "InProgress"
    assert passes[1]["added"] == {"action": 1}
    assert passes[1]["updated"] == {"action": 1}


def test_unreachable_mlflow_is_one_line(cli: Any, store_url: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = cli("import", "mlflow", "--tracking-uri", url)
    assert done.code == 1
    [line] = done.err.strip().splitlines()
    assert line.startswith(f"error: MLflow server {url} is unreachable")


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "X-MLflow-Delivery-Id": "d-1",
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": mlflow_webhook.signature(secret, "d-1", stamp, body),
        "Content-Type": "application/json",
    }


WEBHOOK_THEN_REGISTER = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import mlflow
from mlflow import MlflowClient
uri, hook, secret, source, model = sys.argv[1:]
MlflowClient(uri).create_webhook(name="lineage", url=hook, events=["model_version.created"],
                                 secret=secret)
time.sleep(2)  # (the MLflow server caches its webhooks for a second: see MlflowServer)
mlflow.set_tracking_uri(uri)
mlflow.register_model(source, model)
"""


def test_webhook_registers_versions_live_and_refuses_forgeries(
    mlflow_server: dict[str, Any], tmp_path: Path
) -> None:
    import subprocess
    import sys

    url, runs = mlflow_server["url"], mlflow_server["runs"]
    db = f"sqlite:///{tmp_path / 'live.db'}"
    args = ["--mlflow-webhook-secret", SECRET, "--mlflow-tracking-uri", url]
    with ServerProcess(db, args=args) as lineage:
        hook = f"{lineage.url}{mlflow_webhook.PATH}"
        body = b'{"entity": "model_version", "action": "created", "data": {}}'
        assert httpx.post(hook, content=body).status_code == 401  # not signed
        forged = _signed(body, secret="guessed")
        assert httpx.post(hook, content=body, headers=forged).status_code == 401
        stale = _signed(body)
        stale["X-MLflow-Timestamp"] = "1000"
        assert httpx.post(hook, content=body, headers=stale).status_code == 401

        source = httpx.get(
            f"{url}/api/2.0/mlflow/model-versions/get", params={"name": MODEL, "version": "1"}
        ).json()["model_version"]["source"]
        subprocess.run(
            [sys.executable, "-c", WEBHOOK_THEN_REGISTER, url, hook, SECRET, source, MODEL],
            check=True, timeout=300,
        )  # fmt: skip
        registered = time.monotonic()
        with Session(lineage.url) as session:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                found = session.store.list_artifacts(SourceUri=f"models:/{MODEL}/3")
                if found["ArtifactSummaries"]:
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"version 3 did not arrive: {lineage.log()[-2000:]}")
            elapsed = time.monotonic() - registered
            reached = _upstream(session.store, "3")
        assert f"mlflow-run-{runs[1]}" in reached["runs"]
        assert "s3://bucket/train-1.csv" in reached["uris"]
        assert elapsed < 30, f"the version took {elapsed:.1f} s to arrive"
