"""Artifact, Action, Context and Association: the spec's Python API over any store.

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

from mllineage import _convert, limits, validation
from mllineage.display import EntityList, entity_html
from mllineage.errors import ClientError, ResourceNotFound
from mllineage.history import Change, entity_history
from mllineage.session import Session, resolve_session

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
        return {
            attr: copy.deepcopy(getattr(self, attr)) for attr in (*self._updatable, *self._fixed)
        }

    def _mark_saved(self) -> None:
        self._saved = self._snapshot()
        self._saved_tags = copy.deepcopy(self._tags)

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
        and who (:class:`~mllineage.history.Change`).

        Example:
            >>> for change in model.history():
            ...     print(change.time, change.operation, change.actor, change.detail)
        """
        return entity_history(self._session, self._arn, include_associations)

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


class Artifact(_LineageEntity):
    """A URI-addressable thing: a dataset, a model, an image, a config.

    Example:
        >>> dataset = Artifact.create(artifact_name="train", artifact_type="Dataset",
        ...                           source={"source_uri": "s3://bucket/train.csv"})
    """

    _kind = "artifact"
    _noun = "Artifact"
    _updatable = {"artifact_name": "ArtifactName", "properties": "Properties"}
    _fixed = ("artifact_type", "source")

    def __init__(
        self,
        artifact_arn: str | None = None,
        artifact_name: str | None = None,
        artifact_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        sagemaker_session: Session | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> None:
        super().__init__(sagemaker_session)
        self.artifact_arn = artifact_arn
        self.artifact_name = artifact_name
        self.artifact_type = artifact_type
        self.source = source
        self.properties = dict(properties or {})
        self.metadata_properties = metadata_properties
        self._mark_saved()

    @classmethod
    def _from_describe(cls, described: dict[str, Any], session: Session | None) -> Artifact:
        artifact = cls(
            artifact_arn=described["ArtifactArn"],
            artifact_name=described.get("ArtifactName"),
            artifact_type=described.get("ArtifactType"),
            source=_convert.source_from_wire(described.get("Source")),
            properties=described.get("Properties", {}),
            sagemaker_session=session,
            metadata_properties=described.get("MetadataProperties"),
        )
        artifact._set_times(described)
        return artifact

    @classmethod
    def _create_request(
        cls,
        artifact_name: Any,
        artifact_type: Any,
        source: Any,
        properties: Any,
        tags: Any,
        metadata_properties: Any,
    ) -> dict[str, Any]:
        if artifact_type is None:
            raise ValueError("artifact_type is required, for example 'Dataset' or 'Model'")
        artifact_type = validation.check_entity_type(artifact_type, "artifact_type")
        request: dict[str, Any] = {
            "ArtifactName": (
                validation.check_entity_name(artifact_name, "artifact_name", "artifact")
                if artifact_name is not None
                else _convert.generated_name(artifact_type)
            ),
            "ArtifactType": artifact_type,
        }
        if source is not None:
            request["Source"] = _convert.artifact_source_to_wire(source)
        if properties:
            request["Properties"] = validation.check_properties(properties, "properties")
        if tags:
            request["Tags"] = validation.check_tags(tags, "tags")
        if metadata_properties:
            request["MetadataProperties"] = validation.check_metadata_properties(
                metadata_properties, "metadata_properties"
            )
        return request

    @classmethod
    def create(
        cls,
        artifact_name: str | None = None,
        artifact_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> Artifact:
        """Create an artifact.

        Args:
            artifact_name: 1-120 characters (generated from the type if omitted); not unique.
            artifact_type: required, e.g. ``"Dataset"``, ``"Model"``.
            source: ``{"source_uri": ..., "source_types": [{"SourceIdType", "Value"}]}``; an
                artifact is identified by its source.
            properties: at most 30 string key/value pairs, 1-256 characters each.
            tags: at most 50 ``{"Key", "Value"}`` dicts.
        Raises:
            ValueError: an invalid argument.
            ClientError: ``ValidationException`` if an artifact with this source exists.
        """
        request = cls._create_request(
            artifact_name, artifact_type, source, properties, tags, metadata_properties
        )
        session = resolve_session(sagemaker_session)
        arn = session.store.create_artifact(**request)["ArtifactArn"]
        artifact = cls(
            arn,
            request["ArtifactName"],
            request["ArtifactType"],
            _convert.source_from_wire(request.get("Source")),
            request.get("Properties"),
            sagemaker_session,
            metadata_properties,
        )
        if tags is not None:
            artifact._tags = request.get("Tags", [])
            artifact._saved_tags = copy.deepcopy(artifact._tags)
        return artifact

    @classmethod
    def get_or_create(
        cls,
        artifact_name: str | None = None,
        artifact_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> Artifact:
        """The artifact with this source (URI and source types) if it exists, unchanged;
        else a new one, as :meth:`create` makes it. Safe for pipelines that rerun, and for
        concurrent callers."""
        request = cls._create_request(
            artifact_name, artifact_type, source, properties, tags, metadata_properties
        )
        if "Source" not in request:
            raise ValueError(
                "get_or_create needs source=: an artifact is identified by its "
                "source, not by its name"
            )
        found = cls._find_by_source(request["Source"], sagemaker_session)
        if found is not None:
            return found
        try:
            return cls.create(
                artifact_name,
                artifact_type,
                source,
                properties,
                tags,
                sagemaker_session,
                metadata_properties,
            )
        except ClientError:
            found = cls._find_by_source(request["Source"], sagemaker_session)
            if found is None:
                raise
            return found

    @classmethod
    def _find_by_source(
        cls, source: dict[str, Any], sagemaker_session: Session | None
    ) -> Artifact | None:
        wanted_types = sorted(
            (t["SourceIdType"], t["Value"]) for t in source.get("SourceTypes", [])
        )
        request = {
            "EntityKind": "artifact",
            "SourceUri": source["SourceUri"],
            "MaxResults": limits.LIST_MAX_RESULTS,
        }
        for artifact in cls._iterate(request, sagemaker_session):
            got = artifact.source or {}
            got_types = sorted(
                (t["SourceIdType"], t["Value"]) for t in got.get("source_types") or []
            )
            if got.get("source_uri") == source["SourceUri"] and got_types == wanted_types:
                return artifact
        return None

    @classmethod
    def load(
        cls,
        artifact_arn: str,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> Artifact:
        """Load an artifact by ARN; with ``as_of`` (a datetime or ISO 8601 string,
        inclusive), as it was at that instant, also if deleted since. Raises ``ClientError``
        (``ResourceNotFound``)."""
        return cls._load(artifact_arn, "artifact_arn", sagemaker_session, as_of)

    @classmethod
    def list(
        cls,
        source_uri: str | None = None,
        artifact_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = limits.LIST_DEFAULT_MAX_RESULTS_PYTHON,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> EntityList[Artifact]:
        """Up to ``max_results`` (1-100) artifacts, newest first by default.

        ``source_uri`` matches at path boundaries: ``s3://b/datasets`` finds
        ``s3://b/datasets/train.csv`` but not ``s3://b/datasets2/x``. ``created_after`` and
        ``created_before`` are inclusive and take a datetime or an ISO 8601 string. To go
        through every match, use :meth:`list_all`. With ``as_of``, the artifacts as they
        stood at that instant (every list call of every entity takes it).
        """
        request = _list_request(
            "artifact",
            "ArtifactType",
            source_uri=source_uri,
            entity_type=artifact_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=max_results,
            as_of=as_of,
        )
        session = resolve_session(sagemaker_session)
        page = session.store.list_entity_details(**request)
        return EntityList(cls._from_describe(d, sagemaker_session) for d in page["Entities"])

    @classmethod
    def list_all(
        cls,
        source_uri: str | None = None,
        artifact_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        page_size: int = limits.LIST_MAX_RESULTS,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> Iterator[Artifact]:
        """Every matching artifact, fetched ``page_size`` at a time (filters as :meth:`list`)."""
        request = _list_request(
            "artifact",
            "ArtifactType",
            source_uri=source_uri,
            entity_type=artifact_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=page_size,
            as_of=as_of,
        )
        return cls._iterate(request, sagemaker_session)


class Action(_LineageEntity):
    """A step of the workflow: processing, training, deployment.

    Example:
        >>> train = Action.create(action_name="train-v1", action_type="Training",
        ...                       status="InProgress")
        >>> train.status = "Completed"
        >>> train.save()
    """

    _kind = "action"
    _noun = "Action"
    _updatable = {"status": "Status", "description": "Description", "properties": "Properties"}
    _fixed = ("action_name", "action_type", "source")

    def __init__(
        self,
        action_arn: str | None = None,
        action_name: str | None = None,
        action_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        status: str | None = None,
        description: str | None = None,
        sagemaker_session: Session | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> None:
        super().__init__(sagemaker_session)
        self.action_arn = action_arn
        self.action_name = action_name
        self.action_type = action_type
        self.source = source
        self.properties = dict(properties or {})
        self.status = status
        self.description = description
        self.metadata_properties = metadata_properties
        self._mark_saved()

    @classmethod
    def _from_describe(cls, described: dict[str, Any], session: Session | None) -> Action:
        action = cls(
            action_arn=described["ActionArn"],
            action_name=described.get("ActionName"),
            action_type=described.get("ActionType"),
            source=_convert.source_from_wire(described.get("Source")),
            properties=described.get("Properties", {}),
            status=described.get("Status"),
            description=described.get("Description"),
            sagemaker_session=session,
            metadata_properties=described.get("MetadataProperties"),
        )
        action._set_times(described)
        return action

    @classmethod
    def _create_request(
        cls,
        action_name: Any,
        action_type: Any,
        source: Any,
        properties: Any,
        status: Any,
        tags: Any,
        description: Any,
        metadata_properties: Any,
    ) -> dict[str, Any]:
        if action_type is None:
            raise ValueError("action_type is required, for example 'Training' or 'Processing'")
        action_type = validation.check_entity_type(action_type, "action_type")
        request: dict[str, Any] = {
            "ActionName": (
                validation.check_entity_name(action_name, "action_name", "action")
                if action_name is not None
                else _convert.generated_name(action_type)
            ),
            "ActionType": action_type,
        }
        if source is not None:
            request["Source"] = _convert.simple_source_to_wire(source)
        if properties:
            request["Properties"] = validation.check_properties(properties, "properties")
        if status is not None:
            request["Status"] = validation.check_status(status, "status")
        if description is not None:
            request["Description"] = validation.check_description(description, "description")
        if tags:
            request["Tags"] = validation.check_tags(tags, "tags")
        if metadata_properties:
            request["MetadataProperties"] = validation.check_metadata_properties(
                metadata_properties, "metadata_properties"
            )
        return request

    @classmethod
    def create(
        cls,
        action_name: str | None = None,
        action_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        status: str | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        description: str | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> Action:
        """Create an action.

        Args:
            action_name: unique, 1-120 letters, digits, ``-``, ``_``, ``.`` (generated if
                omitted).
            action_type: required, e.g. ``"Training"``.
            source: ``{"source_uri", "source_type", "source_id"}`` (a single ``source_types``
                entry is accepted too).
            status: ``Unknown``, ``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or
                ``Stopped``.
        Raises:
            ValueError: an invalid argument. ClientError: the name is taken.
        """
        request = cls._create_request(
            action_name,
            action_type,
            source,
            properties,
            status,
            tags,
            description,
            metadata_properties,
        )
        session = resolve_session(sagemaker_session)
        arn = session.store.create_action(**request)["ActionArn"]
        action = cls(
            arn,
            request["ActionName"],
            request["ActionType"],
            _convert.source_from_wire(request.get("Source")),
            request.get("Properties"),
            request.get("Status"),
            request.get("Description"),
            sagemaker_session,
            metadata_properties,
        )
        if tags is not None:
            action._tags = request.get("Tags", [])
            action._saved_tags = copy.deepcopy(action._tags)
        return action

    @classmethod
    def get_or_create(
        cls,
        action_name: str | None = None,
        action_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        status: str | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        description: str | None = None,
        metadata_properties: dict[str, str] | None = None,
    ) -> Action:
        """The action named ``action_name`` if it exists, unchanged; else a new one."""
        if action_name is None:
            raise ValueError("get_or_create needs action_name=: an action is identified by it")
        cls._create_request(
            action_name,
            action_type,
            source,
            properties,
            status,
            tags,
            description,
            metadata_properties,
        )
        return _get_or_create_named(
            cls,
            action_name,
            sagemaker_session,
            lambda: cls.create(
                action_name,
                action_type,
                source,
                properties,
                status,
                tags,
                sagemaker_session,
                description,
                metadata_properties,
            ),
        )

    @classmethod
    def load(
        cls,
        action_arn: str,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> Action:
        """Load an action by ARN (or name). Raises ``ClientError`` (``ResourceNotFound``)."""
        return cls._load(action_arn, "action_arn", sagemaker_session, as_of)

    @classmethod
    def list(
        cls,
        source_uri: str | None = None,
        action_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = limits.LIST_DEFAULT_MAX_RESULTS_PYTHON,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> EntityList[Action]:
        """Up to ``max_results`` (1-100) actions; filters as :meth:`Artifact.list`, and
        ``sort_by`` may also be ``"Name"``."""
        request = _list_request(
            "action",
            "ActionType",
            source_uri=source_uri,
            entity_type=action_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=max_results,
            as_of=as_of,
        )
        session = resolve_session(sagemaker_session)
        page = session.store.list_entity_details(**request)
        return EntityList(cls._from_describe(d, sagemaker_session) for d in page["Entities"])

    @classmethod
    def list_all(
        cls,
        source_uri: str | None = None,
        action_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        page_size: int = limits.LIST_MAX_RESULTS,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> Iterator[Action]:
        """Every matching action, fetched ``page_size`` at a time."""
        request = _list_request(
            "action",
            "ActionType",
            source_uri=source_uri,
            entity_type=action_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=page_size,
            as_of=as_of,
        )
        return cls._iterate(request, sagemaker_session)


class Context(_LineageEntity):
    """A group of entities: an experiment, a pipeline, a project, an endpoint.

    Example:
        >>> run = Context.create(context_name="pipeline-run-1", context_type="Pipeline")
        >>> run.add_artifact(dataset.artifact_arn)
    """

    _kind = "context"
    _noun = "Context"
    _updatable = {"description": "Description", "properties": "Properties"}
    _fixed = ("context_name", "context_type", "source")

    def __init__(
        self,
        context_arn: str | None = None,
        context_name: str | None = None,
        context_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> None:
        super().__init__(sagemaker_session)
        self.context_arn = context_arn
        self.context_name = context_name
        self.context_type = context_type
        self.source = source
        self.properties = dict(properties or {})
        self.description = description
        self._mark_saved()

    @classmethod
    def _from_describe(cls, described: dict[str, Any], session: Session | None) -> Context:
        context = cls(
            context_arn=described["ContextArn"],
            context_name=described.get("ContextName"),
            context_type=described.get("ContextType"),
            source=_convert.source_from_wire(described.get("Source")),
            properties=described.get("Properties", {}),
            description=described.get("Description"),
            sagemaker_session=session,
        )
        context._set_times(described)
        return context

    @classmethod
    def _create_request(
        cls,
        context_name: Any,
        context_type: Any,
        source: Any,
        properties: Any,
        tags: Any,
        description: Any,
    ) -> dict[str, Any]:
        if context_type is None:
            raise ValueError("context_type is required, for example 'Pipeline' or 'Experiment'")
        context_type = validation.check_entity_type(context_type, "context_type")
        request: dict[str, Any] = {
            "ContextName": (
                validation.check_entity_name(context_name, "context_name", "context")
                if context_name is not None
                else _convert.generated_name(context_type)
            ),
            "ContextType": context_type,
        }
        if source is not None:
            request["Source"] = _convert.simple_source_to_wire(source)
        if properties:
            request["Properties"] = validation.check_properties(properties, "properties")
        if description is not None:
            request["Description"] = validation.check_description(description, "description")
        if tags:
            request["Tags"] = validation.check_tags(tags, "tags")
        return request

    @classmethod
    def create(
        cls,
        context_name: str | None = None,
        context_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        description: str | None = None,
    ) -> Context:
        """Create a context (``context_name`` unique; ``context_type`` required).

        Raises:
            ValueError: an invalid argument. ClientError: the name is taken.
        """
        request = cls._create_request(
            context_name, context_type, source, properties, tags, description
        )
        session = resolve_session(sagemaker_session)
        arn = session.store.create_context(**request)["ContextArn"]
        context = cls(
            arn,
            request["ContextName"],
            request["ContextType"],
            _convert.source_from_wire(request.get("Source")),
            request.get("Properties"),
            request.get("Description"),
            sagemaker_session,
        )
        if tags is not None:
            context._tags = request.get("Tags", [])
            context._saved_tags = copy.deepcopy(context._tags)
        return context

    @classmethod
    def get_or_create(
        cls,
        context_name: str | None = None,
        context_type: str | None = None,
        source: dict[str, Any] | None = None,
        properties: dict[str, str] | None = None,
        tags: builtins.list[dict[str, str]] | None = None,
        sagemaker_session: Session | None = None,
        description: str | None = None,
    ) -> Context:
        """The context named ``context_name`` if it exists, unchanged; else a new one."""
        if context_name is None:
            raise ValueError("get_or_create needs context_name=: a context is identified by it")
        cls._create_request(context_name, context_type, source, properties, tags, description)
        return _get_or_create_named(
            cls,
            context_name,
            sagemaker_session,
            lambda: cls.create(
                context_name, context_type, source, properties, tags, sagemaker_session, description
            ),
        )

    @classmethod
    def load(
        cls,
        context_arn: str,
        sagemaker_session: Session | None = None,
        as_of: datetime | str | None = None,
    ) -> Context:
        """Load a context by ARN (or name). Raises ``ClientError`` (``ResourceNotFound``)."""
        return cls._load(context_arn, "context_arn", sagemaker_session, as_of)

    @classmethod
    def list(
        cls,
        context_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = limits.LIST_DEFAULT_MAX_RESULTS_PYTHON,
        sagemaker_session: Session | None = None,
        source_uri: str | None = None,
        as_of: datetime | str | None = None,
    ) -> EntityList[Context]:
        """Up to ``max_results`` (1-100) contexts; filters as :meth:`Artifact.list`."""
        request = _list_request(
            "context",
            "ContextType",
            source_uri=source_uri,
            entity_type=context_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=max_results,
            as_of=as_of,
        )
        session = resolve_session(sagemaker_session)
        page = session.store.list_entity_details(**request)
        return EntityList(cls._from_describe(d, sagemaker_session) for d in page["Entities"])

    @classmethod
    def list_all(
        cls,
        context_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        page_size: int = limits.LIST_MAX_RESULTS,
        sagemaker_session: Session | None = None,
        source_uri: str | None = None,
        as_of: datetime | str | None = None,
    ) -> Iterator[Context]:
        """Every matching context, fetched ``page_size`` at a time."""
        request = _list_request(
            "context",
            "ContextType",
            source_uri=source_uri,
            entity_type=context_type,
            created_after=created_after,
            created_before=created_before,
            sort_by=sort_by,
            sort_order=sort_order,
            max_results=page_size,
            as_of=as_of,
        )
        return cls._iterate(request, sagemaker_session)

    def add_artifact(self, artifact_arn: str, association_type: str = "AssociatedWith") -> None:
        """Make an artifact a member: an association from the artifact to this context."""
        self._add_member(artifact_arn, "artifact_arn", association_type)

    def add_action(self, action_arn: str, association_type: str = "AssociatedWith") -> None:
        """Make an action a member: an association from the action to this context."""
        self._add_member(action_arn, "action_arn", association_type)

    def _add_member(self, arn: str, arg: str, association_type: str) -> None:
        # Either method takes any entity ARN: the association is the same whatever its kind.
        validation.parse_arn(arn, arg)
        validation.check_association_type(association_type, "association_type")
        self._session.store.add_association(
            SourceArn=arn, DestinationArn=self._arn, AssociationType=association_type
        )


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
