"""OpenLineage events to artifacts, actions, contexts and associations (docs/openlineage.md).

=================  ==========================================================================
OpenLineage        mllineage
=================  ==========================================================================
run                action ``openlineage-run-{runId}`` (type ``OpenLineageRun``), status from
                   the run's events, properties ``openlineage.*`` from its facets
job                context ``openlineage-job-...`` (type ``OpenLineageJob``), source URI
                   ``{namespace}/{name}``; a run joins it through the job's context of its UTC
                   day (type ``OpenLineageJobDay``): run -> day -> job, ``AssociatedWith``
output dataset     artifact (type ``DataSet``) with source URI ``{namespace}/{name}`` and the
                   source type ``openlineage.version={version}`` (its version facet, else
                   ``run:{runId}``); the run ``Produced`` it
input dataset      the version read (named by its version facet, else the latest known output
                   version, else none) seen through its *read partition*: an artifact (type
                   ``DataSetRead``) per version and UTC day that ``ContributedTo`` the run and
                   that the version (or the dataset's unversioned artifact) is ``SameAs``
parent run facet   the parent run's action ``AssociatedWith`` the run's action (so a parent is
                   upstream of its children's outputs, not downstream of their inputs)
=================  ==========================================================================

The associations-per-entity limit (1,000): the busy vertices are versions and runs. Every
run joins its job through the context of its day, and reads a version through the read
partition of its day, so a job context gains one association a day and a version one per day
it is read; a day context or read partition that reaches the limit (over 1,000 runs of one job,
or reads of one version, in a day) is continued by another (``-2``, ``-3``, ...), which the
store's own refusal starts.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mllineage.capture.openlineage import entities as ops
from mllineage.capture.openlineage.facets import (
    clip,
    dataset_properties,
    job_description,
    job_properties,
)
from mllineage.capture.openlineage.naming import dataset_uri
from mllineage.capture.openlineage.runs import DatasetRef, RunView, fold
from mllineage.errors import ResourceLimitExceeded
from mllineage.store.base import Store
from mllineage.store.openlineage import EventInfo, check_event

RUN_TYPE = "OpenLineageRun"
JOB_TYPE = "OpenLineageJob"
JOB_DAY_TYPE = "OpenLineageJobDay"
DATASET_TYPE = "DataSet"
READ_TYPE = "DataSetRead"
VERSION_TYPE = "openlineage.version="
READ_PARTITION_TYPE = "openlineage.read="
_MAX_SEGMENTS = 1000
_SLUG = re.compile(r"[^a-z0-9]+")


# -- names and sources ---------------------------------------------------------------------
def run_action_name(run_id: str) -> str:
    return f"openlineage-run-{run_id}"


def job_context_name(namespace: str, name: str) -> str:
    """``openlineage-job-{readable part}-{digest}``: unique per job, within the name rules."""
    digest = hashlib.sha256(f"{namespace}\n{name}".encode()).hexdigest()[:12]
    slug = _SLUG.sub("-", f"{namespace}-{name}".lower()).strip("-")[:80].strip("-")
    return f"openlineage-job-{slug}-{digest}" if slug else f"openlineage-job-{digest}"


def job_uri(namespace: str, name: str) -> str:
    return clip(dataset_uri(namespace, name), 2048)


def version_type(key: str) -> tuple[str, str]:
    if len(VERSION_TYPE) + len(key) > 256:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return "Custom", VERSION_TYPE + key


def _segment_suffix(segment: int) -> str:
    return "" if segment == 1 else f"-{segment}"


# -- the entry point -----------------------------------------------------------------------
def apply_event(store: Store, info: EventInfo) -> None:
    """Map a kept event (the caller puts it first, in the same batch)."""
    if info.kind == "run":
        assert info.run_id is not None
        map_run(store, info.run_id)
    elif info.kind == "dataset":
        _ensure_root(store, info.event["dataset"], info)
    else:
        _map_job_event(store, info)


def run_events(store: Store, run_id: str) -> list[EventInfo]:
    return [
        check_event(item["Event"])
        for item in store.paginate("list_openlineage_events", "Events", RunId=run_id)
    ]


def map_run(store: Store, run_id: str) -> None:
    """Bring the run's action, its job and its datasets up to what its events say."""
    view = fold(run_events(store, run_id))
    action = run_action_name(view.run_id)
    current = ops.describe_named(store, "action", action)
    if current is not None:  # (its day was fixed when it was first seen)
        view.day = (current.get("Properties") or {}).get("openlineage.day", view.day)
    view.properties["openlineage.day"] = view.day
    near = _neighbours(store, str(current["ActionArn"])) if current else _Near()
    # Every entity first, then the associations: a writer holds PostgreSQL's DAG lock from its
    # first association on, so it must not then wait for an entity that another writer, itself
    # waiting for that lock, has made and not yet committed.
    outputs = {
        uri: _ensure_output(store, view, ref, near.outputs)
        for uri, ref in sorted(view.outputs.items())
    }
    reads = [
        _plan_read(store, view, ref)
        for uri, ref in sorted(view.inputs.items())
        if uri not in near.inputs
    ]
    arn, current = _ensure_run_action(store, view, current)
    job = _ensure_job(store, view.job_namespace, view.job_name, view.latest)
    day = None if "day" in near.linked else _Day(store, view.job_namespace, view.job_name, view.day)
    parent = None
    if view.parent is not None and "parent" not in near.linked:
        parent = _ensure_parent(store, view)
    if day is not None:
        day.join(store, arn, job)
    for read in reads:
        read.bind(store, arn)
    produced = {known for known, _ in near.outputs.values()}
    for output in outputs.values():
        if output not in produced:
            ops.link(store, arn, output, "Produced")
    if parent is not None:
        ops.link(store, parent, arn, "AssociatedWith")


