"""Action: a step of the workflow (processing, training, deployment)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from mllineage import limits
from mllineage.api import _convert
from mllineage.api.entities.base import (
    _get_or_create_named,
    _LineageEntity,
    _list_request,
)
from mllineage.api.requests import create_request
from mllineage.api.session import Session, resolve_session
from mllineage.viz.display import EntityList


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
        request = create_request(
            "action",
            action_name,
            action_type,
            source=source,
            properties=properties,
            status=status,
            description=description,
            tags=tags,
            metadata_properties=metadata_properties,
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
        create_request(
            "action",
            action_name,
            action_type,
            source=source,
            properties=properties,
            status=status,
            description=description,
            tags=tags,
            metadata_properties=metadata_properties,
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
        return cls._list_page(request, sagemaker_session)

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
