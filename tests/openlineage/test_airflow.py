"""Must hold 3: an Airflow DAG with inlets and outlets, run with ``airflow dags test`` and the
OpenLineage provider (apache-airflow 2.10.5, apache-airflow-providers-openlineage 2.1.3, in an
environment made from PyPI on first use, see producers.py), records its lineage through a real
server configured only by ``OPENLINEAGE_URL`` and ``OPENLINEAGE_API_KEY``.

Marked slow: about a minute with the environment cached (making it takes several minutes)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mllineage import Action, Session
from mllineage.server.testing import ServerProcess
from tests.openlineage.producers import AIRFLOW, producer_venv
from tests.openlineage.support import (
    OlAccount,
    downstream,
    graph_size,
    producers,
    reader,
    replay_shuffled,
    run_arn,
)

DAGS = Path(__file__).parent / "airflow_dags"
NAMESPACE = "airflow-test"


def airflow(bin_dir: Path, home: Path, server: ServerProcess, key: str, *args: str) -> None:
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "OPENLINEAGE_URL": server.url,
        "OPENLINEAGE_API_KEY": key,
    }
    done = subprocess.run(
        [str(bin_dir / "airflow"), *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


@pytest.mark.slow
def test_airflow_dags_test(ol_server: ServerProcess, ol_account: OlAccount, tmp_path: Path) -> None:
    bin_dir = producer_venv("airflow", AIRFLOW)
    airflow(bin_dir, tmp_path, ol_server, ol_account.api_key, "db", "migrate")
    airflow(
        bin_dir, tmp_path, ol_server, ol_account.api_key, "dags", "test", "shop_etl", "2024-01-02"
    )
    store = reader(ol_server, ol_account)
    session = Session(store=store)

    events = [json.loads(e["Event"]) for e in store.paginate("list_openlineage_events", "Events")]
    runs = {e["job"]["name"]: e["run"]["runId"] for e in events}
    assert set(runs) == {"shop_etl", "shop_etl.extract", "shop_etl.report"}
    # Airflow sends the DAG run's COMPLETE without a START: the run is recorded all the same
    assert [e["eventType"] for e in events if e["job"]["name"] == "shop_etl"] == ["COMPLETE"]
    for run in runs.values():
        assert Action.load(run_arn(session, run), sagemaker_session=session).status == "Completed"
    task = Action.load(run_arn(session, runs["shop_etl.report"]), sagemaker_session=session)
    assert task.properties["openlineage.parent_run_id"] == runs["shop_etl"]
    assert task.properties["openlineage.processing_engine"] == "Airflow"

    lake = "s3://lake/orders.parquet"
    assert producers(session, lake, f"{NAMESPACE}/shop_etl.extract") == {runs["shop_etl.extract"]}
    assert downstream(session, "s3://raw-bucket/orders.csv") == (
        {lake, "s3://reports/daily.csv"},
        {f"{NAMESPACE}/shop_etl.extract", f"{NAMESPACE}/shop_etl.report"},
    )
    assert graph_size(store) == {"artifact": 5, "action": 3, "context": 6, "associations": 14}
    assert replay_shuffled(ol_server, ol_account) == len(events)
