"""PutLineage: many entities and associations in one atomic call, at bulk speed.

The extension behind ``Session.bulk()``. Every entity and association obeys the rules of the
single-item operations (validation, identity, the DAG, the per-entity limit); the call writes
all of them or nothing. Speed comes from doing per batch what the single operations do per
item: one identity check, one position assignment, multi-row inserts, and the checks of
plain entities made a column at a time (``bulk_columns.py``).

New entities take ids in an order that respects the new associations among them (the
request's own order where it does), and are written and logged in that order. An id is also a
position in the topological order, so associations among new entities, and from existing ones
below them, need no search at all; when an association comes from an existing entity placed
above them, they take fresh positions above every one in use instead.
"""

from __future__ import annotations

import functools
import heapq
import json
import operator
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any

from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mllineage import limits, validation
from mllineage.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException
from mllineage.store.common import (
    check_members,
    collector_paused,
    datetime_to_us,
    dumps,
    now_us,
)
from mllineage.store.sql import dag, deferred
from mllineage.store.sql.associations import AssociationOps
from mllineage.store.sql.bulk_columns import (
    ARN,
    COLUMNS,
    EDGE_MEMBERS,
    ID,
    KIND,
    LOG_ID,
    NAME,
    NAME_KEY,
    SHARED,
    SOURCE,
    SOURCE_KEY,
    SOURCE_URI,
    TOPO,
    Edges,
    as_row,
    entity_rows,
    new_edges,
)
from mllineage.store.sql.core import KINDS
from mllineage.store.sql.engine import RowInsert
from mllineage.store.sql.entities import _CREATE_MEMBERS, EntityOps
from mllineage.store.sql.graph_sql import _rows, chunks, entities_where, fresh_ids
from mllineage.store.sql.group_commit import CAPTURE
from mllineage.store.sql.schema import URI_KEY, URI_KEY_CHARS, associations, changes, entities

MAX_ITEMS = 1_000_000
# The rows a call adds to a table, at least, before it builds the table's indexes again
# rather than inserting into them (dropping and creating them takes ~15 ms).
REBUILD_MIN_ROWS = 10_000
# On PostgreSQL, the rows a call adds to a table, at least, before it analyzes the table (with
# a tenth of what the table's statistics count: see statistics_refreshed).
ANALYZE_MIN_ROWS = 10_000
# With Restore=True, entities and associations keep what an export recorded of them.
_RESTORE_ENTITY = ("Arn", "CreationTime", "CreatedBy", "LastModifiedTime", "LastModifiedBy")
_RESTORE_EDGE = ("CreationTime", "CreatedBy")
_HEX32 = re.compile("[0-9a-f]{32}")
_CREATE_OP = {kind: f"Create{KINDS[kind].noun}" for kind in KINDS}
_ITEM_MEMBERS = {kind: members | {"EntityKind"} for kind, members in _CREATE_MEMBERS.items()}


# Rows go to the driver as sequences: entities as the lists of bulk_columns, with the ids the
# call gives them.
INSERT_ENTITY_ROWS = RowInsert(entities, COLUMNS)
_SOURCE_ID = operator.itemgetter(0)
_STAMP_AT, _STAMP_BY = operator.itemgetter(0), operator.itemgetter(1)
INSERT_EDGE_ROWS = RowInsert(associations, tuple(c.name for c in associations.columns))
# What the associations of a call share, unless they are restored.
_SHARED_BY_EDGES = ("scope", "created_at", "created_by")
INSERT_CHANGE_ROWS = RowInsert(changes, tuple(c.name for c in changes.columns)[1:])


class _IdentityTaken(Exception):
    """A new entity's ARN or source exists: a unique index refused the call's insert."""


