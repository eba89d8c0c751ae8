"""Association: a typed, directed edge from a source entity to a destination entity."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from mllineage import limits, validation
from mllineage.api.session import Session, resolve_session
from mllineage.errors import ClientError
from mllineage.viz.display import EntityList, association_html

T = TypeVar("T")

_SORT_BY = ("SourceArn", "DestinationArn", "SourceType", "DestinationType", "CreationTime")
_ENTITY_ARN_KINDS = (*validation.ENTITY_KINDS, "experiment", "experiment-trial-component")


class _ClassOrInstance(Generic[T]):
    """A method callable on the class with explicit arguments (``Association.delete(src,
    dst)``, as the spec writes it) or on an instance without them (``association.delete()``,
    as the SageMaker SDK writes it)."""

    def __init__(self, fn: Callable[..., T]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[..., T]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[..., T]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> Callable[..., T]:
        return functools.partial(self.fn, owner, obj)


class Association:
    """An edge of the lineage graph: ``source_arn`` --association_type--> ``destination_arn``.

    Types: ``ContributedTo``, ``AssociatedWith``, ``DerivedFrom``, ``Produced``, ``SameAs``.
    The graph is a DAG: an association that would close a cycle is refused.

    Example:
        >>> Association.create(dataset.artifact_arn, train.action_arn, "ContributedTo")
    """

    def __init__(
        self,
        source_arn: str,
        destination_arn: str,
        association_type: str | None = None,
        sagemaker_session: Session | None = None,
        source_type: str | None = None,
        destination_type: str | None = None,
        source_name: str | None = None,
        destination_name: str | None = None,
        creation_time: datetime | None = None,
        created_by: dict[str, Any] | None = None,
    ) -> None:
        self.source_arn = source_arn
        self.destination_arn = destination_arn
        self.association_type = association_type
        self.sagemaker_session = sagemaker_session
        self.source_type = source_type
        self.destination_type = destination_type
        self.source_name = source_name
        self.destination_name = destination_name
        self.creation_time = creation_time
        self.created_by = created_by

    def __repr__(self) -> str:
        return (
            f"Association(source_arn={self.source_arn!r}, "
            f"destination_arn={self.destination_arn!r}, "
            f"association_type={self.association_type!r})"
        )

    def _repr_html_(self) -> str:
        """Jupyter: source -> type -> destination, with names and ARNs."""
        return association_html(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Association) and (
            (other.source_arn, other.destination_arn) == (self.source_arn, self.destination_arn)
        )

    def __hash__(self) -> int:
        return hash((self.source_arn, self.destination_arn))

    @classmethod
    def _from_summary(cls, summary: dict[str, Any], session: Session | None) -> Association:
        return cls(
            summary["SourceArn"],
            summary["DestinationArn"],
            summary.get("AssociationType"),
            session,
            summary.get("SourceType"),
            summary.get("DestinationType"),
            summary.get("SourceName"),
            summary.get("DestinationName"),
            summary.get("CreationTime"),
            summary.get("CreatedBy"),
        )

    @staticmethod
    def _check(source_arn: Any, destination_arn: Any) -> tuple[str, str]:
        return (
            validation.parse_arn(source_arn, "source_arn", _ENTITY_ARN_KINDS).arn,
            validation.parse_arn(destination_arn, "destination_arn", _ENTITY_ARN_KINDS).arn,
        )

    @classmethod
    def create(
        cls,
        source_arn: str,
        destination_arn: str,
        association_type: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> Association:
        """Create the association ``source_arn -> destination_arn``.

        Raises:
            ValueError: a malformed ARN or an unknown ``association_type``.
            ClientError: ``ResourceNotFound`` if an end does not exist; ``ValidationException``
                if it exists already or would close a cycle; ``ResourceLimitExceeded`` past
                1,000 associations on an entity.
        """
        source_arn, destination_arn = cls._check(source_arn, destination_arn)
        if association_type is None:
            raise ValueError(
                f"association_type is required: one of {', '.join(validation.ASSOCIATION_TYPES)}"
            )
        validation.check_association_type(association_type, "association_type")
        session = resolve_session(sagemaker_session)
        session.store.add_association(
            SourceArn=source_arn, DestinationArn=destination_arn, AssociationType=association_type
        )
        return cls(source_arn, destination_arn, association_type, sagemaker_session)

    @classmethod
    def get_or_create(
        cls,
        source_arn: str,
        destination_arn: str,
        association_type: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> Association:
        """The association ``source_arn -> destination_arn`` if it exists (whatever its type),
        else a new one: for pipelines that rerun."""
        source_arn, destination_arn = cls._check(source_arn, destination_arn)
        found = cls._find(source_arn, destination_arn, sagemaker_session)
        if found is not None:
            return found
        try:
            return cls.create(source_arn, destination_arn, association_type, sagemaker_session)
        except ClientError:
            found = cls._find(source_arn, destination_arn, sagemaker_session)
            if found is None:
                raise
            return found

    @classmethod
    def _find(
        cls, source_arn: str, destination_arn: str, sagemaker_session: Session | None
    ) -> Association | None:
        session = resolve_session(sagemaker_session)
        page = session.store.list_associations(SourceArn=source_arn, DestinationArn=destination_arn)
        summaries = page["AssociationSummaries"]
        return cls._from_summary(summaries[0], sagemaker_session) if summaries else None

    @classmethod
    def _list_request(
        cls,
        source_arn: Any,
        destination_arn: Any,
        association_type: Any,
        created_after: Any,
        created_before: Any,
        sort_by: Any,
        sort_order: Any,
        max_results: Any,
        source_type: Any,
        destination_type: Any,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "SortBy": validation.check_choice(sort_by, "sort_by", _SORT_BY),
            "SortOrder": validation.check_choice(sort_order, "sort_order", validation.SORT_ORDERS),
            "MaxResults": validation.check_int(
                max_results, "max_results", 1, limits.LIST_MAX_RESULTS
            ),
        }
        if source_arn is not None:
            request["SourceArn"] = validation.parse_arn(
                source_arn, "source_arn", _ENTITY_ARN_KINDS
            ).arn
        if destination_arn is not None:
            request["DestinationArn"] = validation.parse_arn(
                destination_arn, "destination_arn", _ENTITY_ARN_KINDS
            ).arn
        if association_type is not None:
            request["AssociationType"] = validation.check_association_type(
                association_type, "association_type"
            )
        if source_type is not None:
            request["SourceType"] = validation.check_entity_type(source_type, "source_type")
        if destination_type is not None:
            request["DestinationType"] = validation.check_entity_type(
                destination_type, "destination_type"
            )
        if created_after is not None:
            request["CreatedAfter"] = validation.to_datetime(created_after, "created_after")
        if created_before is not None:
            request["CreatedBefore"] = validation.to_datetime(created_before, "created_before")
        return request

    @classmethod
    def list(
        cls,
        source_arn: str | None = None,
        destination_arn: str | None = None,
        association_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = limits.LIST_DEFAULT_MAX_RESULTS_PYTHON,
        sagemaker_session: Session | None = None,
        source_type: str | None = None,
        destination_type: str | None = None,
        as_of: datetime | str | None = None,
    ) -> EntityList[Association]:
        """Up to ``max_results`` (1-100) associations matching every filter given; each has
        ``source_type``/``destination_type`` and ``source_name``/``destination_name`` too.
        Use :meth:`list_all` to go through every match. With ``as_of`` (a datetime or ISO
        8601 string, inclusive), the associations as they stood at that instant."""
        request = cls._list_request(
            source_arn,
            destination_arn,
            association_type,
            created_after,
            created_before,
            sort_by,
            sort_order,
            max_results,
            source_type,
            destination_type,
        )
        session = resolve_session(sagemaker_session)
        if as_of is None:
            page = session.store.list_associations(**request)
        else:
            as_of = validation.to_datetime(as_of, "as_of")
            page = session.store.list_associations_as_of(**request, AsOf=as_of)
        return EntityList(
            cls._from_summary(s, sagemaker_session) for s in page["AssociationSummaries"]
        )

    @classmethod
    def list_all(
        cls,
        source_arn: str | None = None,
        destination_arn: str | None = None,
        association_type: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        page_size: int = limits.LIST_MAX_RESULTS,
        sagemaker_session: Session | None = None,
        source_type: str | None = None,
        destination_type: str | None = None,
        as_of: datetime | str | None = None,
    ) -> Iterator[Association]:
        """Every matching association, fetched ``page_size`` at a time."""
        request = cls._list_request(
            source_arn,
            destination_arn,
            association_type,
            created_after,
            created_before,
            sort_by,
            sort_order,
            page_size,
            source_type,
            destination_type,
        )
        session = resolve_session(sagemaker_session)
        method = "list_associations"
        if as_of is not None:
            method = "list_associations_as_of"
            request["AsOf"] = validation.to_datetime(as_of, "as_of")
        for summary in session.store.paginate(method, "AssociationSummaries", **request):
            yield cls._from_summary(summary, sagemaker_session)

    @_ClassOrInstance
    def delete(
        cls: type[Association],  # noqa: N805 - bound to the class by _ClassOrInstance
        self: Association | None,
        source_arn: str | None = None,
        destination_arn: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> None:
        """Delete an association; the entities stay.

        ``Association.delete(source_arn, destination_arn)`` or ``association.delete()``.
        Raises ``ClientError`` (``ResourceNotFound``) if there is no such association.
        """
        if self is not None:
            source_arn = source_arn or self.source_arn
            destination_arn = destination_arn or self.destination_arn
            sagemaker_session = sagemaker_session or self.sagemaker_session
        if source_arn is None or destination_arn is None:
            raise ValueError("source_arn and destination_arn are required")
        source_arn, destination_arn = cls._check(source_arn, destination_arn)
        resolve_session(sagemaker_session).store.delete_association(
            SourceArn=source_arn, DestinationArn=destination_arn
        )
