"""Import an MLflow tracking server's lineage: experiments, runs, datasets, models, versions.

What becomes what (every name and source URI is made from MLflow's own ids, so a second
import finds what the first wrote and updates it in place):

* an experiment -> a context ``mlflow-experiment-{id}`` of type ``MLflowExperiment``;
* a run -> an action ``mlflow-run-{run_id}`` of type ``MLflowRun``: its status, start and end
  times, user, metrics (last values), params and tags as properties (at most 30: the run's
  own fields first, then metrics, the context of each dataset input, params and tags; the
  summary counts what was left out);
* a dataset input -> an artifact of type ``DataSet`` that ``ContributedTo`` the run, identified
  by its source URI and MLflow's digest (a ``Custom`` source type). A dataset with no source
  location is recorded under ``runs:/{run_id}/datasets/{name}`` and says so in its
  ``mlflow.dataset.location`` property;
* a logged model -> an artifact of type ``Model`` at ``models:/{model_id}`` (MLflow 3), or at
  ``runs:/{run_id}/{artifact_path}`` (MLflow 2's logged-model history), that the run
  ``Produced``;
* a registered model -> a context ``mlflow-model-{name}`` of type ``MLflowRegisteredModel``
  (its aliases as ``mlflow.alias.{alias}`` properties); each of its versions -> an artifact of
  type ``ModelVersion`` at ``models:/{name}/{version}``, ``DerivedFrom`` the logged model (or
  run artifact) it was registered from, ``AssociatedWith`` the registered model's context, its
  stage, status and aliases as properties.

Runs are not linked to their experiment's context by an association: an experiment holds
any number of runs, and an entity takes at most 1,000 associations. A run's
``mlflow.experiment_id`` property names it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

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
from mllineage.capture.importers.mlflow_rest import MlflowRest
from mllineage.store.base import Store

#: The property keys the importer writes (only these are removed when MLflow drops them).
OWNED_PREFIXES = ("mlflow.", "param.", "metric.", "tag.", "input.")
#: Runs written per batch (one PutLineage call each).
BATCH_RUNS = 500
_STATUS = {
    "RUNNING": "InProgress",
    "SCHEDULED": "Unknown",
    "FINISHED": "Completed",
    "FAILED": "Failed",
    "KILLED": "Stopped",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def owned(key: str) -> bool:
    return key.startswith(OWNED_PREFIXES)


def _safe_name(prefix: str, text: str) -> str:
    """An action or context name (letters, digits and '-'; 120 characters at most)."""
    import hashlib

    name = f"{prefix}-{_UNSAFE.sub('-', text).strip('-')}".strip("-")
    if len(name) <= 120 and _UNSAFE.sub("-", text) == text:
        return name
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{name[:107].rstrip('-')}-{digest}"


def _pairs(items: Iterable[dict[str, Any]] | None, prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{i['key']}": i.get("value") for i in items or []}


# -- nodes -----------------------------------------------------------------------------------
class Mapper:
    """MLflow's REST objects as the nodes and edges of a batch."""

    def __init__(self, base: str, summary: Summary) -> None:
        self.base = base
        self.summary = summary

    def experiment(self, exp: dict[str, Any]) -> Node:
        exp_id = exp["experiment_id"]
        own = {
            "mlflow.experiment_id": exp_id,
            "mlflow.experiment_name": exp.get("name"),
            "mlflow.artifact_location": exp.get("artifact_location"),
            "mlflow.lifecycle_stage": exp.get("lifecycle_stage"),
            "mlflow.creation_time": iso_ms(exp.get("creation_time")),
        }
        request = {
            "ContextName": f"mlflow-experiment-{_UNSAFE.sub('-', exp_id)}",
            "ContextType": "MLflowExperiment",
            "Source": {"SourceUri": f"{self.base}/#/experiments/{exp_id}", "SourceType": "MLflow"},
            "Properties": fit_properties(
                [own, _pairs(exp.get("tags"), "tag.")], self.summary, "experiment"
            ),
        }
        return Node("context", request, f"MLflow experiment {exp_id}")

    def run_ref(self, run_id: str, experiment_id: str = "0") -> Node:
        """The action of a run, for a link to it: created bare if the run is not imported."""
        request = {
            "ActionName": f"mlflow-run-{run_id}",
            "ActionType": "MLflowRun",
            "Status": "Unknown",
            "Source": self._run_source(run_id, experiment_id),
            "Properties": {"mlflow.run_id": run_id},
        }
        return Node("action", request, f"MLflow run {run_id}", update=False)

    def _run_source(self, run_id: str, experiment_id: str) -> dict[str, str]:
        uri = f"{self.base}/#/experiments/{experiment_id}/runs/{run_id}"
        return {"SourceUri": uri, "SourceType": "MLflowRun", "SourceId": run_id}

    def run(self, run: dict[str, Any], batch: Batch) -> Node:
        """The run's action, its datasets and logged models (MLflow 2), linked, in ``batch``."""
        info, data = run["info"], run.get("data", {})
        run_id = info["run_id"]
        tags = _pairs(data.get("tags"))
        inputs = run.get("inputs", {}).get("dataset_inputs", [])
        own = {
            "mlflow.run_id": run_id,
            "mlflow.experiment_id": info.get("experiment_id"),
            "mlflow.run_name": info.get("run_name"),
            "mlflow.status": info.get("status"),
            "mlflow.user": info.get("user_id"),
            "mlflow.start_time": iso_ms(info.get("start_time")),
            "mlflow.end_time": iso_ms(info.get("end_time")),
            "mlflow.lifecycle_stage": info.get("lifecycle_stage"),
            "mlflow.artifact_uri": info.get("artifact_uri"),
            "mlflow.source.name": tags.get("mlflow.source.name"),
        }
        contexts = {
            f"input.{i['dataset']['name']}": _pairs(i.get("tags")).get("mlflow.data.context")
            for i in inputs
        }
        groups = [
            own,
            _pairs(data.get("metrics"), "metric."),
            contexts,
            _pairs(data.get("params"), "param."),
            {f"tag.{k}": v for k, v in tags.items() if not k.startswith("mlflow.")},
        ]
        request: dict[str, Any] = {
            "ActionName": f"mlflow-run-{run_id}",
            "ActionType": "MLflowRun",
            "Status": _STATUS.get(info.get("status", ""), "Unknown"),
            "Source": self._run_source(run_id, info.get("experiment_id", "0")),
            "Properties": fit_properties(groups, self.summary, "run"),
        }
        if tags.get("mlflow.note.content"):
            request["Description"] = clean_text(tags["mlflow.note.content"], 3072)
        metadata = {
            "CommitId": tags.get("mlflow.source.git.commit"),
            "Repository": tags.get("mlflow.source.git.repoURL"),
        }
        if any(metadata.values()):
            request["MetadataProperties"] = {k: v for k, v in metadata.items() if v}
        node = batch.add(Node("action", request, f"MLflow run {run_id}"))
        for dataset_input in inputs:
            batch.link(self.dataset(run_id, dataset_input["dataset"]), node, "ContributedTo")
        for path in _history_paths(tags.get("mlflow.log-model.history")):
            batch.link(node, self.artifact_ref(f"runs:/{run_id}/{path}", run_id), "Produced")
        return node

    def dataset(self, run_id: str, dataset: dict[str, Any]) -> Node:
        name = dataset.get("name") or "dataset"
        location = _dataset_location(dataset.get("source"))
        uri = location or f"runs:/{run_id}/datasets/{name}"
        properties = {
            "mlflow.dataset.name": name,
            "mlflow.dataset.digest": dataset.get("digest"),
            "mlflow.dataset.source_type": dataset.get("source_type"),
            "mlflow.dataset.location": location
            or "none (MLflow has no source location; recorded under the run that logged it)",
            "mlflow.dataset.profile": dataset.get("profile"),
            "mlflow.dataset.schema": dataset.get("schema"),
        }
        if not location:
            self.summary.skip("datasets without a source location (recorded under their run)")
        request = {
            "ArtifactName": clean_text(name, 120),
            "ArtifactType": "DataSet",
            "Source": {
                "SourceUri": uri,
                "SourceTypes": [{"SourceIdType": "Custom", "Value": dataset.get("digest") or "-"}],
            },
            "Properties": fit_properties([properties], self.summary, "dataset"),
        }
        return Node("artifact", request, f"MLflow dataset {name} ({uri})")

    def logged_model(self, model: dict[str, Any]) -> Node:
        info = model["info"]
        own = {
            "mlflow.model_id": info["model_id"],
            "mlflow.model_name": info.get("name"),
            "mlflow.source_run_id": info.get("source_run_id"),
            "mlflow.status": info.get("status"),
            "mlflow.model_type": info.get("model_type"),
            "mlflow.artifact_uri": info.get("artifact_uri"),
            "mlflow.creation_time": iso_ms(info.get("creation_timestamp_ms")),
        }
        tags = {k: v for k, v in _pairs(info.get("tags"), "tag.").items() if "mlflow." not in k}
        request = {
            "ArtifactName": clean_text(info.get("name") or info["model_id"], 120),
            "ArtifactType": "Model",
            "Source": {"SourceUri": f"models:/{info['model_id']}", "SourceTypes": []},
            "Properties": fit_properties([own, tags], self.summary, "logged model"),
        }
        return Node("artifact", request, f"MLflow logged model {info['model_id']}")

    def artifact_ref(self, uri: str, run_id: str | None = None) -> Node:
        """A model artifact known only by its URI (kept as it is if it exists)."""
        properties = {"mlflow.source": clean_text(uri)}
        if run_id:
            properties["mlflow.source_run_id"] = run_id
        request = {
            "ArtifactType": "Model",
            "Source": {"SourceUri": uri, "SourceTypes": []},
            "Properties": properties,
        }
        return Node("artifact", request, f"MLflow model {uri}", update=False)

    def registered_model(self, model: dict[str, Any]) -> Node:
        name = model["name"]
        own = {
            "mlflow.registered_model": name,
            "mlflow.creation_time": iso_ms(model.get("creation_timestamp")),
            "mlflow.last_updated_time": iso_ms(model.get("last_updated_timestamp")),
        }
        aliases = {f"mlflow.alias.{a['alias']}": a["version"] for a in model.get("aliases", [])}
        request: dict[str, Any] = {
            "ContextName": _safe_name("mlflow-model", name),
            "ContextType": "MLflowRegisteredModel",
            "Source": {"SourceUri": f"{self.base}/#/models/{name}", "SourceType": "MLflow"},
            "Properties": fit_properties(
                [own, aliases, _pairs(model.get("tags"), "tag.")], self.summary, "registered model"
            ),
        }
        if model.get("description"):
            request["Description"] = clean_text(model["description"], 3072)
        return Node("context", request, f"MLflow registered model {name}")

    def version(
        self, version: dict[str, Any], aliases: list[str], model: Node, batch: Batch
    ) -> Node:
        """A model version's artifact, linked to what it came from and to its model."""
        name, number = version["name"], str(version["version"])
        source = version.get("source") or ""
        run_id = version.get("run_id") or None
        model_id = version.get("model_id") or (
            source[len("models:/") :] if re.fullmatch(r"models:/m-[0-9a-f]+", source) else None
        )
        own = {
            "mlflow.registered_model": name,
            "mlflow.version": number,
            "mlflow.status": version.get("status"),
            "mlflow.stage": version.get("current_stage"),
            "mlflow.aliases": ",".join(sorted(aliases)),
            "mlflow.source": source,
            "mlflow.run_id": run_id,
            "mlflow.model_id": model_id,
            "mlflow.description": version.get("description"),
            "mlflow.creation_time": iso_ms(version.get("creation_timestamp")),
        }
        tags = version.get("tags")
        tag_map = tags if isinstance(tags, dict) else _pairs(tags)
        request = {
            "ArtifactName": clean_text(f"{name} v{number}", 120),
            "ArtifactType": "ModelVersion",
            "Source": {"SourceUri": f"models:/{name}/{number}", "SourceTypes": []},
            "Properties": fit_properties(
                [own, {f"tag.{k}": v for k, v in tag_map.items()}], self.summary, "model version"
            ),
        }
        node = batch.add(Node("artifact", request, f"MLflow model version {name}/{number}"))
        batch.link(node, model, "AssociatedWith")
        origin = self.artifact_ref(f"models:/{model_id}" if model_id else source, run_id)
        if model_id or source:
            batch.link(origin, node, "DerivedFrom")
        if run_id:
            batch.link(self.run_ref(run_id), origin if (model_id or source) else node, "Produced")
        return node


