"""``mllineage.run()``: record a training run (one action) in three lines.

The run's graph, as it is written:

- the **run**: one action named ``<name>-<8 hex>`` (the name made ARN-safe), status
  ``InProgress`` -> ``Completed`` / ``Failed`` (``Stopped`` on ``KeyboardInterrupt``), with
  its params, logged values and capture's own ``mllineage.*`` properties;
- **inputs** ``--ContributedTo-->`` the run, the **code** (a ``Code`` artifact of the git
  commit) ``--ContributedTo-->`` the run, the run ``--Produced-->`` each **output**; so the
  ascendants of an output are what made it: the run, its inputs, its code, and through
  ``DerivedFrom`` the earlier versions of an input that changed in place
  (:mod:`mllineage.capture.artifacts`);
- the run ``--AssociatedWith-->`` its **environment** (an ``Environment`` artifact shared by
  every run with the same Python and packages) and, when params or logged values break the
  property limits, an ``Overflow`` JSON artifact: records about the run, not causes of what
  it made, so they are not among the ascendants of its outputs;
- a nested run ``--AssociatedWith-->`` its parent; the run and its artifacts
  ``--AssociatedWith-->`` the context (:mod:`mllineage.capture.links` for the limit).

Everything is written through the public API, so it works on every store and through a
server. Nothing is written before the inputs are hashed; the action is created on entry, so
an unreachable store raises before the block runs.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from mllineage import limits, validation
from mllineage.api.entities import Action, Artifact, Context
from mllineage.api.session import Session, resolve_session
from mllineage.capture import artifacts, links
from mllineage.capture.environment import environment, python_version
from mllineage.capture.gitinfo import git_info
from mllineage.capture.hashing import open_cache
from mllineage.capture.values import (
    RESERVED_PREFIX,
    check_user_key,
    document_digest,
    fits,
    to_property_value,
)
from mllineage.errors import ClientError

ENV_CONTEXT = "MLLINEAGE_CONTEXT"
DEFAULT_CONTEXT_TYPE = "Experiment"
#: Properties capture may set itself (mllineage.run_name ... mllineage.overflow); the other
#: 22 of the 30 a run may have hold params and logged values, in the order they came.
RESERVED_SLOTS = 8
_SHORT_ID = 8
_current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("mllineage_run", default=None)
_log = logging.getLogger(__name__)


def current_run() -> Run | None:
    """The innermost run active in this thread or task, if any."""
    return _current.get()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def action_name(name: str, short_id: str) -> str:
    """``<name>-<short id>`` in the ARN-safe alphabet and within 120 characters."""
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name)
    slug = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", slug) or "run"
    slug = slug[: limits.NAME_MAX_LENGTH - len(short_id) - 1].rstrip("-_.")
    return validation.check_entity_name(f"{slug}-{short_id}", "name", "action")


def _error_text(exc: BaseException, limit: int) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    text = validation.CONTROL_RE.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Run:
    """Record a run: ``with mllineage.run("train", inputs=[...], params={...}) as run:``.

    Args:
        name: the run's name; the action is named ``<name>-<short id>``.
        type: the action type (``Training``, ``Processing``...).
        inputs: local paths or URIs the run reads (hashed on entry).
        params: hyperparameters, as properties (converted to strings).
        context: a context name or :class:`~mllineage.Context` the run and its artifacts
            join (default: the context named by ``MLLINEAGE_CONTEXT``, else none); a name is
            created as an ``Experiment`` context if missing.
        code: record the git commit of the working tree at the current directory (``True``),
            at this path, or not (``False``).
        sagemaker_session: the store (default: a parent run's, else the default session).
    Raises (on entry, before the block runs):
        ValueError: an invalid argument. FileNotFoundError: a local input is missing.
        ClientError, botocore's EndpointConnectionError: the store refused or is unreachable.

    Attributes:
        action: the run's :class:`~mllineage.Action` (named ``<name>-<short id>``);
        run_id: 32 hex digits; inputs, outputs: the artifacts recorded; code: the ``Code``
        artifact or None; parent: the enclosing run; status: how it ended.

    Example:
        >>> with mllineage.run("train", inputs=["data.csv"], params={"eta": 0.2}) as run:
        ...     run.output("model.pkl")
    """

    def __init__(
        self,
        name: str,
        *,
        type: str = "Training",
        inputs: Iterable[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
        context: str | Context | None = None,
        code: bool | str | os.PathLike[str] = True,
        sagemaker_session: Session | None = None,
    ) -> None:
        self.name = validation.check_str(name, "name", max_len=limits.PROPERTY_VALUE_MAX_LENGTH)
        self.type = validation.check_entity_type(type, "type")
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        self._pending_inputs = list(inputs)
        self._values: dict[str, Any] = {}
        for key, value in (params or {}).items():
            self._values[check_user_key(key, "params")] = value
        self._code_arg = code
        self.parent = current_run()
        inherited = self.parent.context.base if self.parent and self.parent.context else None
        self._context_arg = context or inherited or os.environ.get(ENV_CONTEXT)
        given = sagemaker_session or (self.parent.session if self.parent else None)
        self.session: Session = resolve_session(given)
        self.run_id = uuid.uuid4().hex
        self.action: Action | None = None
        self.inputs: list[Artifact] = []
        self.outputs: list[Artifact] = []
        self.code: Artifact | None = None
        self.context: links.ContextGroup | None = None
        self.status: str | None = None
        self._token: contextvars.Token[Run | None] | None = None

    # -- the action -----------------------------------------------------------------------
    @property
    def arn(self) -> str:
        return str(self._action.action_arn)

    @property
    def _action(self) -> Action:
        if self.action is None:
            raise ValueError("the run has not started: use it as `with mllineage.run(...)`")
        return self.action

    def _place_values(self, action: Action) -> None:
        """Put params and logged values in the action's properties while they fit; the rest
        is kept for the overflow artifact."""
        mine = {k: v for k, v in action.properties.items() if not k.startswith(RESERVED_PREFIX)}
        room = limits.MAX_PROPERTIES - RESERVED_SLOTS
        for key, value in self._values.items():
            text = to_property_value(value)
            if fits(key, text) and (key in mine or len(mine) < room):
                mine[key] = text
            else:
                mine.pop(key, None)
        reserved = {k: v for k, v in action.properties.items() if k.startswith(RESERVED_PREFIX)}
        action.properties = {**reserved, **mine}

    def _overflow(self) -> dict[str, Any]:
        action = self._action
        return {k: v for k, v in self._values.items() if k not in action.properties}

    def _create_action(self) -> Action:
        reserved = {
            "mllineage.run_name": self.name,
            "mllineage.run_id": self.run_id,
            "mllineage.started_at": _now(),
            "mllineage.python": python_version(),
        }
        if self.parent is not None:
            reserved["mllineage.parent_run"] = self.parent.arn
        draft = Action(properties=reserved)
        self._place_values(draft)
        for attempt in range(3):
            short = self.run_id[_SHORT_ID * attempt : _SHORT_ID * (attempt + 1)]
            try:
                return Action.create(
                    action_name=action_name(self.name, short),
                    action_type=self.type,
                    properties=draft.properties,
                    status="InProgress",
                    sagemaker_session=self.session,
                )
            except ClientError as error:  # the name is taken: a one-in-4-billion collision
                if attempt == 2 or error.response["Error"]["Code"] != "ValidationException":
                    raise
        raise AssertionError("unreachable")

    # -- entry --------------------------------------------------------------------------------
    def start(self) -> Run:
        """Hash the inputs, create the action, link inputs, code, parent and context."""
        with open_cache() as cache:
            refs = [
                artifacts.reference(target, cache, arg="inputs entry")
                for target in self._pending_inputs
            ]
        info = None
        if self._code_arg is not False:
            info = git_info("." if self._code_arg is True else self._code_arg)
        self.action = self._create_action()
        self.status = "InProgress"
        try:
            self._link_start(refs, info)
        except BaseException as exc:
            self.end(exc)
            raise
        self._token = _current.set(self)
        return self

    def _link_start(self, refs: list[artifacts.Reference], info: Any) -> None:
        if self._context_arg:
            self.context = links.ContextGroup(self.session, self._context_arg, DEFAULT_CONTEXT_TYPE)
            self.context.add(self.arn)
        if self.parent is not None:
            links.link_or_warn(
                self.session, self.arn, self.parent.arn, "AssociatedWith", "the parent link"
            )
        if info is not None:
            ref, properties = artifacts.code_reference(info)
            # git keeps the code's history: a dirty tree is no DerivedFrom link away from its
            # commit's clean artifact, which would add it to every ascendant query.
            code = artifacts.resolve(self.session, ref, "Code", properties=properties, derive=False)
            self.code = self._link_in(code, "ContributedTo")
        for ref in refs:
            artifact = artifacts.resolve(self.session, ref, "Dataset")
            self.inputs.append(self._link_in(artifact, "ContributedTo"))

    def _link_in(self, artifact: Artifact, kind: str) -> Artifact:
        linked = links.link_artifact(
            self.session, artifact, self.arn, kind, artifact_is_source=True
        )
        if self.context is not None:
            self.context.add(str(linked.artifact_arn))
        return linked

    # -- in the block -------------------------------------------------------------------------
    def _reference(self, target: Any, arg: str, **source: Any) -> artifacts.Reference:
        with open_cache() as cache:
            return artifacts.reference(target, cache, arg=arg, **source)

    def input(
        self,
        target: str | os.PathLike[str],
        *,
        artifact_type: str = "Dataset",
        name: str | None = None,
        properties: Mapping[str, Any] | None = None,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> Artifact:
        """Record one more input (a local path or a URI); returns its artifact."""
        ref = self._reference(target, "target", etag=etag, version_id=version_id)
        artifact = artifacts.resolve(
            self.session, ref, artifact_type, name=name, properties=_properties(properties)
        )
        artifact = self._link_in(artifact, "ContributedTo")
        self.inputs.append(artifact)
        return artifact

    def output(
        self,
        target: str | os.PathLike[str],
        *,
        artifact_type: str | None = None,
        name: str | None = None,
        properties: Mapping[str, Any] | None = None,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> Artifact:
        """Record an output the run made (a local path, which must exist, or a URI); the
        type defaults to ``Model`` for a ``Training`` run, else ``Dataset``."""
        if artifact_type is None:
            artifact_type = "Model" if self.type == "Training" else "Dataset"
        ref = self._reference(target, "target", etag=etag, version_id=version_id)
        artifact = artifacts.resolve(
            self.session,
            ref,
            artifact_type,
            name=name,
            properties=_properties(properties),
            derive=False,
        )
        if links.content_types(artifact) and any(
            (i.source or {}).get("source_uri") == ref.uri
            and links.content_types(i) == links.content_types(artifact)
            for i in self.inputs
        ):
            raise ValueError(
                f"target {ref.uri} is an input of this run, unchanged: a run cannot produce "
                "what it read (lineage is a DAG); write the output elsewhere or change it"
            )
        artifact = links.link_artifact(
            self.session, artifact, self.arn, "Produced", artifact_is_source=False
        )
        if self.context is not None:
            self.context.add(str(artifact.artifact_arn))
        self.outputs.append(artifact)
        return artifact

    def log(self, **values: Any) -> None:
        """Add properties to the run (numbers, booleans... converted to strings); values the
        property limits refuse go to the run's overflow artifact when it ends."""
        for key, value in values.items():
            self._values[check_user_key(key, "log")] = value
        action = self._action
        self._place_values(action)
        action.save()

    # -- exit ---------------------------------------------------------------------------------
    def _finish(self, exc: BaseException | None) -> None:
        action = self._action
        env = environment()
        for page in artifacts.json_artifacts(
            self.session,
            f"mllineage://environments/{document_digest(env)}",
            env,
            "Environment",
            f"python-{env['python']}",
        ):
            links.link_artifact(
                self.session, page, self.arn, "AssociatedWith", artifact_is_source=False
            )
        overflow = self._overflow()
        if overflow:
            pages = artifacts.json_artifacts(
                self.session,
                f"mllineage://runs/{action.action_name}/overflow.json",
                overflow,
                "Overflow",
                f"{action.action_name}-overflow",
            )
            for page in pages:
                links.associate(self.session, self.arn, str(page.artifact_arn), "AssociatedWith")
            action.properties["mllineage.overflow"] = str(pages[0].artifact_arn)
        action.properties["mllineage.ended_at"] = _now()
        if exc is None:
            self.status = "Completed"
        else:
            self.status = "Failed" if isinstance(exc, Exception) else "Stopped"
            action.properties["mllineage.error"] = _error_text(
                exc, limits.PROPERTY_VALUE_MAX_LENGTH
            )
            action.description = _error_text(exc, limits.DESCRIPTION_MAX_LENGTH)
        action.status = self.status
        action.save()

    def end(self, exc: BaseException | None = None) -> None:
        """Record how the run ended (``exc``: the exception that ended it, if any)."""
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        if exc is None:
            self._finish(None)
            return
        try:
            self._finish(exc)
        except Exception:  # the block's own error is the one to raise
            _log.exception("mllineage: could not record the end of run %s", self.arn)

    def __enter__(self) -> Run:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end(exc)

    def __repr__(self) -> str:
        name = self.action.action_name if self.action else None
        return f"Run(name={self.name!r}, action_name={name!r}, status={self.status!r})"


def _properties(values: Mapping[str, Any] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return {str(k): to_property_value(v) for k, v in values.items()}


#: ``mllineage.run(name, ...)``: the class itself, so the function and the type cannot drift.
run = Run
