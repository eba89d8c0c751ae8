"""What every importer shares: the plan of a batch, the writer, the summary and dry runs.

An importer turns what it reads from a source into :class:`Batch` es of :class:`Node` s (the
create request of an artifact, action or context) and :class:`Edge` s, each node identified
as the store identifies it: an action or a context by its name, an artifact by its source
(URI plus source types). The importer picks those identities from the source's own ids, so
they are the same at every import.

:class:`Writer` then makes the store hold each batch:

* it looks every node up (a cache remembers what it has seen, so a dataset shared by many
  runs is looked up once);
* a node the store lacks is created, and an edge it lacks is added, in one ``PutLineage``
  call: atomic on every store, through a server too;
* a node whose properties, status or description differ is updated in place
  (``Update*``); only the properties an importer owns (:attr:`Writer.owned`) are ever removed;
* with ``dry_run`` nothing is written and the summary says what would have been.

The batch runs inside ``store.batch()``: on an SQL store the creations and the updates of a
batch commit together or not at all. Through a server (where ``batch()`` cannot span calls)
the creations are one atomic call and the updates follow it; each update is checked against
the property rules before anything is written, so a refusal is unlikely there too.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mllineage import limits, validation
from mllineage.errors import ClientError, ResourceNotFound
from mllineage.store.base import Store

KINDS = ("artifact", "action", "context")
_COUNTERS = ("added", "updated", "unchanged", "skipped")
_NOUN = {"artifact": "Artifact", "action": "Action", "context": "Context"}

#: Called with the number of source items done so far and the total, when known.
Progress = Callable[[int, "int | None"], None]


class ImportError_(Exception):
    """An import that stopped: the message is one line that names what is wrong."""


class SourceError(ImportError_):
    """The source cannot be reached or read."""


class ImportRefused(ImportError_):
    """The store refused an item of a batch; nothing of that batch was written."""


# -- the plan of a batch ---------------------------------------------------------------------
@dataclass
class Node:
    """An entity as the source says it should be: ``request`` is its create request."""

    kind: str
    request: dict[str, Any]
    #: What the summary and error messages call it, e.g. "MLflow run 3f2a...".
    label: str = ""
    #: False for a node that is only an end of an edge: created if missing, else left as
    #: it is (e.g. the run of a model version that a webhook announces).
    update: bool = True

    @property
    def key(self) -> tuple[Any, ...]:
        """The store's identity of the entity."""
        if self.kind == "artifact":
            source = self.request["Source"]
            types = tuple(
                sorted((t["SourceIdType"], t["Value"]) for t in source.get("SourceTypes") or [])
            )
            return ("artifact", source["SourceUri"], types)
        return (self.kind, self.request[f"{_NOUN[self.kind]}Name"])


@dataclass
class Edge:
    source: Node | str  # a node of a batch, or the ARN of an entity the store has
    destination: Node | str
    type: str


@dataclass
class Batch:
    """Nodes (the first one with a key wins) and the edges between them."""

    nodes: dict[tuple[Any, ...], Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    #: Source items this batch stands for (for the progress bar).
    items: int = 0

    def add(self, node: Node) -> Node:
        """Add a node; a full node replaces a reference-only one with the same key."""
        held = self.nodes.get(node.key)
        if held is None or (node.update and not held.update):
            self.nodes[node.key] = node
            return node
        return held

    def link(self, source: Node | str, destination: Node | str, association_type: str) -> None:
        if isinstance(source, Node):
            source = self.add(source)
        if isinstance(destination, Node):
            destination = self.add(destination)
        self.edges.append(Edge(source, destination, association_type))

    def __len__(self) -> int:
        return len(self.nodes) + len(self.edges)


# -- the summary -----------------------------------------------------------------------------
@dataclass
class Summary:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool = False
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    #: Why something of the source was left out (or shortened) -> how many times.
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    @property
    def changed(self) -> int:
        return sum(self.added.values()) + sum(self.updated.values())

    def lines(self) -> list[str]:
        """The summary for a person: one line each for added, updated, unchanged, skipped."""
        verb = "would add" if self.dry_run else "added"
        out = [f"{verb}: {_counts(self.added)}"]
        out.append(f"{'would update' if self.dry_run else 'updated'}: {_counts(self.updated)}")
        out.append(f"unchanged: {_counts(self.unchanged)}")
        if self.skipped:
            out.append("skipped:")
            out += [f"  {n} {reason}" for reason, n in sorted(self.skipped.items())]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            **{
                name: {k: n for k, n in getattr(self, name).items() if n}
                for name in ("added", "updated", "unchanged", "skipped")
            },
        }


