"""What a valid OpenLineage event is: the one check every entry point calls.

The store keeps raw OpenLineage events (``Mllineage.PutOpenLineageEvent``) and the capture
maps them to lineage (:mod:`mllineage.capture.openlineage`); both accept exactly the events
that :func:`check_event` accepts, so a stored event can always be mapped again.

An event is a RunEvent, a DatasetEvent or a JobEvent of the OpenLineage 2.x spec. Checked are
the members the spec requires and those the mapping reads (their types, the run ID's UUID
form, the event type, an ISO 8601 ``eventTime``); facets are free-form objects, and unknown
members and facets are kept as they came. An event is identified by the SHA-256 of its
canonical JSON (keys sorted, no spaces), so the same event sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dateutil import parser as date_parser

from mllineage import limits

#: The run states of the spec, in the order a run goes through them (OTHER carries metadata).
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
KINDS = ("run", "dataset", "job")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SPEC_VERSION_RE = re.compile(r"/spec/(\d+)-(\d+)-(\d+)/")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class EventInfo:
    """A valid event and what the store indexes it by."""

    event: dict[str, Any]
    canonical: str  # the JSON text stored
    event_id: str  # SHA-256 of ``canonical``, hex
    kind: str  # run | dataset | job
    event_type: str | None  # RunEvents only (None when the event has none)
    event_time: datetime  # aware, UTC
    run_id: str | None  # lower-case UUID, RunEvents only
    job_namespace: str | None
    job_name: str | None

    @property
    def event_time_us(self) -> int:
        delta = self.event_time - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def canonical_json(value: Any) -> str:
    """The form an event is stored and identified in."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_event_text(text: Any, arg: str) -> dict[str, Any]:
    """The JSON object of an event's text (``str`` or UTF-8 ``bytes``)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{arg} is not UTF-8 text") from None
    if not isinstance(text, str):
        raise ValueError(f"{arg} must be the event's JSON text, got {type(text).__name__}")
    if len(text.encode("utf-8")) > limits.OPENLINEAGE_MAX_EVENT_BYTES:
        raise ValueError(
            f"{arg} is larger than {limits.OPENLINEAGE_MAX_EVENT_BYTES} bytes, the largest "
            "OpenLineage event accepted"
        )
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{arg} is not valid JSON: {error}") from None
    if not isinstance(event, dict):
        raise ValueError(f"{arg} must be a JSON object (an OpenLineage event)")
    return event


def check_event(value: Any, arg: str = "Event") -> EventInfo:
    """Check an OpenLineage event given as JSON text (or already parsed, as a dict).

    Raises:
        ValueError: naming the member that is missing or of the wrong type.
    """
    event = value if isinstance(value, dict) else parse_event_text(value, arg)
    try:
        canonical = canonical_json(event)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"{arg} cannot be written as JSON: {error}") from None
    if len(canonical.encode("utf-8")) > limits.OPENLINEAGE_MAX_EVENT_BYTES:
        raise ValueError(
            f"{arg} is larger than {limits.OPENLINEAGE_MAX_EVENT_BYTES} bytes, the largest "
            "OpenLineage event accepted"
        )
    event_time = _check_time(event.get("eventTime"), "eventTime")
    _check_optional_str(event, "producer", "producer")
    _check_schema_url(event.get("schemaURL"))
    kind = _kind_of(event)
    run_id = event_type = job_namespace = job_name = None
    if kind == "dataset":
        _check_dataset(event.get("dataset"), "dataset")
    else:
        job_namespace, job_name = _check_job(event.get("job"), "job")
        for side in ("inputs", "outputs"):
            for i, dataset in enumerate(_check_list(event.get(side), side)):
                _check_dataset(dataset, f"{side}[{i}]")
    if kind == "run":
        run_id = _check_run(event.get("run"), "run")
        event_type = event.get("eventType")
        if event_type is not None and event_type not in EVENT_TYPES:
            raise ValueError(
                f"eventType must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}"
            )
    return EventInfo(
        event=event,
        canonical=canonical,
        event_id=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        kind=kind,
        event_type=event_type,
        event_time=event_time,
        run_id=run_id,
        job_namespace=job_namespace,
        job_name=job_name,
    )


def _kind_of(event: dict[str, Any]) -> str:
    if "run" in event or "eventType" in event:
        return "run"
    if "dataset" in event:
        return "dataset"
    if "job" in event:
        return "job"
    raise ValueError(
        "the event has neither run (a RunEvent), dataset (a DatasetEvent) nor job (a JobEvent)"
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _check_object(value: Any, arg: str) -> dict[str, Any]:
    if value is None:
        raise ValueError(f"{arg} is required")
    if not isinstance(value, dict):
        raise ValueError(f"{arg} must be an object, got {_type_name(value)}")
    return value


def _check_text(value: Any, arg: str) -> str:
    if value is None:
        raise ValueError(f"{arg} is required")
    if not isinstance(value, str):
        raise ValueError(f"{arg} must be a string, got {_type_name(value)}")
    if not value.strip():
        raise ValueError(f"{arg} must not be empty")
    return value


def _check_optional_str(parent: dict[str, Any], key: str, arg: str) -> None:
    if parent.get(key) is not None and not isinstance(parent[key], str):
        raise ValueError(f"{arg} must be a string, got {_type_name(parent[key])}")


def _check_list(value: Any, arg: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{arg} must be an array, got {_type_name(value)}")
    return value


def _check_facets(parent: dict[str, Any], key: str, arg: str) -> None:
    facets = parent.get(key)
    if facets is not None and not isinstance(facets, dict):
        raise ValueError(f"{arg}.{key} must be an object, got {_type_name(facets)}")


def _check_time(value: Any, arg: str) -> datetime:
    text = _check_text(value, arg)
    try:
        moment = date_parser.isoparse(text)
    except (ValueError, OverflowError):
        raise ValueError(f"{arg} must be an ISO 8601 date-time, got {text[:64]!r}") from None
    if "t" not in text.lower():
        raise ValueError(f"{arg} must have a time of day, got {text[:64]!r}")
    if moment.tzinfo is None:  # (the spec asks for an offset; read a naive time as UTC)
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        utc: datetime = moment.astimezone(timezone.utc)
        return utc
    except OverflowError:
        raise ValueError(f"{arg} is out of range: {text[:64]!r}") from None


def _check_schema_url(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"schemaURL must be a string, got {_type_name(value)}")
    found = _SPEC_VERSION_RE.search(value)
    if found is not None and found[1] != "2":
        raise ValueError(
            f"schemaURL names OpenLineage spec {found[1]}-{found[2]}-{found[3]}; "
            "events of the 2.x spec are accepted"
        )


def _check_job(value: Any, arg: str) -> tuple[str, str]:
    job = _check_object(value, arg)
    _check_facets(job, "facets", arg)
    return _check_text(job.get("namespace"), f"{arg}.namespace"), _check_text(
        job.get("name"), f"{arg}.name"
    )


def _check_run(value: Any, arg: str) -> str:
    run = _check_object(value, arg)
    _check_facets(run, "facets", arg)
    return check_run_id(run.get("runId"), f"{arg}.runId")


def check_run_id(value: Any, arg: str) -> str:
    """A run ID: a UUID in its 8-4-4-4-12 form, returned lower-case."""
    text = _check_text(value, arg)
    if not _UUID_RE.fullmatch(text):
        raise ValueError(f"{arg} must be a UUID (8-4-4-4-12 hex digits), got {text[:64]!r}")
    return text.lower()


def _check_dataset(value: Any, arg: str) -> None:
    dataset = _check_object(value, arg)
    _check_text(dataset.get("namespace"), f"{arg}.namespace")
    _check_text(dataset.get("name"), f"{arg}.name")
    for key in ("facets", "inputFacets", "outputFacets"):
        _check_facets(dataset, key, arg)
