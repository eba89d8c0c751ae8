"""Copy a SageMaker account's lineage into a store, keeping ARNs, times and creators.

The source is read through boto3's list and describe operations (``ListContexts``,
``ListActions``, ``ListArtifacts``, ``Describe*``, ``ListTags``, ``ListAssociations``), so any
endpoint that speaks SageMaker's API serves: SageMaker itself, or an mllineage server
(``--endpoint-url``). botocore's adaptive retry mode backs off when the source throttles.

The copy is written with ``PutLineage(Restore=True)`` (as ``mllineage import FILE`` does), a
batch of entities or associations per call, each all or nothing: the entities keep their
ARNs, creation and modification times and creators. ``Restore`` keeps ARNs, so the target
must serve the source's region and account: the importer opens the target store as that
region and account (through an mllineage server, sign with a key of that account that may
restore).

Incremental: each kind is listed ``CreatedAfter`` the newest entity (or association) that
the target holds and the source has too (so what was made in the target itself does not move
it), unless ``since`` says otherwise; what the target already holds (by ARN, or by both ends
for an association) is skipped. Changes made in the source to
entities copied before (a new status, a property) are not seen by this listing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from mllineage import limits, validation
from mllineage.api.session import Session
from mllineage.api.transfer import restore_entry
from mllineage.capture.importers.common import (
    ImportRefused,
    Progress,
    SourceError,
    Summary,
)
from mllineage.errors import ClientError, ResourceNotFound

KINDS = ("context", "action", "artifact")
_NOUN = {"artifact": "Artifact", "action": "Action", "context": "Context"}
#: Entities or associations per PutLineage call.
BATCH = 500
_LINEAGE_KINDS = {"artifact", "action", "context"}
#: How many of the target's newest entities are looked up in the source to find where an
#: incremental copy starts.
WATERMARK_PROBES = 100


def sagemaker_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 SageMaker client that backs off when throttled (adaptive retries)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is missing
        raise SourceError(
            "importing from SageMaker needs boto3: pip install 'mllineage[sagemaker]'"
        ) from None
    return boto3.client(
        "sagemaker",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "adaptive", "max_attempts": 6}),
    )


class SageMakerImport:
    """One copy of a SageMaker account's lineage.

    Args:
        client: a boto3 SageMaker client (see :func:`sagemaker_client`).
        target: opens the target store as a region and an account (the source's).
        dry_run: read both sides, write nothing.
        progress: called with the entities and associations done so far.
    """

    def __init__(
        self,
        client: Any,
        target: Callable[[str, str], Session],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.summary = Summary(dry_run=dry_run)
        self.progress: Progress = progress or (lambda done, total: None)
        self.done = 0

    def run(self, since: datetime | None = None) -> Summary:
        """Copy what the source holds that the target lacks (created at or after ``since``,
        else after the newest the target holds)."""
        scope = self._scope()
        if scope is None:
            return self.summary  # the source holds no lineage
        with self.target(*scope) as session:
            copied: set[str] = set()
            for kind in KINDS:
                self._entities(session, kind, since or self._newest(session, kind), copied)
            after = since or self._newest(session, "association")
            self._associations(session, after, copied)
        return self.summary

    # -- reading the source --------------------------------------------------------------------
    def _call(self, operation: str, **request: Any) -> Any:
        from botocore.exceptions import BotoCoreError
        from botocore.exceptions import ClientError as BotoClientError

        try:
            return getattr(self.client, operation)(**request)
        except BotoClientError as error:
            if error.response.get("Error", {}).get("Code") in ("ResourceNotFound",):
                raise
            raise SourceError(
                f"{self._endpoint()} refused {error.operation_name}: "
                f"{error.response['Error'].get('Message')}"
            ) from None
        except BotoCoreError as error:
            raise SourceError(f"{self._endpoint()} is unreachable: {error}") from None

    def _endpoint(self) -> str:
        return f"SageMaker endpoint {self.client.meta.endpoint_url}"

    def _pages(self, operation: str, key: str, **request: Any) -> Iterator[dict[str, Any]]:
        request = {k: v for k, v in request.items() if v is not None}
        while True:
            page = self._call(operation, MaxResults=100, **request)
            yield from page.get(key, [])
            if not page.get("NextToken"):
                return
            request["NextToken"] = page["NextToken"]

    def _scope(self) -> tuple[str, str] | None:
        """The region and account of the source's ARNs (from the first entity listed)."""
        for kind in KINDS:
            page = self._call(f"list_{kind}s", MaxResults=1)
            for summary in page.get(f"{_NOUN[kind]}Summaries", []):
                parsed = validation.parse_arn(summary[f"{_NOUN[kind]}Arn"], "ARN")
                return parsed.region, parsed.account
        return None

    def _newest(self, session: Session, kind: str) -> datetime | None:
        """Where to list from: the creation time of the newest entity (or association) of
        ``kind`` that the target holds and the source has too (so that what was made in the
        target itself moves nothing); ``None`` (list all) when none of the newest
        ``WATERMARK_PROBES`` is in the source."""
        noun = "Association" if kind == "association" else _NOUN[kind]
        held = session.store.paginate(
            "list_associations" if kind == "association" else f"list_{kind}s",
            f"{noun}Summaries",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=limits.LIST_MAX_RESULTS,
        )
        for summary in itertools.islice(held, WATERMARK_PROBES):
            if self._in_source(kind, summary):
                when: datetime = summary["CreationTime"]
                return when
        return None

    def _in_source(self, kind: str, summary: dict[str, Any]) -> bool:
        from botocore.exceptions import ClientError as BotoClientError

        if kind == "association":
            page = self._call(
                "list_associations",
                SourceArn=summary["SourceArn"],
                DestinationArn=summary["DestinationArn"],
                MaxResults=1,
            )
            return bool(page.get("AssociationSummaries"))
        arn = summary[f"{_NOUN[kind]}Arn"]
        ident = "ArtifactArn" if kind == "artifact" else f"{_NOUN[kind]}Name"
        try:
            found = self._call(f"describe_{kind}", **{ident: arn})
        except BotoClientError:  # (ResourceNotFound)
            return False
        return bool(found.get("CreationTime") == summary["CreationTime"])

    def _described(self, kind: str, arn: str) -> dict[str, Any]:
        ident = "ArtifactArn" if kind == "artifact" else f"{_NOUN[kind]}Name"
        described = dict(self._call(f"describe_{kind}", **{ident: arn}))
        described.pop("ResponseMetadata", None)
        described.setdefault("LastModifiedTime", described.get("CreationTime"))
        described.setdefault("CreatedBy", {})
        described.setdefault("LastModifiedBy", described["CreatedBy"])
        described["Tags"] = list(self._pages("list_tags", "Tags", ResourceArn=arn))
        return described

    # -- writing the target --------------------------------------------------------------------
    def _entities(
        self, session: Session, kind: str, after: datetime | None, copied: set[str]
    ) -> None:
        noun = _NOUN[kind]
        batch: list[dict[str, Any]] = []
        listed = self._pages(
            f"list_{kind}s", f"{noun}Summaries", CreatedAfter=after, SortBy="CreationTime",
            SortOrder="Ascending",
        )  # fmt: skip
        for summary in listed:
            arn = summary[f"{noun}Arn"]
            if _held(session, kind, arn):
                self.summary.unchanged[kind] += 1
                copied.add(arn)
                continue
            batch.append(restore_entry(kind, self._described(kind, arn)))
            copied.add(arn)
            if len(batch) >= BATCH:
                self._write(session, batch, [])
                batch = []
        self._write(session, batch, [])

    def _associations(self, session: Session, after: datetime | None, copied: set[str]) -> None:
        batch: list[dict[str, Any]] = []
        listed = self._pages("list_associations", "AssociationSummaries", CreatedAfter=after)
        for edge in listed:
            ends = (edge["SourceArn"], edge["DestinationArn"])
            kinds = {_kind_of(e) for e in ends}
            if not kinds <= _LINEAGE_KINDS:
                self.summary.skip("associations with an experiment or trial component")
                continue
            if any(e not in copied and not _held_any(session, e) for e in ends):
                self.summary.skip("associations whose end the source no longer lists")
                continue
            page = session.store.list_associations(
                SourceArn=ends[0], DestinationArn=ends[1], MaxResults=1
            )
            if page.get("AssociationSummaries"):
                self.summary.unchanged["association"] += 1
                continue
            batch.append(
                {
                    "Source": ends[0],
                    "Destination": ends[1],
                    "AssociationType": edge.get("AssociationType", "AssociatedWith"),
                    "CreationTime": edge["CreationTime"],
                    "CreatedBy": edge.get("CreatedBy", {}),
                }
            )
            if len(batch) >= BATCH:
                self._write(session, [], batch)
                batch = []
        self._write(session, [], batch)

    def _write(
        self, session: Session, entities: list[dict[str, Any]], edges: list[dict[str, Any]]
    ) -> None:
        if not entities and not edges:
            return
        for entity in entities:
            self.summary.added[entity["EntityKind"]] += 1
        self.summary.added["association"] += len(edges)
        self.done += len(entities) + len(edges)
        if not self.summary.dry_run:
            try:
                session.store.put_lineage(Entities=entities, Associations=edges, Restore=True)
            except (ClientError, ValueError) as error:
                message = error.message if isinstance(error, ClientError) else str(error)
                raise ImportRefused(
                    f"the store refused a batch of the copy: {message} (nothing of this "
                    "batch was imported)"
                ) from error
        self.progress(self.done, None)


def _kind_of(arn: str) -> str:
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[0]


def _held(session: Session, kind: str, arn: str) -> bool:
    ident = "ArtifactArn" if kind == "artifact" else f"{_NOUN[kind]}Name"
    try:
        getattr(session.store, f"describe_{kind}")(**{ident: arn})
    except ResourceNotFound:
        return False
    return True


def _held_any(session: Session, arn: str) -> bool:
    return _held(session, _kind_of(arn), arn)
