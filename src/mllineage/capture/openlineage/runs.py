"""A run as all of its events say it: the fold that makes the mapping order-tolerant.

The mapping of a RunEvent does not apply that event alone: it reads every event kept for the
run and folds them, in the order of their event time (then START < RUNNING < OTHER < the
terminal states, then event ID), into one :class:`RunView`. The view depends on the set of
events only, never on the order they arrived in: START then COMPLETE and COMPLETE then START
give the same action, a terminal state is never undone by a late RUNNING, and inputs and
outputs announced in different events are merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mllineage.capture.openlineage.facets import clip, dataset_version, run_properties
from mllineage.capture.openlineage.naming import dataset_uri
from mllineage.store.openlineage import EventInfo, check_run_id

_RANK = {"START": 0, "RUNNING": 1, "OTHER": 2, None: 2, "COMPLETE": 3, "ABORT": 3, "FAIL": 3}
STATUS = {"COMPLETE": "Completed", "FAIL": "Failed", "ABORT": "Stopped"}


@dataclass
class DatasetRef:
    """A dataset an event names, with its facets merged over the run's events."""

    namespace: str
    name: str
    version: str | None  # what its version facet names
    dataset: dict[str, Any]

    @property
    def uri(self) -> str:
        return dataset_uri(self.namespace, self.name)


@dataclass
class RunView:
    run_id: str
    job_namespace: str
    job_name: str
    status: str
    properties: dict[str, str]
    day: str  # YYYY-MM-DD (UTC) of the run's nominal start, else of its first event
    inputs: dict[str, DatasetRef] = field(default_factory=dict)  # by URI
    outputs: dict[str, DatasetRef] = field(default_factory=dict)  # by URI
    parent: tuple[str, str | None, str | None] | None = None  # run ID, job namespace, name
    latest: EventInfo | None = None


def order_key(info: EventInfo) -> tuple[int, int, str]:
    return info.event_time_us, _RANK.get(info.event_type, 2), info.event_id


def fold(events: list[EventInfo]) -> RunView:
    """The view of one run from its events (at least one; all of the same run)."""
    ordered = sorted(events, key=order_key)
    first, latest = ordered[0], ordered[-1]
    assert first.run_id is not None
    assert first.job_namespace
    assert first.job_name
    terminal = [e for e in ordered if e.event_type in STATUS]
    if terminal:
        status = STATUS[str(terminal[-1].event_type)]
    elif any(e.event_type in ("START", "RUNNING") for e in ordered):
        status = "InProgress"
    else:
        status = "Unknown"
    view = RunView(
        run_id=first.run_id,
        job_namespace=first.job_namespace,
        job_name=first.job_name,
        status=status,
        properties={},
        day=_day(ordered),
        latest=latest,
    )
    for info in ordered:
        view.properties.update(run_properties(info.event))
        _merge(view.inputs, info.event.get("inputs"))
        _merge(view.outputs, info.event.get("outputs"))
        parent = _parent(info.event)
        if parent is not None:
            view.parent = parent
    view.properties.update(_times(ordered, terminal))
    view.properties.update(
        {
            "openlineage.run_id": view.run_id,
            "openlineage.job": clip(f"{view.job_namespace}/{view.job_name}"),
            "openlineage.state": str((terminal or ordered)[-1].event_type or "OTHER"),
        }
    )
    return view


def _times(ordered: list[EventInfo], terminal: list[EventInfo]) -> dict[str, str]:
    starts = [e for e in ordered if e.event_type == "START"] or ordered
    out = {"openlineage.start_time": _iso(starts[0].event_time)}
    if terminal:
        out["openlineage.end_time"] = _iso(terminal[-1].event_time)
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _day(ordered: list[EventInfo]) -> str:
    for info in ordered:
        nominal = run_properties(info.event).get("openlineage.nominal_start_time")
        if nominal and len(nominal) >= 10 and nominal[4] == "-" and nominal[7] == "-":
            return nominal[:10]
    return ordered[0].event_time.date().isoformat()


def _merge(into: dict[str, DatasetRef], datasets: Any) -> None:
    for dataset in datasets or ():
        ref = DatasetRef(dataset["namespace"], dataset["name"], dataset_version(dataset), dataset)
        known = into.get(ref.uri)
        if known is None:
            into[ref.uri] = ref
            continue
        merged = {**known.dataset}
        for key in ("facets", "inputFacets", "outputFacets"):
            if isinstance(dataset.get(key), dict):
                merged[key] = {**(merged.get(key) or {}), **dataset[key]}
        known.dataset = merged
        known.version = ref.version or known.version


def _parent(event: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    parent = ((event.get("run") or {}).get("facets") or {}).get("parent")
    if not isinstance(parent, dict) or not isinstance(parent.get("run"), dict):
        return None
    run_id = parent["run"].get("runId")
    if not isinstance(run_id, str):
        return None
    try:
        run_id = check_run_id(run_id, "parent.run.runId")
    except ValueError:
        return None
    job: dict[str, Any] = parent["job"] if isinstance(parent.get("job"), dict) else {}
    namespace, name = job.get("namespace"), job.get("name")
    if isinstance(namespace, str) and isinstance(name, str) and namespace and name:
        return run_id, namespace, name
    return run_id, None, None
