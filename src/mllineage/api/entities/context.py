"""Context: a group of entities (an experiment, a pipeline, an endpoint)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from mllineage import limits, validation
from mllineage.api import _convert
from mllineage.api.entities.base import (
    _get_or_create_named,
    _LineageEntity,
    _list_request,
)
from mllineage.api.requests import create_request
from mllineage.api.session import Session, resolve_session
from mllineage.viz.display import EntityList


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
        request = create_request(
            "context",
            context_name,
            context_type,
            source=source,
            properties=properties,
            description=description,
            tags=tags,
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
        create_request(
            "context",
            context_name,
            context_type,
            source=source,
            properties=properties,
            description=description,
            tags=tags,
        )
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
        return cls._list_page(request, sagemaker_session)

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
