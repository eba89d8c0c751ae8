"""Add, delete and list associations; the DAG and the per-entity limit are enforced here."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.engine import Connection

from mllineage import limits, validation
from mllineage.errors import ResourceLimitExceeded, ResourceNotFound, ValidationException
from mllineage.store.common import (
    check_members,
    datetime_to_us,
    decode_position,
    encode_token,
    fingerprint,
    now_us,
    us_to_datetime,
)
from mllineage.store.sql import dag, deferred
from mllineage.store.sql.core import SqlCore
from mllineage.store.sql.engine import Statement, insert_into
from mllineage.store.sql.entities import keyset_page
from mllineage.store.sql.schema import associations, entities

# AddAssociation accepts experiment and trial-component ARNs too; mllineage stores neither, so
# they parse (and are then not found) instead of being called malformed.
_ASSOCIATION_KINDS = (*validation.ENTITY_KINDS, "experiment", "experiment-trial-component")
_LIST_MEMBERS = (
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
_SORT_BY = ("SourceArn", "DestinationArn", "SourceType", "DestinationType", "CreationTime")


# Hot-path statements, built once.
_ENDS = Statement(
    "SELECT id, arn, scope, COALESCE(topo, id) AS topo FROM entities WHERE arn IN (:src, :dst)"
)


def _degree_of(entity_id: str) -> str:
    """SQL for how many associations the entity with id ``entity_id`` (a parameter or a
    column) has (either end)."""
    return (
        f"(SELECT COUNT(*) FROM associations WHERE src_id = {entity_id}) "
        f"+ (SELECT COUNT(*) FROM associations WHERE dst_id = {entity_id})"
    )


# Both ends of a new association (in the caller's scope), whether it exists, and how many
# associations each end has (the per-entity limit): one statement, no row if an end is missing.
_ENDS_AND_CHECKS = Statement(
    "SELECT s.id, COALESCE(s.topo, s.id), d.id, COALESCE(d.topo, d.id), "
    "(SELECT type FROM associations WHERE src_id = s.id AND dst_id = d.id), "
    f"{_degree_of('s.id')}, {_degree_of('d.id')} "
    "FROM entities s, entities d "
    "WHERE s.arn = :src AND s.scope = :scope AND d.arn = :dst AND d.scope = :scope"
)
_DEGREE = Statement(f"SELECT {_degree_of(':id')}")
INSERT_EDGE = insert_into(associations)


class End(NamedTuple):
    id: int
    arn: str
    scope: str
    topo: int


class AssociationOps(SqlCore):
    """Associations between entities."""

    def _ends(self, conn: Connection, source_arn: str, destination_arn: str) -> tuple[End, End]:
        rows = _ENDS.run(conn, {"src": source_arn, "dst": destination_arn}).fetchall()
        by_arn = {end.arn: end for end in map(End._make, rows) if end.scope == self.scope}
        for arn, arg in ((source_arn, "SourceArn"), (destination_arn, "DestinationArn")):
            if arn not in by_arn:
                raise ResourceNotFound(f"{arg}: no artifact, action or context with ARN {arn}")
        return by_arn[source_arn], by_arn[destination_arn]

    def _add_association(self, **request: Any) -> dict[str, Any]:
        req = check_members(
            request,
            ("SourceArn", "DestinationArn", "AssociationType"),
            ("SourceArn", "DestinationArn"),
        )
        source_arn = validation.parse_arn(req["SourceArn"], "SourceArn", _ASSOCIATION_KINDS).arn
        dest_arn = validation.parse_arn(
            req["DestinationArn"], "DestinationArn", _ASSOCIATION_KINDS
        ).arn
        assoc_type = validation.check_association_type(
            req.get("AssociationType", "AssociatedWith"), "AssociationType"
        )

        def tx(conn: Connection) -> None:
            self._lock_dag(conn)
            found = _ENDS_AND_CHECKS.first(
                conn, {"src": source_arn, "dst": dest_arn, "scope": self.scope}
            )
            if found is None:
                self._ends(conn, source_arn, dest_arn)  # raises, naming the end that is missing
                raise AssertionError("unreachable: both ends exist")
            src_id, src_topo, dst_id, dst_topo, exists, *degrees = found
            src = End(src_id, source_arn, self.scope, src_topo)
            dst = End(dst_id, dest_arn, self.scope, dst_topo)
            if src.id == dst.id:
                raise ValidationException(
                    f"an entity cannot be associated with itself ({source_arn}): lineage is a DAG"
                )
            if exists is not None:
                raise ValidationException(
                    f"the association {source_arn} -> {dest_arn} already exists ({exists})"
                )
            for end, degree in zip((src, dst), degrees, strict=True):
                if degree >= limits.MAX_ASSOCIATIONS_PER_ENTITY:
                    raise ResourceLimitExceeded(
                        f"{end.arn} already has {degree} associations; at most "
                        f"{limits.MAX_ASSOCIATIONS_PER_ENTITY} are allowed per entity"
                    )
            try:
                dag.order_for_edge(conn, src.id, src.topo, dst.id, dst.topo)
            except dag.CycleError:
                raise ValidationException(
                    f"the association {source_arn} -> {dest_arn} would create a cycle: "
                    "the destination already leads to the source (lineage is a DAG)"
                ) from None
            at = now_us()
            # In a group-committed call the change stays in the row (deferred.py).
            log_id = deferred.take_log_id(conn, at, self.scope, self.actor_json)
            INSERT_EDGE.run(
                conn,
                {
                    "src_id": src.id,
                    "dst_id": dst.id,
                    "type": assoc_type,
                    "scope": self.scope,
                    "created_at": at,
                    "created_by": self.actor_json,
                    "log_id": log_id,
                },
            )
            if log_id is None:
                self._record(
                    conn,
                    at,
                    source_arn,
                    "AddAssociation",
                    deferred.type_detail(assoc_type),
                    peer_arn=dest_arn,
                )

        self.db.run(tx, write=True)
        return {"SourceArn": source_arn, "DestinationArn": dest_arn}

    def _degree(self, conn: Connection, entity_id: int) -> int:
        return int(_DEGREE.run(conn, {"id": entity_id}).fetchone()[0])

    def _delete_association(self, **request: Any) -> dict[str, Any]:
        req = check_members(
            request, ("SourceArn", "DestinationArn"), ("SourceArn", "DestinationArn")
        )
        source_arn = validation.parse_arn(req["SourceArn"], "SourceArn", _ASSOCIATION_KINDS).arn
        dest_arn = validation.parse_arn(
            req["DestinationArn"], "DestinationArn", _ASSOCIATION_KINDS
        ).arn

        def tx(conn: Connection) -> None:
            src, dst = self._ends(conn, source_arn, dest_arn)
            deferred.write_edges(conn, src.id, dst.id)
            gone = conn.execute(
                delete(associations)
                .where(associations.c.src_id == src.id, associations.c.dst_id == dst.id)
                .returning(associations.c.type)
            ).first()
            if gone is None:
                raise ResourceNotFound(f"no association {source_arn} -> {dest_arn}")
            self._record(
                conn,
                now_us(),
                source_arn,
                "DeleteAssociation",
                {"type": gone.type},
                peer_arn=dest_arn,
            )

        self.db.run(tx, write=True)
        return {"SourceArn": source_arn, "DestinationArn": dest_arn}

    def _list_associations(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, _LIST_MEMBERS)
        src = entities.alias("s")
        dst = entities.alias("d")
        a = associations
        where: list[ColumnElement[bool]] = [a.c.scope == self.scope]
        for key, alias in (("SourceArn", src), ("DestinationArn", dst)):
            if key in req:
                arn = validation.parse_arn(req[key], key, _ASSOCIATION_KINDS).arn
                where.append(alias.c.arn == arn)
        for key, alias in (("SourceType", src), ("DestinationType", dst)):
            if key in req:
                where.append(alias.c.type == validation.check_entity_type(req[key], key))
        if "AssociationType" in req:
            where.append(
                a.c.type
                == validation.check_association_type(req["AssociationType"], "AssociationType")
            )
        if "CreatedAfter" in req:
            where.append(a.c.created_at >= datetime_to_us(req["CreatedAfter"], "CreatedAfter"))
        if "CreatedBefore" in req:
            where.append(a.c.created_at <= datetime_to_us(req["CreatedBefore"], "CreatedBefore"))
        sort_by = validation.check_choice(req.get("SortBy", "CreationTime"), "SortBy", _SORT_BY)
        order = validation.check_choice(
            req.get("SortOrder", "Descending"), "SortOrder", validation.SORT_ORDERS
        )
        max_results = validation.check_int(
            req.get("MaxResults", limits.LIST_DEFAULT_MAX_RESULTS_WIRE),
            "MaxResults",
            1,
            limits.LIST_MAX_RESULTS,
        )
        sort_col = {
            "SourceArn": src.c.arn,
            "DestinationArn": dst.c.arn,
            "SourceType": src.c.type,
            "DestinationType": dst.c.type,
            "CreationTime": a.c.created_at,
        }[sort_by]
        request_print = fingerprint(
            {k: str(v) for k, v in req.items() if k not in ("NextToken", "MaxResults")}
        )
        after = None
        if "NextToken" in req:
            last_value, last_src, last_dst = decode_position(
                req["NextToken"],
                request_print,
                (int if sort_by == "CreationTime" else str, int, int),
            )
            after = (last_value, (last_src, last_dst))
        query = (
            select(
                a.c.src_id,
                a.c.dst_id,
                a.c.type,
                a.c.created_at,
                a.c.created_by,
                src.c.arn.label("src_arn"),
                src.c.type.label("src_type"),
                src.c.name.label("src_name"),
                dst.c.arn.label("dst_arn"),
                dst.c.type.label("dst_type"),
                dst.c.name.label("dst_name"),
                sort_col.label("sort_value"),
            )
            .select_from(a.join(src, src.c.id == a.c.src_id).join(dst, dst.c.id == a.c.dst_id))
            .where(and_(*where))
        )
        rows = self.db.run(
            lambda conn: keyset_page(
                conn, query, sort_col, order, (a.c.src_id, a.c.dst_id), after, max_results + 1
            ),
            write=False,
        )
        out: dict[str, Any] = {"AssociationSummaries": []}
        for row in rows[:max_results]:
            summary = {
                "SourceArn": row.src_arn,
                "DestinationArn": row.dst_arn,
                "SourceType": row.src_type,
                "DestinationType": row.dst_type,
                "AssociationType": row.type,
            }
            if row.src_name is not None:
                summary["SourceName"] = row.src_name
            if row.dst_name is not None:
                summary["DestinationName"] = row.dst_name
            summary["CreationTime"] = us_to_datetime(row.created_at)
            summary["CreatedBy"] = json.loads(row.created_by)
            out["AssociationSummaries"].append(summary)
        if len(rows) > max_results:
            last = rows[max_results - 1]
            out["NextToken"] = encode_token(
                [last.sort_value, last.src_id, last.dst_id], request_print
            )
        return out
