"""Import an ML Metadata (MLMD) store: artifacts, executions, contexts, events and memberships.

ML Metadata pins ``protobuf<5``, which mllineage's other dependencies outgrow, so it is never
imported here: :mod:`mllineage.capture.importers.mlmd_reader` runs under an interpreter that
has ``ml-metadata`` (``--python``, else ``$MLLINEAGE_MLMD_PYTHON``, else this one) and writes
the store as JSON lines, which this module reads as they come.

What becomes what (names and sources come from MLMD's ids, so a second import finds what the
first wrote and updates it in place):

* an artifact -> an artifact whose type is the MLMD artifact type's name, at its URI (or
  ``mlmd:artifact/{id}`` when it has none) with the source type ``Custom`` =
  ``mlmd-artifact-{id}``, so two MLMD artifacts at one URI stay two;
* an execution -> an action ``mlmd-execution-{id}`` of its type, its last known state as
  the status (COMPLETE and CACHED: Completed, RUNNING: InProgress, FAILED: Failed,
  CANCELED: Stopped, else Unknown);
* a context -> a context ``mlmd-context-{id}`` of its type;
* properties keep their names, custom properties become ``custom.{name}``, every value as
  text (numbers as Python writes them, structs and protos as JSON); ``mlmd.id``,
  ``mlmd.type``, ``mlmd.name``, ``mlmd.state`` and the times are added;
* INPUT events (and DECLARED_/INTERNAL_INPUT) -> the artifact ``ContributedTo`` the action;
  OUTPUT events (and DECLARED_/INTERNAL_/PENDING_OUTPUT) -> the action ``Produced`` it;
* attributions and associations -> the artifact or action ``AssociatedWith`` the context;
  a parent context -> the child ``AssociatedWith`` the parent. A context with more than
  1,000 members keeps the first 1,000 links (the store's per-entity limit); the summary
  counts the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mllineage import limits
from mllineage.capture.importers.common import (
    Batch,
    Node,
    Progress,
    SourceError,
    Summary,
    Writer,
    clean_text,
    fit_properties,
    iso_ms,
)
from mllineage.store.base import Store

ENV_PYTHON = "MLLINEAGE_MLMD_PYTHON"
READER = Path(__file__).with_name("mlmd_reader.py")
#: Nodes (or edges) written per PutLineage call.
BATCH = 2000
_STATUS = {
    "COMPLETE": "Completed",
    "CACHED": "Completed",
    "RUNNING": "InProgress",
    "FAILED": "Failed",
    "CANCELED": "Stopped",
}
_INPUTS = {"INPUT", "DECLARED_INPUT", "INTERNAL_INPUT"}
_OUTPUTS = {"OUTPUT", "DECLARED_OUTPUT", "INTERNAL_OUTPUT", "PENDING_OUTPUT"}


def owned(key: str) -> bool:
    return key.startswith("mlmd.")


def _node(record: dict[str, Any], summary: Summary) -> Node:
    kind, mlmd_id, mlmd_type = record["record"], record["id"], record["type"]
    own = {
        "mlmd.id": str(mlmd_id),
        "mlmd.type": mlmd_type,
        "mlmd.name": record.get("name"),
        "mlmd.state": record.get("state"),
        "mlmd.external_id": record.get("external_id"),
        "mlmd.create_time": iso_ms(record.get("create_time")),
        "mlmd.update_time": iso_ms(record.get("update_time")),
    }
    custom = {f"custom.{k}": v for k, v in record.get("custom_properties", {}).items()}
    properties = fit_properties(
        [own, record.get("properties", {}), custom], summary, f"MLMD {kind}"
    )
    label = f"MLMD {kind} {mlmd_id} ({mlmd_type})"
    if kind == "artifact":
        request: dict[str, Any] = {
            "ArtifactType": mlmd_type,
            "Source": {
                "SourceUri": clean_text(record.get("uri"), limits.SOURCE_URI_MAX_LENGTH)
                or f"mlmd:artifact/{mlmd_id}",
                "SourceTypes": [{"SourceIdType": "Custom", "Value": f"mlmd-artifact-{mlmd_id}"}],
            },
            "Properties": properties,
        }
        if record.get("name"):
            request["ArtifactName"] = clean_text(record["name"], limits.NAME_MAX_LENGTH)
        return Node("artifact", request, label)
    noun = "Action" if kind == "execution" else "Context"
    request = {
        f"{noun}Name": f"mlmd-{kind}-{mlmd_id}",
        f"{noun}Type": mlmd_type,
        "Source": {"SourceUri": f"mlmd:{kind}/{mlmd_id}", "SourceType": "MLMD"},
        "Properties": properties,
    }
    if kind == "execution":
        request["Status"] = _STATUS.get(record.get("state", ""), "Unknown")
    return Node("action" if kind == "execution" else "context", request, label)


class MlmdImport:
    """One MLMD store imported into one store.

    Args:
        store: where the lineage goes.
        config: the MLMD store: an SQLite file, a JSON ``ConnectionConfig`` file, or a
            ``mysql://`` / ``postgresql://`` URL.
        python: the interpreter with ``ml-metadata`` (default ``$MLLINEAGE_MLMD_PYTHON``,
            else this one).
    """

    def __init__(
        self,
        store: Store,
        config: str,
        *,
        python: str | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.python = python or os.environ.get(ENV_PYTHON) or sys.executable
        self.summary = Summary(dry_run=dry_run)
        self.writer = Writer(store, self.summary, dry_run=dry_run, owned=owned)
        self.progress: Progress = progress or (lambda done, total: None)
        self.arns: dict[tuple[str, int], str] = {}  # (kind, MLMD id) -> ARN
        self.members: Counter[int] = Counter()  # links made to each context
        self.done = 0

    def run(self) -> Summary:
        """Read the MLMD store and make the store hold it; returns the summary."""
        with self._reader() as records:
            batch: list[dict[str, Any]] = []
            edges = Batch()
            for record in records:
                if record["record"] in ("artifact", "execution", "context"):
                    batch.append(record)
                    if len(batch) >= BATCH:
                        self._write_nodes(batch)
                        batch = []
                    continue
                if batch:
                    self._write_nodes(batch)
                    batch = []
                self._edge(record, edges)
                if len(edges.edges) >= BATCH:
                    self._write_edges(edges)
                    edges = Batch()
            self._write_nodes(batch)
            self._write_edges(edges)
        return self.summary

    def _write_nodes(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        batch = Batch(items=len(records))
        keys = [(r["record"], r["id"], batch.add(_node(r, self.summary)).key) for r in records]
        arns = self.writer.write(batch)
        for kind, mlmd_id, key in keys:
            self.arns[(kind, mlmd_id)] = arns[key]
        self.done += len(records)
        self.progress(self.done, None)

    def _write_edges(self, edges: Batch) -> None:
        if edges.edges:
            self.writer.write(edges)
            self.done += len(edges.edges)
            self.progress(self.done, None)

    def _edge(self, record: dict[str, Any], edges: Batch) -> None:
        kind = record["record"]
        if kind == "event":
            artifact = self.arns.get(("artifact", record["artifact_id"]))
            action = self.arns.get(("execution", record["execution_id"]))
            if artifact is None or action is None:
                self.summary.skip("events of a node MLMD did not list")
            elif record["type"] in _INPUTS:
                edges.link(artifact, action, "ContributedTo")
            elif record["type"] in _OUTPUTS:
                edges.link(action, artifact, "Produced")
            else:
                self.summary.skip(f"events of type {record['type']}")
            return
        if kind == "end":
            return
        member_kind, member_key, context_key = {
            "attribution": ("artifact", "artifact_id", "context_id"),
            "association": ("execution", "execution_id", "context_id"),
            "parent_context": ("context", "child_id", "parent_id"),
        }[kind]
        member = self.arns.get((member_kind, record[member_key]))
        context = self.arns.get(("context", record[context_key]))
        if member is None or context is None:
            self.summary.skip(f"{kind}s of a node MLMD did not list")
        elif self.members[record[context_key]] >= limits.MAX_ASSOCIATIONS_PER_ENTITY:
            self.summary.skip("context memberships past the 1,000-association limit")
        else:
            self.members[record[context_key]] += 1
            edges.link(member, context, "AssociatedWith")

    def _reader(self) -> _Reader:
        return _Reader(self.python, self.config)


class _Reader:
    """The reader subprocess, as a context manager yielding its records."""

    def __init__(self, python: str, config: str) -> None:
        self.python = python
        self.config = config
        self.process: subprocess.Popen[str] | None = None
        self.errors: IO[str] | None = None

    def __enter__(self) -> Iterator[dict[str, Any]]:
        self.errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # (a pipe could fill)
        try:
            self.process = subprocess.Popen(
                [self.python, str(READER), self.config],
                stdout=subprocess.PIPE,
                stderr=self.errors,
                text=True,
                encoding="utf-8",
            )
        except OSError as error:
            self.errors.close()
            raise SourceError(
                f"cannot run the ML Metadata reader with {self.python}: {error.strerror}; "
                f"point --python (or ${ENV_PYTHON}) at a Python that has ml-metadata"
            ) from None
        assert self.process.stdout is not None
        return self._records(self.process.stdout)

    def _records(self, out: IO[str]) -> Iterator[dict[str, Any]]:
        ended = False
        for line in out:
            record = json.loads(line)
            ended = record["record"] == "end"
            yield record
        if not ended:
            raise SourceError(self._failure())

    def _failure(self) -> str:
        assert self.process is not None
        assert self.errors is not None
        self.process.wait()
        self.errors.seek(0)
        lines = self.errors.read().strip().splitlines()
        message = " ".join(lines[-1].split()) if lines else "it stopped early"
        if "No module named 'ml_metadata'" in message:
            return (
                f"{self.python} has no ml-metadata: install it there (pip install "
                f"ml-metadata==1.17.1) or point --python (or ${ENV_PYTHON}) at one that has it"
            )
        return f"reading the ML Metadata store {self.config} failed: {message[-500:]}"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
        if self.errors is not None:
            self.errors.close()