def _counts(counter: Counter[str]) -> str:
    kinds = [*KINDS, "association"]
    parts = [f"{counter[k]} {k}s" for k in kinds if counter[k]]
    return ", ".join(parts) or "nothing"


# -- values the source gives, made fit for properties ----------------------------------------
def clean_text(value: Any, max_len: int = limits.PROPERTY_VALUE_MAX_LENGTH) -> str:
    """A property value: text without control characters, at most ``max_len`` characters
    (longer text ends with '...'); ``""`` stays ``""`` (the caller drops it)."""
    text = value if isinstance(value, str) else str(value)
    text = validation.CONTROL_RE.sub(" ", text)
    return text if len(text) <= max_len else text[: max_len - 3] + "..."


def iso_ms(millis: Any) -> str | None:
    """An epoch-milliseconds value as ISO 8601 UTC text (``None`` for none)."""
    if millis in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(millis) / 1000, timezone.utc).isoformat()


def fit_properties(
    groups: Iterable[Mapping[str, Any]], summary: Summary, what: str
) -> dict[str, str]:
    """Merge property groups, most important first, into at most 30 valid properties.

    Values become text (``clean_text``); empty values are dropped; keys past the limit are
    left out and counted in the summary as ``"<what> properties past the 30-property limit"``,
    and shortened values as ``"<what> property values shortened to 256 characters"``.
    """
    fitted: dict[str, str] = {}
    left_out = 0
    for key, value in itertools.chain.from_iterable(g.items() for g in groups):
        if value is None or key in fitted:
            continue
        text = clean_text(value)
        if not text:
            continue
        key = clean_text(key)
        if len(fitted) >= limits.MAX_PROPERTIES:
            left_out += 1
            continue
        if len(text) < len(str(value)):
            summary.skip(f"{what} property values shortened to 256 characters")
        fitted[key] = text
    if left_out:
        summary.skip(f"{what} properties past the {limits.MAX_PROPERTIES}-property limit", left_out)
    return fitted


# -- the writer ------------------------------------------------------------------------------
@dataclass
class _Known:
    arn: str
    properties: dict[str, str]
    status: str | None = None
    description: str | None = None


