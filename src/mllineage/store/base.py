"""The store seam: one abstract class whose methods are the SageMaker lineage operations.

Every method takes the request members of the boto3 call of the same name as keyword arguments
(``store.create_artifact(ArtifactType="Dataset", Source={...})``) and returns the response
dict boto3 would return, with ``datetime`` values for timestamps. Rules are enforced by the
implementations; every refusal is a :class:`mllineage.ClientError`.

Extensions serve the Python API (see ``operations.py``):

* ``list_entity_details`` pages through artifacts, actions or contexts with their full
  descriptions, so ``Artifact.list()`` needs one call per page rather than one per entity;
* ``lineage_graph`` answers a lineage query whole, with each vertex's properties;
* ``put_lineage`` writes many entities and associations in one atomic call;
* ``count_entities`` counts entities per kind and type, and associations (the UI's home page);
* ``put_openlineage_event`` and ``list_openlineage_events`` keep and read raw OpenLineage
  events (mapped to lineage by :mod:`mllineage.capture.openlineage`);
* ``list_changes``, ``prune_history``, ``describe_entity`` and ``list_associations_as_of``
  read and trim the recorded history; ``AsOf`` on ``list_entity_details``, ``lineage_graph``
  and those two reads answers with the state at an instant.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

Response = dict[str, Any]


class Store(abc.ABC):
    """A lineage store. Implementations: ``SqlStore`` (SQLite, PostgreSQL), ``HttpStore``."""

    #: The URL the store was opened with, without credentials.
    url: str

    # -- artifacts --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_artifact(self, **request: Any) -> Response:
        """CreateArtifact.

        Args: ``Source`` (``{"SourceUri", "SourceTypes"}``), ``ArtifactType``, and optionally
            ``ArtifactName``, ``Properties``, ``MetadataProperties``, ``Tags``.
        Returns: ``{"ArtifactArn": ...}``.
        Raises: ``ValidationException`` for a bad member or when an artifact with the same
            source (URI and source types) exists.
        """

    @abc.abstractmethod
    def describe_artifact(self, **request: Any) -> Response:
        """DescribeArtifact by ``ArtifactArn``. Raises ``ResourceNotFound``."""

    @abc.abstractmethod
    def list_artifacts(self, **request: Any) -> Response:
        """ListArtifacts with ``SourceUri`` (matched at path boundaries), ``ArtifactType``,
        ``CreatedAfter``/``CreatedBefore`` (inclusive), ``SortBy``, ``SortOrder``,
        ``MaxResults`` (1-100, default 10) and ``NextToken``.

        Returns: ``{"ArtifactSummaries": [...], "NextToken": ...}`` (no token on the last page).
        """

    @abc.abstractmethod
    def update_artifact(self, **request: Any) -> Response:
        """UpdateArtifact: ``ArtifactName``, ``Properties`` (merged into the current ones) and
        ``PropertiesToRemove``. Raises ``ResourceNotFound``, ``ValidationException``."""

    @abc.abstractmethod
    def delete_artifact(self, **request: Any) -> Response:
        """DeleteArtifact by ``ArtifactArn`` or ``Source``; its associations go with it."""

    # -- actions ----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_action(self, **request: Any) -> Response:
        """CreateAction: ``ActionName`` (unique), ``ActionType``, optionally ``Source``,
        ``Description``, ``Status``, ``Properties``, ``MetadataProperties``, ``Tags``.
        Returns ``{"ActionArn": ...}``; raises ``ValidationException`` if the name is taken."""

    @abc.abstractmethod
    def describe_action(self, **request: Any) -> Response:
        """DescribeAction by ``ActionName`` (a name or an ARN). Raises ``ResourceNotFound``."""

    @abc.abstractmethod
    def list_actions(self, **request: Any) -> Response:
        """ListActions; the filters of ``list_artifacts`` with ``ActionType``, and
        ``SortBy`` ``Name`` or ``CreationTime``."""

    @abc.abstractmethod
    def update_action(self, **request: Any) -> Response:
        """UpdateAction: ``Description``, ``Status``, ``Properties``, ``PropertiesToRemove``."""

    @abc.abstractmethod
    def delete_action(self, **request: Any) -> Response:
        """DeleteAction by ``ActionName`` (name or ARN); its associations go with it."""

    # -- contexts ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_context(self, **request: Any) -> Response:
        """CreateContext: ``ContextName`` (unique), ``ContextType``, optionally ``Source``,
        ``Description``, ``Properties``, ``Tags``. Returns ``{"ContextArn": ...}``."""

    @abc.abstractmethod
    def describe_context(self, **request: Any) -> Response:
        """DescribeContext by ``ContextName`` (a name or an ARN)."""

    @abc.abstractmethod
    def list_contexts(self, **request: Any) -> Response:
        """ListContexts; the filters of ``list_actions`` with ``ContextType``."""

    @abc.abstractmethod
    def update_context(self, **request: Any) -> Response:
        """UpdateContext: ``Description``, ``Properties``, ``PropertiesToRemove``."""

    @abc.abstractmethod
    def delete_context(self, **request: Any) -> Response:
        """DeleteContext by ``ContextName`` (name or ARN); its associations go with it."""

    # -- associations -----------------------------------------------------------------------
    @abc.abstractmethod
    def add_association(self, **request: Any) -> Response:
        """AddAssociation from ``SourceArn`` to ``DestinationArn`` of ``AssociationType``.

        Raises: ``ResourceNotFound`` for a missing end; ``ValidationException`` for a duplicate
            or an edge that would close a cycle; ``ResourceLimitExceeded`` past 1,000
            associations on either end.
        """

    @abc.abstractmethod
    def delete_association(self, **request: Any) -> Response:
        """DeleteAssociation by ``SourceArn`` and ``DestinationArn``."""

    @abc.abstractmethod
    def list_associations(self, **request: Any) -> Response:
        """ListAssociations with ``SourceArn``, ``DestinationArn``, ``SourceType``,
        ``DestinationType``, ``AssociationType``, ``CreatedAfter``/``CreatedBefore``,
        ``SortBy``, ``SortOrder``, ``MaxResults`` and ``NextToken``."""

    # -- lineage ----------------------------------------------------------------------------
    @abc.abstractmethod
    def query_lineage(self, **request: Any) -> Response:
        """QueryLineage: ``StartArns`` (1-10), ``Direction``, ``IncludeEdges``, ``Filters``,
        ``MaxDepth`` (1-100), and ``MaxResults``/``NextToken`` to page the answer.

        Returns ``{"Vertices": [{"Arn", "Type", "LineageType"}], "Edges": [...]}``.
        Raises ``ResourceLimitExceeded`` past 10,000 vertices, 100,000 edges or 60 s.
        """

    @abc.abstractmethod
    def lineage_graph(self, **request: Any) -> Response:
        """The whole answer of ``query_lineage`` (no paging), each vertex with ``Properties``
        (its user properties and own fields, timestamps as ISO 8601 text)."""

    # -- tags -------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_tags(self, **request: Any) -> Response:
        """AddTags to ``ResourceArn``; same keys are overwritten; at most 50 tags in all."""

    @abc.abstractmethod
    def list_tags(self, **request: Any) -> Response:
        """ListTags of ``ResourceArn``, paged by ``MaxResults`` (at least 50) and ``NextToken``."""

    @abc.abstractmethod
    def delete_tags(self, **request: Any) -> Response:
        """DeleteTags ``TagKeys`` from ``ResourceArn``; absent keys are ignored."""

    # -- extensions -------------------------------------------------------------------------
    @abc.abstractmethod
    def list_entity_details(self, **request: Any) -> Response:
        """Like ``list_artifacts``/``list_actions``/``list_contexts`` (``EntityKind`` says which)
        but each entry is the full Describe response, with the entity's ``Tags`` too when
        ``IncludeTags`` is true. Returns ``{"Entities", "NextToken"}``."""

    @abc.abstractmethod
    def count_entities(self, **request: Any) -> Response:
        """How much the caller's account holds (takes no members).

        Returns: ``{"Counts": [{"EntityKind", "Type", "Count"}] (one per kind and type that
            has entities), "AssociationCount": n}``.
        """

    @abc.abstractmethod
    def put_lineage(self, **request: Any) -> Response:
        """Create many entities and associations atomically (all or nothing).

        Args:
            Entities: create requests, each with ``EntityKind`` (``artifact``, ``action`` or
                ``context``) plus the members of CreateArtifact/CreateAction/CreateContext.
            Associations: ``{"Source", "Destination", "AssociationType"}``, each end an ARN of
                an existing entity or the index of an entry of ``Entities``.
        Returns: ``{"Arns": [the ARN of each entry of Entities, in order],
            "AssociationCount": n}``.
        Raises: what the single operations raise, for the first item that breaks a rule.
        """

    # -- raw OpenLineage events (extensions) ---------------------------------------------------
    @abc.abstractmethod
    def put_openlineage_event(self, **request: Any) -> Response:
        """Keep a raw OpenLineage event, once per account (it maps nothing: the capture does).

        Args: ``Event``: the event's JSON text (a RunEvent, DatasetEvent or JobEvent).
        Returns: ``{"EventId": SHA-256 of its canonical JSON, "Created": False if it was
            already kept}``.
        Raises: ``ValidationException`` for an invalid event (the member at fault named).
        """

    @abc.abstractmethod
    def list_openlineage_events(self, **request: Any) -> Response:
        """The raw OpenLineage events kept, ordered by event time (``SortOrder``, default
        ``Ascending``), optionally only those of ``RunId``, ``JobNamespace``/``JobName`` or
        ``EventId``; paged by ``MaxResults`` (1-100, default 100) and ``NextToken``.

        Returns: ``{"Events": [{"EventId", "EventKind", "EventType", "EventTime",
            "ReceivedTime" (ISO 8601 text), "RunId", "JobNamespace", "JobName", "Event" (the
            canonical JSON text)}], "NextToken"}``.
        """

    # -- history and time travel (extensions) -----------------------------------------------
    @abc.abstractmethod
    def describe_entity(self, **request: Any) -> Response:
        """The Describe response of an artifact, action or context, now or ``AsOf`` an instant.

        Args: ``EntityKind``; ``ArtifactArn``, ``ActionName`` or ``ContextName`` (a name or an
            ARN) as the kind's Describe takes it; optionally ``AsOf`` (inclusive).
        Returns: the kind's Describe response plus ``Tags``.
        Raises: ``ResourceNotFound`` if the entity did not exist at that instant.
        """

    @abc.abstractmethod
    def list_associations_as_of(self, **request: Any) -> Response:
        """``list_associations`` as the associations stood at ``AsOf`` (required, inclusive):
        the same members, summaries and paging."""

    @abc.abstractmethod
    def list_changes(self, **request: Any) -> Response:
        """The recorded history of ``Arn``, newest first: its creation, updates, tag changes
        and deletion and (``IncludeAssociations``, default true) associations added to or
        removed from it. Paged by ``MaxResults`` (1-100, default 100) and ``NextToken``.

        Returns: ``{"Changes": [{"ChangeTime", "Operation", "Arn", "PeerArn" (associations),
            "Actor" (UserContext), "Detail"}], "NextToken"}``.
        Raises: ``ResourceNotFound`` if nothing was ever recorded about ``Arn``.
        """

    @abc.abstractmethod
    def prune_history(self, **request: Any) -> Response:
        """Drop the history recorded before ``Before``, in one transaction. Live entities and
        associations are untouched, and every read ``AsOf`` ``Before`` or later answers as
        before (each entity that existed then keeps one ``Snapshot`` of its state).

        Returns: ``{"RemovedChanges": n, "KeptChanges": m}``.
        """

    @abc.abstractmethod
    def batch(self) -> AbstractContextManager[None]:
        """Group the calls made inside the ``with`` block into one atomic transaction."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the store must not be used afterwards."""

    def paginate(self, method: str, result_key: str, **request: Any) -> Iterator[Any]:
        """Yield every item of a paged list operation, following ``NextToken``."""
        call = getattr(self, method)
        while True:
            page = call(**request)
            yield from page.get(result_key, [])
            token = page.get("NextToken")
            if not token:
                return
            request = {**request, "NextToken": token}
