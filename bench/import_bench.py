"""How long importing 100k MLflow runs and 100k ML Metadata nodes takes.

    python bench/import_bench.py                       # 100k runs, 100k MLMD nodes
    python bench/import_bench.py --runs 2000 --nodes 2000   # a smoke run
    python bench/import_bench.py --write-docs          # and put the table in docs/import.md

MLflow: the runs are written straight into a real MLflow SQLite backend (schema made by
MLflow itself), since logging 100k runs through MLflow's client takes hours here; each run
has 3 params, 2 metrics, 2 tags and one dataset input (a dataset per 100 runs). A real
``mlflow server`` serves them and ``MlflowImport`` reads them over REST into an SQLite store.
ML Metadata: MLMD 1.17.1 (``$MLLINEAGE_MLMD_PYTHON``) builds pipelines of 3 artifacts and 2
executions (5 events each) until the node count is reached; ``MlmdImport`` imports them.
Each import runs twice: the first adds everything, the second finds nothing to change.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.importers.mlflow_support import MlflowServer  # noqa: E402

from mllineage.capture.importers.mlflow import MlflowImport  # noqa: E402
from mllineage.capture.importers.mlmd import ENV_PYTHON, MlmdImport  # noqa: E402
from mllineage.store.sql.store import SqlStore  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "import.md"
MARKERS = ("<!-- import-bench:start -->", "<!-- import-bench:end -->")

MLFLOW_SCHEMA = """
import sys, warnings
warnings.simplefilter("ignore")
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
SqlAlchemyStore(f"sqlite:///{sys.argv[1]}", sys.argv[2])
"""

MLMD_BUILD = r"""
import sys
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb
config = pb.ConnectionConfig()
config.sqlite.filename_uri = sys.argv[1]
config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
store = metadata_store.MetadataStore(config)
data = store.put_artifact_type(pb.ArtifactType(name="Dataset", properties={"split": pb.STRING}))
model = store.put_artifact_type(pb.ArtifactType(name="Model"))
step = store.put_execution_type(pb.ExecutionType(name="Trainer", properties={"epochs": pb.INT}))
for n in range(int(sys.argv[2]) // 5):
    raw = pb.Artifact(type_id=data, uri=f"s3://bench/raw-{n}.csv")
    raw.properties["split"].string_value = "all"
    [raw_id] = store.put_artifacts([raw])
    [raw] = store.get_artifacts_by_id([raw_id])
    prep = pb.Execution(type_id=step, last_known_state=pb.Execution.COMPLETE)
    prep.properties["epochs"].int_value = 1
    train_set = pb.Artifact(type_id=data, uri=f"s3://bench/train-{n}.csv")
    _, ids, _ = store.put_execution(prep, [(raw, pb.Event(type=pb.Event.INPUT)),
                                           (train_set, pb.Event(type=pb.Event.OUTPUT))], [])
    [train_set] = store.get_artifacts_by_id([ids[1]])
    fit = pb.Execution(type_id=step, last_known_state=pb.Execution.COMPLETE)
    out = pb.Artifact(type_id=model, uri=f"s3://bench/model-{n}")
    store.put_execution(fit, [(train_set, pb.Event(type=pb.Event.INPUT)),
                              (raw, pb.Event(type=pb.Event.INPUT)),
                              (out, pb.Event(type=pb.Event.OUTPUT))], [])
"""


def mlflow_backend(root: Path, runs: int) -> Path:
    """A real MLflow SQLite backend holding ``runs`` runs in one experiment."""
    db = root / "mlflow.db"
    subprocess.run(
        [sys.executable, "-c", MLFLOW_SCHEMA, str(db), str(root / "artifacts")], check=True
    )
    now = int(time.time() * 1000)
    ids = [uuid.uuid4().hex for _ in range(runs)]
    datasets = [uuid.uuid4().hex for _ in range(max(1, runs // 100))]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
            " creation_time, last_update_time) VALUES (1, 'bench', ?, 'active', ?, ?)",
            (str(root / "artifacts" / "1"), now, now),
        )
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, user_id, status,"
            " start_time, end_time, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?, ?, 'LOCAL', 'train.py', 'bench', 'FINISHED', ?, ?, 'active', ?, 1)",
            [(r, f"run-{i}", now + i, now + i + 500, f"{root}/a/{r}") for i, r in enumerate(ids)],
        )
        conn.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [(k, f"{v}-{i % 7}", r) for i, r in enumerate(ids) for k, v in
             (("lr", "0.1"), ("depth", "6"), ("loss", "log"))],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, 0, 0, ?)",
            [(k, (i % 100) / 100, now, r) for i, r in enumerate(ids) for k in ("acc", "auc")],
        )
        conn.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [(k, v, r) for r in ids for k, v in (("mlflow.user", "bench"), ("team", "ml"))],
        )
        conn.executemany(
            "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest,"
            " dataset_source_type, dataset_source) VALUES (?, 1, ?, ?, 's3', ?)",
            [(d, f"data-{j}", d[:8], json.dumps({"uri": f"s3://bench/data-{j}.csv"}))
             for j, d in enumerate(datasets)],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type,"
            " destination_id) VALUES (?, 'DATASET', ?, 'RUN', ?)",
            [(uuid.uuid4().hex, datasets[i // 100], r) for i, r in enumerate(ids)],
        )
    return db


def timed_twice(make: Any) -> dict[str, Any]:
    """Run an import twice (``make()`` builds one); the times and the summaries."""
    out: dict[str, Any] = {}
    for label in ("first", "second"):
        started = time.perf_counter()
        summary = make().run()
        out[label] = {"seconds": time.perf_counter() - started, **summary.as_dict()}
        print(f"{label} import: {out[label]['seconds']:.1f} s", flush=True)
    return out


def bench_mlflow(runs: int, root: Path) -> dict[str, Any]:
    mlflow_backend(root, runs)
    store = SqlStore(f"sqlite:///{root / 'lineage.db'}")
    try:
        with MlflowServer(root, startup_timeout=300) as server:
            result = timed_twice(lambda: MlflowImport(store, server.url))
    finally:
        store.close()
    return result


def bench_mlmd(nodes: int, root: Path, python: str) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "mlmd.sqlite"
    started = time.perf_counter()
    subprocess.run([python, "-c", MLMD_BUILD, str(path), str(nodes)], check=True)
    built = time.perf_counter() - started
    store = SqlStore(f"sqlite:///{root / 'lineage.db'}")
    try:
        result = timed_twice(lambda: MlmdImport(store, str(path), python=python))
    finally:
        store.close()
    return {"build_seconds": built, **result}


def table(results: dict[str, Any], runs: int, nodes: int) -> str:
    rows = [
        "| import | source | first import (adds all) | second import (no change) |",
        "| --- | --- | --- | --- |",
    ]
    for key, what in (("mlflow", f"{runs:,} MLflow runs"), ("mlmd", f"{nodes:,} MLMD nodes")):
        if key not in results:
            continue
        r = results[key]
        added = sum(r["first"]["added"].values())
        rows.append(
            f"| `import {key}` | {what} | {r['first']['seconds']:.1f} s "
            f"({added:,} entities and associations) | {r['second']['seconds']:.1f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--mlmd-python", default=os.environ.get(ENV_PYTHON))
    parser.add_argument("--write-docs", action="store_true", help=f"update {DOCS.name}")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        if args.runs:
            results["mlflow"] = bench_mlflow(args.runs, Path(tmp) / "mlflow")
            print(json.dumps(results["mlflow"]), flush=True)
        if args.nodes and args.mlmd_python:
            results["mlmd"] = bench_mlmd(args.nodes, Path(tmp) / "mlmd", args.mlmd_python)
        elif args.nodes:
            print(f"no ML Metadata interpreter (--mlmd-python or ${ENV_PYTHON}): MLMD skipped")
    print(json.dumps(results, indent=2))
    text = table(results, args.runs, args.nodes)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    note = (
        f"Measured by `python bench/import_bench.py` on {time.strftime('%Y-%m-%d')} "
        f"({machine}; the MLflow server, the import and the SQLite store on one machine)."
    )
    print(text, note, sep="\n\n")
    if args.write_docs:
        body = DOCS.read_text(encoding="utf-8")
        start, end = (re.escape(m) for m in MARKERS)
        # Rows of an importer this run left out stay as an earlier run wrote them.
        earlier = re.findall(r"^(\| `import (\w+)` .*)$", body, flags=re.M)
        kept = [row for row, key in earlier if key not in results]
        block = f"{MARKERS[0]}\n{text}\n" + "".join(f"{row}\n" for row in kept)
        block += f"\n{note}\n{MARKERS[1]}"
        DOCS.write_text(re.sub(f"{start}.*?{end}", block, body, flags=re.S), encoding="utf-8")


if __name__ == "__main__":
    main()
