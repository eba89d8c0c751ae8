"""LineageQuery, LineageFilter and their enums."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from mllineage import limits, validation
from mllineage.api.session import Session, resolve_session
from mllineage.store.common import collector_paused
from mllineage.viz.graph import LineageGraph


class LineageEntityEnum(Enum):
    """Entity kinds, for ``LineageFilter(entities=[...])``."""

    ARTIFACT = "Artifact"
    ACTION = "Action"
    CONTEXT = "Context"
    ASSOCIATION = "Association"


class LineageQueryDirectionEnum(Enum):
    """Which way a query walks: ``ASCENDANTS`` (what led to this), ``DESCENDANTS`` (what this
    led to) or ``BOTH`` (every visited vertex expanded both ways)."""

    ASCENDANTS = "Ascendants"
    DESCENDANTS = "Descendants"
    BOTH = "Both"


def _enum_value(value: Any, enum: type[Enum], arg: str) -> str:
    """An enum member, its value or its name, as the value."""
    if isinstance(value, enum):
        return str(value.value)
    for member in enum:
        if value in (member.value, member.name):
            return str(member.value)
    choices = ", ".join(f"{enum.__name__}.{m.name}" for m in enum)
    raise ValueError(f"{arg} must be one of {choices}, got {value!r}")


@dataclass
class LineageFilter:
    """Which vertices a query returns; all given fields must hold (AND).

    Args:
        entities: kinds to keep, e.g. ``[LineageEntityEnum.ARTIFACT]``. ``ASSOCIATION`` names
            edges, which are no vertices: alone it keeps none.
        sources: entity types (``"Model"``, ``"Dataset"``) or ``{"source_uri": "s3://b/x"}``
            dicts (matched at path boundaries); a vertex matching any entry is kept.
        created_before, created_after, modified_before, modified_after: inclusive bounds, as
            datetimes or ISO 8601 strings.
        properties: exact values every kept vertex must have, among its properties and its own
            fields (``artifact_type``, ``status``, ...).

    The walk passes through vertices a filter drops, so a filter never cuts a path short.
    """

    entities: Sequence[LineageEntityEnum | str] | None = None
    sources: Sequence[str | Enum | Mapping[str, str]] | None = None
    created_before: datetime | str | None = None
    created_after: datetime | str | None = None
    modified_before: datetime | str | None = None
    modified_after: datetime | str | None = None
    properties: Mapping[str, str] | None = None

    def _to_request(self) -> dict[str, Any]:
        """The ``Filters`` member of a lineage query."""
        out: dict[str, Any] = {}
        if self.entities is not None:
            entities = _sequence(self.entities, "entities")
            kinds = [_enum_value(e, LineageEntityEnum, "entities entry") for e in entities]
            out["LineageTypes"] = sorted({k for k in kinds if k != "Association"})
        if self.sources is not None:
            types: list[str] = []
            uris: list[str] = []
            for source in _sequence(self.sources, "sources"):
                if isinstance(source, Mapping):
                    unknown = set(source) - {"source_uri", "SourceUri"}
                    uri = source.get("source_uri", source.get("SourceUri"))
                    if unknown or uri is None:
                        raise ValueError("sources entries that are dicts need exactly 'source_uri'")
                    uris.append(validation.check_source_uri(uri, "sources source_uri"))
                else:
                    value = source.value if isinstance(source, Enum) else source
                    types.append(validation.check_entity_type(value, "sources entry"))
            if types and uris:
                raise ValueError(
                    "sources: give entity types or source_uri dicts, not both "
                    "(every filter is AND-ed; entries of one kind are OR-ed)"
                )
            if types:
                out["Types"] = types
            if uris:
                out["SourceUris"] = uris
        for attr, member in (
            ("created_before", "CreatedBefore"),
            ("created_after", "CreatedAfter"),
            ("modified_before", "ModifiedBefore"),
            ("modified_after", "ModifiedAfter"),
        ):
            value = getattr(self, attr)
            if value is not None:
                out[member] = validation.to_datetime(value, attr)
        if self.properties is not None:
            props = validation.check_properties(self.properties, "properties")
            if props:
                out["Properties"] = props
        return out


def _sequence(value: Any, arg: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValueError(f"{arg} must be a list, got {type(value).__name__}")
    return list(value)


class LineageQuery:
    """A walk of the lineage graph from one or more start entities.

    Args:
        start_arns: 1-10 artifact, action or context ARNs.
        direction: a :class:`LineageQueryDirectionEnum` (or its value).
        include_edges: return the associations between returned vertices (default True).
        filters: a :class:`LineageFilter` choosing the vertices returned.
        max_depth: associations from a start vertex, 1-100 (default 10).
        as_of: walk the graph as it stood at this instant (a datetime or ISO 8601 string,
            inclusive): entities deleted since are there, ones created after are not.

    Example:
        >>> graph = LineageQuery([model.artifact_arn],
        ...                      LineageQueryDirectionEnum.ASCENDANTS).query()
        >>> [v["Properties"].get("artifact_name") for v in graph["Vertices"]]
    """

    def __init__(
        self,
        start_arns: Sequence[str],
        direction: LineageQueryDirectionEnum | str,
        include_edges: bool = True,
        filters: LineageFilter | None = None,
        max_depth: int = limits.QUERY_DEFAULT_DEPTH,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> None:
        arns = _sequence(start_arns, "start_arns")
        if not 1 <= len(arns) <= limits.QUERY_MAX_START_ARNS:
            raise ValueError(
                f"start_arns must list 1 to {limits.QUERY_MAX_START_ARNS} ARNs, got {len(arns)}"
            )
        self.start_arns = [validation.parse_arn(a, "start_arns entry").arn for a in arns]
        self.direction = LineageQueryDirectionEnum(
            _enum_value(direction, LineageQueryDirectionEnum, "direction")
        )
        self.include_edges = validation.check_bool(include_edges, "include_edges")
        if filters is not None and not isinstance(filters, LineageFilter):
            raise ValueError(f"filters must be a LineageFilter, got {type(filters).__name__}")
        self.filters = filters
        self._filter_request = filters._to_request() if filters is not None else None
        self.max_depth = validation.check_int(
            max_depth, "max_depth", limits.QUERY_MIN_DEPTH, limits.QUERY_MAX_DEPTH
        )
        self.sagemaker_session = sagemaker_session
        self.as_of = validation.to_datetime(as_of, "as_of") if as_of is not None else None

    def _request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "StartArns": self.start_arns,
            "Direction": self.direction.value,
            "IncludeEdges": self.include_edges,
            "MaxDepth": self.max_depth,
        }
        if self._filter_request is not None:
            request["Filters"] = self._filter_request
        if self.as_of is not None:
            request["AsOf"] = self.as_of
        return request

    def query(self) -> LineageGraph:
        """Run the query.

        Returns:
            ``{"Vertices": [{"Arn", "Type", "Properties"}], "Edges": [{"SourceArn",
            "DestinationArn", "AssociationType"}]}``; ``Type`` is ``Artifact``, ``Action`` or
            ``Context``; ``Properties`` holds the entity's properties and its own fields
            (``artifact_name``, ``artifact_type``, ``source_uri``, ``action_name``,
            ``action_type``, ``status``, ``context_name``, ``context_type``,
            ``creation_time``, ``last_modified_time``). The dict is a
            :class:`~mllineage.viz.graph.LineageGraph`, which also exports itself (``to_dot()``,
            ``to_mermaid()``, ``to_graphml()``, ``to_html()``, ``to_dataframe()``, ...).
        Raises:
            ClientError: ``ResourceNotFound`` for an unknown start ARN;
                ``ResourceLimitExceeded`` past 10,000 vertices, 100,000 edges or 60 s.
        """
        session = resolve_session(self.sagemaker_session)
        with collector_paused():  # (the answer is thousands of new containers)
            answer = session.store.lineage_graph(**self._request())
        vertices = answer["Vertices"]
        for vertex in vertices:  # the answer's own dicts, reshaped in place (no copies)
            vertex["Type"] = vertex.pop("LineageType")
        return LineageGraph(vertices, answer["Edges"], start_arns=self.start_arns)
