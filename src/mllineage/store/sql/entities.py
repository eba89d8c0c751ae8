"""Create, describe, list, update and delete artifacts, actions and contexts."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Row,
    Select,
    and_,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mllineage import limits, validation
from mllineage.errors import ResourceNotFound, ValidationException
from mllineage.store.common import (
    check_members,
    datetime_to_us,
    decode_position,
    dumps,
    encode_token,
    fingerprint,
    now_us,
    us_to_datetime,
)
from mllineage.store.sql import deferred
from mllineage.store.sql.browse import name_prefix_condition, properties_condition
from mllineage.store.sql.core import KINDS, Kind, SqlCore
from mllineage.store.sql.engine import Statement, insert_into
from mllineage.store.sql.schema import URI_KEY_CHARS, associations, entities, uri_key

_CREATE_MEMBERS = {
    "artifact": frozenset(
        {"ArtifactName", "Source", "ArtifactType", "Properties", "MetadataProperties", "Tags"}
    ),
    "action": frozenset(
        {
            "ActionName",
            "Source",
            "ActionType",
            "Description",
            "Status",
            "Properties",
            "MetadataProperties",
            "Tags",
        }
    ),
    "context": frozenset(
        {"ContextName", "Source", "ContextType", "Description", "Properties", "Tags"}
    ),
}
# Listed in the order a missing-members message names them.
_CREATE_REQUIRED = {
    kind: (KINDS[kind].type_key,) + ((KINDS[kind].name_key,) if kind != "artifact" else ())
    for kind in _CREATE_MEMBERS
}
_UPDATE_MEMBERS = {
    "artifact": ("ArtifactArn", "ArtifactName", "Properties", "PropertiesToRemove"),
    "action": ("ActionName", "Description", "Status", "Properties", "PropertiesToRemove"),
    "context": ("ContextName", "Description", "Properties", "PropertiesToRemove"),
}
_LIST_MEMBERS = (
    "SourceUri",
    "CreatedAfter",
    "CreatedBefore",
    "SortBy",
    "SortOrder",
    "NextToken",
    "MaxResults",
)
_SORT_BY = {
    "artifact": ("CreationTime",),
    "action": ("Name", "CreationTime"),
    "context": ("Name", "CreationTime"),
}
#: ListEntityDetails (an extension) also filters by name prefix and property values, and sorts
#: artifacts by name too (an unnamed artifact sorts as "").
_DETAIL_MEMBERS = ("NamePrefix", "Properties")
_DETAIL_SORT_BY = ("Name", "CreationTime")


_ARTIFACT_NAME = func.coalesce(entities.c.name, "")
INSERT_ENTITY = insert_into(entities)
# PostgreSQL: a new entity and its creation's change in one statement (a row that conflicts
# with an existing identity is skipped, and so is its change: rowcount 0).
_CREATE_LOGGED = Statement(
    f"WITH made AS ({INSERT_ENTITY.sql} ON CONFLICT DO NOTHING RETURNING arn) "
    "INSERT INTO changes (at, scope, arn, op, actor, detail) "
    "SELECT :at, :scope, made.arn, :op, :actor, :detail FROM made"
)
_NAME_BY_ARN = Statement("SELECT name FROM entities WHERE arn = :arn")


def _with_source(scope: str, uri: str, key: str) -> list[ColumnElement[bool]]:
    """The artifact of ``scope`` whose source has ``uri`` and ``key`` (its source_key), as
    ux_entities_source finds it (it keys the URI's prefix on PostgreSQL)."""
    return [
        entities.c.scope == scope,
        entities.c.kind == "artifact",
        entities.c.source_uri == uri,
        uri_key == uri[:URI_KEY_CHARS],
        entities.c.source_key == key,
    ]


def source_key(source: dict[str, Any]) -> str:
    """An artifact's identity: its source URI and its source types, in any order."""
    types = source.get("SourceTypes")
    if not types:
        return uri_source_key(encode_basestring(source["SourceUri"]))
    types = sorted((t["SourceIdType"], t["Value"]) for t in types)
    return hashlib.sha256(dumps([source["SourceUri"], types]).encode()).hexdigest()


def uri_source_key(quoted_uri: str) -> str:
    """The :func:`source_key` of a source that is a URI alone, from the URI's JSON string
    (``json.encoder.encode_basestring``): what ``dumps([uri, []])`` would write, hashed."""
    return hashlib.sha256(f"[{quoted_uri},[]]".encode()).hexdigest()


def artifact_ids(at: int, count: int = 1) -> list[str]:
    """The 32 hex digits that end the ARNs of ``count`` artifacts made at ``at`` (µs): the
    millisecond, then 80 random bits (drawn in one call for all of them). Artifacts made about
    the same time sit together in the unique ARN index, so a large store takes new ones on its
    last pages rather than on random ones (a 1M-vertex bulk build 8-12% faster); 80 random bits
    keep ARNs unguessable and apart."""
    stamp = f"{at // 1000:012x}"
    random_hex = os.urandom(10 * count).hex()
    return [stamp + random_hex[i : i + 20] for i in range(0, len(random_hex), 20)]


def artifact_id(at: int) -> str:
    """``artifact_ids(at)[0]``, for a single create."""
    return f"{at // 1000:012x}{os.urandom(10).hex()}"


def source_uri_condition(uri: str, *, by_prefix: bool) -> ColumnElement[bool]:
    """``uri`` itself or anything below it at a path boundary, as an index range; with
    ``by_prefix`` (PostgreSQL), also as the range of the URI prefix its index keys."""
    column = entities.c.source_uri
    # One range, from the URI to the end of what starts with it, and in it the URI and what
    # follows a "/" (not "s3://b/data-2", which sorts between them): a single range is what
    # a planner reads through the index.
    low, high = uri, uri[:-1] + "0" if uri.endswith("/") else uri + "0"
    terms = [column >= low, column < high]
    if not uri.endswith("/"):
        terms.append(or_(column == uri, column >= uri + "/"))
    if by_prefix:  # (a URI at or above low has a prefix at or above low's; below high, likewise)
        terms += [uri_key >= low[:URI_KEY_CHARS], uri_key <= high[:URI_KEY_CHARS]]
    return and_(*terms)


def describe_row(kind: Kind, row: Row[Any]) -> dict[str, Any]:
    """A Describe response from an ``entities`` row."""
    out: dict[str, Any] = {}
    if row.name is not None:
        out[kind.name_key] = row.name
    out[kind.arn_key] = row.arn
    if row.source is not None:
        out["Source"] = json.loads(row.source)
    out[kind.type_key] = row.type
    if row.description is not None:
        out["Description"] = row.description
    if row.status is not None:
        out["Status"] = row.status
    out["Properties"] = json.loads(row.properties)
    out["CreationTime"] = us_to_datetime(row.created_at)
    out["CreatedBy"] = json.loads(row.created_by)
    out["LastModifiedTime"] = us_to_datetime(row.modified_at)
    out["LastModifiedBy"] = json.loads(row.modified_by)
    if row.metadata is not None:
        out["MetadataProperties"] = json.loads(row.metadata)
    return out


def summary_row(kind: Kind, row: Row[Any]) -> dict[str, Any]:
    """A List summary from an ``entities`` row."""
    out: dict[str, Any] = {kind.arn_key: row.arn}
    if row.name is not None:
        out[kind.name_key] = row.name
    if row.source is not None:
        out["Source"] = json.loads(row.source)
    out[kind.type_key] = row.type
    if kind.kind == "action" and row.status is not None:
        out["Status"] = row.status
    out["CreationTime"] = us_to_datetime(row.created_at)
    out["LastModifiedTime"] = us_to_datetime(row.modified_at)
    return out


def state_of(row: Row[Any]) -> dict[str, Any]:
    """Everything about an entity, for the change log's create and delete records."""
    return {
        "kind": row.kind,
        "name": row.name,
        "type": row.type,
        "source": json.loads(row.source) if row.source else None,
        "description": row.description,
        "status": row.status,
        "properties": json.loads(row.properties),
        "metadata": json.loads(row.metadata) if row.metadata else None,
        "tags": json.loads(row.tags),
        "created_at": row.created_at,
        "created_by": json.loads(row.created_by),
    }


class EntityOps(SqlCore):
    """Artifacts, actions and contexts."""

    # -- create -----------------------------------------------------------------------------
    def _prepare(
        self, kind_name: str, request: dict[str, Any], at: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``entities`` row a create request makes (checked; nothing written yet), and
        what the change log keeps of the new entity: everything a replay needs."""
        members = _CREATE_MEMBERS[kind_name]
        if not members.issuperset(request):
            check_members(request, members)  # (raises: the message names what is unknown)
        return self._prepare_members(kind_name, request, at)

    def _prepare_members(
        self, kind_name: str, req: Mapping[str, Any], at: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """:meth:`_prepare` of a request whose members are known: a member that is None is
        absent (as ``check_members`` drops it) and any other member is not read, so a bulk
        item is checked as it is, without a copy that drops its ``EntityKind``."""
        kind = KINDS[kind_name]
        name = req.get(kind.name_key)
        entity_type = req.get(kind.type_key)
        if entity_type is None or (name is None and kind_name != "artifact"):
            missing = [k for k in _CREATE_REQUIRED[kind_name] if req.get(k) is None]
            raise ValueError(f"missing required parameter(s) {', '.join(missing)}")
        if name is not None:
            validation.check_entity_name(name, kind.name_key, kind_name)
        validation.check_entity_type(entity_type, kind.type_key)
        source: dict[str, Any] | None = req.get("Source")
        if source is not None:
            if kind_name == "artifact":
                source = validation.check_artifact_source(source, "Source")
            else:
                source = validation.check_simple_source(source, "Source")
        properties = req.get("Properties")
        properties = (
            validation.check_properties(properties, "Properties") if properties is not None else {}
        )
        tags = req.get("Tags")
        tags = validation.check_tags(tags, "Tags") if tags is not None else []
        metadata = req.get("MetadataProperties")
        if metadata is not None:
            metadata = validation.check_metadata_properties(metadata, "MetadataProperties")
        description = req.get("Description")
        if description is not None:
            validation.check_description(description, "Description")
        status = req.get("Status")
        if status is not None:
            status = validation.check_status(status, "Status")

        if kind_name == "artifact":
            arn = f"{self.scope}artifact/{artifact_id(at)}"
            name_key = None
            src_key = source_key(source) if source is not None else None
        else:
            assert name is not None
            name_key = name.lower()
            arn = self._named_arn(kind_name, name)
            src_key = None
        state = {
            "name": name,
            "type": entity_type,
            "source": source,
            "description": description,
            "status": status,
            "properties": properties,
            "metadata": metadata,
            "tags": tags,
        }
        row = {
            "scope": self.scope,
            "kind": kind_name,
            "arn": arn,
            "name": name,
            "name_key": name_key,
            "type": entity_type,
            "source_uri": source["SourceUri"] if source else None,
            "source_key": src_key,
            "source": dumps(source) if source is not None else None,
            "description": description,
            "status": status,
            "properties": dumps(properties) if properties else "{}",
            "metadata": dumps(metadata) if metadata is not None else None,
            "tags": dumps(tags) if tags else "[]",
            "created_at": at,
            "created_by": self.actor_json,
            "modified_at": at,
            "modified_by": self.actor_json,
            "topo": None,
            "log_id": None,
        }
        return row, state

    def _named_arn(self, kind_name: str, name: str) -> str:
        """An action's or a context's ARN: unique, so it makes the name unique (any case)."""
        return f"{self.scope}{kind_name}/{name.lower()}"

    def _create(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[kind_name]
        at = now_us()
        row, state = self._prepare(kind_name, request, at)

        def tx(conn: Connection) -> None:
            # The insert comes first, and the lookup that names what exists is made only when
            # a unique index refuses it. On SQLite the failed statement alone is undone; on
            # PostgreSQL (where a failed statement aborts the transaction) the row and its
            # change go in one statement that skips a conflicting row.
            if not self.db.is_sqlite:
                log = {"at": at, "op": f"Create{kind.noun}", "actor": self.actor_json}
                made = _CREATE_LOGGED.run(conn, row | log | {"detail": dumps(state)}).rowcount
                if made != 1:
                    self._refuse_existing(conn, kind, row, state["source"])
                    # (gone again meanwhile: a concurrent writer won the race and deleted it)
                    raise self._exists_error(kind, state["name"], state["source"])
                return
            # In a group-committed call the creation's change stays in the row (deferred.py).
            log_id = deferred.take_log_id(conn, at, self.scope, self.actor_json)
            try:
                INSERT_ENTITY.run(conn, row | {"log_id": log_id} if log_id is not None else row)
            except IntegrityError:
                self._refuse_existing(conn, kind, row, state["source"])
                raise self._exists_error(kind, state["name"], state["source"]) from None
            if log_id is None:
                self._record(conn, at, row["arn"], f"Create{kind.noun}", state)

        self.db.run(tx, write=True)
        return {kind.arn_key: row["arn"]}

    def _refuse_existing(
        self,
        conn: Connection,
        kind: Kind,
        row: dict[str, Any],
        source: dict[str, Any] | None,
    ) -> None:
        if row["name_key"] is not None:  # the ARN of an action or a context is its name
            found = _NAME_BY_ARN.first(conn, {"arn": row["arn"]})
            if found is not None:
                raise ValidationException(f"{kind.noun} {found[0]!r} already exists: {row['arn']}")
        if row["source_key"] is not None:
            found = conn.execute(
                select(entities.c.arn).where(
                    *_with_source(self.scope, row["source_uri"], row["source_key"])
                )
            ).first()
            if found is not None:
                assert source is not None
                raise ValidationException(
                    f"Artifact with source {source['SourceUri']!r} (and the same source types) "
                    f"already exists: {found[0]}"
                )

    def _exists_error(
        self, kind: Kind, name: str | None, source: dict[str, Any] | None
    ) -> ValidationException:
        what = (
            f"with source {source['SourceUri']!r}"
            if kind.kind == "artifact" and source
            else repr(name)
        )
        return ValidationException(f"{kind.noun} {what} already exists")

    # -- describe ---------------------------------------------------------------------------
    def _find(
        self, conn: Connection, kind: Kind, value: Any, arg: str, *, lock: bool = False
    ) -> Row[Any]:
        """An entity by ARN, or (actions and contexts) by name."""
        if kind.kind == "artifact" or (isinstance(value, str) and value.startswith("arn:")):
            return self._entity_by_arn(conn, value, arg, (kind.kind,), lock=lock)
        name = validation.check_entity_name(value, arg, kind.kind)
        query = select(entities).where(entities.c.arn == self._named_arn(kind.kind, name))
        if lock and not self.db.is_sqlite:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise ResourceNotFound(f"{kind.noun} {name!r} does not exist")
        return row

    def _describe(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[kind_name]
        key = kind.arn_key if kind_name == "artifact" else kind.name_key
        req = check_members(request, (key,), (key,))
        row = self.db.run(lambda conn: self._find(conn, kind, req[key], key), write=False)
        return describe_row(kind, row)

    # -- list -------------------------------------------------------------------------------
    def _list_rows(
        self,
        kind_name: str,
        request: dict[str, Any],
        *,
        default_max: int,
        details: bool = False,
    ) -> tuple[list[Row[Any]], str | None]:
        kind = KINDS[kind_name]
        extra = _DETAIL_MEMBERS if details else ()
        req = check_members(request, (*_LIST_MEMBERS, kind.type_key, *extra))
        where: list[ColumnElement[bool]] = [
            entities.c.scope == self.scope,
            entities.c.kind == kind_name,
        ]
        if "SourceUri" in req:
            uri = validation.check_source_uri(req["SourceUri"], "SourceUri")
            where.append(source_uri_condition(uri, by_prefix=not self.db.is_sqlite))
        if kind.type_key in req:
            where.append(
                entities.c.type == validation.check_entity_type(req[kind.type_key], kind.type_key)
            )
        if "CreatedAfter" in req:
            where.append(
                entities.c.created_at >= datetime_to_us(req["CreatedAfter"], "CreatedAfter")
            )
        if "CreatedBefore" in req:
            where.append(
                entities.c.created_at <= datetime_to_us(req["CreatedBefore"], "CreatedBefore")
            )
        if "NamePrefix" in req:
            prefix = validation.check_str(
                req["NamePrefix"], "NamePrefix", max_len=limits.NAME_MAX_LENGTH
            )
            where.append(name_prefix_condition(entities.c.name, prefix))
        if "Properties" in req:
            props = validation.check_properties(req["Properties"], "Properties")
            if props:
                where.append(properties_condition(self.db.is_sqlite, entities.c.properties, props))
        sort_by = validation.check_choice(
            req.get("SortBy", "CreationTime"),
            "SortBy",
            _DETAIL_SORT_BY if details else _SORT_BY[kind_name],
        )
        order = validation.check_choice(
            req.get("SortOrder", "Descending"), "SortOrder", validation.SORT_ORDERS
        )
        max_results = validation.check_int(
            req.get("MaxResults", default_max), "MaxResults", 1, limits.LIST_MAX_RESULTS
        )
        sort_col: Any = entities.c.created_at
        if sort_by == "Name" and kind_name == "artifact":
            sort_col = _ARTIFACT_NAME
        elif sort_by == "Name":
            sort_col = entities.c.name
            where.append(entities.c.name_key.is_not(None))  # the partial index's rows
        request_print = fingerprint(
            {
                k: (str(v) if k.startswith("Created") else v)
                for k, v in req.items()
                if k not in ("NextToken", "MaxResults")
            }
            | {"kind": kind_name}
        )
        after = None
        if "NextToken" in req:
            last_value, last_id = decode_position(
                req["NextToken"], request_print, (int if sort_by == "CreationTime" else str, int)
            )
            after = (last_value, (last_id,))
        query = select(entities).where(*where)
        # Under a source URI, every page reads the artifacts under it and sorts them: a cost
        # that follows how many there are. Left to choose, SQLite walks all artifacts in the
        # sort's order for the few that match (0.17-0.4 s for a page of old ones among a
        # million).
        by_filter = "SourceUri" in req and self.db.is_sqlite
        rows = self.db.run(
            lambda conn: keyset_page(
                conn,
                query,
                sort_col,
                order,
                (entities.c.id,),
                after,
                max_results + 1,
                by_filter=by_filter,
            ),
            write=False,
        )
        token = None
        if len(rows) > max_results:
            rows = rows[:max_results]
            last = rows[-1]
            last_value = last.created_at if sort_by == "CreationTime" else (last.name or "")
            token = encode_token([last_value, last.id], request_print)
        return rows, token

    def _list(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[kind_name]
        rows, token = self._list_rows(
            kind_name, request, default_max=limits.LIST_DEFAULT_MAX_RESULTS_WIRE
        )
        out: dict[str, Any] = {kind.summaries_key: [summary_row(kind, r) for r in rows]}
        if token:
            out["NextToken"] = token
        return out

    def _list_details(self, request: dict[str, Any]) -> dict[str, Any]:
        req = dict(request)
        kind_name = validation.check_choice(
            req.pop("EntityKind", None), "EntityKind", validation.ENTITY_KINDS
        )
        with_tags = validation.check_bool(req.pop("IncludeTags", False), "IncludeTags")
        rows, token = self._list_rows(
            kind_name, req, default_max=limits.LIST_DEFAULT_MAX_RESULTS_PYTHON, details=True
        )
        kind = KINDS[kind_name]
        entries = [describe_row(kind, r) for r in rows]
        if with_tags:  # (an export reads them here instead of one ListTags per entity)
            for entry, row in zip(entries, rows, strict=True):
                entry["Tags"] = json.loads(row.tags)
        out: dict[str, Any] = {"Entities": entries}
        if token:
            out["NextToken"] = token
        return out

    # -- update -----------------------------------------------------------------------------
    def _update(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[kind_name]
        key = kind.arn_key if kind_name == "artifact" else kind.name_key
        req = check_members(request, _UPDATE_MEMBERS[kind_name], (key,))
        changes: dict[str, Any] = {}
        if kind_name == "artifact" and "ArtifactName" in req:
            changes["name"] = validation.check_entity_name(
                req["ArtifactName"], "ArtifactName", "artifact"
            )
        if "Description" in req:
            changes["description"] = validation.check_description(req["Description"], "Description")
        if "Status" in req:
            changes["status"] = validation.check_status(req["Status"], "Status")
        new_props = validation.check_properties(req.get("Properties", {}), "Properties")
        removed = validation.check_property_keys(
            req.get("PropertiesToRemove", []), "PropertiesToRemove"
        )
        both = sorted(set(new_props) & set(removed))
        if both:
            raise ValueError(f"PropertiesToRemove names keys that Properties sets: {both}")

        def tx(conn: Connection) -> str:
            row = self._find(conn, kind, req[key], key, lock=True)
            old_props: dict[str, str] = json.loads(row.properties)
            props = {**old_props, **new_props}
            for k in removed:
                props.pop(k, None)
            if len(props) > limits.MAX_PROPERTIES:
                raise ValidationException(
                    f"Properties: the {kind.noun.lower()} would have {len(props)} properties; "
                    f"at most {limits.MAX_PROPERTIES} are allowed"
                )
            detail: dict[str, Any] = {}
            for field, value in changes.items():
                if getattr(row, field) != value:
                    detail[field] = [getattr(row, field), value]
            prop_diff = {
                k: [old_props.get(k), props.get(k)]
                for k in [*old_props, *(k for k in props if k not in old_props)]
                if old_props.get(k) != props.get(k)
            }
            if prop_diff:
                detail["properties"] = prop_diff
            at = now_us()
            values: dict[str, Any] = {
                **changes,
                "properties": dumps(props),
                "modified_at": at,
                "modified_by": self.actor_json,
            }
            if row.log_id is not None:  # (its creation, kept in the row until now)
                deferred.write_entity(conn, row.id)
            conn.execute(update(entities).where(entities.c.id == row.id).values(**values))
            self._record(conn, at, row.arn, f"Update{kind.noun}", detail)
            return str(row.arn)

        return {kind.arn_key: self.db.run(tx, write=True)}

    # -- delete -----------------------------------------------------------------------------
    def _delete(self, kind_name: str, request: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[kind_name]
        if kind_name == "artifact":
            req = check_members(request, ("ArtifactArn", "Source"))
            if ("ArtifactArn" in req) == ("Source" in req):
                raise ValueError("give exactly one of ArtifactArn or Source")
        else:
            req = check_members(request, (kind.name_key,), (kind.name_key,))

        def tx(conn: Connection) -> str:
            self._lock_dag(conn)
            if "Source" in req:
                source = validation.check_artifact_source(req["Source"], "Source")
                row = conn.execute(
                    select(entities).where(
                        *_with_source(self.scope, source["SourceUri"], source_key(source))
                    )
                ).first()
                if row is None:
                    raise ResourceNotFound(
                        f"no artifact with source {source['SourceUri']!r} and these source types"
                    )
            else:
                key = kind.arn_key if kind_name == "artifact" else kind.name_key
                row = self._find(conn, kind, req[key], key, lock=True)
            self._delete_row(conn, kind, row)
            return str(row.arn)

        return {kind.arn_key: self.db.run(tx, write=True)}

    def _delete_row(self, conn: Connection, kind: Kind, row: Row[Any]) -> None:
        """Delete an entity and its associations; leave a tombstone in the change log."""
        if row.log_id is not None:  # (its creation, kept in the row until now)
            deferred.write_entity(conn, row.id)
        deferred.write_edges(conn, row.id)
        at = now_us()
        src = entities.alias("s")
        dst = entities.alias("d")
        edges = conn.execute(
            select(src.c.arn.label("src"), dst.c.arn.label("dst"), associations.c.type)
            .select_from(
                associations.join(src, src.c.id == associations.c.src_id).join(
                    dst, dst.c.id == associations.c.dst_id
                )
            )
            .where(or_(associations.c.src_id == row.id, associations.c.dst_id == row.id))
        ).all()
        for edge in edges:
            self._record(
                conn,
                at,
                edge.src,
                "DeleteAssociation",
                {"type": edge.type, "cascade": True},
                peer_arn=edge.dst,
            )
        conn.execute(
            delete(associations).where(
                or_(associations.c.src_id == row.id, associations.c.dst_id == row.id)
            )
        )
        conn.execute(delete(entities).where(entities.c.id == row.id))
        self._record(conn, at, row.arn, f"Delete{kind.noun}", state_of(row))


def keyset_page(
    conn: Connection,
    query: Select[Any],
    sort_col: Any,
    order: str,
    ties: tuple[Any, ...],
    after: tuple[Any, tuple[Any, ...]] | None,
    limit: int,
    *,
    by_filter: bool = False,
) -> list[Row[Any]]:
    """Up to ``limit`` rows of ``query`` in ORDER BY ``sort_col`` <order>, ties in the same
    order, after the position ``after`` (a sort value and its tie values) when a page follows
    another.

    Ties go the sort's way so that one index, read forwards or backwards, gives the whole
    order: ties in the other direction made the database sort every row of the first tie, and
    thousands of rows share a creation time after one bulk call. A page that follows another is
    asked in two statements, each a seek in that index: the rest of the last row's tie (the
    same sort value, tie values past the last), then, if the page is not full, the rows past
    that sort value. Asked as one condition (a sort value past the last, or the same one with
    ties past), every page read all the ties before it. Sort columns are never NULL.

    ``by_filter`` (SQLite): the statements name the sort column and the tie-breakers as SQLite's
    unary plus makes them, the same values that no index provides, so that the rows are read
    through the index of the query's own filter and sorted.
    """
    if by_filter:
        sort_col, ties = _unindexed(sort_col), tuple(_unindexed(tie) for tie in ties)
    descending = order == "Descending"
    ordered = [column.desc() if descending else column.asc() for column in (sort_col, *ties)]
    if after is None:
        return list(conn.execute(query.order_by(*ordered).limit(limit)).all())
    value, tie_values = after
    tie, last_tie = tuple_(*ties), tuple_(*tie_values)
    tied = query.where(sort_col == value, tie < last_tie if descending else tie > last_tie)
    rows = list(conn.execute(tied.order_by(*ordered[1:]).limit(limit)).all())
    if len(rows) < limit:
        past = sort_col < value if descending else sort_col > value
        rows += conn.execute(query.where(past).order_by(*ordered).limit(limit - len(rows))).all()
    return rows


def _unindexed(column: Any) -> Any:
    """``+table.column``: a column's values as an expression (an expression stays as it is)."""
    if isinstance(column, Column):
        return literal_column(f"+{column.table.name}.{column.name}")
    return column