class BulkOps(EntityOps, AssociationOps):
    """The PutLineage extension."""

    @collector_paused()  # (a call makes tens of thousands of new containers)
    def _put_lineage(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, ("Entities", "Associations", "Restore"))
        restore = validation.check_bool(req.get("Restore", False), "Restore")
        entity_requests = _items(req.get("Entities", []), "Entities")
        edge_requests = _items(req.get("Associations", []), "Associations")
        if len(entity_requests) + len(edge_requests) > MAX_ITEMS:
            raise ValueError(f"PutLineage takes at most {MAX_ITEMS:,} items per call")
        at = now_us()
        plain = None
        if restore:
            prepared = [self._bulk_row(i, e, at, True) for i, e in enumerate(entity_requests)]
            rows = [as_row(row) for row, _ in prepared]
        else:
            # Plain entities are checked a column at a time (bulk_columns.py); a request with
            # any other entity, or one at fault, item by item (which names it and the rule).
            prepared = []
            plain = entity_rows(entity_requests, at, self.scope, self.actor_json)
            rows = plain or [
                as_row(self._bulk_row(i, e, at, False)[0]) for i, e in enumerate(entity_requests)
            ]
        _refuse_duplicate_identities(rows)
        stamps = (
            [self._edge_stamp(i, e, at, restore) for i, e in enumerate(edge_requests)]
            if restore
            else [(at, self.actor_json)] * len(edge_requests)
        )
        # Plain associations (between new entities) are checked a column at a time too.
        edges = (None if restore else new_edges(edge_requests, len(rows))) or _bulk_edges(
            [_without(e, _RESTORE_EDGE) for e in edge_requests] if restore else edge_requests,
            len(rows),
        )
        order = _new_order(len(rows), edges)

        def tx(conn: Connection, look_first: bool) -> list[str]:
            self._lock_dag(conn)
            if look_first:
                self._refuse_existing_identities(conn, rows)
                if restore:
                    self._refuse_existing_arns(conn, [row[ARN] for row in rows])
            existing = self._existing_ends(conn, edges)
            ids = fresh_ids(conn, "entities", len(rows))
            # A restore logs each item with what was exported of it; otherwise the creation
            # changes stay in the new rows (deferred.py): ids in the log, no rows written.
            count = len(rows) + len(edges.types)
            log_ids: Sequence[int | None] = (
                [None] * count
                if restore or not count
                else deferred.reserve(conn, count, at, self.scope, self.actor_json)
            )
            positions = _stored_positions(conn, ids, edges, existing)
            for index, entity_id, topo, log_id in zip(
                order, ids, positions, log_ids[: len(rows)], strict=True
            ):
                row = rows[index]
                row[ID], row[TOPO], row[LOG_ID] = entity_id, topo, log_id
            try:
                with indexes_rebuilt(conn, entities, len(rows)):
                    INSERT_ENTITY_ROWS.run_many(
                        conn, [rows[i] for i in order], SHARED if plain else ()
                    )
            except IntegrityError:
                if look_first:
                    raise
                raise _IdentityTaken from None
            self._insert_edges(
                conn, edges, rows, existing, stamps, log_ids[len(rows) :], same_stamps=not restore
            )
            if restore:
                self._log_restored(conn, at, rows, prepared, order, edges, stamps)
            return [row[ARN] for row in rows]

        # The unique indexes refuse an ARN or a source that exists: only then are the new
        # identities looked up, to say which (or to find that the call raced a delete).
        try:
            arns = self.db.run(functools.partial(tx, look_first=False), write=True)
        except _IdentityTaken:
            arns = self.db.run(functools.partial(tx, look_first=True), write=True)
        if not self.db.is_sqlite:
            self.db.run(
                lambda conn: statistics_refreshed(conn, len(rows), len(edges.types)), write=True
            )
        return {"Arns": arns, "AssociationCount": len(edges.types)}

    def _log_restored(
        self,
        conn: Connection,
        at: int,
        rows: list[list[Any]],
        prepared: list[tuple[dict[str, Any], dict[str, Any]]],
        order: list[int],
        edges: Edges,
        stamps: list[tuple[int, str]],
    ) -> None:
        """The change log of a restore: each item with the times and people exported of it."""
        log: list[tuple[Any, ...]] = [
            (
                at,
                self.scope,
                rows[i][ARN],
                None,
                _CREATE_OP[rows[i][KIND]],
                self.actor_json,
                dumps(prepared[i][1] | _restored_entity(prepared[i][0])),
            )
            for i in order
        ]
        log += [
            (
                at,
                self.scope,
                _arn_of(s, rows, edges),
                _arn_of(d, rows, edges),
                "AddAssociation",
                self.actor_json,
                dumps({"type": t} | _restored_edge(stamp)),
            )
            for s, d, t, stamp in zip(*edges[:3], stamps, strict=True)
        ]
        INSERT_CHANGE_ROWS.run_many(conn, log)

    def _bulk_row(
        self, index: int, item: Any, at: int, restore: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if not validation.is_mapping(item):
            raise ValueError(f"Entities[{index}] must be a dict, got {type(item).__name__}")
        kind = item.get("EntityKind")
        if kind not in validation.ENTITY_KINDS:  # (the message is made only when needed)
            validation.check_choice(kind, f"Entities[{index}].EntityKind", validation.ENTITY_KINDS)
        if not restore and _ITEM_MEMBERS[kind].issuperset(item):
            try:  # (the item as it is: its EntityKind is not read again)
                return self._prepare_members(kind, item, at)
            except ValueError as error:
                raise ValueError(f"Entities[{index}]: {error}") from None
        body = dict(item)
        del body["EntityKind"]
        kept = {k: body.pop(k) for k in _RESTORE_ENTITY if k in body} if restore else {}
        try:
            row, state = self._prepare(kind, body, at)
            if restore:
                self._restore_row(row, kept)
        except ValueError as error:
            raise ValueError(f"Entities[{index}]: {error}") from None
        return row, state

    def _restore_row(self, row: dict[str, Any], kept: dict[str, Any]) -> None:
        """Keep an exported entity's ARN, times and people (``Restore=True``)."""
        missing = [k for k in _RESTORE_ENTITY if k not in kept]
        if missing:
            raise ValueError(f"Restore needs {', '.join(missing)}")
        parsed = validation.parse_arn(kept["Arn"], "Arn", (row["kind"],))
        if parsed.scope != self.scope:
            raise ValueError(
                f"Arn {parsed.arn} belongs to another region or account than this store's "
                f"({self.scope}); import it with new ARNs instead"
            )
        expected = row["name_key"] if row["kind"] != "artifact" else None
        if (expected is not None and parsed.resource != expected) or (
            expected is None and not _HEX32.fullmatch(parsed.resource)
        ):
            raise ValueError(f"Arn {parsed.arn} is not the ARN this {row['kind']} would have")
        row["arn"] = parsed.arn
        row["created_at"] = datetime_to_us(kept["CreationTime"], "CreationTime")
        row["modified_at"] = datetime_to_us(kept["LastModifiedTime"], "LastModifiedTime")
        if row["modified_at"] < row["created_at"]:
            raise ValueError("LastModifiedTime is before CreationTime")
        row["created_by"] = _user_context(kept["CreatedBy"], "CreatedBy")
        row["modified_by"] = _user_context(kept["LastModifiedBy"], "LastModifiedBy")

    def _edge_stamp(self, index: int, item: Any, at: int, restore: bool) -> tuple[int, str]:
        """(created_at, created_by) of an association: now and the caller, or as exported."""
        if not restore or not isinstance(item, Mapping):
            return at, self.actor_json
        arg = f"Associations[{index}]"
        missing = [k for k in _RESTORE_EDGE if k not in item]
        if missing:
            raise ValueError(f"{arg}: Restore needs {', '.join(missing)}")
        return (
            datetime_to_us(item["CreationTime"], f"{arg}.CreationTime"),
            _user_context(item["CreatedBy"], f"{arg}.CreatedBy"),
        )

    def _refuse_existing_arns(self, conn: Connection, arns: list[str]) -> None:
        for (arn,) in entities_where(conn, "arn", "arn", arns):
            raise ValidationException(f"{arn} already exists")

    def _refuse_existing_identities(self, conn: Connection, rows: list[list[Any]]) -> None:
        named = [r[ARN] for r in rows if r[NAME_KEY] is not None]
        # The ARN of an action or a context is its name.
        for arn, kind in entities_where(conn, "arn, kind", "arn", named):
            raise ValidationException(f"{KINDS[kind].noun} already exists: {arn}")
        keys = {r[SOURCE_KEY]: r[SOURCE_URI] for r in rows if r[SOURCE_KEY] is not None}
        # By URI through ux_entities_source (on PostgreSQL it keys the URI's prefix); an
        # artifact found may have other source types.
        by_uri, uris = (
            ("source_uri", list(keys.values()))
            if self.db.is_sqlite
            else (URI_KEY, [uri[:URI_KEY_CHARS] for uri in keys.values()])
        )
        found = entities_where(
            conn, "arn, source_uri, source_key", by_uri, uris, self.scope, "artifact"
        )
        for arn, uri, key in found:
            if key in keys:
                raise ValidationException(
                    f"Artifact with source {uri!r} (and the same source types) already exists: "
                    f"{arn}"
                )

    def _existing_ends(self, conn: Connection, edges: Edges) -> list[tuple[int, int]]:
        """(id, position) of each existing entity an association names, in ``edges.arns``'s
        order."""
        arns = sorted(edges.arns)
        found = {
            arn: (entity_id, topo if topo is not None else entity_id)
            for arn, entity_id, topo, scope in entities_where(
                conn, "arn, id, topo, scope", "arn", arns
            )
            if scope == self.scope
        }
        missing = [a for a in arns if a not in found]
        if missing:
            raise ResourceNotFound(
                f"Associations: no artifact, action or context with ARN {', '.join(missing[:5])}"
            )
        return [found[arn] for arn in edges.arns]

    def _insert_edges(
        self,
        conn: Connection,
        edges: Edges,
        rows: list[list[Any]],
        existing: list[tuple[int, int]],
        stamps: list[tuple[int, str]],
        log_ids: Sequence[int | None],
        same_stamps: bool,
    ) -> None:
        sources, destinations, types, _ = edges
        # The id of each end, indexed as the ends are (an existing entity's from the end).
        ids = [r[ID] for r in rows] + [i for i, _ in reversed(existing)]
        src_ids = list(map(ids.__getitem__, sources))
        dst_ids = list(map(ids.__getitem__, destinations))
        pairs = list(zip(src_ids, dst_ids, strict=True))
        if len(set(pairs)) != len(pairs):
            raise ValidationException("Associations lists the same association twice")
        if existing:
            self._refuse_existing_edges(
                conn,
                [
                    p
                    for p, s, d in zip(pairs, sources, destinations, strict=True)
                    if s < 0 and d < 0
                ],
            )
        self._check_degrees(conn, pairs, {i for i, _ in existing})
        created_at, created_by = (
            (repeat(stamps[0][0]), repeat(stamps[0][1]))
            if stamps and same_stamps
            else (map(_STAMP_AT, stamps), map(_STAMP_BY, stamps))
        )
        edge_rows = list(
            zip(src_ids, dst_ids, types, repeat(self.scope), created_at, created_by, log_ids)
        )
        # New entities are placed in an order that keeps the associations among them forward
        # (source before destination): only one with an existing end may need the DAG check.
        backward = []
        if existing:
            position = [r[TOPO] or r[ID] for r in rows] + [p for _, p in reversed(existing)]
            backward = [
                i
                for i, (s, d) in enumerate(zip(sources, destinations, strict=True))
                if (s < 0 or d < 0) and position[s] >= position[d]
            ]
        skip = set(backward)
        forward = [row for i, row in enumerate(edge_rows) if i not in skip]
        # In key order: the table is clustered on (src_id, dst_id), and SQLite inserts keys
        # that come in order twice as fast as keys in the request's order (pages stay hot).
        forward.sort(key=_SOURCE_ID)
        with indexes_rebuilt(conn, associations, len(forward)):
            INSERT_EDGE_ROWS.run_many(conn, forward, _SHARED_BY_EDGES if same_stamps else ())
        for index in backward:
            src_id, dst_id = pairs[index]
            try:
                dag.order_for_edge(
                    conn, src_id, _position(conn, src_id), dst_id, _position(conn, dst_id)
                )
            except dag.CycleError:
                raise ValidationException(
                    "Associations would create a cycle (lineage is a DAG)"
                ) from None
            INSERT_EDGE_ROWS.run_many(conn, [edge_rows[index]])

    def _refuse_existing_edges(self, conn: Connection, pairs: list[tuple[int, int]]) -> None:
        for part in chunks(pairs):
            found = conn.execute(
                select(associations.c.src_id).where(
                    tuple_(associations.c.src_id, associations.c.dst_id).in_(part)
                )
            ).first()
            if found is not None:
                raise ValidationException("Associations lists an association that exists")

    def _check_degrees(
        self, conn: Connection, pairs: list[tuple[int, int]], existing_ids: set[int]
    ) -> None:
        added = Counter(map(operator.itemgetter(0), pairs))
        added.update(map(operator.itemgetter(1), pairs))
        if (
            not existing_ids
            and max(added.values(), default=0) <= limits.MAX_ASSOCIATIONS_PER_ENTITY
        ):
            return  # (the loop below, made short: no entity to look up)
        for entity_id, count in added.items():
            total = count + (self._degree(conn, entity_id) if entity_id in existing_ids else 0)
            if total > limits.MAX_ASSOCIATIONS_PER_ENTITY:
                raise ResourceLimitExceeded(
                    f"an entity would have {total} associations; at most "
                    f"{limits.MAX_ASSOCIATIONS_PER_ENTITY} are allowed per entity"
                )


@contextmanager
def indexes_rebuilt(conn: Connection, table: Table, adding: int) -> Iterator[None]:
    """Around the insert of ``adding`` rows into ``table``: on SQLite, when they are many and
    at least as many as the table holds (a store's first load, an import into a new store),
    drop the table's secondary indexes and create them again after the insert. SQLite builds
    an index from its sorted keys faster than it inserts the same keys one by one. Both happen
    in the call's transaction: a unique index refuses a duplicate when it is created, and the
    call fails as the insert would have. The primary key and the unique ARN stay (the call
    reads them)."""
    if (
        conn.dialect.name != "sqlite"
        or adding < REBUILD_MIN_ROWS
        or _holds_more(table, adding, conn)
    ):
        yield
        return
    indexes = sorted(table.indexes, key=operator.attrgetter("name"))
    capture = CAPTURE.get()
    if capture is not None:  # (a group commit's call: it must not be replayed without these)
        capture.unrecordable()
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)