class _Near:
    """What the run's action is linked to already: its inputs' URIs, its outputs (ARN and
    properties, by URI and version), whether its day context and its parent."""

    def __init__(self) -> None:
        self.inputs: set[str] = set()
        self.outputs: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        self.linked: set[str] = set()


def _neighbours(store: Store, arn: str) -> _Near:
    graph = store.lineage_graph(StartArns=[arn], Direction="Both", MaxDepth=1, IncludeEdges=True)
    vertices = {v["Arn"]: v for v in graph["Vertices"]}
    near = _Near()
    for edge in graph["Edges"]:
        src, dst = edge["SourceArn"], edge["DestinationArn"]
        if dst == arn and src in vertices:
            if edge["AssociationType"] == "ContributedTo":
                near.inputs.add(vertices[src]["Properties"].get("source_uri", ""))
            elif vertices[src].get("LineageType") == "Action":
                near.linked.add("parent")
        elif src == arn and edge["AssociationType"] == "Produced" and dst in vertices:
            props = vertices[dst]["Properties"]
            key = (props.get("source_uri", ""), props.get("openlineage.version", ""))
            near.outputs[key] = (dst, props)
        elif src == arn and dst in vertices:
            if vertices[dst]["Properties"].get("context_type") == JOB_DAY_TYPE:
                near.linked.add("day")
    return near


def _ensure_run_action(
    store: Store, view: RunView, current: dict[str, Any] | None
) -> tuple[str, dict[str, Any] | None]:
    request = {
        "ActionName": run_action_name(view.run_id),
        "ActionType": RUN_TYPE,
        "Source": {
            "SourceUri": job_uri(view.job_namespace, view.job_name),
            "SourceType": JOB_TYPE,
            "SourceId": view.run_id,
        },
        "Status": view.status,
        "Properties": view.properties,
    }
    if current is None:
        arn, current = ops.ensure_named(store, "action", request, missing=True)
    else:
        arn = str(current["ActionArn"])
    if current is not None:
        ops.update_named(store, "action", current, view.properties, view.status)
    return arn, current


def _ensure_job(store: Store, namespace: str, name: str, info: EventInfo | None) -> str:
    """The job's context; its properties follow the job facets of the newest event seen."""
    properties = {"openlineage.job": clip(f"{namespace}/{name}")}
    if info is not None:
        properties.update(job_properties(info.event))
        properties["openlineage.facets_of"] = f"{info.event_time.isoformat()}#{info.event_id[:16]}"
    request: dict[str, Any] = {
        "ContextName": job_context_name(namespace, name),
        "ContextType": JOB_TYPE,
        "Source": {"SourceUri": job_uri(namespace, name), "SourceType": JOB_TYPE},
        "Properties": properties,
    }
    description = job_description(info.event) if info is not None else None
    if description:
        request["Description"] = description
    arn, current = ops.ensure_named(store, "context", request)
    if current is not None and info is not None:
        have = current.get("Properties") or {}
        newer = properties["openlineage.facets_of"] > have.get("openlineage.facets_of", "")
        if newer and any(have.get(k) != v for k, v in properties.items() if "facets_of" not in k):
            ops.update_named(store, "context", current, properties)
    return arn


