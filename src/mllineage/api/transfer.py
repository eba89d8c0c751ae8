"""Export a whole store to JSON Lines, and import such a file into a store, all or nothing.

The file (format ``mllineage-export``, version 1) is one JSON object per line:

* ``{"record": "header", "format": "mllineage-export", "version": 1, "exported_at": ...}``
* one line per artifact, action and context (``"record": "artifact"`` ...), holding the
  store's Describe response for it (names, ARN, type, source, status, description,
  properties, metadata properties, ``CreationTime``/``CreatedBy``/``LastModifiedTime``/
  ``LastModifiedBy``) plus its ``Tags``; oldest first within each kind;
* one line per association: ``SourceArn``, ``DestinationArn``, ``AssociationType``,
  ``CreationTime``, ``CreatedBy``;
* ``{"record": "end", "counts": {...}}``, so a truncated file is noticed.

Timestamps are ISO 8601 with microseconds and an explicit UTC offset. The export runs in one
transaction, so it is a consistent snapshot of an SQLite store.

Importing checks the whole file first (format, version, shape, duplicate ARNs, associations
whose ends are not in the file), then writes everything in one atomic ``PutLineage`` call with
``Restore=True``: ARNs, timestamps and creators are kept exactly, and if the store refuses
anything (an invalid property, a name or ARN that exists, an association that would close a
cycle), nothing is written; this holds through an mllineage server too. A file from another
region or account cannot keep its ARNs: it is then imported in one transaction
(``session.batch()``, not atomic through a server) with this store's ARNs, times and creator,
and the returned :class:`ImportSummary` maps every old ARN to its new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from mllineage.api.session import Session
from mllineage.errors import ClientError
from mllineage.store.base import Store
from mllineage.version import __version__

FORMAT = "mllineage-export"
VERSION = 1
KINDS = ("artifact", "action", "context")
_NOUN = {"artifact": "Artifact", "action": "Action", "context": "Context"}
# Describe members a create request takes, per kind (the rest are assigned by the store).
_CREATE_MEMBERS = {
    "artifact": ("ArtifactName", "Source", "ArtifactType", "Properties", "MetadataProperties"),
    "action": (
        "ActionName",
        "Source",
        "ActionType",
        "Description",
        "Status",
        "Properties",
        "MetadataProperties",
    ),
    "context": ("ContextName", "Source", "ContextType", "Description", "Properties"),
}
_KEPT_MEMBERS = {
    kind: (
        f"{_NOUN[kind]}Arn",
        *members,
        "CreationTime",
        "CreatedBy",
        "LastModifiedTime",
        "LastModifiedBy",
    )
    for kind, members in _CREATE_MEMBERS.items()
}
_ASSOCIATION_MEMBERS = (
    "SourceArn",
    "DestinationArn",
    "AssociationType",
    "CreationTime",
    "CreatedBy",
)

Progress = Callable[[int], None]


class TransferError(ValueError):
    """An export file that cannot be imported, or an import the store refused."""


@dataclass
class ExportSummary:
    counts: dict[str, int]


@dataclass
class ImportSummary:
    counts: dict[str, int]
    #: Every ARN of the file mapped to the ARN the entity has in the store now.
    arn_map: dict[str, str] = field(default_factory=dict)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return value


# -- export ---------------------------------------------------------------------------------
def export_records(store: Store) -> Iterator[dict[str, Any]]:
    """Every record of an export of ``store``, header and end line included."""
    yield {
        "record": "header",
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(datetime.now(timezone.utc)),
        "mllineage": __version__,
    }
    counts = dict.fromkeys((*KINDS, "association"), 0)
    arns: set[str] = set()
    for kind in KINDS:
        pages = store.paginate(
            "list_entity_details",
            "Entities",
            EntityKind=kind,
            SortBy="CreationTime",
            SortOrder="Ascending",
            IncludeTags=True,
            MaxResults=100,
        )
        for described in pages:
            record: dict[str, Any] = {"record": kind}
            for member in _KEPT_MEMBERS[kind]:
                if member in described:
                    record[member] = _iso(described[member])
            record["Tags"] = described["Tags"]
            arns.add(record[f"{_NOUN[kind]}Arn"])
            counts[kind] += 1
            yield record
    summaries = store.paginate(
        "list_associations",
        "AssociationSummaries",
        SortBy="CreationTime",
        SortOrder="Ascending",
        MaxResults=100,
    )
    for summary in summaries:
        record = {"record": "association"}
        record.update({m: _iso(summary[m]) for m in _ASSOCIATION_MEMBERS if m in summary})
        if record["SourceArn"] not in arns or record["DestinationArn"] not in arns:
            raise TransferError(
                "the store changed during the export (an association refers to an entity "
                "created after the export began): run the export again"
            )
        counts["association"] += 1
        yield record
    yield {"record": "end", "counts": counts}


def export_store(
    session: Session, destination: str | Path | IO[str], progress: Progress | None = None
) -> ExportSummary:
    """Write every entity, tag and association of the session's store to ``destination`` (a
    path, ``"-"`` for stdout, or an open text file). A path is written whole or not at all.

    Args:
        progress: called with the number of records written so far.
    """
    if not isinstance(destination, (str, Path)) or str(destination) == "-":
        import sys

        out = sys.stdout if str(destination) == "-" else destination
        return _write(session, out, progress)  # type: ignore[arg-type]
    path = Path(destination)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            summary = _write(session, out, progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def _write(session: Session, out: IO[str], progress: Progress | None) -> ExportSummary:
    counts: dict[str, int] = {}
    with session.batch():  # one transaction: a consistent snapshot
        for written, record in enumerate(export_records(session.store), start=1):
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            if record["record"] == "end":
                counts = record["counts"]
            if progress is not None:
                progress(written)
    return ExportSummary(counts)


# -- import ---------------------------------------------------------------------------------
@dataclass
class _Line:
    number: int
    record: dict[str, Any]


def read_export(lines: Iterable[str]) -> list[_Line]:
    """Parse and check an export file without touching any store.

    Raises:
        TransferError: not an export, a newer version, a malformed or truncated file, a
            duplicate ARN, or an association whose ends are not in the file.
    """
    parsed: list[_Line] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise TransferError(f"line {number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("record"), str):
            raise TransferError(f"line {number}: expected an object with a 'record' member")
        parsed.append(_Line(number, record))
    if not parsed or parsed[0].record.get("format") != FORMAT:
        raise TransferError(f"not an mllineage export: the first line must be a {FORMAT} header")
    version = parsed[0].record.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise TransferError(
            f"export version {version!r} is newer than this mllineage reads ({VERSION}): "
            "upgrade mllineage"
        )
    if parsed[-1].record["record"] != "end":
        raise TransferError("the file is truncated: its last line is not the end record")
    body = parsed[1:-1]
    counts = dict.fromkeys((*KINDS, "association"), 0)
    arns: set[str] = set()
    for line in body:
        kind = line.record["record"]
        if kind not in counts:
            raise TransferError(f"line {line.number}: unknown record {kind!r}")
        counts[kind] += 1
        if kind in KINDS:
            arn = line.record.get(f"{_NOUN[kind]}Arn")
            if not isinstance(arn, str):
                raise TransferError(f"line {line.number}: the {kind} has no {_NOUN[kind]}Arn")
            if arn in arns:
                raise TransferError(f"line {line.number}: {arn} appears twice")
            arns.add(arn)
    for line in body:
        if line.record["record"] == "association":
            for end in ("SourceArn", "DestinationArn"):
                if line.record.get(end) not in arns:
                    raise TransferError(
                        f"line {line.number}: dangling association: its {end} "
                        f"{line.record.get(end)!r} is not an entity of the file"
                    )
    if parsed[-1].record.get("counts") != counts:
        raise TransferError(
            f"the file does not hold what its end record says: found {counts}, "
            f"expected {parsed[-1].record.get('counts')}"
        )
    return body


def import_store(
    session: Session, source: str | Path | IO[str], progress: Progress | None = None
) -> ImportSummary:
    """Import an export file into the session's store, in one transaction.

    Args:
        source: a path, ``"-"`` for stdin, or an open text file.
        progress: called with the number of records imported so far.
    Returns:
        the counts imported and the map from the file's ARNs to the store's.
    Raises:
        TransferError: the file is not a valid export, or the store refused a record (the
            message names its line); nothing was written.
    """
    if isinstance(source, (str, Path)) and str(source) != "-":
        with Path(source).open(encoding="utf-8") as handle:
            body = read_export(handle)
    else:
        import sys

        body = read_export(sys.stdin if str(source) == "-" else source)  # type: ignore[arg-type]
    return import_records(session, body, progress)


def import_records(
    session: Session, body: list[_Line], progress: Progress | None = None
) -> ImportSummary:
    """:func:`import_store` of the records :func:`read_export` returned (a file read once,
    counted and imported)."""
    summary = ImportSummary(dict.fromkeys((*KINDS, "association"), 0))
    store = session.store
    try:
        _restore(store, body, summary)
        if progress is not None:
            progress(len(body))
        return summary
    except ClientError as error:
        if "another region or account" not in error.message:
            raise TransferError(f"refused, nothing was imported: {error.message}") from error
    # Into another region or account: the entities get this store's ARNs, times and creator.
    summary = ImportSummary(dict.fromkeys((*KINDS, "association"), 0))
    with session.batch():
        for done, line in enumerate(body, start=1):
            try:
                _import_line(store, line.record, summary)
            except (ClientError, ValueError, KeyError, TypeError) as error:
                message = error.message if isinstance(error, ClientError) else str(error)
                raise TransferError(
                    f"line {line.number}: refused, nothing was imported: {message}"
                ) from error
            if progress is not None:
                progress(done)
    return summary


def _restore(store: Store, body: list[Any], summary: ImportSummary) -> None:
    """Write the whole file in one atomic PutLineage call that keeps ARNs, timestamps and
    creators exactly (``Restore=True``)."""
    entities: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    position: dict[str, int] = {}
    for line in body:
        record = line.record
        kind = record["record"]
        if kind == "association":
            associations.append(
                {
                    "Source": position[record["SourceArn"]],
                    "Destination": position[record["DestinationArn"]],
                    **{
                        m: record[m]
                        for m in ("AssociationType", "CreationTime", "CreatedBy")
                        if m in record
                    },
                }
            )
        else:
            position[record[f"{_NOUN[kind]}Arn"]] = len(entities)
            entities.append(restore_entry(kind, record))
        summary.counts[kind] += 1
    answer = store.put_lineage(Entities=entities, Associations=associations, Restore=True)
    summary.arn_map.update(zip(position, answer["Arns"], strict=True))


def restore_entry(kind: str, described: dict[str, Any]) -> dict[str, Any]:
    """A ``PutLineage(Restore=True)`` entity from a Describe response of ``kind`` (plus its
    ``Tags``): the entity as it was, with its ARN, times and creators."""
    entry = {m: described[m] for m in _CREATE_MEMBERS[kind] if m in described}
    if described.get("Tags"):
        entry["Tags"] = described["Tags"]
    entry.update(EntityKind=kind, Arn=described[f"{_NOUN[kind]}Arn"])
    entry.update(
        {
            m: described[m]
            for m in ("CreationTime", "CreatedBy", "LastModifiedTime", "LastModifiedBy")
            if m in described
        }
    )
    return entry


def _import_line(store: Store, record: dict[str, Any], summary: ImportSummary) -> None:
    kind = record["record"]
    if kind == "association":
        store.add_association(
            SourceArn=summary.arn_map[record["SourceArn"]],
            DestinationArn=summary.arn_map[record["DestinationArn"]],
            AssociationType=record["AssociationType"],
        )
    else:
        request = {m: record[m] for m in _CREATE_MEMBERS[kind] if m in record}
        if record.get("Tags"):
            request["Tags"] = record["Tags"]
        answer = getattr(store, f"create_{kind}")(**request)
        summary.arn_map[record[f"{_NOUN[kind]}Arn"]] = answer[f"{_NOUN[kind]}Arn"]
    summary.counts[kind] += 1
