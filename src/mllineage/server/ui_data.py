"""What the web UI's JSON API answers, computed from a store with the library's own calls.

Each function takes the store the signed-in access key sees and the request's query
parameters, and returns a JSON-ready dict (or the text of an export). They are synchronous:
the routes in :mod:`mllineage.server.ui` run them in a worker thread. A parameter mistake
raises :class:`BadParameter` naming the parameter; an unknown ARN raises ``ResourceNotFound``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mllineage import validation
from mllineage.api.association import Association
from mllineage.api.history import entity_history
from mllineage.api.query import LineageQuery, LineageQueryDirectionEnum
from mllineage.api.session import Session
from mllineage.errors import ValidationException
from mllineage.limits import LIST_MAX_RESULTS, NAME_MAX_LENGTH
from mllineage.store.base import Store
from mllineage.viz.graph import FORMATS, LineageGraph
from mllineage.viz.style import vertex_name, vertex_type

KINDS = ("artifact", "action", "context")
DIRECTIONS = {
    "both": LineageQueryDirectionEnum.BOTH,
    "up": LineageQueryDirectionEnum.ASCENDANTS,
    "down": LineageQueryDirectionEnum.DESCENDANTS,
}
DEFAULT_DEPTH = 3
MAX_DEPTH = 10
DEFAULT_PAGE = 50
_NOUN = {"artifact": "Artifact", "action": "Action", "context": "Context"}
_SORTS = {"created": "CreationTime", "name": "Name"}
_ORDERS = {"desc": "Descending", "asc": "Ascending"}
_LIST_PARAMS = (
    "kind",
    "type",
    "name",
    "source_uri",
    "created_after",
    "created_before",
    "property",
    "sort",
    "order",
    "max_results",
    "next_token",
)
_LINEAGE_PARAMS = ("arn", "direction", "depth", "as_of", "kind", "type")
_EXPORT_TYPES = {
    "dot": ("text/vnd.graphviz; charset=utf-8", "dot"),
    "mermaid": ("text/plain; charset=utf-8", "mmd"),
    "graphml": ("application/graphml+xml; charset=utf-8", "graphml"),
    "json": ("application/json; charset=utf-8", "json"),
    "html": ("text/html; charset=utf-8", "html"),
}
assert set(_EXPORT_TYPES) == set(FORMATS)


class BadParameter(ValueError):
    """A query parameter the UI API cannot use; the message names it and the rule."""


class Params:
    """A request's query parameters, read by name; unknown or repeated ones are refused.

    An empty value counts as absent, so a form can send every field.
    """

    def __init__(self, items: Iterable[tuple[str, str]], allowed: Iterable[str]) -> None:
        self._values: dict[str, list[str]] = {}
        allowed = tuple(allowed)
        for name, value in items:
            if name not in allowed:
                takes = ", ".join(allowed) if allowed else "no parameters"
                raise BadParameter(f"unknown parameter {name[:60]!r}; this route takes {takes}")
            if value != "":
                self._values.setdefault(name, []).append(value)

    def one(self, name: str, *, required: bool = False) -> str | None:
        values = self._values.get(name, [])
        if len(values) > 1:
            raise BadParameter(f"{name} must be given once, got {len(values)} values")
        if not values and required:
            raise BadParameter(f"{name} is required")
        return values[0] if values else None

    def many(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def choice(self, name: str, choices: Iterable[str], default: str | None) -> str:
        """One of ``choices``; required when there is no ``default``."""
        value = self.one(name, required=default is None) or default
        assert value is not None
        choices = tuple(choices)
        if value not in choices:
            raise BadParameter(f"{name} must be one of {', '.join(choices)}, got {value[:60]!r}")
        return value

    def integer(self, name: str, lo: int, hi: int, default: int) -> int:
        value = self.one(name)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit() and len(value) < 10 and lo <= int(value) <= hi):
            raise BadParameter(f"{name} must be an integer from {lo} to {hi}, got {value[:20]!r}")
        return int(value)

    def time(self, name: str) -> datetime | None:
        value = self.one(name)
        return None if value is None else _checked(validation.to_datetime, value, name)

    def arn(self, name: str = "arn") -> validation.ParsedArn:
        value = self.one(name, required=True)
        parsed: validation.ParsedArn = _checked(validation.parse_arn, value, name, KINDS)
        return parsed


def _checked(check: Any, value: Any, name: str, *args: Any) -> Any:
    try:
        return check(value, name, *args)
    except ValueError as error:
        raise BadParameter(str(error)) from None


# -- shapes ---------------------------------------------------------------------------------
def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the microsecond."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def user_label(user: Any) -> str | None:
    """Who a ``UserContext`` names, for display."""
    if isinstance(user, Mapping):
        name = user.get("UserProfileName") or user.get("UserProfileArn")
        if name:
            return str(name)
        identity = user.get("IamIdentity")
        if isinstance(identity, Mapping) and identity.get("Arn"):
            return str(identity["Arn"])
        return None
    return None if user is None else str(user)


def _item(kind: str, described: Mapping[str, Any]) -> dict[str, Any]:
    noun = _NOUN[kind]
    return {
        "arn": described[f"{noun}Arn"],
        "kind": kind,
        "name": described.get(f"{noun}Name"),
        "type": described.get(f"{noun}Type"),
        "source_uri": (described.get("Source") or {}).get("SourceUri"),
        "status": described.get("Status"),
        "created": iso(described.get("CreationTime")),
        "last_modified": iso(described.get("LastModifiedTime")),
        "created_by": user_label(described.get("CreatedBy")),
    }


# -- routes' answers ------------------------------------------------------------------------
def summary(store: Store, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``GET /ui/api/summary``: entities per kind and type, and the association count."""
    Params(query, ())
    counts = store.count_entities()
    kinds: dict[str, dict[str, Any]] = {k: {"total": 0, "types": {}} for k in KINDS}
    for row in counts["Counts"]:
        entry = kinds[row["EntityKind"]]
        entry["types"][row["Type"]] = row["Count"]
        entry["total"] += row["Count"]
    associations = int(counts["AssociationCount"])
    empty = associations == 0 and all(k["total"] == 0 for k in kinds.values())
    return {"kinds": kinds, "associations": associations, "empty": empty}