def statistics_refreshed(conn: Connection, entities_added: int, associations_added: int) -> None:
    """On PostgreSQL, after a call that grew ``entities`` or ``associations`` by at least
    ``ANALYZE_MIN_ROWS`` rows and a tenth of the rows its statistics know of (or of a table
    never analyzed): ANALYZE it now, as autovacuum would in a minute or so, or never when it is
    off. Without statistics that count the new rows, the planner reads a lineage hop of a few
    hundred ids as a tenth of the table and scans all of it (a 20 ms query took 0.5 s)."""
    for table, added in (("entities", entities_added), ("associations", associations_added)):
        if added < ANALYZE_MIN_ROWS:
            continue
        known = _rows(conn, f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass", ())
        if known[0][0] < 0 or added >= known[0][0] / 10:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _holds_more(table: Table, count: int, conn: Connection) -> bool:
    """Whether ``table`` holds more than ``count`` rows (counting at most ``count + 1``)."""
    sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table.name} LIMIT ?)"
    return bool(_rows(conn, sql, (count + 1,))[0][0] > count)


def _restored_entity(row: dict[str, Any]) -> dict[str, Any]:
    """What the change log keeps of an imported entity's own times and people, so a replay
    of its history rebuilds them."""
    return {
        "created_at": row["created_at"],
        "created_by": json.loads(row["created_by"]),
        "modified_at": row["modified_at"],
        "modified_by": json.loads(row["modified_by"]),
    }


