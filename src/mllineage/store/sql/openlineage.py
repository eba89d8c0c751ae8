"""Raw OpenLineage events: ``PutOpenLineageEvent`` and ``ListOpenLineageEvents``.

An event is stored once per account, keyed by the SHA-256 of its canonical JSON
(``ux_openlineage_events_id``): a second put of the same event finds it and changes nothing.

The capture (:mod:`mllineage.capture.openlineage`) puts an event and maps it inside one
``store.batch()``, and reads the run's stored events to map the run as a whole. On PostgreSQL
a put of a RunEvent also takes a transaction-scoped advisory lock on its run (scope and run ID),
so the mappings of one run's events follow each other: each reads the events committed before
it, and two clients' events of one run cannot each miss the other's. SQLite's write
transaction already excludes other writers. Events of different runs do not wait for each
other.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.engine import Connection

from mllineage import limits, validation
from mllineage.store.common import (
    check_members,
    decode_position,
    encode_token,
    fingerprint,
    now_us,
    us_to_datetime,
)
from mllineage.store.openlineage import check_event, check_run_id
from mllineage.store.sql.core import SqlCore
from mllineage.store.sql.engine import Statement
from mllineage.store.sql.schema import openlineage_events as events

_COLUMNS = (
    "scope",
    "event_id",
    "kind",
    "event_type",
    "event_time",
    "received_at",
    "run_id",
    "job_namespace",
    "job_name",
    "body",
)
_INSERT = Statement(
    f"INSERT INTO openlineage_events ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) ON CONFLICT DO NOTHING"
)
# Two int4 keys: a key space apart from the DAG lock's one bigint key.
_LOCK_RUN = text("SELECT pg_advisory_xact_lock(:space, :key)")
_RUN_LOCK_SPACE = 0x6F6C  # "ol"
_LIST_MEMBERS = (
    "RunId",
    "JobNamespace",
    "JobName",
    "EventId",
    "SortOrder",
    "MaxResults",
    "NextToken",
)


def _run_lock_key(scope: str, run_id: str) -> int:
    digest = hashlib.sha256(f"{scope}\n{run_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


class OpenLineageOps(SqlCore):
    """PutOpenLineageEvent and ListOpenLineageEvents."""

    def _put_openlineage_event(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, ("Event",), ("Event",))
        info = check_event(req["Event"], "Event")
        row = {
            "scope": self.scope,
            "event_id": info.event_id,
            "kind": info.kind,
            "event_type": info.event_type,
            "event_time": info.event_time_us,
            "received_at": now_us(),
            "run_id": info.run_id,
            "job_namespace": info.job_namespace,
            "job_name": info.job_name,
            "body": info.canonical,
        }

        def tx(conn: Connection) -> bool:
            if info.run_id is not None and not self.db.is_sqlite:
                key = _run_lock_key(self.scope, info.run_id)
                conn.execute(_LOCK_RUN, {"space": _RUN_LOCK_SPACE, "key": key})
            return bool(_INSERT.run(conn, row).rowcount == 1)

        created = self.db.run(tx, write=True)
        return {"EventId": info.event_id, "Created": created}

    def _list_openlineage_events(self, **request: Any) -> dict[str, Any]:
        req = check_members(request, _LIST_MEMBERS)
        order = validation.check_choice(
            req.get("SortOrder", "Ascending"), "SortOrder", validation.SORT_ORDERS
        )
        max_results = validation.check_int(
            req.get("MaxResults", limits.LIST_MAX_RESULTS), "MaxResults", 1, limits.LIST_MAX_RESULTS
        )
        where = [events.c.scope == self.scope]
        if "RunId" in req:
            where.append(events.c.run_id == check_run_id(req["RunId"], "RunId"))
        for member, column in (("JobNamespace", "job_namespace"), ("JobName", "job_name")):
            if member in req:
                value = validation.check_str(req[member], member, max_len=4096)
                where.append(events.c[column] == value)
        if "EventId" in req:
            where.append(
                events.c.event_id == validation.check_str(req["EventId"], "EventId", max_len=64)
            )
        filters = {k: v for k, v in req.items() if k not in ("MaxResults", "NextToken")}
        made_for = fingerprint(filters)
        descending = order == "Descending"
        if "NextToken" in req:
            at, after_id = decode_position(req["NextToken"], made_for, (int, int))
            if descending:
                where.append(
                    or_(
                        events.c.event_time < at,
                        and_(events.c.event_time == at, events.c.id < after_id),
                    )
                )
            else:
                where.append(
                    or_(
                        events.c.event_time > at,
                        and_(events.c.event_time == at, events.c.id > after_id),
                    )
                )
        sort = (
            (events.c.event_time.desc(), events.c.id.desc())
            if descending
            else (events.c.event_time, events.c.id)
        )
        query = select(events).where(*where).order_by(*sort).limit(max_results + 1)
        rows = self.db.run(lambda conn: conn.execute(query).all(), write=False)
        out: dict[str, Any] = {"Events": [_summary(row) for row in rows[:max_results]]}
        if len(rows) > max_results:
            last = rows[max_results - 1]
            out["NextToken"] = encode_token([last.event_time, last.id], made_for)
        return out


def _summary(row: Any) -> dict[str, Any]:
    summary = {
        "EventId": row.event_id,
        "EventKind": row.kind,
        "EventType": row.event_type,
        "EventTime": us_to_datetime(row.event_time).isoformat(),
        "ReceivedTime": us_to_datetime(row.received_at).isoformat(),
        "RunId": row.run_id,
        "JobNamespace": row.job_namespace,
        "JobName": row.job_name,
        "Event": row.body,
    }
    return {k: v for k, v in summary.items() if v is not None}
