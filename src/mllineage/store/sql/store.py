"""``SqlStore``: the lineage store on SQLite or PostgreSQL, where every rule is enforced."""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from mllineage import limits, validation
from mllineage.store.base import Response, Store
from mllineage.store.common import check_members, dumps, operation
from mllineage.store.sql.associations import AssociationOps
from mllineage.store.sql.browse import count_entities
from mllineage.store.sql.bulk import BulkOps
from mllineage.store.sql.engine import Database
from mllineage.store.sql.entities import EntityOps
from mllineage.store.sql.history import HistoryOps
from mllineage.store.sql.openlineage import OpenLineageOps
from mllineage.store.sql.tags import TagOps
from mllineage.store.sql.traversal import QueryOps

DEFAULT_REGION = "local"
DEFAULT_ACCOUNT_ID = "000000000000"


def local_user() -> dict[str, Any]:
    """The UserContext recorded as ``created_by`` for a local store: the OS user."""
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database (some containers)
        name = "unknown"
    return {"UserProfileName": name}


class SqlStore(
    BulkOps, EntityOps, AssociationOps, TagOps, HistoryOps, QueryOps, OpenLineageOps, Store
):
    """A lineage store in an SQLite file, SQLite in memory, or PostgreSQL.

    Args:
        url: ``sqlite:///path.db``, ``sqlite://`` (in memory) or ``postgresql://...``.
        region, account_id: the scope of the caller; ARNs carry them and every read is
            confined to them.
        user: the ``UserContext`` recorded as creator and modifier (default: the OS user).
        query_timeout: seconds a lineage query may run (the spec's 60 s).
        upgrade: migrate an existing database to this version's schema.

    Example:
        >>> store = SqlStore("sqlite://")
        >>> store.create_context(ContextName="demo", ContextType="Project")["ContextArn"]
        'arn:aws:sagemaker:local:000000000000:context/demo'
    """

    def __init__(
        self,
        url: str = "sqlite://",
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        user: dict[str, Any] | None = None,
        query_timeout: float = limits.QUERY_TIMEOUT_SECONDS,
        upgrade: bool = False,
        _database: Database | None = None,
    ) -> None:
        check_scope(region, account_id)
        self.url = url
        self.db = _database or Database(url)
        self._owns_db = _database is None
        if _database is None:
            try:
                self.db.ensure_schema(upgrade=upgrade)
            except BaseException:
                self.db.dispose()
                raise
        self.region = region
        self.account_id = account_id
        self.scope = validation.arn_scope(region, account_id)
        self.actor = user if user is not None else local_user()
        self.actor_json = dumps(self.actor)
        self.query_timeout = query_timeout

    def bind(
        self,
        *,
        region: str | None = None,
        account_id: str | None = None,
        user: dict[str, Any] | None = None,
    ) -> SqlStore:
        """The same database seen by another caller (the server binds one per request)."""
        return SqlStore(
            self.url,
            region=region or self.region,
            account_id=account_id or self.account_id,
            user=user if user is not None else self.actor,
            query_timeout=self.query_timeout,
            _database=self.db,
        )

    def close(self) -> None:
        if self._owns_db:
            self.db.dispose()

    def batch(self) -> AbstractContextManager[None]:
        return self.db.batch()

    @contextmanager
    def _noop(self) -> Iterator[None]:
        yield

    # -- the operations (see Store for their contracts) --------------------------------------
    @operation("CreateArtifact")
    def create_artifact(self, **request: Any) -> Response:
        return self._create("artifact", request)

    @operation("DescribeArtifact")
    def describe_artifact(self, **request: Any) -> Response:
        return self._describe("artifact", request)

    @operation("ListArtifacts")
    def list_artifacts(self, **request: Any) -> Response:
        return self._list("artifact", request)

    @operation("UpdateArtifact")
    def update_artifact(self, **request: Any) -> Response:
        return self._update("artifact", request)

    @operation("DeleteArtifact")
    def delete_artifact(self, **request: Any) -> Response:
        return self._delete("artifact", request)

    @operation("CreateAction")
    def create_action(self, **request: Any) -> Response:
        return self._create("action", request)

    @operation("DescribeAction")
    def describe_action(self, **request: Any) -> Response:
        return self._describe("action", request)

    @operation("ListActions")
    def list_actions(self, **request: Any) -> Response:
        return self._list("action", request)

    @operation("UpdateAction")
    def update_action(self, **request: Any) -> Response:
        return self._update("action", request)

    @operation("DeleteAction")
    def delete_action(self, **request: Any) -> Response:
        return self._delete("action", request)

    @operation("CreateContext")
    def create_context(self, **request: Any) -> Response:
        return self._create("context", request)

    @operation("DescribeContext")
    def describe_context(self, **request: Any) -> Response:
        return self._describe("context", request)

    @operation("ListContexts")
    def list_contexts(self, **request: Any) -> Response:
        return self._list("context", request)

    @operation("UpdateContext")
    def update_context(self, **request: Any) -> Response:
        return self._update("context", request)

    @operation("DeleteContext")
    def delete_context(self, **request: Any) -> Response:
        return self._delete("context", request)

    @operation("AddAssociation")
    def add_association(self, **request: Any) -> Response:
        return self._add_association(**request)

    @operation("DeleteAssociation")
    def delete_association(self, **request: Any) -> Response:
        return self._delete_association(**request)

    @operation("ListAssociations")
    def list_associations(self, **request: Any) -> Response:
        return self._list_associations(**request)

    @operation("QueryLineage")
    def query_lineage(self, **request: Any) -> Response:
        return self._query_lineage(**request)

    @operation("LineageGraph")
    def lineage_graph(self, **request: Any) -> Response:
        return self._lineage_graph(**request)

    @operation("AddTags")
    def add_tags(self, **request: Any) -> Response:
        return self._add_tags(**request)

    @operation("ListTags")
    def list_tags(self, **request: Any) -> Response:
        return self._list_tags(**request)

    @operation("DeleteTags")
    def delete_tags(self, **request: Any) -> Response:
        return self._delete_tags(**request)

    @operation("PutLineage")
    def put_lineage(self, **request: Any) -> Response:
        return self._put_lineage(**request)

    @operation("ListEntityDetails")
    def list_entity_details(self, **request: Any) -> Response:
        if request.get("AsOf") is None:
            request.pop("AsOf", None)
            return self._list_details(request)
        kind = validation.check_choice(
            request.pop("EntityKind", None), "EntityKind", validation.ENTITY_KINDS
        )
        return self._list_details_as_of(kind, request)

    @operation("DescribeEntity")
    def describe_entity(self, **request: Any) -> Response:
        return self._describe_entity(**request)

    @operation("ListAssociationsAsOf")
    def list_associations_as_of(self, **request: Any) -> Response:
        return self._list_associations_as_of(**request)

    @operation("ListChanges")
    def list_changes(self, **request: Any) -> Response:
        return self._list_changes(**request)

    @operation("PruneHistory")
    def prune_history(self, **request: Any) -> Response:
        return self._prune_history(**request)

    @operation("PutOpenLineageEvent")
    def put_openlineage_event(self, **request: Any) -> Response:
        return self._put_openlineage_event(**request)

    @operation("ListOpenLineageEvents")
    def list_openlineage_events(self, **request: Any) -> Response:
        return self._list_openlineage_events(**request)

    @operation("CountEntities")
    def count_entities(self, **request: Any) -> Response:
        check_members(request, ())
        return self.db.run(lambda conn: count_entities(conn, self.scope), write=False)


def check_scope(region: Any, account_id: Any) -> None:
    """Regions and account IDs as ARNs need them."""
    if not isinstance(region, str) or not re.fullmatch(r"[a-z0-9\-]{1,64}", region):
        raise ValueError(f"region must be lower-case letters, digits and '-', got {region!r}")
    if not isinstance(account_id, str) or not re.fullmatch(r"[0-9]{12}", account_id):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