def _restored_edge(stamp: tuple[int, str]) -> dict[str, Any]:
    return {"created_at": stamp[0], "created_by": json.loads(stamp[1])}


def _without(item: Any, keys: tuple[str, ...]) -> Any:
    return {k: v for k, v in item.items() if k not in keys} if isinstance(item, Mapping) else item


def _user_context(value: Any, arg: str) -> str:
    """A ``UserContext`` dict, as the JSON kept in the database."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{arg} must be a dict (a SageMaker UserContext)")
    text = dumps(value)
    if len(text) > 4096:
        raise ValueError(f"{arg} is longer than 4096 characters as JSON")
    return text


def _items(value: Any, arg: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValueError(f"{arg} must be a list")
    return value


def _bulk_edges(items: Sequence[Any], count: int) -> Edges:
    """The associations of ``items`` checked one by one (which names the first at fault)."""
    edges = Edges([], [], [], [])
    codes: dict[str, int] = {}  # the end of each ARN named: -1, -2, ...
    for index, item in enumerate(items):
        if not validation.is_mapping(item):
            raise ValueError(f"Associations[{index}] must be a dict, got {type(item).__name__}")
        # Three members, none None, are these and no other (check_members, made short).
        kind = item.get("AssociationType")
        if (
            len(item) != 3
            or kind is None
            or item.get("Source") is None
            or item.get("Destination") is None
        ):
            body = check_members(item, EDGE_MEMBERS, ("Source", "Destination"))
            kind = body.get("AssociationType", "AssociatedWith")
        source = _end(item["Source"], index, "Source", count, codes)
        destination = _end(item["Destination"], index, "Destination", count, codes)
        if kind not in validation.ASSOCIATION_TYPES:  # (the message is made only when needed)
            validation.check_association_type(kind, f"Associations[{index}].AssociationType")
        if source == destination:
            raise ValidationException(
                f"Associations[{index}]: an entity cannot be associated with itself"
            )
        edges.sources.append(source)
        edges.destinations.append(destination)
        edges.types.append(kind)
    edges.arns.extend(codes)
    return edges


def _end(value: Any, index: int, member: str, count: int, codes: dict[str, int]) -> int:
    """One end of ``Associations[index]``: an index into Entities, or the code of an ARN."""
    if type(value) is int and 0 <= value < count:
        return value
    arg = f"Associations[{index}].{member}"
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < count:  # (an int subclass)
            return int(value)
        raise ValueError(f"{arg} is entity index {value}, but Entities has {count} entries")
    return codes.setdefault(validation.parse_arn(value, arg).arn, -1 - len(codes))


def _arn_of(end: int, rows: list[list[Any]], edges: Edges) -> str:
    return str(rows[end][ARN]) if end >= 0 else edges.arns[-1 - end]


def _position(conn: Connection, entity_id: int) -> int:
    return int(
        conn.execute(
            select(entities.c.topo, entities.c.id).where(entities.c.id == bindparam("id")),
            {"id": entity_id},
        )
        .one()
        .topo
        or entity_id
    )


def _refuse_duplicate_identities(rows: list[list[Any]]) -> None:
    # The ARN of an action or a context is its kind and name: that of a named row will do.
    named = [row[ARN] for row in rows if row[NAME_KEY] is not None]
    keys = [row[SOURCE_KEY] for row in rows if row[SOURCE_KEY] is not None]
    if len(set(named)) == len(named) and len(set(keys)) == len(keys):
        return
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        for key in (("name", row[KIND], row[NAME_KEY]), ("source", "", row[SOURCE_KEY])):
            if key[2] is None:
                continue
            if (key[1], key[2]) in seen:
                what = (
                    f"{row[KIND]} name {row[NAME]!r}"
                    if key[0] == "name"
                    else f"artifact source {json.loads(row[SOURCE])['SourceUri']!r}"
                )
                raise ValidationException(f"Entities[{index}]: the {what} appears twice")
            seen.add((key[1], key[2]))


def _new_order(count: int, edges: Edges) -> list[int]:
    """The new entities in an order that respects the associations among them: the request's
    own order where it does (Kahn, always taking the lowest index ready)."""
    if all(map(int.__lt__, edges.sources, edges.destinations)):
        return list(range(count))  # (what Kahn's would give: every new source comes first)
    successors: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for s, d in zip(edges.sources, edges.destinations, strict=True):
        if s >= 0 and d >= 0:
            successors[s].append(d)
            indegree[d] += 1
    ready = [i for i in range(count) if indegree[i] == 0]
    order: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for nxt in successors[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(order) != count:
        raise ValidationException(
            "Associations among the new entities form a cycle (lineage is a DAG)"
        )
    return order


def _stored_positions(
    conn: Connection,
    ids: Sequence[int],
    edges: Edges,
    existing: list[tuple[int, int]],
) -> list[int | None]:
    """The ``topo`` of each new entity, given ``ids`` in the order of the associations among
    them. None (the position is the id) unless an association comes from an existing entity
    placed at or above the first of them: then fresh positions above every one in use."""
    sources = [
        existing[-1 - s][1]
        for s, d in zip(edges.sources, edges.destinations, strict=True)
        if s < 0 <= d
    ]
    if not sources or max(sources) < ids[0]:
        return [None] * len(ids)
    base = dag.top_position(conn)
    return [base + 1 + rank for rank in range(len(ids))]
