"""Rebuild the state of entities and associations from the change log.

Every change is appended to ``changes`` in the transaction that makes it (see ``core.py``;
creations wait in the rows they made until those change, see ``deferred.py``):
a create or a ``Snapshot`` (what a prune leaves) records the whole state, an update the old
and new value of each field and property it changed, a tag change the tags it changed, a
delete the state it ended. Replaying an entity's changes in order from nothing gives its state
at any instant; that is how history and time travel read the past, so the live tables carry no
history and stay as fast as if none were kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from mllineage.store.common import dumps

#: Operations that start an entity's state from the full record in their detail.
_NOUNS = {"Artifact": "artifact", "Action": "action", "Context": "context"}
SNAPSHOT = "Snapshot"
ASSOCIATION_OPS = ("AddAssociation", "DeleteAssociation")
#: Fields an update records as ``[old, new]``.
_FIELDS = ("name", "description", "status")

State = dict[str, Any]


def kind_of_op(op: str) -> str | None:
    """``"artifact"`` for ``CreateArtifact``/``UpdateArtifact``/``DeleteArtifact``, else None."""
    for verb in ("Create", "Update", "Delete"):
        if op.startswith(verb):
            return _NOUNS.get(op[len(verb) :])
    return None


def apply(state: State | None, arn: str, op: str, at: int, actor: str, detail: str) -> State | None:
    """The state of entity ``arn`` after one change (``None``: it does not exist).

    ``actor`` and ``detail`` are the JSON text kept in the log.
    """
    if op.startswith("Create") or op == SNAPSHOT:
        full = json.loads(detail)
        # People stay JSON text until a response needs them (a query never does).
        who = actor
        return {
            "arn": arn,
            "kind": full["kind"] if op == SNAPSHOT else _NOUNS[op[len("Create") :]],
            "name": full["name"],
            "type": full["type"],
            "source": full["source"],
            "description": full["description"],
            "status": full["status"],
            "properties": dict(full["properties"]),
            "metadata": full["metadata"],
            "tags": list(full["tags"]),
            # Restored (imported) entities and snapshots carry their own times and people.
            "created_at": full.get("created_at", at),
            "created_by": full.get("created_by", who),
            "modified_at": full.get("modified_at", at),
            "modified_by": full.get("modified_by", who),
        }
    if state is None:
        return None  # history pruned from under this change: nothing to apply it to
    if op.startswith("Delete"):
        return None
    if op.startswith("Update"):
        diff = json.loads(detail)
        new = {**state, "properties": dict(state["properties"])}
        for field in _FIELDS:
            if field in diff:
                new[field] = diff[field][1]
        for key, (_old, value) in diff.get("properties", {}).items():
            if value is None:
                new["properties"].pop(key, None)
            else:
                new["properties"][key] = value
        new["modified_at"] = at
        new["modified_by"] = actor
        return new
    if op == "Tags":
        tags = {t["Key"]: t["Value"] for t in state["tags"]}
        for key, (_old, value) in json.loads(detail)["tags"].items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        return {**state, "tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    return state


def replay(rows: Iterable[Any]) -> dict[str, State | None]:
    """The state of each entity after ``(arn, op, at, actor, detail)`` rows in log order."""
    states: dict[str, State | None] = {}
    for arn, op, at, actor, detail in rows:
        states[arn] = apply(states.get(arn), arn, op, at, actor, detail)
    return states


def user(value: Any) -> Any:
    """A ``UserContext`` kept in a state: JSON text from the log, or already a dict."""
    return json.loads(value) if isinstance(value, str) else value


def snapshot_detail(state: State) -> dict[str, Any]:
    """The detail of a ``Snapshot`` change: everything :func:`apply` needs to start over."""
    return {
        key: user(state[key]) if key in ("created_by", "modified_by") else state[key]
        for key in (
            "kind",
            "name",
            "type",
            "source",
            "description",
            "status",
            "properties",
            "metadata",
            "tags",
            "created_at",
            "created_by",
            "modified_at",
            "modified_by",
        )
    }


def as_row(state: State) -> Any:
    """An object with the attributes of an ``entities`` row (JSON columns as text), so the
    live code that shapes responses serves the past unchanged."""
    return SimpleNamespace(
        arn=state["arn"],
        kind=state["kind"],
        name=state["name"],
        type=state["type"],
        source=dumps(state["source"]) if state["source"] is not None else None,
        source_uri=state["source"]["SourceUri"] if state["source"] else None,
        description=state["description"],
        status=state["status"],
        properties=dumps(state["properties"]),
        metadata=dumps(state["metadata"]) if state["metadata"] is not None else None,
        tags=dumps(state["tags"]),
        created_at=state["created_at"],
        created_by=_user_json(state["created_by"]),
        modified_at=state["modified_at"],
        modified_by=_user_json(state["modified_by"]),
    )


def _user_json(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def vertex_rows(rows: Iterable[Any]) -> dict[str, tuple[Any, ...] | None]:
    """What a lineage query needs of each entity after ``(arn, op, at, detail)`` rows in log
    order: the tuple ``graph_sql.fetch_vertices`` yields, keyed by ARN instead of id and with
    the properties as a dict. :func:`apply` without the people and tags, which a query never
    shows."""
    out: dict[str, tuple[Any, ...] | None] = {}
    for arn, op, at, detail in rows:
        if op == "Tags":
            continue
        if op.startswith("Create") or op == SNAPSHOT:
            full = json.loads(detail)
            source = full["source"]
            out[arn] = (
                arn,
                arn,
                full["kind"] if op == SNAPSHOT else _NOUNS[op[len("Create") :]],
                full["name"],
                full["type"],
                source["SourceUri"] if source else None,
                full["status"],
                full["properties"],
                full.get("created_at", at),
                full.get("modified_at", at),
            )
            continue
        row = out.get(arn)
        if row is None:
            continue
        if op.startswith("Delete"):
            out[arn] = None
        elif op.startswith("Update"):
            diff = json.loads(detail)
            props = dict(row[7])
            for key, (_old, value) in diff.get("properties", {}).items():
                if value is None:
                    props.pop(key, None)
                else:
                    props[key] = value
            name = diff["name"][1] if "name" in diff else row[3]
            status = diff["status"][1] if "status" in diff else row[6]
            out[arn] = (*row[:3], name, row[4], row[5], status, props, row[8], at)
    return out
