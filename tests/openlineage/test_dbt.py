"""Must hold 2: ``dbt-ol run`` on a small dbt-duckdb project records its models' lineage
through a real server; the SQL and column lineage facets survive in the raw events.

The dbt environment (dbt-core, dbt-duckdb, openlineage-dbt, pinned in producers.py) is made
from PyPI the first time and then cached outside the repository (see producers.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from mllineage import Action, Session
from mllineage.capture.openlineage import RUN_TYPE
from mllineage.server.testing import ServerProcess
from tests.openlineage.producers import DBT, producer_venv
from tests.openlineage.support import (
    OlAccount,
    downstream,
    graph_size,
    producers,
    read_by,
    reader,
    replay_shuffled,
    run_arn,
)

PROJECT = Path(__file__).parent / "dbt_project"


def run_dbt(bin_dir: Path, project: Path, server: ServerProcess, account: OlAccount) -> None:
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DBT_PROFILES_DIR": str(project),
        "SHOP_DUCKDB": str(project / "shop.duckdb"),
        "OPENLINEAGE_URL": server.url,
        "OPENLINEAGE_API_KEY": account.api_key,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("OPENLINEAGE_CONFIG", None)
    for command in (["dbt", "seed"], ["dbt-ol", "run"]):
        done = subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_dbt_ol_run(ol_server: ServerProcess, ol_account: OlAccount, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(PROJECT, project)
    run_dbt(producer_venv("dbt", DBT), project, ol_server, ol_account)
    store = reader(ol_server, ol_account)
    session = Session(store=store)
    namespace = f"duckdb://{project / 'shop.duckdb'}"
    stg, totals = f"{namespace}/shop.main.stg_orders", f"{namespace}/shop.main.customer_totals"

    events = [json.loads(e["Event"]) for e in store.paginate("list_openlineage_events", "Events")]
    runs = {e["job"]["name"]: e["run"]["runId"] for e in events}
    assert set(runs) == {
        "dbt-run-shop",
        "shop.main.shop.stg_orders",
        "shop.main.shop.customer_totals",
    }
    # the model graph: stg_orders -> customer_totals, both under the dbt run
    assert producers(session, stg, "dbt/shop.main.shop.stg_orders") == {
        runs["shop.main.shop.stg_orders"]
    }
    assert read_by(session, runs["shop.main.shop.customer_totals"]) == {
        (stg, f"run:{runs['shop.main.shop.stg_orders']}")
    }
    assert downstream(session, stg) == ({totals}, {"dbt/shop.main.shop.customer_totals"})
    for job, run in runs.items():
        action = Action.load(run_arn(session, run), sagemaker_session=session)
        assert action.status == "Completed", job
        assert action.action_type == RUN_TYPE
    model = Action.load(
        run_arn(session, runs["shop.main.shop.customer_totals"]), sagemaker_session=session
    )
    assert "sum(amount)" in model.properties["openlineage.sql"]
    assert model.properties["openlineage.parent_run_id"] == runs["dbt-run-shop"]

    # the sql and column lineage facets, whole, in the raw events
    (complete,) = [
        e
        for e in events
        if e["eventType"] == "COMPLETE" and e["job"]["name"] == "shop.main.shop.customer_totals"
    ]
    assert "sum(amount) as total" in complete["job"]["facets"]["sql"]["query"]
    columns = complete["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert {f["field"] for f in columns["total"]["inputFields"]} == {"amount"}
    assert graph_size(store) == {"artifact": 3, "action": 3, "context": 6, "associations": 12}
    assert replay_shuffled(ol_server, ol_account) == 6
