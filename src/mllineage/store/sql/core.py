"""State shared by the SQL store's parts: the database, the caller's scope and identity."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Row, bindparam, select, text
from sqlalchemy.engine import Connection

from mllineage import validation
from mllineage.errors import ResourceNotFound
from mllineage.store.common import dumps
from mllineage.store.sql.engine import DAG_LOCK_KEY, Database, insert_into
from mllineage.store.sql.schema import changes, entities


@dataclass(frozen=True)
class Kind:
    """What differs between artifacts, actions and contexts on the wire (the member names
    are looked up on every call: each is made once)."""

    kind: str
    noun: str

    @cached_property
    def arn_key(self) -> str:
        return f"{self.noun}Arn"

    @cached_property
    def name_key(self) -> str:
        return f"{self.noun}Name"

    @cached_property
    def type_key(self) -> str:
        return f"{self.noun}Type"

    @cached_property
    def summaries_key(self) -> str:
        return f"{self.noun}Summaries"


KINDS = {
    "artifact": Kind("artifact", "Artifact"),
    "action": Kind("action", "Action"),
    "context": Kind("context", "Context"),
}
LINEAGE_TYPE = {"artifact": "Artifact", "action": "Action", "context": "Context"}


INSERT_CHANGE = insert_into(changes)
ENTITY_BY_ARN = select(entities).where(entities.c.arn == bindparam("arn"))
ENTITY_BY_ARN_FOR_UPDATE = ENTITY_BY_ARN.with_for_update()
LOCK_DAG = text("SELECT pg_advisory_xact_lock(:k)")


class SqlCore:
    """The parts of ``SqlStore`` that every group of operations uses."""

    db: Database
    region: str
    account_id: str
    scope: str
    actor: dict[str, Any]
    actor_json: str
    query_timeout: float

    def _lock_dag(self, conn: Connection) -> None:
        """Serialise the writers of associations until the transaction ends: adding one, and
        deleting an entity with its own (else an association added meanwhile would point at
        the deleted entity). SQLite's write transaction already excludes other writers."""
        if not self.db.is_sqlite:
            conn.execute(LOCK_DAG, {"k": DAG_LOCK_KEY})

    def _record(
        self,
        conn: Connection,
        at: int,
        arn: str,
        op: str,
        detail: dict[str, Any] | str,
        peer_arn: str | None = None,
    ) -> None:
        """Append one change to the log, in the caller's transaction (``detail`` as a dict,
        or already in JSON)."""
        INSERT_CHANGE.run(
            conn,
            {
                "at": at,
                "scope": self.scope,
                "arn": arn,
                "peer_arn": peer_arn,
                "op": op,
                "actor": self.actor_json,
                "detail": detail if isinstance(detail, str) else dumps(detail),
            },
        )

    def _entity_by_arn(
        self,
        conn: Connection,
        arn_value: Any,
        arg: str,
        kinds: tuple[str, ...],
        *,
        lock: bool = False,
    ) -> Row[Any]:
        """The live row of an entity of this scope, or ``ResourceNotFound``."""
        parsed = validation.parse_arn(arn_value, arg, kinds)
        query = ENTITY_BY_ARN_FOR_UPDATE if lock and not self.db.is_sqlite else ENTITY_BY_ARN
        row = conn.execute(query, {"arn": parsed.arn}).first()
        if row is None or row.scope != self.scope:
            raise ResourceNotFound(f"{arg}: no {either(kinds)} with ARN {parsed.arn}")
        return row


def either(words: tuple[str, ...]) -> str:
    """``("artifact", "action", "context")`` -> ``"artifact, action or context"``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
