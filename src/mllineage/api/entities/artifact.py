"""Artifact: a URI-addressable thing (a dataset, a model, an image, a config)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from mllineage import limits
from mllineage.api import _convert
from mllineage.api.entities.base import (
    _LineageEntity,
    _list_request,
)
from mllineage.api.requests import create_request
from mllineage.api.session import Session, resolve_session
from mllineage.errors import ClientError
from mllineage.viz.display import EntityList


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
        request = create_request(
            "artifact",
            artifact_name,
            artifact_type,
            source=source,
            properties=properties,
            tags=tags,
            metadata_properties=metadata_properties,
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
        request = create_request(
            "artifact",
            artifact_name,
            artifact_type,
            source=source,
            properties=properties,
            tags=tags,
            metadata_properties=metadata_properties,
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
        return cls._list_page(request, sagemaker_session)

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
