"""Artifacts identified by content: local files and directories, remote URIs, JSON documents
and git commits.

- A local path (or ``file://`` URI) is the source URI ``file://<absolute path>`` with the
  source type ``{"SourceIdType": "Custom", "Value": "sha256:<hex>"}``
  (:mod:`mllineage.capture.hashing`).
- A remote URI (``s3://``, ``gs://``, ``https://``...) is taken as given, with an ``S3ETag``
  or ``S3Version`` source type when the caller passes one; without either, the URI alone is
  its identity.
- The same source gives the same artifact (reruns reuse it). New content at a URI that has
  artifacts gives a new artifact whose property ``mllineage.previous_version`` names the
  newest artifact with exactly that source URI. When the new version is met as an *input*
  (it was changed outside any recorded run), it is also linked
  ``previous --DerivedFrom--> new`` ("the destination is a modification of the source", as
  SageMaker defines ``DerivedFrom``). An *output* is not linked so: the run that produced it
  is its lineage, and a retrained model is no modification of the model file it replaced;
  linking it would make every earlier run an ascendant of every later output.
"""

from __future__ import annotations

import os
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from mllineage.api.entities import Artifact
from mllineage.api.session import Session
from mllineage.capture import links
from mllineage.capture.gitinfo import GitInfo
from mllineage.capture.hashing import HashCache, content_hash
from mllineage.capture.values import document_digest, json_properties
from mllineage.errors import ClientError

PREVIOUS_VERSION = "mllineage.previous_version"
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class Reference:
    """What identifies an artifact before it is looked up: its source and a default name."""

    uri: str
    source_types: list[dict[str, str]] = field(default_factory=list)
    name: str = ""

    @property
    def source(self) -> dict[str, Any]:
        source: dict[str, Any] = {"source_uri": self.uri}
        if self.source_types:
            source["source_types"] = self.source_types
        return source


def _name_of(text: str) -> str:
    name = text.rstrip("/").rsplit("/", 1)[-1] or text
    return name[:120]


def reference(
    target: str | os.PathLike[str],
    cache: HashCache,
    *,
    etag: str | None = None,
    version_id: str | None = None,
    arg: str = "target",
) -> Reference:
    """The :class:`Reference` of a local path or a URI (hashing a local path's content).

    Raises:
        ValueError: ``target`` is no path or URI, or ``etag``/``version_id`` is given for a
            local path.
        FileNotFoundError: a local path that does not exist.
    """
    if not isinstance(target, (str, os.PathLike)) or not os.fspath(target):
        raise ValueError(f"{arg} must be a path or URI string, got {target!r}")
    text = os.fspath(target)
    if _URI_RE.match(text) and not text.startswith("file://"):
        types = []
        if etag is not None:
            types.append({"SourceIdType": "S3ETag", "Value": etag})
        if version_id is not None:
            types.append({"SourceIdType": "S3Version", "Value": version_id})
        return Reference(text, types, _name_of(text))
    if etag is not None or version_id is not None:
        raise ValueError(f"{arg}: etag and version_id are for remote URIs, not local paths")
    if text.startswith("file://"):
        text = urllib.request.url2pathname(urllib.parse.urlsplit(text).path)
    path = Path(text).absolute()
    digest = content_hash(path, cache)
    return Reference(path.as_uri(), [{"SourceIdType": "Custom", "Value": digest}], path.name)


def default_model_dir() -> Path:
    """Where the framework hooks save models when ``model_dir`` is not given."""
    return Path(platformdirs.user_data_dir("mllineage")) / "models"


def _exact(session: Session, uri: str) -> list[Artifact]:
    """The artifacts whose source URI is exactly ``uri`` (a list filter matches at path
    boundaries, so it finds those below it too), newest first."""
    return [
        artifact
        for artifact in Artifact.list_all(source_uri=uri, sagemaker_session=session)
        if (artifact.source or {}).get("source_uri") == uri
    ]


def resolve(
    session: Session,
    ref: Reference,
    artifact_type: str,
    *,
    name: str | None = None,
    properties: dict[str, str] | None = None,
    derive: bool = True,
) -> Artifact:
    """The artifact of ``ref``: the newest part of the one with this source, else a new one
    (a new version of the URI when it has artifacts already, ``DerivedFrom`` the previous
    one when ``derive``)."""
    existing = _exact(session, ref.uri)
    wanted = sorted((t["SourceIdType"], t["Value"]) for t in ref.source_types)
    same = [a for a in existing if links.content_types(a) == wanted]
    if same:
        return max(same, key=links.part_of)
    previous = existing[0] if existing else None
    props = dict(properties or {})
    if previous is not None:
        props[PREVIOUS_VERSION] = str(previous.artifact_arn)
    arguments: dict[str, Any] = {
        "artifact_name": name or ref.name or None,
        "artifact_type": artifact_type,
        "source": ref.source,
        "properties": props,
        "sagemaker_session": session,
    }
    try:  # (the list above found none: a create is one call, get_or_create two)
        created = Artifact.create(**arguments)
    except ClientError:  # another process created it since
        created = Artifact.get_or_create(**arguments)
    if previous is not None and derive:
        links.link_or_warn(
            session,
            str(previous.artifact_arn),
            str(created.artifact_arn),
            "DerivedFrom",
            f"the link to the previous version of {ref.uri}",
        )
    return created


def json_artifacts(
    session: Session, uri: str, document: Any, artifact_type: str, name: str
) -> list[Artifact]:
    """``document`` held by artifacts (its JSON cut into their properties, 30 values of 256
    characters each; see :func:`mllineage.capture.values.read_json_properties`), identified
    by ``uri`` (``#2``, ``#3``... for the pages after the first) and the document's sha256."""
    digest = f"sha256:{document_digest(document)}"
    made = []
    for page, properties in enumerate(json_properties(document), start=1):
        ref = Reference(
            uri if page == 1 else f"{uri}#{page}",
            [{"SourceIdType": "Custom", "Value": digest}],
        )
        made.append(
            Artifact.get_or_create(
                artifact_name=name if page == 1 else f"{name}-{page}",
                artifact_type=artifact_type,
                source=ref.source,
                properties=properties,
                sagemaker_session=session,
            )
        )
    return made


def code_reference(info: GitInfo) -> tuple[Reference, dict[str, str]]:
    """The source and properties of the ``Code`` artifact of a git commit."""
    types = [{"SourceIdType": "Custom", "Value": f"git-commit:{info.commit}"}]
    if info.diff_sha256:
        types.append({"SourceIdType": "Custom", "Value": f"git-diff:sha256:{info.diff_sha256}"})
    name = f"{_name_of(info.toplevel)[:80]}@{info.commit[:12]}" + ("-dirty" if info.dirty else "")
    properties = {"commit": info.commit, "dirty": "true" if info.dirty else "false"}
    if info.branch:
        properties["branch"] = info.branch[:256]
    if info.remote:
        properties["remote"] = info.remote[:256]
    return Reference(info.uri, types, name), properties
