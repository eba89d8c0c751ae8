"""The create request of each kind, built from the Python API's arguments.

One function checks the arguments of ``Artifact.create``, ``Action.create``,
``Context.create``, their ``get_or_create`` and the bulk writer's ``artifact``/``action``/
``context`` (``ValueError`` naming the argument), so the four cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from mllineage import validation
from mllineage.api import _convert

#: Per kind: the request's name and type members, and types to suggest when none is given.
_MEMBERS = {
    "artifact": ("ArtifactName", "ArtifactType", "'Dataset' or 'Model'"),
    "action": ("ActionName", "ActionType", "'Training' or 'Processing'"),
    "context": ("ContextName", "ContextType", "'Pipeline' or 'Experiment'"),
}


def create_request(
    kind: str,
    name: Any,
    entity_type: Any,
    *,
    source: Any = None,
    properties: Any = None,
    status: Any = None,
    description: Any = None,
    tags: Any = None,
    metadata_properties: Any = None,
) -> dict[str, Any]:
    """The Create request of ``kind`` (``artifact``, ``action`` or ``context``).

    Arguments a kind does not take are left ``None`` by its callers. A missing name is
    generated from the type (``_convert.generated_name``).

    Raises:
        ValueError: naming the first argument that breaks a rule.
    """
    name_member, type_member, examples = _MEMBERS[kind]
    if entity_type is None:
        raise ValueError(f"{kind}_type is required, for example {examples}")
    entity_type = validation.check_entity_type(entity_type, f"{kind}_type")
    request: dict[str, Any] = {
        name_member: (
            validation.check_entity_name(name, f"{kind}_name", kind)
            if name is not None
            else _convert.generated_name(entity_type)
        ),
        type_member: entity_type,
    }
    if source is not None:
        to_wire = (
            _convert.artifact_source_to_wire
            if kind == "artifact"
            else _convert.simple_source_to_wire
        )
        request["Source"] = to_wire(source)
    if properties:
        request["Properties"] = validation.check_properties(properties, "properties")
    if status is not None:
        request["Status"] = validation.check_status(status, "status")
    if description is not None:
        request["Description"] = validation.check_description(description, "description")
    if tags:
        request["Tags"] = validation.check_tags(tags, "tags")
    if metadata_properties:
        request["MetadataProperties"] = validation.check_metadata_properties(
            metadata_properties, "metadata_properties"
        )
    return request
