"""Conversions between the Python API's arguments and the store's wire-shaped members."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from mllineage import validation

_ARTIFACT_SOURCE_KEYS = {"source_uri": "SourceUri", "source_types": "SourceTypes"}
_SIMPLE_SOURCE_KEYS = {
    "source_uri": "SourceUri",
    "source_type": "SourceType",
    "source_id": "SourceId",
}


def _normalise_keys(
    source: Mapping[str, Any], names: dict[str, str], arg: str, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Accept both the snake_case keys of the spec and the wire's PascalCase keys."""
    wire_names = names.values()  # (two or three: a set would cost more than it saves)
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key in names:
            out[names[key]] = value
        elif key in wire_names or key in extra:
            out[key] = value
        else:
            raise ValueError(f"{arg} has an unknown key {key!r}; use {', '.join(sorted(names))}")
    return out


def artifact_source_to_wire(source: Any, arg: str = "source") -> dict[str, Any]:
    """``{"source_uri": ..., "source_types": [...]}`` -> ``{"SourceUri", "SourceTypes"}``."""
    if type(source) is dict and len(source) == 1 and "source_uri" in source:
        # (the common case, made short: a bulk block adds thousands)
        return {"SourceUri": validation.check_source_uri(source["source_uri"], f"{arg}.SourceUri")}
    if not validation.is_mapping(source):
        raise ValueError(f"{arg} must be a dict with 'source_uri', got {type(source).__name__}")
    wire = _normalise_keys(source, _ARTIFACT_SOURCE_KEYS, arg)
    if wire.get("SourceTypes") is None:
        wire.pop("SourceTypes", None)
    return validation.check_artifact_source(wire, arg)


def simple_source_to_wire(source: Any, arg: str = "source") -> dict[str, Any]:
    """An action's or context's source. A single ``source_types`` entry (as an artifact's
    source is written) is kept as ``SourceType``/``SourceId``."""
    if not validation.is_mapping(source):
        raise ValueError(f"{arg} must be a dict with 'source_uri', got {type(source).__name__}")
    wire = _normalise_keys(source, _SIMPLE_SOURCE_KEYS, arg, extra=("source_types",))
    types = wire.pop("source_types", None)
    if types:
        if (
            not isinstance(types, list)
            or len(types) != 1
            or not isinstance(types[0], Mapping)
            or set(types[0]) != {"SourceIdType", "Value"}
        ):
            raise ValueError(
                f"{arg}['source_types'] of an action or context must hold exactly one "
                "{'SourceIdType': ..., 'Value': ...}; or give 'source_type' and 'source_id'"
            )
        if "SourceType" in wire or "SourceId" in wire:
            raise ValueError(f"{arg}: give either 'source_types' or 'source_type'/'source_id'")
        wire["SourceType"] = types[0]["SourceIdType"]
        wire["SourceId"] = types[0]["Value"]
    return validation.check_simple_source(wire, arg)


_FROM_WIRE = {
    **{v: k for k, v in _ARTIFACT_SOURCE_KEYS.items()},
    **{v: k for k, v in _SIMPLE_SOURCE_KEYS.items()},
}


def source_from_wire(source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The wire source as the Python API shows it (snake_case keys)."""
    if source is None:
        return None
    return {_FROM_WIRE.get(k, k): v for k, v in source.items()}


def generated_name(entity_type: str) -> str:
    """A unique, ARN-safe name for an entity created without one."""
    slug = re.sub(r"[^a-z0-9]+", "-", entity_type.lower()).strip("-")[:80] or "entity"
    return f"{slug}-{uuid.uuid4().hex[:16]}"
