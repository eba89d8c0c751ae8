"""Lineage queries: a breadth-first walk, one statement per hop, then one fetch of the answer.

Each hop sends every frontier id in one statement answered from a covering index, so the cost
follows the size of the answer (vertices and edges reached), never the size of the store. On an
SQLite file, what earlier queries read is kept by ``graph_cache`` and not read again until
someone commits.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from mllineage import limits, validation
from mllineage.errors import ResourceLimitExceeded, ResourceNotFound
from mllineage.store.common import (
    check_members,
    collector_paused,
    datetime_to_us,
    decode_position,
    encode_token,
    fingerprint,
)
from mllineage.store.sql.core import LINEAGE_TYPE, SqlCore
from mllineage.store.sql.graph_cache import Edge, Generation, Walk
from mllineage.store.sql.graph_sql import entities_where

_QUERY_MEMBERS = ("StartArns", "Direction", "IncludeEdges", "Filters", "MaxDepth")
_FILTER_MEMBERS = (
    "Types",
    "LineageTypes",
    "CreatedBefore",
    "CreatedAfter",
    "ModifiedBefore",
    "ModifiedAfter",
    "Properties",
)
_EXTENSION_FILTER_MEMBERS = ("SourceUris",)


@dataclass
class VertexFilter:
    """Which reached vertices a query returns; every given field must hold."""

    types: set[str] | None = None
    lineage_types: set[str] | None = None
    created_after: int | None = None
    created_before: int | None = None
    modified_after: int | None = None
    modified_before: int | None = None
    properties: dict[str, str] = field(default_factory=dict)
    source_uris: list[str] | None = None

    def matches(self, row: Any, properties: Mapping[str, str]) -> bool:
        _id, _arn, kind, _name, etype, source_uri, _status, _props, created, modified = row
        if self.types is not None and etype not in self.types:
            return False
        if self.lineage_types is not None and LINEAGE_TYPE[kind] not in self.lineage_types:
            return False
        if self.created_after is not None and created < self.created_after:
            return False
        if self.created_before is not None and created > self.created_before:
            return False
        if self.modified_after is not None and modified < self.modified_after:
            return False
        if self.modified_before is not None and modified > self.modified_before:
            return False
        if any(properties.get(k) != v for k, v in self.properties.items()):
            return False
        if self.source_uris is not None:
            return source_uri is not None and any(
                _under(source_uri, uri) for uri in self.source_uris
            )
        return True


def _under(value: str, uri: str) -> bool:
    """``value`` is ``uri`` or lies below it at a path boundary (as the list filters match)."""
    if uri.endswith("/"):
        return value.startswith(uri)
    return value == uri or value.startswith(uri + "/")


@dataclass
class QuerySpec:
    start_arns: list[str]
    direction: str
    include_edges: bool
    max_depth: int
    filter: VertexFilter | None


def parse_query(
    request: Mapping[str, Any], *, extra: tuple[str, ...] = (), extensions: bool = False
) -> tuple[QuerySpec, dict[str, Any]]:
    req = check_members(request, (*_QUERY_MEMBERS, *extra), ("StartArns",))
    starts = req["StartArns"]
    if isinstance(starts, (str, bytes)) or not isinstance(starts, (list, tuple)):
        raise ValueError("StartArns must be a list of ARNs")
    if not 1 <= len(starts) <= limits.QUERY_MAX_START_ARNS:
        raise ValueError(
            f"StartArns must list 1 to {limits.QUERY_MAX_START_ARNS} ARNs, got {len(starts)}"
        )
    arns = list(dict.fromkeys(validation.parse_arn(a, "StartArns entry").arn for a in starts))
    spec = QuerySpec(
        start_arns=arns,
        direction=validation.check_choice(
            req.get("Direction", "Both"), "Direction", validation.DIRECTIONS
        ),
        include_edges=validation.check_bool(req.get("IncludeEdges", True), "IncludeEdges"),
        max_depth=validation.check_int(
            req.get("MaxDepth", limits.QUERY_DEFAULT_DEPTH),
            "MaxDepth",
            limits.QUERY_MIN_DEPTH,
            limits.QUERY_MAX_DEPTH,
        ),
        filter=_parse_filter(req["Filters"], extensions) if "Filters" in req else None,
    )
    return spec, req


def _parse_filter(value: Any, extensions: bool) -> VertexFilter | None:
    if not isinstance(value, Mapping):
        raise ValueError(f"Filters must be a dict, got {type(value).__name__}")
    allowed = _FILTER_MEMBERS + (_EXTENSION_FILTER_MEMBERS if extensions else ())
    flt = check_members(value, allowed)
    out = VertexFilter()
    if "Types" in flt:
        types = _string_list(flt["Types"], "Filters.Types", limits.QUERY_FILTER_MAX_TYPES)
        out.types = {validation.check_entity_type(t, "Filters.Types entry") for t in types}
    if "LineageTypes" in flt:
        types = _string_list(flt["LineageTypes"], "Filters.LineageTypes", 4)
        out.lineage_types = {
            validation.check_choice(t, "Filters.LineageTypes entry", validation.LINEAGE_TYPES)
            for t in types
        }
    for key, attr in (
        ("CreatedAfter", "created_after"),
        ("CreatedBefore", "created_before"),
        ("ModifiedAfter", "modified_after"),
        ("ModifiedBefore", "modified_before"),
    ):
        if key in flt:
            setattr(out, attr, datetime_to_us(flt[key], f"Filters.{key}"))
    if "Properties" in flt:
        props = validation.check_properties(flt["Properties"], "Filters.Properties")
        if len(props) > limits.QUERY_FILTER_MAX_PROPERTIES:
            raise ValueError(
                f"Filters.Properties has more than {limits.QUERY_FILTER_MAX_PROPERTIES} entries"
            )
        out.properties = props
    if "SourceUris" in flt:
        uris = _string_list(flt["SourceUris"], "Filters.SourceUris", limits.QUERY_FILTER_MAX_TYPES)
        out.source_uris = [validation.check_source_uri(u, "Filters.SourceUris entry") for u in uris]
    return out


def _string_list(value: Any, arg: str, max_items: int) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{arg} must be a list")
    if len(value) > max_items:
        raise ValueError(f"{arg} has {len(value)} entries; at most {max_items} are allowed")
    return list(value)


def iso_utc(us: int) -> str:
    """Microseconds since the epoch as ISO 8601 UTC, e.g. ``2024-01-15T09:30:00.000001+00:00``
    (the same text as ``datetime.isoformat()``, without building a datetime)."""
    seconds, micros = divmod(us, 1_000_000)
    stamp = _second_utc(seconds)
    return f"{stamp}.{micros:06d}+00:00" if micros else f"{stamp}+00:00"


@functools.lru_cache(maxsize=4096)
def _second_utc(seconds: int) -> str:
    # Entities written together share their second: formatting it once per second halves the
    # cost of a vertex's properties.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def vertex_properties(row: Any) -> dict[str, str]:
    """A vertex's user properties plus its own fields (which win on a clash)."""
    _id, _arn, kind, name, etype, source_uri, status, props, created, modified = row
    out: dict[str, str] = json.loads(props) if props != "{}" else {}
    if name is not None:
        out[kind + "_name"] = name
    out[kind + "_type"] = etype
    if source_uri is not None:
        out["source_uri"] = source_uri
    if status is not None:
        out["status"] = status
    out["creation_time"] = iso_utc(created)
    out["last_modified_time"] = iso_utc(modified) if modified != created else out["creation_time"]
    return out