class _Day:
    """The job's context of one UTC day, which its runs of that day join (run -> day -> job);
    one that is full (1,000 associations) is continued by the next segment."""

    def __init__(self, store: Store, namespace: str, name: str, day: str) -> None:
        self.namespace, self.name, self.day = namespace, name, day
        self.first, self.made = self.segment(store, 1)

    def segment(self, store: Store, number: int) -> tuple[str, bool]:
        """The context of segment ``number``, and whether it was made now."""
        base = job_context_name(self.namespace, self.name)
        request = {
            "ContextName": f"{base}-{self.day.replace('-', '')}{_segment_suffix(number)}",
            "ContextType": JOB_DAY_TYPE,
            "Properties": {
                "openlineage.job": clip(f"{self.namespace}/{self.name}"),
                "openlineage.day": self.day,
                "openlineage.segment": str(number),
            },
        }
        arn, existed = ops.ensure_named(store, "context", request)
        return arn, existed is None

    def join(self, store: Store, member: str, job: str) -> None:
        for number in range(1, _MAX_SEGMENTS + 1):
            day, made = (self.first, self.made) if number == 1 else self.segment(store, number)
            if made:  # (one that existed was linked to the job when it was made)
                ops.link(store, day, job, "AssociatedWith")
            if _link_or_full(store, member, day, "AssociatedWith", day):
                return
        raise ResourceLimitExceeded(
            f"job {self.namespace}/{self.name}: {_MAX_SEGMENTS} contexts of {self.day} are full"
        )


def _link_or_full(store: Store, source: str, destination: str, kind: str, busy: str) -> bool:
    """Link; False when ``busy`` (one end) already has the most associations allowed."""
    try:
        ops.link(store, source, destination, kind)
    except ResourceLimitExceeded as error:
        if not error.message.startswith(busy):
            raise
        return False
    return True


def _ensure_output(
    store: Store,
    view: RunView,
    ref: DatasetRef,
    produced: dict[tuple[str, str], tuple[str, dict[str, str]]],
) -> str:
    """The version the run wrote, its properties up to date (``produced``: what the run is
    known to have produced, with the properties it has)."""
    key = ref.version or f"run:{view.run_id}"
    properties = _dataset_base(ref, key) | dataset_properties(ref.dataset)
    properties["openlineage.run_id"] = view.run_id
    known = produced.get((ref.uri, properties["openlineage.version"]))
    if known is not None:
        arn, have = known
    else:
        request = {
            "ArtifactName": clip(ref.name, 120),
            "ArtifactType": DATASET_TYPE,
            "Source": {"SourceUri": ref.uri, "SourceTypes": [_source_type(version_type(key))]},
            "Properties": properties,
        }
        arn, created = ops.ensure_artifact(store, request)
        if created:
            return arn
        have = store.describe_artifact(ArtifactArn=arn).get("Properties") or {}
    changed = {k: v for k, v in properties.items() if have.get(k) != v}
    if changed:
        store.update_artifact(ArtifactArn=arn, Properties=changed)
    return arn


def _dataset_base(ref: DatasetRef, key: str | None) -> dict[str, str]:
    out = {
        "openlineage.namespace": clip(ref.namespace),
        "openlineage.name": clip(ref.name),
    }
    if key is not None:
        out["openlineage.version"] = clip(key)
    return out


def _source_type(pair: tuple[str, str]) -> dict[str, str]:
    return {"SourceIdType": pair[0], "Value": pair[1]}


class _Read:
    """An input bound through its read partition: version -> partition of the day -> run."""

    def __init__(self, ref: DatasetRef, key: str | None, version: str, day: str) -> None:
        self.ref, self.key, self.version, self.day = ref, key, version, day
        self.partition: tuple[str, bool] | None = None

    def bind(self, store: Store, run: str) -> None:
        for number in range(1, _MAX_SEGMENTS + 1):
            found = self.partition if number == 1 else None
            if found is None:
                found = _ensure_partition(store, self.ref, self.key, self.day, number)
            partition, made = found
            if made:  # (one that existed was linked to its version when it was made)
                ops.link(store, self.version, partition, "SameAs")
            if _link_or_full(store, partition, run, "ContributedTo", partition):
                return
        raise ResourceLimitExceeded(
            f"dataset {self.ref.uri}: {_MAX_SEGMENTS} read partitions of {self.day} are full"
        )


def _plan_read(store: Store, view: RunView, ref: DatasetRef) -> _Read:
    """The version an input reads (the one named, else the latest known output version that
    is not the run's own, else the dataset's unversioned artifact) and its partition."""
    key, version = ref.version, None
    if key is not None:
        version = _ensure_version(store, ref, key)
    else:
        written = view.outputs.get(ref.uri)
        own = {written.version or f"run:{view.run_id}"} if written is not None else set()
        version, key = _latest_version(store, ref.uri, own)
    if version is None:
        version = _ensure_root(store, ref.dataset, None)
    read = _Read(ref, key, version, view.day)
    read.partition = _ensure_partition(store, ref, key, view.day, 1)
    return read


