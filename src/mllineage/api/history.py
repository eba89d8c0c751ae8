"""The recorded history of entities: what changed, when and by whom, and retention.

Every change to an artifact, action, context or association is recorded by the store in the
same transaction as the change itself; these functions read it back and prune it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mllineage import validation
from mllineage.api.session import Session, resolve_session


@dataclass(frozen=True)
class Change:
    """One recorded change.

    Attributes:
        time: when (timezone-aware UTC, to the microsecond).
        operation: ``CreateArtifact``, ``UpdateAction``, ``DeleteContext``, ``Tags``,
            ``AddAssociation``, ``DeleteAssociation``, or ``Snapshot`` (the state an entity had
            when older history was pruned).
        arn: the entity changed (for an association, its source).
        peer_arn: the destination of an association change, else ``None``.
        actor: who: the ``UserContext`` of the caller (the OS user for a local store, the
            access key and account through a server).
        detail: a create, snapshot or delete records the whole state; an update
            ``{field: [old, new]}`` and ``{"properties": {key: [old, new]}}``; a tag change
            ``{"tags": {key: [old, new]}}``; an association change its ``type``.
    """

    time: datetime
    operation: str
    arn: str
    peer_arn: str | None
    actor: dict[str, Any]
    detail: dict[str, Any]

    @classmethod
    def _from_wire(cls, change: dict[str, Any]) -> Change:
        return cls(
            time=change["ChangeTime"],
            operation=change["Operation"],
            arn=change["Arn"],
            peer_arn=change.get("PeerArn"),
            actor=change["Actor"],
            detail=change["Detail"],
        )

    def summary(self, arn: str) -> str:
        """One line saying what the change did, as seen from the entity ``arn``
        (``mllineage history`` prints it)."""
        detail = self.detail
        if self.operation in ("AddAssociation", "DeleteAssociation"):
            verb = "added" if self.operation == "AddAssociation" else "removed"
            other = f"to {self.peer_arn}" if self.arn == arn else f"from {self.arn}"
            cascade = " (with the deleted entity)" if detail.get("cascade") else ""
            return f"{detail.get('type')} {other} {verb}{cascade}"
        if self.operation.startswith(("Create", "Delete")) or self.operation == "Snapshot":
            props = ", ".join(f"{k}={v}" for k, v in sorted(detail.get("properties", {}).items()))
            return f"type {detail.get('type')}" + (f"; {props}" if props else "")
        parts = []
        for field in ("name", "description", "status"):
            if field in detail:
                old, new = detail[field]
                parts.append(f"{field}: {old} -> {new}")
        for key, (old, new) in sorted(
            {**detail.get("properties", {}), **detail.get("tags", {})}.items()
        ):
            if old is None:
                parts.append(f"+{key}={new}")
            elif new is None:
                parts.append(f"-{key} (was {old})")
            else:
                parts.append(f"{key}: {old} -> {new}")
        return "; ".join(parts) or "no change"


def entity_history(
    session: Session | None, arn: str, include_associations: bool = True
) -> list[Change]:
    """Every recorded change of the entity ``arn``, newest first (see ``Artifact.history``).

    Raises:
        ClientError: ``ResourceNotFound`` if nothing was ever recorded about ``arn``.
    """
    arn = validation.parse_arn(arn, "arn").arn
    store = resolve_session(session).store
    return [
        Change._from_wire(c)
        for c in store.paginate(
            "list_changes",
            "Changes",
            Arn=arn,
            IncludeAssociations=validation.check_bool(include_associations, "include_associations"),
        )
    ]


def prune_history(before: datetime | str, session: Session | None = None) -> dict[str, int]:
    """Drop the history recorded before ``before``, in one transaction. Live entities and
    associations are untouched; reads ``as_of`` ``before`` or later answer as before.

    Returns: ``{"RemovedChanges": n, "KeptChanges": m}``.
    """
    moment = validation.to_datetime(before, "before")
    result: dict[str, int] = resolve_session(session).store.prune_history(Before=moment)
    return {k: int(v) for k, v in result.items()}
