"""What the common OpenLineage facets say, as entity properties.

Facets are read defensively: a facet that is missing, or not of the shape its spec gives,
contributes nothing (the raw event keeps it whole). Values are cut to the property limit
(256 characters), ending with an ellipsis where they were cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mllineage import limits
from mllineage.validation import CONTROL_RE

_ELLIPSIS = "…"


def clip(value: Any, length: int = limits.PROPERTY_VALUE_MAX_LENGTH) -> str:
    """``value`` as one line of text of at most ``length`` characters, never empty (runs of
    white space become one space, other control characters go: property rules)."""
    text = CONTROL_RE.sub("", " ".join(str(value).split())) or "-"
    return text if len(text) <= length else text[: length - 1] + _ELLIPSIS


def _obj(parent: Any, *path: str) -> dict[str, Any]:
    """The object at ``path`` under ``parent``, or ``{}``."""
    for key in path:
        parent = parent.get(key) if isinstance(parent, dict) else None
    return parent if isinstance(parent, dict) else {}


def _text(parent: dict[str, Any], key: str) -> str | None:
    value = parent.get(key)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
        return str(value)
    return None


def _put(out: dict[str, str], key: str, value: str | None) -> None:
    if value is not None:
        out[f"openlineage.{key}"] = clip(value)


def _joined(items: Iterable[str]) -> str | None:
    listed = [item for item in items if item]
    return ", ".join(listed) if listed else None


def run_properties(event: dict[str, Any]) -> dict[str, str]:
    """Properties of a run's action from one event's run and job facets."""
    run_facets = _obj(event, "run", "facets")
    out: dict[str, str] = {}
    nominal = _obj(run_facets, "nominalTime")
    _put(out, "nominal_start_time", _text(nominal, "nominalStartTime"))
    _put(out, "nominal_end_time", _text(nominal, "nominalEndTime"))
    engine = _obj(run_facets, "processing_engine")
    _put(out, "processing_engine", _text(engine, "name"))
    _put(out, "processing_engine_version", _text(engine, "version"))
    _put(out, "adapter_version", _text(engine, "openlineageAdapterVersion"))
    error = _obj(run_facets, "errorMessage")
    _put(out, "error_message", _text(error, "message"))
    _put(out, "error_language", _text(error, "programmingLanguage"))
    parent = _obj(run_facets, "parent")
    _put(out, "parent_run_id", _text(_obj(parent, "run"), "runId"))
    parent_job = _obj(parent, "job")
    if _text(parent_job, "namespace") and _text(parent_job, "name"):
        _put(out, "parent_job", f"{parent_job['namespace']}/{parent_job['name']}")
    out.update(job_properties(event))
    _put(out, "producer", _text(event, "producer"))
    return out


def job_properties(event: dict[str, Any]) -> dict[str, str]:
    """Properties from an event's job facets (a run's action and the job's context)."""
    job_facets = _obj(event, "job", "facets")
    out: dict[str, str] = {}
    job_type = _obj(job_facets, "jobType")
    _put(out, "job_type", _text(job_type, "jobType"))
    _put(out, "processing_type", _text(job_type, "processingType"))
    _put(out, "integration", _text(job_type, "integration"))
    location = _obj(job_facets, "sourceCodeLocation")
    url = _text(location, "url") or _text(location, "repoUrl")
    if url and _text(location, "path") and not url.endswith(str(location["path"])):
        url = f"{url.rstrip('/')}/{str(location['path']).lstrip('/')}"
    _put(out, "source_code_location", url)
    _put(out, "source_code_version", _text(location, "version") or _text(location, "tag"))
    _put(out, "source_code_language", _text(_obj(job_facets, "sourceCode"), "language"))
    _put(out, "sql", _text(_obj(job_facets, "sql"), "query"))
    owners = _obj(job_facets, "ownership").get("owners")
    if isinstance(owners, list):
        _put(out, "owners", _joined(_text(o, "name") or "" for o in owners if isinstance(o, dict)))
    return out


def job_description(event: dict[str, Any]) -> str | None:
    found = _text(_obj(event, "job", "facets", "documentation"), "description")
    return clip(found, limits.DESCRIPTION_MAX_LENGTH) if found else None


def dataset_version(dataset: dict[str, Any]) -> str | None:
    """The version a dataset's ``version`` facet names, if any."""
    return _text(_obj(dataset, "facets", "version"), "datasetVersion")


def dataset_properties(dataset: dict[str, Any]) -> dict[str, str]:
    """Properties of a dataset's artifact from its facets (dataset, input and output ones)."""
    facets = _obj(dataset, "facets")
    out: dict[str, str] = {}
    fields = _obj(facets, "schema").get("fields")
    if isinstance(fields, list):
        _put(out, "schema", _joined(_field(f) for f in fields if isinstance(f, dict)))
    source = _obj(facets, "dataSource")
    _put(out, "data_source", _text(source, "uri") or _text(source, "name"))
    _put(out, "description", _text(_obj(facets, "documentation"), "description"))
    storage = _obj(facets, "storage")
    _put(out, "storage_layer", _text(storage, "storageLayer"))
    _put(out, "file_format", _text(storage, "fileFormat"))
    _put(out, "dataset_type", _text(_obj(facets, "datasetType"), "datasetType"))
    _put(
        out, "lifecycle_state", _text(_obj(facets, "lifecycleStateChange"), "lifecycleStateChange")
    )
    identifiers = _obj(facets, "symlinks").get("identifiers")
    if isinstance(identifiers, list):
        _put(out, "symlinks", _joined(_symlink(i) for i in identifiers if isinstance(i, dict)))
    columns = _obj(facets, "columnLineage").get("fields")
    if isinstance(columns, dict):
        _put(out, "column_lineage", _joined(_column(k, v) for k, v in sorted(columns.items())))
    stats = _obj(dataset, "outputFacets", "outputStatistics")
    _put(out, "row_count", _text(stats, "rowCount"))
    _put(out, "size_bytes", _text(stats, "size"))
    return out


def _field(field: dict[str, Any]) -> str:
    name, kind = _text(field, "name"), _text(field, "type")
    return f"{name}:{kind}" if name and kind else name or ""


def _symlink(identifier: dict[str, Any]) -> str:
    namespace, name = _text(identifier, "namespace"), _text(identifier, "name")
    if not (namespace and name):
        return ""
    kind = _text(identifier, "type")
    return f"{kind + ' ' if kind else ''}{namespace}/{name}"


def _column(column: str, lineage: Any) -> str:
    inputs = lineage.get("inputFields") if isinstance(lineage, dict) else None
    if not isinstance(inputs, list):
        return ""
    sources = [
        f"{_text(f, 'name')}.{_text(f, 'field')}"
        for f in inputs
        if isinstance(f, dict) and _text(f, "name") and _text(f, "field")
    ]
    return f"{column}<-{'+'.join(sources)}" if sources else ""