class Writer:
    """Make a store hold batches of nodes and edges, adding and updating in place.

    Args:
        store: the store to write to (any: SQL or a server).
        summary: where the counts go.
        dry_run: read the store, write nothing.
        owned: whether a property key is the importer's (only those are ever removed).
    """

    def __init__(
        self,
        store: Store,
        summary: Summary,
        *,
        dry_run: bool = False,
        owned: Callable[[str], bool] = lambda key: False,
    ) -> None:
        self.store = store
        self.summary = summary
        self.dry_run = dry_run
        self.owned = owned
        self._known: dict[tuple[Any, ...], _Known | None] = {}
        self._new: list[Node] = []  # the nodes the batch being written creates
        self._fresh: set[str] = set()  # ARNs this writer created
        self._linked: set[tuple[str, str]] = set()  # associations this writer added
        self._optimistic = not dry_run

    # -- reading what the store has ---------------------------------------------------------
    def _look_up(self, node: Node) -> _Known | None:
        key = node.key
        if key not in self._known:
            self._known[key] = self._describe(node)
        return self._known[key]

    def _describe(self, node: Node) -> _Known | None:
        if node.kind == "artifact":
            found = None
            for entity in self.store.paginate(
                "list_entity_details",
                "Entities",
                EntityKind="artifact",
                SourceUri=node.key[1],
                MaxResults=limits.LIST_MAX_RESULTS,
            ):
                if Node("artifact", entity).key == node.key:
                    found = entity
                    break
            if found is None:
                return None
            return _Known(found["ArtifactArn"], dict(found.get("Properties") or {}))
        noun = _NOUN[node.kind]
        try:
            found = getattr(self.store, f"describe_{node.kind}")(**{f"{noun}Name": node.key[1]})
        except ResourceNotFound:
            return None
        return _Known(
            found[f"{noun}Arn"],
            dict(found.get("Properties") or {}),
            found.get("Status"),
            found.get("Description"),
        )

    def _existing_edges(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these associations the store holds: the edges out of their sources, read
        with depth-1 lineage queries of up to 10 sources each (a list call per pair costs
        several times more)."""
        sources = sorted({source for source, _ in pairs})
        found: set[tuple[str, str]] = set()
        for start in range(0, len(sources), limits.QUERY_MAX_START_ARNS):
            graph = self.store.lineage_graph(
                StartArns=sources[start : start + limits.QUERY_MAX_START_ARNS],
                Direction="Descendants",
                MaxDepth=1,
                IncludeEdges=True,
            )
            found.update((e["SourceArn"], e["DestinationArn"]) for e in graph["Edges"])
        return found & pairs

    # -- one batch --------------------------------------------------------------------------
    def write(self, batch: Batch) -> dict[tuple[Any, ...], str]:
        """Make the store hold ``batch``; returns the ARN of each node (a ``dry-run:`` stand-in
        for a node a dry run would create).

        Until a batch meets an entity that exists, nodes the writer has not seen are taken as
        new without a look-up (a first import looks nothing up); the first batch that finds
        one is written again with look-ups, and so is every batch after it.

        Raises:
            ImportRefused: the store refused an item; nothing of the batch was written.
        """
        before = {name: getattr(self.summary, name).copy() for name in _COUNTERS}
        try:
            if self._optimistic:
                try:
                    with self.store.batch():
                        return self._write(batch, optimistic=True)
                except ClientError as error:
                    if "already exists" not in error.message:
                        raise
                    self._optimistic = False
                    for name, counts in before.items():
                        setattr(self.summary, name, counts.copy())
            with self.store.batch():
                return self._write(batch, optimistic=False)
        except (ClientError, ValueError) as error:
            message = error.message if isinstance(error, ClientError) else str(error)
            raise ImportRefused(
                f"the store refused {self._culprit(batch, message)}: {message} "
                "(nothing of this batch was imported)"
            ) from error

    def _write(self, batch: Batch, optimistic: bool) -> dict[tuple[Any, ...], str]:
        arns: dict[tuple[Any, ...], str] = {}
        new: list[Node] = []
        updates: list[tuple[Node, _Known, dict[str, Any]]] = []
        for key, node in batch.nodes.items():
            known = self._known.get(key) if optimistic else self._look_up(node)
            if known is None:
                new.append(node)
                continue
            arns[key] = known.arn
            change = self._change(node, known) if node.update else {}
            if change:
                updates.append((node, known, change))
            elif node.update:  # (a reference-only node is no news)
                self.summary.unchanged[node.kind] += 1
        index = {node.key: i for i, node in enumerate(new)}
        self._new = new
        associations = self._new_edges(batch, arns, index)
        for node in new:
            self.summary.added[node.kind] += 1
        self.summary.added["association"] += len(associations)
        for node, _, _ in updates:
            self.summary.updated[node.kind] += 1
        if self.dry_run:  # (later batches see the new nodes as there, under a stand-in)
            for node in new:
                arns[node.key] = f"dry-run:{node.key!r}"
                self._known[node.key] = _Known(
                    arns[node.key], dict(node.request.get("Properties") or {})
                )
            return arns
        self._create(new, associations, arns)
        for node, known, change in updates:
            self._update(node, known, change)
        return arns

    def _create(
        self,
        new: list[Node],
        associations: list[dict[str, Any]],
        arns: dict[tuple[Any, ...], str],
    ) -> None:
        if not new and not associations:
            return
        entities = [{**node.request, "EntityKind": node.kind} for node in new]
        answer = self.store.put_lineage(Entities=entities, Associations=associations)
        for node, arn in zip(new, answer["Arns"], strict=True):
            arns[node.key] = arn
            self._fresh.add(arn)
            self._known[node.key] = _Known(
                arn,
                dict(node.request.get("Properties") or {}),
                node.request.get("Status"),
                node.request.get("Description"),
            )
        for edge in associations:
            ends = [e if isinstance(e, str) else answer["Arns"][e] for e in
                    (edge["Source"], edge["Destination"])]  # fmt: skip
            self._linked.add((ends[0], ends[1]))

    def _update(self, node: Node, known: _Known, change: dict[str, Any]) -> None:
        noun = _NOUN[node.kind]
        ident = "ArtifactArn" if node.kind == "artifact" else f"{noun}Name"
        getattr(self.store, f"update_{node.kind}")(**{ident: known.arn}, **change)
        known.properties.update(change.get("Properties", {}))
        for removed in change.get("PropertiesToRemove", []):
            known.properties.pop(removed, None)
        known.status = change.get("Status", known.status)
        known.description = change.get("Description", known.description)

    def _change(self, node: Node, known: _Known) -> dict[str, Any]:
        """The update request that makes ``known`` what ``node`` says (``{}``: nothing)."""
        wanted: dict[str, str] = node.request.get("Properties") or {}
        change: dict[str, Any] = {}
        changed = {k: v for k, v in wanted.items() if known.properties.get(k) != v}
        removed = [k for k in known.properties if k not in wanted and self.owned(k)]
        if changed:
            change["Properties"] = changed
        if removed:
            change["PropertiesToRemove"] = removed
        if changed or removed:
            merged = {k: v for k, v in {**known.properties, **changed}.items() if k not in removed}
            label = node.label or node.kind
            validation.check_properties(merged, f"the properties {label} would have")
        for member in ("Status", "Description"):
            value = node.request.get(member)
            if value is not None and value != getattr(known, member.lower()):
                change[member] = value
        return change

    def _new_edges(
        self,
        batch: Batch,
        arns: dict[tuple[Any, ...], str],
        index: dict[tuple[Any, ...], int],
    ) -> list[dict[str, Any]]:
        candidates: list[tuple[Any, Any, str]] = []
        seen: set[tuple[Any, Any]] = set()
        for edge in batch.edges:
            source, destination = (
                self._end(e, arns, index) for e in (edge.source, edge.destination)
            )
            if (source, destination) not in seen:
                seen.add((source, destination))
                candidates.append((source, destination, edge.type))
        # Only an edge between two entities that were there before this import may exist.
        old = {
            (s, d)
            for s, d, _ in candidates
            if isinstance(s, str) and isinstance(d, str) and s.startswith("arn:")
            and d.startswith("arn:") and s not in self._fresh and d not in self._fresh
        }  # fmt: skip
        held = (self._existing_edges(old) if old else set()) | (self._linked & seen)
        wanted = []
        for source, destination, association_type in candidates:
            if (source, destination) in held:
                self.summary.unchanged["association"] += 1
            else:
                wanted.append(
                    {
                        "Source": source,
                        "Destination": destination,
                        "AssociationType": association_type,
                    }
                )
        return wanted

    @staticmethod
    def _end(
        end: Node | str, arns: dict[tuple[Any, ...], str], index: dict[tuple[Any, ...], int]
    ) -> str | int:
        if isinstance(end, str):
            return end
        return index[end.key] if end.key in index else arns[end.key]

    def _culprit(self, batch: Batch, message: str) -> str:
        """The node a refusal names, by its label, else "an item of a batch"."""
        found = re.match(r"Entities\[(\d+)\]", message)
        if found and int(found.group(1)) < len(self._new):
            node = self._new[int(found.group(1))]
            return node.label or f"a new {node.kind}"
        for node in batch.nodes.values():
            name = str(node.key[1])
            if node.label and name and name in message:
                return node.label
        return "an item of a batch"