def _dataset_location(source: Any) -> str | None:
    """The URI a dataset was read from, if MLflow recorded one."""
    if not source:
        return None
    try:
        parsed = json.loads(source) if isinstance(source, str) else source
    except ValueError:
        return clean_text(source, 2048) if isinstance(source, str) else None
    if not isinstance(parsed, dict):
        return None
    for key in ("uri", "url", "path", "table_name", "delta_table_name"):
        if isinstance(parsed.get(key), str) and parsed[key]:
            return clean_text(parsed[key], 2048)
    return None


def _history_paths(history: str | None) -> list[str]:
    """MLflow 2's ``mlflow.log-model.history`` tag: the artifact paths of logged models."""
    if not history:
        return []
    try:
        entries = json.loads(history)
    except ValueError:
        return []
    return [e["artifact_path"] for e in entries if isinstance(e, dict) and e.get("artifact_path")]


def ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


# -- the import ------------------------------------------------------------------------------
class MlflowImport:
    """One MLflow server imported into one store (see the module's docstring for the mapping).

    Args:
        store: where the lineage goes.
        tracking_uri: the MLflow server (``http(s)://...``).
        dry_run: read both sides, write nothing; the summary says what would change.
        progress: called with the runs done so far and their total, when known.
    """

    def __init__(
        self,
        store: Store,
        tracking_uri: str,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        rest: MlflowRest | None = None,
    ) -> None:
        self.rest = rest or MlflowRest(tracking_uri)
        self.summary = Summary(dry_run=dry_run)
        self.writer = Writer(store, self.summary, dry_run=dry_run, owned=owned)
        self.mapper = Mapper(self.rest.base, self.summary)
        self.progress: Progress = progress or (lambda done, total: None)
        #: Runs seen RUNNING by the last pass (``follow`` fetches them again).
        self.running: set[str] = set()

    def close(self) -> None:
        self.rest.close()

    def run(self, experiments: list[str] | None = None, since: datetime | None = None) -> Summary:
        """Import the experiments named (default: all), their runs started at or after
        ``since`` (default: all), and every registered model."""
        chosen = self._experiments(experiments)
        batch = Batch()
        for exp in chosen:
            batch.add(self.mapper.experiment(exp))
        self.writer.write(batch)
        self._runs([e["experiment_id"] for e in chosen], since)
        self._registry()
        return self.summary

    def _experiments(self, names: list[str] | None) -> list[dict[str, Any]]:
        found = list(self.rest.experiments())
        if not names:
            return found
        by_name = {e["name"]: e for e in found} | {e["experiment_id"]: e for e in found}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise SourceError(
                f"MLflow server {self.rest.base} has no experiment {missing[0]!r} "
                f"(it has {', '.join(sorted(e['name'] for e in found)[:10])})"
            )
        return [by_name[n] for n in dict.fromkeys(names)]

    def _runs(self, experiment_ids: list[str], since: datetime | None) -> None:
        models = self._logged_models(experiment_ids)
        batch, done = Batch(), 0
        runs = self.rest.runs(experiment_ids, ms(since)) if experiment_ids else iter(())
        for run in runs:
            self._add_run(run, models, batch)
            if batch.items >= BATCH_RUNS:
                done += batch.items
                self.writer.write(batch)
                self.progress(done, None)
                batch = Batch()
        for model in models.pop("", []):  # logged models of no run
            batch.add(self.mapper.logged_model(model))
        if len(batch):
            self.writer.write(batch)
        self.progress(done + batch.items, done + batch.items)

    def _add_run(
        self, run: dict[str, Any], models: dict[str, list[dict[str, Any]]], batch: Batch
    ) -> None:
        node = self.mapper.run(run, batch)
        run_id = run["info"]["run_id"]
        if run["info"].get("status") == "RUNNING":
            self.running.add(run_id)
        else:
            self.running.discard(run_id)
        outputs = {o["model_id"] for o in run.get("outputs", {}).get("model_outputs", [])}
        for model in models.pop(run_id, []):
            outputs.discard(model["info"]["model_id"])
            batch.link(node, self.mapper.logged_model(model), "Produced")
        for model_id in sorted(outputs):  # (a model of another experiment)
            batch.link(node, self.mapper.artifact_ref(f"models:/{model_id}", run_id), "Produced")
        batch.items += 1

    def _logged_models(self, experiment_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The logged models of these experiments by the run that logged them ("": none)."""
        by_run: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(experiment_ids), 100):
            for model in self.rest.logged_models(experiment_ids[start : start + 100]):
                by_run.setdefault(model["info"].get("source_run_id") or "", []).append(model)
        return by_run

    def _registry(self) -> None:
        for model in self.rest.registered_models():
            self.registered_model(model)

    def registered_model(self, model: dict[str, Any], only: str | None = None) -> None:
        """Import a registered model and its versions (or only version ``only``)."""
        batch = Batch()
        context = batch.add(self.mapper.registered_model(model))
        aliases: dict[str, list[str]] = {}
        for alias in model.get("aliases", []):
            aliases.setdefault(str(alias["version"]), []).append(alias["alias"])
        for version in self.rest.model_versions(model["name"]):
            if only is None or str(version["version"]) == only:
                number = str(version["version"])
                self.mapper.version(version, aliases.get(number, []), context, batch)
        self.writer.write(batch)

    # -- live sync -------------------------------------------------------------------------
    def follow(
        self,
        experiments: list[str] | None,
        since: datetime | None,
        interval: float,
        passes: int | None = None,
        on_pass: Callable[[Summary], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Import, then every ``interval`` seconds import what is new: runs started since
        the last pass began, the runs that were still running, and the registry."""
        done = 0
        while passes is None or done < passes:
            began = datetime.now().astimezone()
            running = sorted(self.running)
            self.run(experiments, since)
            batch = Batch()
            for run_id in running:  # (started before ``since``: the search misses them)
                self._add_run(self.rest.run(run_id), {}, batch)
            if len(batch):
                self.writer.write(batch)
            if on_pass is not None:
                on_pass(self.summary)
            self.summary = self.writer.summary = self.mapper.summary = Summary()
            since, done = began, done + 1
            if passes is None or done < passes:
                sleep(interval)

    def apply_event(self, event: dict[str, Any]) -> Summary:
        """Apply one MLflow webhook delivery (``{"entity", "action", "data"}``): a model
        version created, or an alias or tag of one set or deleted, re-imports that version
        with its run; a registered model created adds its context. Others are ignored."""
        entity, data = event.get("entity"), event.get("data") or {}
        if entity == "registered_model":
            self.writer.write(
                _one(self.mapper.registered_model(self.rest.registered_model(data["name"])))
            )
        elif entity in ("model_version", "model_version_tag", "model_version_alias"):
            version = str(data["version"])
            stored = self.rest.model_version(data["name"], version)
            if stored.get("run_id"):
                batch = Batch()
                self._add_run(self.rest.run(stored["run_id"]), {}, batch)
                self.writer.write(batch)
            self.registered_model(self.rest.registered_model(data["name"]), only=version)
        else:
            self.summary.skip(f"webhook events of {entity} (not lineage)")
        return self.summary


def _one(node: Node) -> Batch:
    batch = Batch()
    batch.add(node)
    return batch
