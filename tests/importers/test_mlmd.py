"""``mllineage import mlmd`` against a real ML Metadata 1.17.1 store (built by MLMD itself)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mllineage import Session
from mllineage.capture.importers.common import SourceError
from mllineage.capture.importers.mlmd import MlmdImport
from mllineage.store.base import Store
from tests.importers.conftest import build_mlmd

PIPELINES = 2  # each: 4 artifacts, 2 executions, 6 events; a run context; one pipeline context


@pytest.fixture(scope="module")
def mlmd_store(mlmd_python: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("mlmd") / "metadata.sqlite"
    built = build_mlmd(mlmd_python, path, PIPELINES)
    return {"path": str(path), **built}


def _entities(store: Store, kind: str) -> list[dict[str, Any]]:
    return list(store.paginate("list_entity_details", "Entities", EntityKind=kind, MaxResults=100))


def test_every_node_edge_and_property_is_accounted_for(
    store: Store, mlmd_store: dict[str, Any], mlmd_python: str
) -> None:
    summary = MlmdImport(store, mlmd_store["path"], python=mlmd_python).run()

    counts = mlmd_store["counts"]
    assert summary.added == {
        "artifact": counts["artifact"],
        "action": counts["execution"],
        "context": counts["context"],
        # per pipeline: 6 events, 4 attributions, 2 associations, 1 parent context
        "association": PIPELINES * 13,
    }
    assert not summary.skipped
    artifacts = {a["Properties"]["mlmd.id"]: a for a in _entities(store, "artifact")}
    raw = artifacts["1"]
    assert raw["ArtifactType"] == "Dataset"
    assert raw["ArtifactName"] == "raw-0"
    assert raw["Source"]["SourceUri"] == "s3://data/raw-0.csv"
    assert raw["Properties"].items() >= {
        "split": "all", "rows": "1000", "custom.verified": "true", "mlmd.state": "LIVE",
        "mlmd.type": "Dataset",
    }.items()  # fmt: skip
    assert (
        artifacts["2"]["Properties"]["custom.schema"] == '{"columns": ["a", "b"], "version": 2.0}'
    )
    assert artifacts["3"]["Properties"]["accuracy"] == "0.91"
    assert artifacts["4"]["Source"]["SourceUri"] == "mlmd:artifact/4"  # MLMD gave it no URI
    actions = {a["ActionName"]: a for a in _entities(store, "action")}
    assert actions["mlmd-execution-1"]["Status"] == "Completed"
    assert actions["mlmd-execution-1"]["Properties"]["custom.learning_rate"] == "0.01"
    assert actions["mlmd-execution-2"]["Status"] == "Failed"
    contexts = {c["ContextName"]: c for c in _entities(store, "context")}
    assert contexts["mlmd-context-2"]["Properties"]["pipeline"] == "churn"
    edges = Counter(
        a["AssociationType"]
        for a in store.paginate("list_associations", "AssociationSummaries", MaxResults=100)
    )
    assert edges == {
        "ContributedTo": PIPELINES * 4,
        "Produced": PIPELINES * 2,
        "AssociatedWith": PIPELINES * 7,
    }


def test_lineage_matches_mlmds_own_subgraph(
    store: Store, mlmd_store: dict[str, Any], mlmd_python: str
) -> None:
    MlmdImport(store, mlmd_store["path"], python=mlmd_python).run()
    last = next(
        a for a in _entities(store, "artifact")
        if a["Properties"]["mlmd.id"] == str(mlmd_store["last"])
    )  # fmt: skip
    graph = store.lineage_graph(
        StartArns=[last["ArtifactArn"]], Direction="Ascendants", MaxDepth=10
    )
    ours = {
        kind: sorted(
            int(v["Properties"]["mlmd.id"]) for v in graph["Vertices"] if v["LineageType"] == kind
        )
        for kind in ("Artifact", "Action")
    }
    assert ours == {"Artifact": mlmd_store["artifacts"], "Action": mlmd_store["executions"]}


def test_a_second_import_adds_nothing(
    store: Store, mlmd_store: dict[str, Any], mlmd_python: str
) -> None:
    MlmdImport(store, mlmd_store["path"], python=mlmd_python).run()
    again = MlmdImport(store, mlmd_store["path"], python=mlmd_python).run()
    assert again.changed == 0
    assert again.unchanged["artifact"] == mlmd_store["counts"]["artifact"]
    assert again.unchanged["association"] == PIPELINES * 13


def test_cli_dry_run_writes_nothing_and_says_what_it_would(
    cli: Any, store_url: str, mlmd_store: dict[str, Any], mlmd_python: str
) -> None:
    dry = cli("import", "mlmd", mlmd_store["path"], "--python", mlmd_python, "--dry-run")
    assert dry.code == 0, dry.err
    assert "would add: 8 artifacts, 4 actions, 3 contexts, 26 associations" in dry.err
    with Session(store_url) as session:
        assert not session.store.list_artifacts()["ArtifactSummaries"]
    done = cli("import", "mlmd", mlmd_store["path"], "--python", mlmd_python)
    assert done.code == 0, done.err
    assert "added: 8 artifacts, 4 actions, 3 contexts, 26 associations" in done.err
    assert done.out == ""  # the summary and the progress are on stderr, none in a pipe


def test_unreadable_sources_are_one_clear_line(
    cli: Any, store_url: str, tmp_path: Path, mlmd_python: str
) -> None:
    missing = cli("import", "mlmd", str(tmp_path / "nope.sqlite"), "--python", mlmd_python)
    assert missing.code == 1
    assert missing.err.strip().splitlines() == [
        f"error: reading the ML Metadata store {tmp_path / 'nope.sqlite'} failed: no such "
        f"ML Metadata store: {tmp_path / 'nope.sqlite'}"
    ]
    no_python = cli("import", "mlmd", "x.sqlite", "--python", str(tmp_path / "python"))
    assert no_python.code == 1
    assert "cannot run the ML Metadata reader" in no_python.err


def test_an_interpreter_without_ml_metadata_is_named(store: Store, tmp_path: Path) -> None:
    import sys

    with pytest.raises(SourceError, match="has no ml-metadata: install it there"):
        MlmdImport(store, str(tmp_path / "x.sqlite"), python=sys.executable).run()
