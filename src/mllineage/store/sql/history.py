"""History and time travel: the change log read back (ListChanges), the state of entities,
lists, associations and lineage queries as they stood at an instant (``AsOf``), and retention
(PruneHistory).

The log is ``changes``, and the creations kept in the rows they made until those change
(``deferred.py``): every reader here takes both, in the log's one order. A prune never
alters live data; it writes the kept creations it reaches to ``changes`` first. An ``AsOf``
instant is inclusive: a change made at exactly that microsecond is part of the state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.engine import Connection

from mllineage import limits, validation
from mllineage.errors import ResourceNotFound
from mllineage.store.common import (
    check_members,
    datetime_to_us,
    decode_offset,
    decode_position,
    encode_token,
    fingerprint,
    now_us,
    us_to_datetime,
)
from mllineage.store.sql import deferred, replay
from mllineage.store.sql.core import INSERT_CHANGE, KINDS
from mllineage.store.sql.entities import (
    _DETAIL_MEMBERS,
    _DETAIL_SORT_BY,
    _LIST_MEMBERS,
    describe_row,
)
from mllineage.store.sql.graph_cache import Generation
from mllineage.store.sql.graph_sql import _rows, chunks, entities_where, in_list, placeholder
from mllineage.store.sql.schema import changes
from mllineage.store.sql.traversal import Graph, QueryOps, QuerySpec, _under, vertex_properties

_ENTITY_COLUMNS = (changes.c.arn, changes.c.op, changes.c.at, changes.c.actor, changes.c.detail)
_HISTORY_MAX_RESULTS = 100
_NO_ID = 2**63  # above every entity id: where an entity that no longer exists sorts by id
# Whether a change is an entity's own or an association's, spelled so that no planner walks
# the index on peer_arn for it (NULL for every entity change: half the log) instead of
# looking the ARNs up.
_ENTITY_CHANGE = "COALESCE(peer_arn, '') = ''"
# Past this many changes after an instant, a query at that instant replays everything instead
# of reading what has not changed since from the live tables.
_MAX_RECENT = 20_000
_ASSOCIATION_CHANGE = "COALESCE(peer_arn, '') <> ''"
_ASSOCIATION_LIST_MEMBERS = (
    "SourceArn",
    "DestinationArn",
    "SourceType",
    "DestinationType",
    "AssociationType",
    "CreatedAfter",
    "CreatedBefore",
    "SortBy",
    "SortOrder",
    "NextToken",
    "MaxResults",
)


@dataclass
class _Then:
    """How a lineage walk reads the graph at instant ``at``: what changed since is replayed
    from the log, the rest read as it is now, through ``gen`` (on an SQLite file, the graph
    cache's generation). An entity's row is replayed if it had a change of its own since; its
    associations are, if one touching it was added or removed since (deleting an entity logs
    the removal of each of its associations). ``None``: too many changes to tell, replay
    everything. What was replayed is kept in ``gen.past`` for the next query at the same
    instant, and, like the rest of the generation, only as long as nothing is committed."""

    at: int
    gen: Generation
    rows_changed: set[str] | None
    edges_changed: set[str] | None

    @staticmethod
    def split(arns: Sequence[str], changed: set[str] | None) -> tuple[Sequence[str], list[str]]:
        """(the ARNs to replay, the ARNs to read as they are now)."""
        if changed is None:
            return arns, []
        return [a for a in arns if a in changed], [a for a in arns if a not in changed]


class HistoryOps(QueryOps):
    """ListChanges, PruneHistory and the ``AsOf`` reads."""

    # -- reading the log ----------------------------------------------------------------------
    def _states_at(
        self, conn: Connection, arns: Sequence[str], at: int
    ) -> dict[str, replay.State | None]:
        """The state of each entity at ``at`` (inclusive), replayed from its changes."""
        states: dict[str, replay.State | None] = {}
        for part in chunks(list(dict.fromkeys(arns))):
            clause, params = in_list(conn, part)
            mark = placeholder(conn)
            # Ordered here rather than by the database: an ORDER BY at may tempt the planner
            # into walking the whole log by time instead of looking the ARNs up.
            sql = (
                "SELECT arn, op, at, actor, detail, id FROM changes "
                f"WHERE arn {clause} AND {_ENTITY_CHANGE} AND at <= {mark}"
            )
            rows = _rows(conn, sql, (*params, at))
            rows += [
                (c.arn, c.op, c.at, c.actor, c.detail, c.id)
                for c in deferred.entity_changes(
                    conn, f"e.arn {clause} AND e.created_at <= {mark}", (*params, at)
                )
            ]
            rows.sort(key=_log_order)
            states.update(replay.replay(row[:5] for row in rows))
        return {arn: s for arn, s in states.items() if s is not None and self._mine(arn)}

    def _vertices_at(
        self, conn: Connection, arns: Sequence[str], at: int
    ) -> dict[str, tuple[Any, ...]]:
        """:meth:`_states_at` for a lineage query: each entity's vertex tuple only, of every
        account (the caller checks whose it is)."""
        found: dict[str, tuple[Any, ...] | None] = {}
        mark = placeholder(conn)
        for part in chunks(list(arns)):
            clause, params = in_list(conn, part)
            sql = (
                "SELECT arn, op, at, detail, id FROM changes "
                f"WHERE arn {clause} AND {_ENTITY_CHANGE} AND at <= {mark}"
            )
            rows = _rows(conn, sql, (*params, at))
            rows += [
                (c.arn, c.op, c.at, c.detail, c.id)
                for c in deferred.entity_changes(
                    conn, f"e.arn {clause} AND e.created_at <= {mark}", (*params, at)
                )
            ]
            rows.sort(key=_vertex_log_order)
            found.update(replay.vertex_rows(row[:4] for row in rows))
        return {arn: v for arn, v in found.items() if v is not None}

    def _mine(self, arn: str) -> bool:
        return arn.startswith(self.scope)

    def _last_edge_changes(
        self, conn: Connection, arns: Sequence[str], at: int, *, forward: bool, actor: bool
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        """The last change at or before ``at`` of each association leaving (``forward``) or
        entering ``arns``: ``{(source, destination): (source, destination, op, at, detail,
        id, actor or None)}``."""
        near = "arn" if forward else "peer_arn"
        near_end = "s" if forward else "d"
        who = "actor" if actor else "NULL"
        last: dict[tuple[str, str], tuple[Any, ...]] = {}
        for part in chunks(list(arns)):
            clause, params = in_list(conn, part)
            mark = placeholder(conn)
            sql = (
                f"SELECT arn, peer_arn, op, at, detail, id, {who} FROM changes "
                f"WHERE {near} {clause} AND {_ASSOCIATION_CHANGE} AND at <= {mark}"
            )
            later = [
                (c.arn, c.peer_arn, c.op, c.at, c.detail, c.id, c.actor if actor else None)
                for c in deferred.edge_changes(
                    conn, f"{near_end}.arn {clause} AND a.created_at <= {mark}", (*params, at)
                )
            ]
            for row in _rows(conn, sql, (*params, at)) + later:
                pair = (row[0], row[1])
                seen = last.get(pair)
                if seen is None or (row[3], row[5]) > (seen[3], seen[5]):
                    last[pair] = row
        return last

    def _edges_at(
        self, conn: Connection, arns: Sequence[str], at: int, *, forward: bool
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The associations leaving (``forward``) or entering ``arns`` at ``at``:
        ``{(source, destination): {"type", "created_at", "created_by"}}``."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for pair, (_s, _d, op, when, detail, _id, actor) in self._last_edge_changes(
            conn, arns, at, forward=forward, actor=True
        ).items():
            if op != "AddAssociation":
                continue
            info = json.loads(detail)
            out[pair] = {
                "type": info["type"],
                "created_at": info.get("created_at", when),
                "created_by": info.get("created_by") or json.loads(actor),
            }
        return out

    def _edge_types_at(
        self, conn: Connection, arns: Sequence[str], at: int, *, forward: bool
    ) -> Iterator[tuple[str, str, str]]:
        """(source, destination, type) of each association leaving or entering ``arns`` at
        ``at``: what a lineage walk needs, and no more."""
        last = self._last_edge_changes(conn, arns, at, forward=forward, actor=False)
        for (src, dst), row in last.items():
            if row[2] == "AddAssociation":
                yield src, dst, _association_type(row[4])

    # -- DescribeEntity -----------------------------------------------------------------------
    def _describe_entity(self, **request: Any) -> dict[str, Any]:
        kind_name = validation.check_choice(
            request.get("EntityKind"), "EntityKind", validation.ENTITY_KINDS
        )
        kind = KINDS[kind_name]
        key = kind.arn_key if kind_name == "artifact" else kind.name_key
        req = check_members(request, ("EntityKind", key, "AsOf"), ("EntityKind", key))
        if "AsOf" not in req:
            row = self.db.run(
                lambda conn: self._find(conn, kind, req[key], key),  # type: ignore[attr-defined]
                write=False,
            )
            return describe_row(kind, row) | {"Tags": json.loads(row.tags)}
        at = datetime_to_us(req["AsOf"], "AsOf")
        value = req[key]
        if kind_name == "artifact" or (isinstance(value, str) and value.startswith("arn:")):
            arn = validation.parse_arn(value, key, (kind_name,)).arn
        else:
            name = validation.check_entity_name(value, key, kind_name)
            arn = f"{self.scope}{kind_name}/{name.lower()}"
        state = self.db.run(lambda conn: self._states_at(conn, [arn], at), write=False).get(arn)
        if state is None or state["kind"] != kind_name:
            raise ResourceNotFound(f"{key}: no {kind_name} {value} at {us_to_datetime(at)}")
        return describe_row(kind, replay.as_row(state)) | {"Tags": state["tags"]}

    # -- ListEntityDetails with AsOf ----------------------------------------------------------
    def _list_details_as_of(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        """``ListEntityDetails`` as the list stood at ``AsOf``: the same filters (name prefix
        and property values too), sorting, paging and tags, answered by replaying the kind's
        changes up to that instant."""
        kind = KINDS[kind_name]
        req = check_members(
            request,
            (*_LIST_MEMBERS, *_DETAIL_MEMBERS, "IncludeTags", kind.type_key, "AsOf"),
            ("AsOf",),
        )
        at = datetime_to_us(req["AsOf"], "AsOf")
        with_tags = validation.check_bool(req.get("IncludeTags", False), "IncludeTags")
        name_prefix = (
            validation.check_str(req["NamePrefix"], "NamePrefix", max_len=limits.NAME_MAX_LENGTH)
            if "NamePrefix" in req
            else None
        )
        wanted = validation.check_properties(req.get("Properties") or {}, "Properties").items()
        uri = (
            validation.check_source_uri(req["SourceUri"], "SourceUri")
            if "SourceUri" in req
            else None
        )
        entity_type = (
            validation.check_entity_type(req[kind.type_key], kind.type_key)
            if kind.type_key in req
            else None
        )
        after, before = _time(req, "CreatedAfter"), _time(req, "CreatedBefore")
        sort_by = validation.check_choice(
            req.get("SortBy", "CreationTime"), "SortBy", _DETAIL_SORT_BY
        )
        order = validation.check_choice(
            req.get("SortOrder", "Descending"), "SortOrder", validation.SORT_ORDERS
        )
        max_results = validation.check_int(
            req.get("MaxResults", limits.LIST_DEFAULT_MAX_RESULTS_PYTHON),
            "MaxResults",
            1,
            limits.LIST_MAX_RESULTS,
        )
        request_print = fingerprint(
            {k: str(v) for k, v in req.items() if k not in ("NextToken", "MaxResults")}
            | {"kind": kind_name}
        )
        start = decode_offset(req["NextToken"], request_print) if "NextToken" in req else 0
        prefix = f"{self.scope}{kind_name}/"
        query = (
            select(*_ENTITY_COLUMNS, changes.c.id)
            .where(
                changes.c.arn >= prefix,
                changes.c.arn < prefix[:-1] + "0",
                _entity_change(),
                changes.c.at <= at,
            )
            .order_by(changes.c.at, changes.c.id)
        )

        def read(conn: Connection) -> list[Any]:
            mark = placeholder(conn)
            kept = deferred.entity_changes(
                conn,
                f"e.scope = {mark} AND e.kind = {mark} AND e.created_at <= {mark}",
                (self.scope, kind_name, at),
            )
            rows: list[Any] = [*conn.execute(query).all()]
            rows += [(c.arn, c.op, c.at, c.actor, c.detail, c.id) for c in kept]
            rows.sort(key=lambda row: (row[2], row[5]))
            return rows

        rows = self.db.run(read, write=False)
        states: dict[str, replay.State | None] = {}
        born: dict[str, int] = {}  # the log position of each entity's start: insertion order
        for arn, op, when, actor, detail, change_id in rows:
            states[arn] = replay.apply(states.get(arn), arn, op, when, actor, detail)
            if op.startswith("Create") or op == replay.SNAPSHOT:
                born[arn] = change_id
        found = [
            s
            for s in states.values()
            if s is not None
            and (uri is None or (s["source"] is not None and _under(s["source"]["SourceUri"], uri)))
            and (entity_type is None or s["type"] == entity_type)
            and (after is None or s["created_at"] >= after)
            and (before is None or s["created_at"] <= before)
            and (name_prefix is None or (s["name"] or "").startswith(name_prefix))
            and all(s["properties"].get(key) == value for key, value in wanted)
        ]
        field = "created_at" if sort_by == "CreationTime" else "name"
        # Ties in the sort's direction, in the order the entities came to be (as live lists);
        # an artifact without a name sorts as "" there too.
        found.sort(
            key=lambda s: (s[field] if s[field] is not None else "", born[s["arn"]]),
            reverse=order == "Descending",
        )
        page = found[start : start + max_results]
        out: dict[str, Any] = {
            "Entities": [
                describe_row(kind, replay.as_row(s)) | ({"Tags": s["tags"]} if with_tags else {})
                for s in page
            ]
        }
        if start + max_results < len(found):
            out["NextToken"] = encode_token(start + max_results, request_print)
        return out

    # -- ListAssociationsAsOf -----------------------------------------------------------------
    def _list_associations_as_of(self, **request: Any) -> dict[str, Any]:
        """``ListAssociations`` as it stood at ``AsOf`` (same members, same summaries)."""
        req = check_members(request, (*_ASSOCIATION_LIST_MEMBERS, "AsOf"), ("AsOf",))
        at = datetime_to_us(req["AsOf"], "AsOf")
        ends = {
            key: validation.parse_arn(req[key], key).arn
            for key in ("SourceArn", "DestinationArn")
            if key in req
        }
        types = {
            key: validation.check_entity_type(req[key], key)
            for key in ("SourceType", "DestinationType")
            if key in req
        }
        assoc_type = (
            validation.check_association_type(req["AssociationType"], "AssociationType")
            if "AssociationType" in req
            else None
        )
        after, before = _time(req, "CreatedAfter"), _time(req, "CreatedBefore")
        sort_by = validation.check_choice(
            req.get("SortBy", "CreationTime"),
            "SortBy",
            ("SourceArn", "DestinationArn", "SourceType", "DestinationType", "CreationTime"),
        )
        order = validation.check_choice(
            req.get("SortOrder", "Descending"), "SortOrder", validation.SORT_ORDERS
        )
        max_results = validation.check_int(
            req.get("MaxResults", limits.LIST_DEFAULT_MAX_RESULTS_WIRE),
            "MaxResults",
            1,
            limits.LIST_MAX_RESULTS,
        )
        request_print = fingerprint(
            {k: str(v) for k, v in req.items() if k not in ("NextToken", "MaxResults")}
        )
        start = decode_offset(req["NextToken"], request_print) if "NextToken" in req else 0

        def read(conn: Connection) -> tuple[dict[Any, Any], dict[str, Any], dict[str, int]]:
            if "SourceArn" in ends:
                edges = self._edges_at(conn, [ends["SourceArn"]], at, forward=True)
            elif "DestinationArn" in ends:
                edges = self._edges_at(conn, [ends["DestinationArn"]], at, forward=False)
            else:
                mark = placeholder(conn)
                sql = (
                    "SELECT DISTINCT arn FROM changes "
                    f"WHERE scope = {mark} AND peer_arn IS NOT NULL AND at <= {mark}"
                )
                sources = [r[0] for r in _rows(conn, sql, (self.scope, at))]
                kept = deferred.edge_sources(conn, self.scope, at)
                sources = list(dict.fromkeys([*sources, *kept]))
                edges = {}
                for part in chunks(sources):
                    edges.update(self._edges_at(conn, part, at, forward=True))
            arns = list(dict.fromkeys(a for pair in edges for a in pair))
            ids = dict(entities_where(conn, "arn, id", "arn", arns))  # (those that exist now)
            return edges, self._states_at(conn, arns, at), ids

        edges, states, ids = self.db.run(read, write=False)
        summaries = []
        for (src, dst), info in edges.items():
            s, d = states.get(src), states.get(dst)
            if s is None or d is None:
                continue
            if "DestinationArn" in ends and dst != ends["DestinationArn"]:
                continue
            if "SourceArn" in ends and src != ends["SourceArn"]:
                continue
            if types.get("SourceType", s["type"]) != s["type"]:
                continue
            if types.get("DestinationType", d["type"]) != d["type"]:
                continue
            if assoc_type is not None and info["type"] != assoc_type:
                continue
            if after is not None and info["created_at"] < after:
                continue
            if before is not None and info["created_at"] > before:
                continue
            summary: dict[str, Any] = {
                "SourceArn": src,
                "DestinationArn": dst,
                "SourceType": s["type"],
                "DestinationType": d["type"],
                "AssociationType": info["type"],
            }
            if s["name"] is not None:
                summary["SourceName"] = s["name"]
            if d["name"] is not None:
                summary["DestinationName"] = d["name"]
            summary["CreationTime"] = us_to_datetime(info["created_at"])
            summary["CreatedBy"] = info["created_by"]
            summaries.append((info["created_at"], summary))

        def sort_key(item: tuple[int, dict[str, Any]]) -> tuple[Any, ...]:
            # Ties in the sort's direction, by the two ends' ids as the live list breaks them;
            # an end that does not exist now (deleted since) has none, and goes by its ARN.
            created_at, summary = item
            value = created_at if sort_by == "CreationTime" else summary[sort_by]
            src, dst = summary["SourceArn"], summary["DestinationArn"]
            return value, (ids.get(src, _NO_ID), src), (ids.get(dst, _NO_ID), dst)

        summaries.sort(key=sort_key, reverse=order == "Descending")
        out: dict[str, Any] = {
            "AssociationSummaries": [s for _, s in summaries[start : start + max_results]]
        }
        if start + max_results < len(summaries):
            out["NextToken"] = encode_token(start + max_results, request_print)
        return out

    # -- the present where the past equals it ----------------------------------------------
    def _changed_since(self, conn: Connection, at: int, gen: Generation) -> _Then:
        """How to read the graph at ``at`` (see :class:`_Then`), from the changes after it."""
        key = ("since", at, self.scope)  # (the deferred changes read are the scope's)
        if key not in gen.past:
            mark = placeholder(conn)
            sql = f"SELECT arn, peer_arn FROM changes WHERE at > {mark} LIMIT {_MAX_RECENT + 1}"
            rows = _rows(conn, sql, (at,))
            if len(rows) <= _MAX_RECENT:
                rows += deferred.changed_since(conn, self.scope, at, _MAX_RECENT + 1)
            if len(rows) > _MAX_RECENT:
                gen.keep_past({key: (None, None)})
            else:
                edges = {arn for arn, peer in rows if peer}
                edges.update(peer for _arn, peer in rows if peer)
                gen.keep_past({key: ({arn for arn, peer in rows if not peer}, edges)})
        return _Then(at, gen, *gen.past[key])

    def _vertices_then(
        self, conn: Connection, arns: Sequence[str], then: _Then
    ) -> dict[str, tuple[tuple[Any, ...], dict[str, str]]]:
        """The vertex (row, properties) of each of ``arns`` that existed at ``then.at``:
        replayed if it had a change of its own since, else as it is now (its present is its
        past)."""
        replayed, live = then.split(arns, then.rows_changed)
        gen, at = then.gen, then.at
        todo = [a for a in replayed if ("row", at, a) not in gen.past]
        found = self._vertices_at(conn, todo, at)
        gen.keep_past(
            {
                ("row", at, a): (found[a], _vertex_properties(found[a])) if a in found else None
                for a in todo
            }
        )
        out = {a: gen.past[("row", at, a)] for a in replayed}
        gen.fetch_arns(conn, live, vertex_properties)
        out.update(
            (a, (gen.rows[gen.ids[a]], gen.properties[gen.ids[a]])) for a in live if a in gen.ids
        )
        return {a: vertex for a, vertex in out.items() if vertex is not None and self._mine(a)}

    def _edges_then(
        self, conn: Connection, arns: Sequence[str], then: _Then, *, forward: bool
    ) -> Iterator[tuple[str, str, str]]:
        """(source, destination, type) of each association leaving (``forward``) or entering
        ``arns`` at ``then.at``: replayed for the entities with an association added or removed
        since, else read as they are now."""
        replayed, live = then.split(arns, then.edges_changed)
        gen, at = then.gen, then.at
        key = "children" if forward else "parents"
        todo: dict[str, list[tuple[str, str, str]]] = {
            a: [] for a in replayed if (key, at, a) not in gen.past
        }
        for edge in self._edge_types_at(conn, list(todo), at, forward=forward):
            todo[edge[0] if forward else edge[1]].append(edge)
        gen.keep_past({(key, at, a): tuple(edges) for a, edges in todo.items()})
        for arn in replayed:
            yield from gen.past[(key, at, arn)]
        gen.fetch_arns(conn, live, vertex_properties)
        found = gen.edges(conn, [gen.ids[a] for a in live if a in gen.ids], forward=forward)
        gen.fetch(conn, [e[1] if forward else e[0] for e in found], vertex_properties)
        rows = gen.rows
        for src, dst, etype in found:
            yield rows[src][1], rows[dst][1], etype

    # -- lineage queries AsOf -----------------------------------------------------------------
    def _walk_as_of(
        self, conn: Connection, spec: QuerySpec, at: int, deadline: float, gen: Generation
    ) -> Graph:
        """The breadth-first walk of ``traversal.QueryOps._walk``, over the associations and
        entities that existed at ``at``, keyed by ARN. What changed since ``at`` is replayed
        from the log; the rest is the present, read through ``gen`` (on an SQLite file, the
        graph cache). A vertex is a ``fetch_vertices`` row, or a replayed one (the ARN in place
        of the id, the properties a dict): read its ARN at ``row[1]``."""
        then = self._changed_since(conn, at, gen)
        starts = self._vertices_then(conn, spec.start_arns, then)
        missing = [a for a in spec.start_arns if a not in starts]
        if missing:
            raise ResourceNotFound(
                f"StartArns: no artifact, action or context with ARN {', '.join(missing)} "
                f"at {us_to_datetime(at)}"
            )
        visited: dict[str, int] = {a: 0 for a in spec.start_arns}
        edges: dict[tuple[str, str], str] = {}
        frontier = list(spec.start_arns)
        forward = spec.direction in ("Descendants", "Both")
        backward = spec.direction in ("Ascendants", "Both")
        for depth in range(1, spec.max_depth + 1):
            if not frontier:
                break
            found: list[str] = []
            for is_forward, enabled in ((True, forward), (False, backward)):
                if not enabled:
                    continue
                for src, dst, etype in self._edges_then(conn, frontier, then, forward=is_forward):
                    edges[(src, dst)] = etype
                    other = dst if is_forward else src
                    if other not in visited:
                        visited[other] = depth
                        found.append(other)
                self._check_time(deadline)
            if spec.filter is None:
                self._check_size(len(visited), len(edges) if spec.include_edges else 0)
            frontier = found
        rest = [a for a in visited if a not in starts]
        reached = {**starts, **self._vertices_then(conn, rest, then)}
        vertices: list[tuple[Any, ...]] = []
        properties: list[dict[str, str]] = []
        for arn in visited:
            if arn not in reached:
                continue
            row, props = reached[arn]
            if spec.filter is not None and not spec.filter.matches(row, props):
                continue
            vertices.append(row)
            properties.append(props)
        kept = {row[1] for row in vertices}
        edge_list = (
            [
                {"SourceArn": s, "DestinationArn": d, "AssociationType": t}
                for (s, d), t in edges.items()
                if s in kept and d in kept
            ]
            if spec.include_edges
            else []
        )
        self._check_size(len(vertices), len(edge_list))
        return Graph(vertices, properties, edge_list)

    def _run_query_as_of(self, spec: QuerySpec, at: int) -> Graph:
        deadline = time.monotonic() + self.query_timeout
        return self._run_cached(
            lambda conn, gen, _cached: self._walk_as_of(conn, spec, at, deadline, gen)
        )

    # -- ListChanges --------------------------------------------------------------------------
    def _list_changes(self, **request: Any) -> dict[str, Any]:
        req = check_members(
            request, ("Arn", "IncludeAssociations", "MaxResults", "NextToken"), ("Arn",)
        )
        arn = validation.parse_arn(req["Arn"], "Arn").arn
        with_edges = validation.check_bool(
            req.get("IncludeAssociations", True), "IncludeAssociations"
        )
        max_results = validation.check_int(
            req.get("MaxResults", _HISTORY_MAX_RESULTS), "MaxResults", 1, _HISTORY_MAX_RESULTS
        )
        request_print = fingerprint({"arn": arn, "edges": with_edges})
        c = changes.c
        which = or_(c.arn == arn, c.peer_arn == arn) if with_edges else c.arn == arn
        where = [c.scope == self.scope, which]
        if not with_edges:
            where.append(_entity_change())
        after: tuple[int, int] | None = None
        if "NextToken" in req:
            after = tuple(decode_position(req["NextToken"], request_print, (int, int)))
            where.append(or_(c.at < after[0], and_(c.at == after[0], c.id < after[1])))
        query = (
            select(c.id, c.at, c.arn, c.peer_arn, c.op, c.actor, c.detail)
            .where(*where)
            .order_by(c.at.desc(), c.id.desc())
            .limit(max_results + 1)
        )

        def read(conn: Connection) -> list[Any]:
            mark = placeholder(conn)
            kept = deferred.entity_changes(conn, f"e.arn = {mark}", (arn,))
            if with_edges:
                kept += deferred.edge_changes(conn, f"s.arn = {mark}", (arn,))
                kept += deferred.edge_changes(conn, f"d.arn = {mark}", (arn,))
            rows: list[Any] = [*conn.execute(query).all()]
            rows += [
                k for k in kept if k.scope == self.scope and (after is None or (k.at, k.id) < after)
            ]
            rows.sort(key=lambda row: (row.at, row.id), reverse=True)
            return rows[: max_results + 1]

        rows = self.db.run(read, write=False)
        if not rows and "NextToken" not in req:
            raise ResourceNotFound(f"Arn: no history of {arn}")
        out: dict[str, Any] = {"Changes": [_change(r) for r in rows[:max_results]]}
        if len(rows) > max_results:
            last = rows[max_results - 1]
            out["NextToken"] = encode_token([last.at, last.id], request_print)
        return out

    # -- PruneHistory -------------------------------------------------------------------------
    def _prune_history(self, **request: Any) -> dict[str, Any]:
        """Drop the changes made before ``Before``, keeping what the state at ``Before`` and
        after needs: one ``Snapshot`` per entity that existed then, and the ``AddAssociation``
        of each association that existed then. Live data is not altered (the creations kept in
        live rows before ``Before`` go to the log first, to be pruned like the rest)."""
        req = check_members(request, ("Before",), ("Before",))
        before = datetime_to_us(req["Before"], "Before")

        def tx(conn: Connection) -> dict[str, int]:
            c = changes.c
            deferred.write_before(conn, self.scope, before)
            old = conn.execute(
                select(c.id, c.at, c.arn, c.peer_arn, c.op, c.actor, c.detail)
                .where(c.scope == self.scope, c.at < before, c.op != deferred.MARKER)
                .order_by(c.at, c.id)
            ).all()
            states: dict[str, replay.State | None] = {}
            last_entity: dict[str, Any] = {}
            last_edge: dict[tuple[str, str], Any] = {}
            born: dict[str, int] = {}  # the log position of each entity's start
            for row in old:
                if row.peer_arn is None:
                    states[row.arn] = replay.apply(
                        states.get(row.arn), row.arn, row.op, row.at, row.actor, row.detail
                    )
                    last_entity[row.arn] = row
                    if row.op.startswith("Create") or row.op == replay.SNAPSHOT:
                        born[row.arn] = row.id
                else:
                    last_edge[(row.arn, row.peer_arn)] = row
            # In the order the entities were made, not by time of last change: entities made
            # by one call share a creation time, and an AsOf list breaks that tie by this order.
            alive = {arn: state for arn, state in states.items() if state is not None}
            kept: list[dict[str, Any]] = [
                {
                    "at": last_entity[arn].at,
                    "scope": self.scope,
                    "arn": arn,
                    "peer_arn": None,
                    "op": replay.SNAPSHOT,
                    "actor": last_entity[arn].actor,
                    "detail": json.dumps(replay.snapshot_detail(alive[arn]), separators=(",", ":")),
                }
                for arn in sorted(alive, key=born.__getitem__)
            ]
            kept += [
                {
                    "at": row.at,
                    "scope": self.scope,
                    "arn": row.arn,
                    "peer_arn": row.peer_arn,
                    "op": row.op,
                    "actor": row.actor,
                    "detail": row.detail,
                }
                for row in sorted(last_edge.values(), key=lambda row: (row.at, row.id))
                if row.op == "AddAssociation"
            ]
            conn.execute(delete(changes).where(c.scope == self.scope, c.at < before))
            deferred.keep_ids_free(conn, now_us(), self.scope, self.actor_json)
            INSERT_CHANGE.run_many(conn, kept)
            return {"RemovedChanges": len(old) - len(kept), "KeptChanges": len(kept)}

        return self.db.run(tx, write=True)


def _entity_change() -> ColumnElement[bool]:
    return func.coalesce(changes.c.peer_arn, "") == ""


def _vertex_log_order(row: tuple[Any, ...]) -> tuple[int, int]:
    return row[2], row[4]


def _log_order(row: tuple[Any, ...]) -> tuple[int, int]:
    """(at, id): the order in which changes happened."""
    return row[2], row[5]


def _association_type(detail: str) -> str:
    """The ``type`` of an association change's detail, which the store writes first."""
    if detail.startswith('{"type":"'):
        return detail[9 : detail.index('"', 9)]
    return str(json.loads(detail)["type"])


def _vertex_properties(row: tuple[Any, ...]) -> dict[str, str]:
    """``traversal.vertex_properties`` for a replayed vertex, whose properties are a dict."""
    return {**row[7], **vertex_properties((*row[:7], "{}", *row[8:]))}


def _time(request: dict[str, Any], key: str) -> int | None:
    return datetime_to_us(request[key], key) if key in request else None


def _change(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ChangeTime": us_to_datetime(row.at),
        "Operation": row.op,
        "Arn": row.arn,
    }
    if row.peer_arn is not None:
        out["PeerArn"] = row.peer_arn
    out["Actor"] = json.loads(row.actor)
    out["Detail"] = json.loads(row.detail)
    return out
