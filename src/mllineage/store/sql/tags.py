"""Tags on artifacts, actions and contexts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from mllineage import limits, validation
from mllineage.errors import ResourceLimitExceeded
from mllineage.store.common import check_members, decode_offset, dumps, encode_token, now_us
from mllineage.store.sql import deferred
from mllineage.store.sql.core import SqlCore
from mllineage.store.sql.schema import entities


class TagOps(SqlCore):
    """AddTags, ListTags and DeleteTags."""

    def _add_tags(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, ("ResourceArn", "Tags"), ("ResourceArn", "Tags"))
        tags = validation.check_tags(req["Tags"], "Tags")

        def tx(conn: Connection) -> None:
            row = self._entity_by_arn(
                conn, req["ResourceArn"], "ResourceArn", validation.ENTITY_KINDS, lock=True
            )
            current = {t["Key"]: t["Value"] for t in json.loads(row.tags)}
            old = dict(current)
            current.update({t["Key"]: t["Value"] for t in tags})
            if len(current) > limits.MAX_TAGS:
                raise ResourceLimitExceeded(
                    f"{row.arn} would have {len(current)} tags; at most {limits.MAX_TAGS} "
                    "are allowed per entity"
                )
            self._write_tags(conn, row, old, current)

        self.db.run(tx, write=True)
        return {"Tags": tags}

    def _delete_tags(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, ("ResourceArn", "TagKeys"), ("ResourceArn", "TagKeys"))
        keys = validation.check_tag_keys(req["TagKeys"], "TagKeys")

        def tx(conn: Connection) -> None:
            row = self._entity_by_arn(
                conn, req["ResourceArn"], "ResourceArn", validation.ENTITY_KINDS, lock=True
            )
            current = {t["Key"]: t["Value"] for t in json.loads(row.tags)}
            old = dict(current)
            for key in keys:
                current.pop(key, None)
            self._write_tags(conn, row, old, current)

        self.db.run(tx, write=True)
        return {}

    def _write_tags(
        self, conn: Connection, row: Any, old: dict[str, str], new: dict[str, str]
    ) -> None:
        if old == new:
            return
        if row.log_id is not None:  # (its creation, kept in the row until now)
            deferred.write_entity(conn, row.id)
        conn.execute(
            update(entities)
            .where(entities.c.id == row.id)
            .values(tags=dumps([{"Key": k, "Value": v} for k, v in new.items()]))
        )
        # In the order the tags are kept, so a replay of the log rebuilds the same list.
        keys = [*old, *(k for k in new if k not in old)]
        diff = {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}
        self._record(conn, now_us(), row.arn, "Tags", {"tags": diff})

    def _list_tags(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, ("ResourceArn", "NextToken", "MaxResults"), ("ResourceArn",))
        max_results = validation.check_int(
            req.get("MaxResults", limits.LIST_TAGS_MIN_RESULTS),
            "MaxResults",
            limits.LIST_TAGS_MIN_RESULTS,
        )
        arn = req["ResourceArn"]
        start = 0
        if "NextToken" in req:
            start = decode_offset(req["NextToken"], str(arn))
        row = self.db.run(
            lambda conn: self._entity_by_arn(conn, arn, "ResourceArn", validation.ENTITY_KINDS),
            write=False,
        )
        tags = json.loads(row.tags)
        out: dict[str, Any] = {"Tags": tags[start : start + max_results]}
        if start + max_results < len(tags):
            out["NextToken"] = encode_token(start + max_results, str(arn))
        return out