def entities(store: Store, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``GET /ui/api/entities``: one page of artifacts, actions or contexts."""
    params = Params(query, _LIST_PARAMS)
    kind = params.choice("kind", KINDS, None)
    request: dict[str, Any] = {
        "EntityKind": kind,
        "SortBy": _SORTS[params.choice("sort", _SORTS, "created")],
        "SortOrder": _ORDERS[params.choice("order", _ORDERS, "desc")],
        "MaxResults": params.integer("max_results", 1, LIST_MAX_RESULTS, DEFAULT_PAGE),
    }
    entity_type = params.one("type")
    if entity_type is not None:
        request[f"{_NOUN[kind]}Type"] = _checked(validation.check_entity_type, entity_type, "type")
    name = params.one("name")
    if name is not None:
        request["NamePrefix"] = _checked(_check_name_prefix, name, "name")
    uri = params.one("source_uri")
    if uri is not None:
        request["SourceUri"] = _checked(validation.check_source_uri, uri, "source_uri")
    for name, member in (("created_after", "CreatedAfter"), ("created_before", "CreatedBefore")):
        moment = params.time(name)
        if moment is not None:
            request[member] = moment
    properties = _properties(params.many("property"))
    if properties:
        request["Properties"] = properties
    token = params.one("next_token")
    if token is not None:
        request["NextToken"] = token
    try:
        page = store.list_entity_details(**request)
    except ValidationException as error:  # the one member not checked above: NextToken
        raise BadParameter(error.message.replace("NextToken", "next_token")) from None
    return {
        "items": [_item(kind, e) for e in page["Entities"]],
        "next_token": page.get("NextToken"),
    }


def _check_name_prefix(value: str, arg: str) -> str:
    return validation.check_str(value, arg, max_len=NAME_MAX_LENGTH)


def _properties(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, expected = value.partition(":")
        if not sep or not key:
            raise BadParameter(f"property must be key:value, got {value[:80]!r}")
        if key in out and out[key] != expected:
            raise BadParameter(f"property {key[:60]!r} is given twice with different values")
        out[key] = expected
    return _checked(validation.check_properties, out, "property")  # type: ignore[no-any-return]


def entity(store: Store, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``GET /ui/api/entity``: everything about one entity, and its direct neighbours."""
    arn = Params(query, ("arn",)).arn()
    noun = _NOUN[arn.kind]
    key = "ArtifactArn" if arn.kind == "artifact" else f"{noun}Name"
    described = store.describe_entity(EntityKind=arn.kind, **{key: arn.arn})
    session = Session(store=store)
    inputs = Association.list_all(destination_arn=arn.arn, sagemaker_session=session)
    outputs = Association.list_all(source_arn=arn.arn, sagemaker_session=session)
    source = described.get("Source") or {}
    extra: dict[str, Any] = {}
    if source.get("SourceTypes"):
        extra["source_types"] = source["SourceTypes"]
    if source.get("SourceId"):
        extra["source_id"] = source["SourceId"]
    if described.get("MetadataProperties"):
        extra["metadata_properties"] = described["MetadataProperties"]
    return {
        **_item(arn.kind, described),
        "description": described.get("Description"),
        "properties": dict(described.get("Properties") or {}),
        "tags": {t["Key"]: t["Value"] for t in described.get("Tags") or []},
        "last_modified_by": user_label(described.get("LastModifiedBy")),
        "extra": extra,
        "inputs": [_neighbour(a, "source") for a in inputs],
        "outputs": [_neighbour(a, "destination") for a in outputs],
    }


def _neighbour(association: Association, end: str) -> dict[str, Any]:
    arn = getattr(association, f"{end}_arn")
    return {
        "arn": arn,
        "kind": validation.parse_arn(arn, "arn").kind,
        "name": getattr(association, f"{end}_name"),
        "type": getattr(association, f"{end}_type"),
        "association_type": association.association_type,
    }


def history(store: Store, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``GET /ui/api/history``: the entity's recorded changes, newest first."""
    arn = Params(query, ("arn",)).arn().arn
    changes = entity_history(Session(store=store), arn)
    return {
        "events": [
            {
                "at": iso(c.time),
                "operation": c.operation,
                "by": user_label(c.actor),
                "changes": c.detail,
                "peer_arn": c.peer_arn,
                "summary": c.summary(arn),
            }
            for c in changes
        ]
    }


# -- lineage --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineageView:
    """A lineage query's answer as the UI shows it."""

    graph: LineageGraph
    start: str
    truncated: bool


def lineage_view(store: Store, params: Params) -> LineageView:
    """The lineage around ``arn``: ``depth`` associations in ``direction``, as of ``as_of``,
    vertices other than the start kept when they match ``kind`` and ``type``.

    The query goes one association further than asked, to tell whether there is more
    (``truncated``), and drops that outer ring.
    """
    start = params.arn().arn
    direction = params.choice("direction", DIRECTIONS, "both")
    depth = params.integer("depth", 1, MAX_DEPTH, DEFAULT_DEPTH)
    as_of = params.time("as_of")
    kinds = [_checked(validation.check_choice, k, "kind", KINDS) for k in params.many("kind")]
    types = params.many("type")
    graph = LineageQuery(
        [start],
        DIRECTIONS[direction],
        max_depth=depth + 1,
        sagemaker_session=Session(store=store),
        as_of=as_of,
    ).query()
    distance = _distances(graph, start, direction)
    truncated = any(d > depth for d in distance.values())

    def keep(vertex: Mapping[str, Any]) -> bool:
        arn = vertex["Arn"]
        if arn == start:
            return True
        if distance.get(arn, depth + 1) > depth:
            return False
        if kinds and str(vertex.get("Type", "")).lower() not in kinds:
            return False
        return not types or vertex_type(vertex) in types

    vertices = [v for v in graph.vertices if keep(v)]
    kept = {v["Arn"] for v in vertices}
    edges = [e for e in graph.edges if e["SourceArn"] in kept and e["DestinationArn"] in kept]
    return LineageView(LineageGraph(vertices, edges, [start]), start, truncated)


def _distances(graph: LineageGraph, start: str, direction: str) -> dict[str, int]:
    """Associations from ``start`` to each vertex, walking as the query walked."""
    neighbours: dict[str, list[str]] = {}
    for edge in graph.edges:
        source, destination = edge["SourceArn"], edge["DestinationArn"]
        if direction in ("down", "both"):
            neighbours.setdefault(source, []).append(destination)
        if direction in ("up", "both"):
            neighbours.setdefault(destination, []).append(source)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        arn = queue.popleft()
        for other in neighbours.get(arn, []):
            if other not in distance:
                distance[other] = distance[arn] + 1
                queue.append(other)
    return distance


def lineage(store: Store, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``GET /ui/api/lineage``: vertices and edges around an entity."""
    view = lineage_view(store, Params(query, _LINEAGE_PARAMS))
    return {
        "start": view.start,
        "vertices": [
            {
                "arn": v["Arn"],
                "kind": str(v.get("Type", "")).lower(),
                "name": vertex_name(v),
                "type": vertex_type(v),
                "source_uri": (v.get("Properties") or {}).get("source_uri"),
                "properties": v.get("Properties") or {},
            }
            for v in view.graph.vertices
        ],
        "edges": [
            {
                "source": e["SourceArn"],
                "destination": e["DestinationArn"],
                "association_type": e.get("AssociationType"),
            }
            for e in view.graph.edges
        ],
        "truncated": view.truncated,
    }


@dataclass(frozen=True)
class Export:
    text: str
    media_type: str
    filename: str


def export(store: Store, query: Iterable[tuple[str, str]]) -> Export:
    """``GET /ui/api/export``: the view in one of the CLI's formats (``mllineage graph``)."""
    params = Params(query, (*_LINEAGE_PARAMS, "format"))
    fmt = params.choice("format", FORMATS, "dot")
    view = lineage_view(store, params)
    media_type, suffix = _EXPORT_TYPES[fmt]
    name = view.start.rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "lineage"
    return Export(view.graph.render(fmt), media_type, f"lineage-{safe}.{suffix}")
