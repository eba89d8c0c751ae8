"""What artifacts, actions and contexts share: loading, saving, tags, history, deleting.

These classes hold no storage logic: every call becomes one store operation (boto3 names and
shapes), and every rule is enforced by the store. Arguments are checked here first, with the
store's own functions, so a mistake raises ``ValueError`` naming the argument before anything
is sent.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from mllineage import limits, validation
from mllineage.api.history import Change, entity_history
from mllineage.api.session import Session, resolve_session
from mllineage.errors import ClientError, ResourceNotFound
from mllineage.viz.display import EntityList, entity_html

E = TypeVar("E", bound="_LineageEntity")

_LIST_SORT_BY = {
    "artifact": ("CreationTime",),
    "action": ("Name", "CreationTime"),
    "context": ("Name", "CreationTime"),
}


def _list_request(
    kind: str,
    type_key: str,
    *,
    source_uri: Any,
    entity_type: Any,
    created_after: Any,
    created_before: Any,
    sort_by: Any,
    sort_order: Any,
    max_results: Any,
    as_of: Any = None,
) -> dict[str, Any]:
    """Check the list arguments of the Python API and build the store request."""
    request: dict[str, Any] = {
        "EntityKind": kind,
        "SortBy": validation.check_choice(sort_by, "sort_by", _LIST_SORT_BY[kind]),
        "SortOrder": validation.check_choice(sort_order, "sort_order", validation.SORT_ORDERS),
        "MaxResults": validation.check_int(max_results, "max_results", 1, limits.LIST_MAX_RESULTS),
    }
    if source_uri is not None:
        request["SourceUri"] = validation.check_source_uri(source_uri, "source_uri")
    if entity_type is not None:
        request[type_key] = validation.check_entity_type(entity_type, type_key_arg(kind))
    if created_after is not None:
        request["CreatedAfter"] = validation.to_datetime(created_after, "created_after")
    if created_before is not None:
        request["CreatedBefore"] = validation.to_datetime(created_before, "created_before")
    if as_of is not None:
        request["AsOf"] = validation.to_datetime(as_of, "as_of")
    return request


def type_key_arg(kind: str) -> str:
    return f"{kind}_type"


_ATOMS = frozenset({str, int, float, bool, datetime, type(None)})


def _copied(value: Any) -> Any:
    """A deep copy of what entities hold: JSON-like values are copied directly (several
    times faster than ``copy.deepcopy``, which runs on every create); anything else deeply."""
    if type(value) in _ATOMS:  # (most of what they hold)
        return value
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, (str, int, float, datetime)):  # (their subclasses)
        return value
    return copy.deepcopy(value)


class _LineageEntity:
    """What artifacts, actions and contexts share: loading, saving, tags, deleting."""

    _kind: ClassVar[str]
    _noun: ClassVar[str]
    # Python attribute -> update request member; what save() may change.
    _updatable: ClassVar[dict[str, str]]
    # Attributes fixed at creation: changing one and calling save() is an error, not a no-op.
    _fixed: ClassVar[tuple[str, ...]]

    properties: dict[str, str]
    source: dict[str, Any] | None

    def __init__(self, sagemaker_session: Session | None) -> None:
        self.sagemaker_session = sagemaker_session
        self._tags: list[dict[str, str]] | None = None
        self._saved: dict[str, Any] = {}
        self._saved_tags: list[dict[str, str]] | None = None
        self._creation_time: datetime | None = None
        self._created_by: dict[str, Any] | None = None
        self._last_modified_time: datetime | None = None
        self._last_modified_by: dict[str, Any] | None = None

    # -- identity -----------------------------------------------------------------------------
    @property
    def _arn(self) -> str:
        arn = getattr(self, f"{self._kind}_arn")
        if not arn:
            raise ValueError(
                f"this {self._noun} has no {self._kind}_arn: create it with "
                f"{self._noun}.create() or load it with {self._noun}.load()"
            )
        return str(arn)

    @property
    def _session(self) -> Session:
        return resolve_session(self.sagemaker_session)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._arn_or_none() == self._arn_or_none()

    def __hash__(self) -> int:
        return hash((type(self), self._arn_or_none()))

    def _arn_or_none(self) -> str | None:
        value = getattr(self, f"{self._kind}_arn", None)
        return str(value) if value else None

    def __repr__(self) -> str:
        name = getattr(self, f"{self._kind}_name", None)
        entity_type = getattr(self, f"{self._kind}_type", None)
        return (
            f"{self._noun}({self._kind}_name={name!r}, {self._kind}_type={entity_type!r}, "
            f"{self._kind}_arn={self._arn_or_none()!r})"
        )

    def _repr_html_(self) -> str:
        """A card in Jupyter: kind, name, type, ARN, timestamps, properties."""
        return entity_html(self)

    # -- timestamps, fetched on first use after create() --------------------------------------
    def _ensure_described(self) -> None:
        if self._creation_time is None and self._arn_or_none():
            described = self._describe(self._session, self._arn)
            self._set_times(described)

    def _set_times(self, described: dict[str, Any]) -> None:
        self._creation_time = described.get("CreationTime")
        self._created_by = described.get("CreatedBy")
        self._last_modified_time = described.get("LastModifiedTime")
        self._last_modified_by = described.get("LastModifiedBy")

    @property
    def creation_time(self) -> datetime | None:
        """When the entity was created (timezone-aware UTC)."""
        self._ensure_described()
        return self._creation_time

    @property
    def created_by(self) -> dict[str, Any] | None:
        """Who created it: a SageMaker ``UserContext`` dict."""
        self._ensure_described()
        return self._created_by

    @property
    def last_modified_time(self) -> datetime | None:
        """When it was last changed by ``save()`` (timezone-aware UTC)."""
        self._ensure_described()
        return self._last_modified_time

    @property
    def last_modified_by(self) -> dict[str, Any] | None:
        self._ensure_described()
        return self._last_modified_by

    # -- store calls each kind defines ----------------------------------------------------------
    @classmethod
    def _describe(cls, session: Session, arn: str) -> dict[str, Any]:
        method = getattr(session.store, f"describe_{cls._kind}")
        key = "ArtifactArn" if cls._kind == "artifact" else f"{cls._noun}Name"
        result: dict[str, Any] = method(**{key: arn})
        return result

    @classmethod
    def _from_describe(cls: type[E], described: dict[str, Any], session: Session | None) -> E:
        raise NotImplementedError

    def _snapshot(self) -> dict[str, Any]:
        return {attr: _copied(getattr(self, attr)) for attr in (*self._updatable, *self._fixed)}

    def _mark_saved(self) -> None:
        self._saved = self._snapshot()
        self._saved_tags = _copied(self._tags)

    @classmethod
    def _load(
        cls: type[E], arn: Any, arg: str, sagemaker_session: Session | None, as_of: Any = None
    ) -> E:
        session = resolve_session(sagemaker_session)
        if cls._kind == "artifact" or (isinstance(arn, str) and arn.startswith("arn:")):
            validation.parse_arn(arn, arg, (cls._kind,))
        else:
            validation.check_entity_name(arn, arg, cls._kind)
        if as_of is None:
            return cls._from_describe(cls._describe(session, arn), sagemaker_session)
        key = "ArtifactArn" if cls._kind == "artifact" else f"{cls._noun}Name"
        described = session.store.describe_entity(
            EntityKind=cls._kind, **{key: arn}, AsOf=validation.to_datetime(as_of, "as_of")
        )
        return cls._from_describe(described, sagemaker_session)

    def history(self, include_associations: bool = True) -> builtins.list[Change]:
        """Every recorded change of this entity, newest first: its creation, each update
        (the fields and properties changed, old and new), tag changes, its deletion and, with
        ``include_associations``, associations added to or removed from it; each with when
        and who (:class:`~mllineage.api.history.Change`).

        Example:
            >>> for change in model.history():
            ...     print(change.time, change.operation, change.actor, change.detail)
        """
        return entity_history(self._session, self._arn, include_associations)

    @classmethod
    def _list_page(
        cls: type[E], request: dict[str, Any], sagemaker_session: Session | None
    ) -> EntityList[E]:
        """One page of ``list_entity_details``, as entities: what every ``list`` returns."""
        session = resolve_session(sagemaker_session)
        page = session.store.list_entity_details(**request)
        return EntityList(cls._from_describe(d, sagemaker_session) for d in page["Entities"])

    @classmethod
    def _iterate(
        cls: type[E], request: dict[str, Any], sagemaker_session: Session | None
    ) -> Iterator[E]:
        session = resolve_session(sagemaker_session)
        for described in session.store.paginate("list_entity_details", "Entities", **request):
            yield cls._from_describe(described, sagemaker_session)

    # -- save ---------------------------------------------------------------------------------
    def save(self) -> None:
        """Write what changed since the entity was loaded or last saved: properties set or
        removed, and (by kind) name, status, description and tags.

        Raises:
            ValueError: an invalid property, or a change to a field fixed at creation.
            ClientError: the store refused the update (for example more than 30 properties).
        """
        current = self._snapshot()
        for attr in self._fixed:
            if current[attr] != self._saved.get(attr):
                raise ValueError(
                    f"{attr} cannot be changed after the {self._noun.lower()} "
                    "is created; create a new one instead"
                )
        request: dict[str, Any] = {}
        props = validation.check_properties(self.properties, "properties")
        old_props: dict[str, str] = self._saved.get("properties") or {}
        changed = {k: v for k, v in props.items() if old_props.get(k) != v}
        removed = [k for k in old_props if k not in props]
        if changed:
            request["Properties"] = changed
        if removed:
            request["PropertiesToRemove"] = removed
        for attr, member in self._updatable.items():
            if attr != "properties" and current[attr] != self._saved.get(attr):
                if current[attr] is None:
                    raise ValueError(f"{attr} cannot be cleared once set")
                request[member] = self._check_field(attr, current[attr])
        tags_changed = self._tags is not None and self._tags != self._saved_tags
        if tags_changed:
            validation.check_tags(self._tags, "tags")
        if request:
            key = "ArtifactArn" if self._kind == "artifact" else f"{self._noun}Name"
            getattr(self._session.store, f"update_{self._kind}")(**{key: self._arn}, **request)
            self._creation_time = None  # re-read the timestamps on next use
        if tags_changed:
            self._save_tags()
        self._mark_saved()

    def _check_field(self, attr: str, value: Any) -> Any:
        if attr == "status":
            return validation.check_status(value, attr)
        if attr == "description":
            return validation.check_description(value, attr)
        return validation.check_entity_name(value, attr, self._kind)

    # -- tags -----------------------------------------------------------------------------------
    @property
    def tags(self) -> list[dict[str, str]]:
        """The entity's tags (fetched on first use); edit the list and ``save()``, or use
        :meth:`set_tag` / :meth:`set_tags` / :meth:`remove_tags` to change them at once."""
        if self._tags is None:
            self._tags = list(
                self._session.store.paginate("list_tags", "Tags", ResourceArn=self._arn)
            )
            self._saved_tags = copy.deepcopy(self._tags)
        return self._tags

    @tags.setter
    def tags(self, value: list[dict[str, str]]) -> None:
        _ = self.tags  # remember what is stored, so save() can tell what changed
        self._tags = list(value)

    def _save_tags(self) -> None:
        assert self._tags is not None
        new = {t["Key"]: t.get("Value", "") for t in validation.check_tags(self._tags, "tags")}
        old = {t["Key"]: t["Value"] for t in (self._saved_tags or [])}
        gone = [k for k in old if k not in new]
        if gone:
            self._session.store.delete_tags(ResourceArn=self._arn, TagKeys=gone)
        upserts = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
        if upserts:
            self._session.store.add_tags(ResourceArn=self._arn, Tags=upserts)

    def set_tag(self, tag: dict[str, str]) -> None:
        """Add one tag (``{"Key": ..., "Value": ...}``), or overwrite the value of its key."""
        self.set_tags([tag])

    def set_tags(self, tags: builtins.list[dict[str, str]]) -> None:
        """Add several tags at once, overwriting the values of keys that exist.

        Raises:
            ValueError: a malformed tag. ClientError: the entity would have over 50 tags.
        """
        checked = validation.check_tags(tags, "tags")
        self._session.store.add_tags(ResourceArn=self._arn, Tags=checked)
        self._merge_local_tags(checked, [])

    def remove_tags(self, keys: builtins.list[str]) -> None:
        """Remove the tags with these keys (absent keys are ignored)."""
        checked = validation.check_tag_keys(keys, "keys")
        self._session.store.delete_tags(ResourceArn=self._arn, TagKeys=checked)
        self._merge_local_tags([], checked)

    def _merge_local_tags(
        self, added: builtins.list[dict[str, str]], removed: builtins.list[str]
    ) -> None:
        if self._tags is None:
            return
        merged = {t["Key"]: t["Value"] for t in self._tags}
        merged.update({t["Key"]: t["Value"] for t in added})
        for key in removed:
            merged.pop(key, None)
        self._tags = [{"Key": k, "Value": v} for k, v in merged.items()]
        self._saved_tags = copy.deepcopy(self._tags)

    # -- delete ---------------------------------------------------------------------------------
    def delete(self, disassociate: bool = True) -> None:
        """Delete the entity and every association to or from it, in one transaction.

        Args:
            disassociate: accepted for compatibility with the SageMaker SDK; associations are
                always removed with the entity, so no edge ever points at a missing entity.
        Raises:
            ClientError: ``ResourceNotFound`` if it no longer exists.
        """
        validation.check_bool(disassociate, "disassociate")
        key = "ArtifactArn" if self._kind == "artifact" else f"{self._noun}Name"
        getattr(self._session.store, f"delete_{self._kind}")(**{key: self._arn})


def _get_or_create_named(
    cls: type[E], name: str, sagemaker_session: Session | None, create: Any
) -> E:
    try:
        return cls.load(name, sagemaker_session)  # type: ignore[attr-defined,no-any-return]
    except ResourceNotFound:
        pass
    try:
        return create()  # type: ignore[no-any-return]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ValidationException":
            raise
        try:  # a concurrent caller created it first
            return cls.load(name, sagemaker_session)  # type: ignore[attr-defined,no-any-return]
        except ResourceNotFound:
            raise error from None