def _ensure_version(store: Store, ref: DatasetRef, key: str) -> str:
    request = {
        "ArtifactName": clip(ref.name, 120),
        "ArtifactType": DATASET_TYPE,
        "Source": {"SourceUri": ref.uri, "SourceTypes": [_source_type(version_type(key))]},
        "Properties": _dataset_base(ref, key) | dataset_properties(ref.dataset),
    }
    return ops.ensure_artifact(store, request, shared=True)[0]


def _latest_version(store: Store, uri: str, own: set[str]) -> tuple[str | None, str | None]:
    """The newest output version of ``uri`` whose key is not in ``own``, and its key."""
    keys: list[str] = []

    def accept(types: ops.SourceTypes) -> bool:
        for kind, value in types:
            if kind == "Custom" and value.startswith(VERSION_TYPE):
                key = value[len(VERSION_TYPE) :]
                if key not in own:
                    keys.append(key)
                    return True
        return False

    arn = ops.find_artifact(store, uri, DATASET_TYPE, accept)
    return (arn, keys[-1]) if arn is not None else (None, None)


def _ensure_partition(
    store: Store, ref: DatasetRef, key: str | None, day: str, segment: int
) -> tuple[str, bool]:
    types = [version_type(key)] if key is not None else []
    types.append(("Custom", f"{READ_PARTITION_TYPE}{day}{_segment_suffix(segment)}"))
    properties = _dataset_base(ref, key) | {"openlineage.read_day": day}
    request = {
        "ArtifactName": clip(ref.name, 120),
        "ArtifactType": READ_TYPE,
        "Source": {"SourceUri": ref.uri, "SourceTypes": [_source_type(t) for t in types]},
        "Properties": properties,
    }
    return ops.ensure_artifact(store, request, shared=True)


def _ensure_root(store: Store, dataset: dict[str, Any], info: EventInfo | None) -> str:
    """The dataset's unversioned artifact (its source URI alone); a DatasetEvent's facets
    become its properties when the event is newer than those it has."""
    ref = DatasetRef(dataset["namespace"], dataset["name"], None, dataset)
    properties = _dataset_base(ref, None)
    if info is not None:
        properties |= dataset_properties(dataset)
        properties["openlineage.facets_of"] = f"{info.event_time.isoformat()}#{info.event_id[:16]}"
    request = {
        "ArtifactName": clip(ref.name, 120),
        "ArtifactType": DATASET_TYPE,
        "Source": {"SourceUri": ref.uri},
        "Properties": properties,
    }
    arn, created = ops.ensure_artifact(store, request, shared=True)
    if not created and info is not None:
        have = store.describe_artifact(ArtifactArn=arn).get("Properties") or {}
        if properties["openlineage.facets_of"] > have.get("openlineage.facets_of", ""):
            changed = {k: v for k, v in properties.items() if have.get(k) != v}
            store.update_artifact(ArtifactArn=arn, Properties=changed)
    return arn


def _ensure_parent(store: Store, view: RunView) -> str:
    """The parent run's action, made if not seen yet (and then joined to its job)."""
    assert view.parent is not None
    parent_id, namespace, name = view.parent
    properties = {"openlineage.run_id": parent_id, "openlineage.day": view.day}
    request: dict[str, Any] = {
        "ActionName": run_action_name(parent_id),
        "ActionType": RUN_TYPE,
        "Status": "Unknown",
        "Properties": properties,
    }
    if namespace and name:
        properties["openlineage.job"] = clip(f"{namespace}/{name}")
        request["Source"] = {
            "SourceUri": job_uri(namespace, name),
            "SourceType": JOB_TYPE,
            "SourceId": parent_id,
        }
    parent, existed = ops.ensure_named(store, "action", request)
    if existed is None and namespace and name:
        job = _ensure_job(store, namespace, name, None)
        _Day(store, namespace, name, view.day).join(store, parent, job)
    return parent


def _map_job_event(store: Store, info: EventInfo) -> None:
    """A JobEvent: the job's context, and the datasets it declares (unversioned) linked to it
    (an edge that would close a cycle of such declarations is left out)."""
    assert info.job_namespace
    assert info.job_name
    job = _ensure_job(store, info.job_namespace, info.job_name, info)
    for dataset in info.event.get("inputs") or ():
        ops.link(store, _ensure_root(store, dataset, None), job, "ContributedTo")
    for dataset in info.event.get("outputs") or ():
        ops.link(store, job, _ensure_root(store, dataset, None), "Produced")
