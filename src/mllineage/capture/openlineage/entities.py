"""Get-or-create through the store operations: what the mapping writes with.

Every helper is idempotent and safe against a concurrent writer of the same entity: the store's
uniqueness rules decide (a create that finds the name or the source taken reads what is
there), and an association that already exists is fine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mllineage.errors import ResourceNotFound, ValidationException
from mllineage.store.base import Store

SourceTypes = list[tuple[str, str]]

_NOUN = {"action": "Action", "context": "Context"}


def is_exists_error(error: ValidationException) -> bool:
    return "already exists" in error.message


def source_types(source: dict[str, Any]) -> SourceTypes:
    """An artifact source's types as sorted pairs (how the store compares them)."""
    return sorted((t["SourceIdType"], t["Value"]) for t in source.get("SourceTypes") or [])


def describe_named(store: Store, kind: str, name: str) -> dict[str, Any] | None:
    """The Describe response of the action or context ``name``, or None."""
    noun = _NOUN[kind]
    try:
        found: dict[str, Any] = getattr(store, f"describe_{kind}")(**{f"{noun}Name": name})
    except ResourceNotFound:
        return None
    return found


def ensure_named(
    store: Store, kind: str, request: dict[str, Any], *, missing: bool = False
) -> tuple[str, dict[str, Any] | None]:
    """The ARN of the action or context that ``request`` (a Create request) names, created
    from ``request`` if it does not exist, and its Describe response if it existed before.
    ``missing``: it was just found missing (create at once)."""
    noun = _NOUN[kind]
    name = request[f"{noun}Name"]
    found = None if missing else describe_named(store, kind, name)
    if found is None:
        try:
            made = getattr(store, f"create_{kind}")(**request)
            return str(made[f"{noun}Arn"]), None
        except ValidationException as error:
            if not is_exists_error(error):
                raise
            found = describe_named(store, kind, name)
            if found is None:
                raise
    return str(found[f"{noun}Arn"]), found


def update_named(
    store: Store,
    kind: str,
    current: dict[str, Any],
    properties: dict[str, str],
    status: str | None = None,
) -> None:
    """Set the ``properties`` (and ``status``) that differ from ``current``; nothing if none."""
    noun = _NOUN[kind]
    have = current.get("Properties") or {}
    changed = {k: v for k, v in properties.items() if have.get(k) != v}
    request: dict[str, Any] = {f"{noun}Name": current[f"{noun}Name"]}
    if changed:
        request["Properties"] = changed
    if status is not None and (current.get("Status") or "Unknown") != status:
        request["Status"] = status
    if len(request) > 1:
        getattr(store, f"update_{kind}")(**request)


def find_artifact(
    store: Store,
    uri: str,
    artifact_type: str,
    accept: Callable[[SourceTypes], bool],
) -> str | None:
    """The newest artifact of ``artifact_type`` whose source is ``uri`` exactly and whose
    source types ``accept`` takes, newest first (what was made last is found first)."""
    request = {
        "SourceUri": uri,
        "ArtifactType": artifact_type,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    for summary in store.paginate("list_artifacts", "ArtifactSummaries", **request):
        source = summary.get("Source") or {}
        if source.get("SourceUri") == uri and accept(source_types(source)):
            return str(summary["ArtifactArn"])
    return None


def ensure_artifact(
    store: Store, request: dict[str, Any], *, shared: bool = False
) -> tuple[str, bool]:
    """The ARN of the artifact with ``request``'s source, created from ``request`` if there is
    none; and whether it was created now. ``shared``: it most likely exists (look first)."""
    wanted = source_types(request["Source"])
    uri, kind = request["Source"]["SourceUri"], request["ArtifactType"]
    if shared:
        found = find_artifact(store, uri, kind, lambda t: t == wanted)
        if found is not None:
            return found, False
    try:
        return str(store.create_artifact(**request)["ArtifactArn"]), True
    except ValidationException as error:
        if not is_exists_error(error):
            raise
    found = find_artifact(store, uri, kind, lambda t: t == wanted)
    if found is None:  # (deleted again since: a concurrent writer)
        raise ValidationException(
            f"artifact with source {request['Source']['SourceUri']!r} exists but was not found"
        )
    return found, False


def link(store: Store, source: str, destination: str, association_type: str) -> bool:
    """Add the association unless it exists. False when it would close a cycle (lineage is
    a DAG: such an edge, e.g. two runs that each read the other's output, is left out).

    Raises: ``ResourceLimitExceeded`` when an end has 1,000 associations."""
    try:
        store.add_association(
            SourceArn=source, DestinationArn=destination, AssociationType=association_type
        )
    except ValidationException as error:
        if is_exists_error(error):
            return True
        if "cycle" in error.message or "itself" in error.message:
            return False
        raise
    return True