def _no_properties(_row: Any) -> dict[str, str]:
    return {}


def _first_met(edges: list[Edge], met: set[Edge]) -> list[Edge]:
    """The ``edges`` not ``met`` before, which are now."""
    new = [e for e in edges if e not in met]
    met.update(new)
    return new


@dataclass
class Graph:
    vertices: list[tuple[Any, ...]]  # fetch_vertices rows, in discovery order
    properties: list[dict[str, str]]
    edges: list[dict[str, str]]  # the answer's Edges: SourceArn, DestinationArn, AssociationType


class QueryOps(SqlCore):
    """QueryLineage and its whole-answer extension."""

    def _run_query(self, spec: QuerySpec, *, need_properties: bool) -> Graph:
        deadline = time.monotonic() + self.query_timeout
        return self._run_cached(
            lambda conn, gen, cached: self._walk(
                conn, spec, deadline, gen, need_properties=cached or need_properties
            )
        )

    def _run_cached(self, walk: Callable[[Connection, Generation, bool], Graph]) -> Graph:
        """``walk(conn, generation, cached)`` in a read transaction, with the graph cache's
        current generation where there is a cache (``cached``), else with a private one."""
        cache = self.db.graph_cache
        if cache is not None and not self.db.in_batch():
            gen = cache.current()
            graph = self.db.run(lambda conn: walk(conn, gen, True), write=False)
            if cache.still_current(gen):
                return graph
            # A commit landed during the walk: its answer may mix two states of the graph.
        return self.db.run(lambda conn: walk(conn, Generation(0), False), write=False)

    def _check_time(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise ResourceLimitExceeded(
                f"the lineage query ran longer than {self.query_timeout:g} s; reduce MaxDepth, "
                "add filters or start from fewer ARNs"
            )

    def _hops(
        self, conn: Connection, spec: QuerySpec, starts: list[int], deadline: float, gen: Generation
    ) -> Walk:
        """The breadth-first walk: the ids reached (id -> depth, in discovery order) and the
        associations met, each once, in the order met."""
        visited: dict[int, int] = {i: 0 for i in starts}
        edges: list[Edge] = []  # as the cache holds them: no new tuples
        # A one-way walk meets each association once, from the end it expands; a walk both
        # ways may meet one from both ends, and keeps it where it met it first.
        met: set[Edge] | None = set() if spec.direction == "Both" else None
        frontier = list(starts)
        forward = spec.direction in ("Descendants", "Both")
        backward = spec.direction in ("Ascendants", "Both")
        unfiltered = spec.filter is None
        for depth in range(1, spec.max_depth + 1):
            if not frontier:
                break
            found: list[int] = []
            for is_forward, enabled in ((True, forward), (False, backward)):
                if not enabled:
                    continue
                hop = gen.edges(conn, frontier, forward=is_forward)
                if met is not None:
                    hop = _first_met(hop, met)
                edges += hop
                for edge in hop:
                    other = edge[1] if is_forward else edge[0]
                    if other not in visited:
                        visited[other] = depth
                        found.append(other)
                self._check_time(deadline)
            if unfiltered:
                self._check_size(len(visited), len(edges) if spec.include_edges else 0)
            frontier = found
        return visited, edges

    def _walk(
        self,
        conn: Connection,
        spec: QuerySpec,
        deadline: float,
        gen: Generation,
        *,
        need_properties: bool,
    ) -> Graph:
        """The walk, reading what ``gen`` does not know yet from the database.

        ``gen`` remembers each walk (the ids reached, the associations met): on an SQLite file
        the graph cache's generation lasts until the next commit, and the same walk again
        (same start, direction and depth; any filter) only picks and builds its answer. The
        size and time limits are checked on the answer too, so a remembered walk fails as a new
        one.
        """
        starts = self._start_ids(conn, spec.start_arns)
        key = (tuple(starts), spec.direction, spec.max_depth)
        walk = gen.walks.get(key)
        if walk is None:
            walk = self._hops(conn, spec, starts, deadline, gen)
            build = vertex_properties if need_properties or spec.filter else _no_properties
            gen.fetch(conn, walk[0], build)
            self._check_time(deadline)
            gen.keep_walk(key, walk)
        visited, edges = walk
        rows, all_properties = gen.rows, gen.properties
        vertices: list[tuple[Any, ...]] = []
        properties: list[dict[str, str]] = []
        kept: dict[int, str] = {}  # id -> ARN of the vertices returned
        for vid in visited:
            row = rows.get(vid)
            if row is None:
                continue
            props = all_properties[vid]
            if spec.filter is not None and not spec.filter.matches(row, props):
                continue
            vertices.append(row)
            properties.append(props)
            kept[vid] = row[1]
        if not spec.include_edges:
            edge_list = []
        else:
            if len(kept) < len(visited):  # a filter dropped vertices, and their edges go too
                edges = [e for e in edges if e[0] in kept and e[1] in kept]
            edge_list = [
                {"SourceArn": kept[s], "DestinationArn": kept[d], "AssociationType": t}
                for s, d, t in edges
            ]
        self._check_size(len(vertices), len(edge_list))
        self._check_time(deadline)  # (a remembered walk too: building the answer takes time)
        return Graph(vertices, properties, edge_list)

    def _check_size(self, vertex_count: int, edge_count: int) -> None:
        if vertex_count > limits.QUERY_MAX_VERTICES:
            raise ResourceLimitExceeded(
                f"the lineage query reaches more than {limits.QUERY_MAX_VERTICES:,} vertices; "
                "reduce MaxDepth, add filters or query a smaller subgraph"
            )
        if edge_count > limits.QUERY_MAX_EDGES:
            raise ResourceLimitExceeded(
                f"the lineage query reaches more than {limits.QUERY_MAX_EDGES:,} edges; "
                "reduce MaxDepth, set IncludeEdges=False or query a smaller subgraph"
            )

    def _start_ids(self, conn: Connection, arns: list[str]) -> list[int]:
        found = {
            arn: vid
            for vid, arn, scope in entities_where(conn, "id, arn, scope", "arn", arns)
            if scope == self.scope
        }
        missing = [a for a in arns if a not in found]
        if missing:
            raise ResourceNotFound(
                f"StartArns: no artifact, action or context with ARN {', '.join(missing)}"
            )
        return [found[a] for a in arns]

    # -- the two operations ------------------------------------------------------------------
    def _run_query_as_of(self, spec: QuerySpec, at: int) -> Graph:
        """The query over the graph as it stood at ``at`` (see ``history.HistoryOps``)."""
        raise NotImplementedError

    @collector_paused()  # (an answer is thousands of new containers)
    def _lineage_graph(self, **request: Any) -> dict[str, Any]:
        spec, req = parse_query(request, extra=("AsOf",), extensions=True)
        if "AsOf" in req:
            at = datetime_to_us(req["AsOf"], "AsOf")
            graph = self._run_query_as_of(spec, at)
        else:
            graph = self._run_query(spec, need_properties=True)
        # Properties are copied: the graph cache keeps the dicts the walk returns.
        return {
            "Vertices": [
                {
                    "Arn": row[1],
                    "Type": row[4],
                    "LineageType": LINEAGE_TYPE[row[2]],
                    "Properties": props.copy(),
                }
                for row, props in zip(graph.vertices, graph.properties, strict=True)
            ],
            "Edges": graph.edges,
        }

    @collector_paused()
    def _query_lineage(self, **request: Any) -> dict[str, Any]:
        spec, req = parse_query(request, extra=("MaxResults", "NextToken"))
        page_size = None
        if "MaxResults" in req:
            page_size = validation.check_int(
                req["MaxResults"], "MaxResults", 1, limits.QUERY_MAX_RESULTS_PER_PAGE
            )
        request_print = fingerprint(
            {k: str(v) for k, v in req.items() if k not in ("NextToken", "MaxResults")}
        )
        v_start, e_start = 0, 0
        if "NextToken" in req:
            v_start, e_start = decode_position(req["NextToken"], request_print, (int, int))
        graph = self._run_query(spec, need_properties=False)
        vertices = [
            {"Arn": row[1], "Type": row[4], "LineageType": LINEAGE_TYPE[row[2]]}
            for row in graph.vertices
        ]
        edges = graph.edges
        if page_size is None and "NextToken" not in req:
            return {"Vertices": vertices, "Edges": edges}
        size = page_size or limits.QUERY_MAX_RESULTS_PER_PAGE
        out: dict[str, Any] = {
            "Vertices": vertices[v_start : v_start + size],
            "Edges": edges[e_start : e_start + size],
        }
        if v_start + size < len(vertices) or e_start + size < len(edges):
            out["NextToken"] = encode_token([v_start + size, e_start + size], request_print)
        return out
