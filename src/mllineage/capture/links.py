"""Associations that keep working past the 1,000-associations-per-entity limit.

SageMaker (and every mllineage store) refuses a 1,001st association on one entity with
``ResourceLimitExceeded``. A pipeline that records every run reuses some vertices run after
run: an unchanged dataset, the code of one commit, one environment, the context every run
joins. Capture never lets one of them break a run, and never drops a link silently:

- A shared **artifact** that is full continues in a *part*: an artifact with the same source
  URI and source types plus ``{"SourceIdType": "Custom", "Value": "mllineage.part:<k>"}``
  and the property ``mllineage.part_of`` (the ARN of part 1). Later runs find the newest part
  by its source and link there.
- A **context** that is full continues in ``<name>-part-<k>`` (same type; properties
  ``mllineage.part_of`` and ``mllineage.part``); the base context's property
  ``mllineage.current_part`` tells later runs where to go.
- When the *other* end is the full one (a run with over 1,000 inputs, say), a part would not
  help: an artifact link raises the store's error; a context membership or a parent link is
  skipped with a :class:`LineageLimitWarning` (the run's properties still name the parent).

Which end is full is read from the store's message, which names it; a message naming neither
counts as the shared end, and a link moves on at most :data:`MAX_PART_HOPS` parts.
"""

from __future__ import annotations

import re
import warnings

from mllineage.api.association import Association
from mllineage.api.entities import Artifact, Context
from mllineage.api.session import Session
from mllineage.errors import ClientError, ResourceLimitExceeded

PART_PREFIX = "mllineage.part:"
CURRENT_PART = "mllineage.current_part"
PART_OF = "mllineage.part_of"
MAX_PART_HOPS = 5


class LineageLimitWarning(UserWarning):
    """A link capture could not make because an entity has 1,000 associations already."""


def _is_limit(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ResourceLimitExceeded")


def _names(error: ClientError, arn: str) -> bool:
    """Whether the store's message names ``arn`` (not merely an ARN it is a prefix of)."""
    return re.search(re.escape(arn) + r"(?![A-Za-z0-9_.\-])", str(error)) is not None


def associate(session: Session, source: str, destination: str, kind: str) -> None:
    """The association ``source -> destination`` (kept if it exists). Most links capture
    makes are new (one end is a new run), so it creates first and looks only on a refusal:
    one call, where ``Association.get_or_create`` makes two."""
    try:
        Association.create(source, destination, kind, sagemaker_session=session)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ValidationException":
            raise
        Association.get_or_create(source, destination, kind, sagemaker_session=session)


def source_types(artifact: Artifact) -> list[dict[str, str]]:
    return list((artifact.source or {}).get("source_types") or [])


def part_of(artifact: Artifact) -> int:
    """The part number of an artifact (1 when it is no continuation)."""
    for entry in source_types(artifact):
        if entry["Value"].startswith(PART_PREFIX):
            return int(entry["Value"][len(PART_PREFIX) :])
    return 1


def content_types(artifact: Artifact) -> list[tuple[str, str]]:
    """The source types that identify the content (the part marker left out), sorted."""
    return sorted(
        (t["SourceIdType"], t["Value"])
        for t in source_types(artifact)
        if not t["Value"].startswith(PART_PREFIX)
    )


def _next_part(session: Session, artifact: Artifact) -> Artifact:
    source = artifact.source or {}
    types = [t for t in source_types(artifact) if not t["Value"].startswith(PART_PREFIX)]
    types.append({"SourceIdType": "Custom", "Value": f"{PART_PREFIX}{part_of(artifact) + 1}"})
    first = artifact.properties.get(PART_OF) or str(artifact.artifact_arn)
    return Artifact.get_or_create(
        artifact_name=artifact.artifact_name,
        artifact_type=artifact.artifact_type,
        source={"source_uri": source["source_uri"], "source_types": types},
        properties={**artifact.properties, PART_OF: first},
        sagemaker_session=session,
    )


def link_artifact(
    session: Session, artifact: Artifact, other: str, kind: str, *, artifact_is_source: bool
) -> Artifact:
    """Link ``artifact`` with the entity ``other`` (``artifact -> other`` or the reverse);
    if the artifact is full, link its next part instead. Returns the part linked."""
    for _ in range(MAX_PART_HOPS):
        arn = str(artifact.artifact_arn)
        ends = (arn, other) if artifact_is_source else (other, arn)
        try:
            associate(session, *ends, kind)
            return artifact
        except ClientError as error:
            if not _is_limit(error) or _names(error, other):
                raise
        artifact = _next_part(session, artifact)
    raise ResourceLimitExceeded(f"{MAX_PART_HOPS} parts of {arn} are full", "AddAssociation")


def warn_limit(error: ClientError, what: str) -> None:
    warnings.warn(f"{what} not recorded: {error}", LineageLimitWarning, stacklevel=4)


def link_or_warn(session: Session, source: str, destination: str, kind: str, what: str) -> None:
    """An association that is worth a warning, not an error, when an end is full."""
    try:
        associate(session, source, destination, kind)
    except ClientError as error:
        if not _is_limit(error):
            raise
        warn_limit(error, what)


class ContextGroup:
    """A context that runs and artifacts join, continued in parts past the limit."""

    def __init__(self, session: Session, context: str | Context, context_type: str) -> None:
        self.session = session
        if isinstance(context, Context):
            self.base = context
        else:
            self.base = Context.get_or_create(
                context_name=context, context_type=context_type, sagemaker_session=session
            )
        self.current = self._part(int(self.base.properties.get(CURRENT_PART, "1")))

    @property
    def arn(self) -> str:
        return str(self.current.context_arn)

    def _part(self, number: int) -> Context:
        if number <= 1:
            return self.base
        base_name = str(self.base.context_name)
        suffix = f"-part-{number}"
        return Context.get_or_create(
            context_name=base_name[: 120 - len(suffix)] + suffix,
            context_type=self.base.context_type,
            properties={PART_OF: base_name, "mllineage.part": str(number)},
            sagemaker_session=self.session,
        )

    def _roll(self) -> None:
        number = int(self.current.properties.get("mllineage.part", "1")) + 1
        self.current = self._part(number)
        if int(self.base.properties.get(CURRENT_PART, "1")) < number:
            self.base.properties[CURRENT_PART] = str(number)
            self.base.save()

    def add(self, member: str) -> None:
        """Make ``member`` (an ARN) a member of the current part of the context."""
        for _ in range(MAX_PART_HOPS):
            try:
                associate(self.session, member, self.arn, "AssociatedWith")
                return
            except ClientError as error:
                if not _is_limit(error):
                    raise
                if _names(error, member):
                    warn_limit(error, f"membership of {member} in {self.arn}")
                    return
            self._roll()
