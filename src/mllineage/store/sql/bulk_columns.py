"""The entities of a PutLineage checked a column at a time, when they are plain.

Most entities of a bulk write have the same few members: a name, a type and, for an artifact,
a source URI. Checked one call per member per item, as the single operations do, an artifact
costs ~8 µs of Python, more than SQLite takes to insert its row. Checked as columns (the types
and lengths of every name at once, one search for control characters through all of them),
with the random parts of the ARNs drawn in one call (``entities.artifact_ids``) and the
source's JSON written around the URI's, it costs a third of that.

``entity_rows`` answers None when anything is not plain (another member, a None, a source
with source types, a value that fails a rule): the caller then checks the whole request item
by item, which finds the first item at fault and says what is wrong with it. The rules are
the same ones, so both paths accept and store exactly the same items
(``tests/test_bulk_columns.py`` holds them side by side).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, NamedTuple

from mllineage import limits, validation
from mllineage.store.sql.entities import artifact_ids, uri_source_key
from mllineage.store.sql.schema import entities

#: A new entity's row in a PutLineage: a list in the order of the table's columns (made and
#: filled several times faster than a dict, and the driver binds it as it is).
COLUMNS = tuple(column.name for column in entities.columns)
ID, SCOPE, KIND, ARN, NAME, NAME_KEY, TYPE, SOURCE_URI, SOURCE_KEY, SOURCE, TOPO, LOG_ID = (
    COLUMNS.index(name)
    for name in (
        "id",
        "scope",
        "kind",
        "arn",
        "name",
        "name_key",
        "type",
        "source_uri",
        "source_key",
        "source",
        "topo",
        "log_id",
    )
)

#: The columns in which every plain row of a call holds the same value (its template's, but
#: the kind).
SHARED = (
    "scope",
    "description",
    "status",
    "properties",
    "metadata",
    "tags",
    "created_at",
    "created_by",
    "modified_at",
    "modified_by",
)


class Edges(NamedTuple):
    """A call's associations as columns. An end is an index into its Entities, or an
    existing entity's code: ``-1 - k`` for the ``k``-th of ``arns``."""

    sources: list[int]
    destinations: list[int]
    types: list[str]
    arns: list[str]


_PLAIN_MEMBERS = {
    "artifact": frozenset({"EntityKind", "ArtifactName", "ArtifactType", "Source"}),
    "action": frozenset({"EntityKind", "ActionName", "ActionType"}),
    "context": frozenset({"EntityKind", "ContextName", "ContextType"}),
}
_URI_ONLY = frozenset({"SourceUri"})
#: The members of an association in a PutLineage.
EDGE_MEMBERS = frozenset({"Source", "Destination", "AssociationType"})
_ASSOCIATION_TYPES = frozenset(validation.ASSOCIATION_TYPES)


def as_row(values: dict[str, Any]) -> list[Any]:
    """The row list of a row dict (``EntityOps._prepare``'s); a column it lacks is None."""
    return list(map(values.get, COLUMNS))


def entity_rows(items: Sequence[Any], at: int, scope: str, actor: str) -> list[list[Any]] | None:
    """The ``entities`` rows of ``items`` (without id, position and log id), in their order;
    None unless every item is plain and passes the rules."""
    if not items or set(map(type, items)) != {dict}:
        return None
    kinds: list[Any] = list(map(dict.get, items, repeat("EntityKind")))
    if set(map(type, kinds)) != {str}:
        return None
    rows: list[list[Any]] = [[]] * len(items)
    for kind in set(kinds):
        members = _PLAIN_MEMBERS.get(kind)
        if members is None:
            return None
        where = [i for i, k in enumerate(kinds) if k == kind]
        group = [items[i] for i in where]
        if not all(map(members.issuperset, group)):
            return None
        template = _template(kind, at, scope, actor)
        made = (
            _artifacts(group, template, at, scope)
            if kind == "artifact"
            else _named(kind, group, template, scope)
        )
        if made is None:
            return None
        for i, row in zip(where, made, strict=True):
            rows[i] = row
    return rows


def new_edges(items: Sequence[Any], count: int) -> Edges | None:
    """The associations of ``items`` as the columns of an ``Edges``;
    None unless every item has the three members, both ends indexes into the request's
    ``count`` entities, two different ones, and a type of the five."""
    if not items or set(map(type, items)) != {dict}:
        return None
    if set(map(len, items)) != {len(EDGE_MEMBERS)} or not all(map(EDGE_MEMBERS.issuperset, items)):
        return None
    sources = list(map(itemgetter("Source"), items))
    destinations = list(map(itemgetter("Destination"), items))
    types = list(map(itemgetter("AssociationType"), items))
    ends = sources + destinations
    if (
        set(map(type, ends)) != {int}
        or min(ends) < 0
        or max(ends) >= count
        or not _ASSOCIATION_TYPES.issuperset(types)
        or any(map(int.__eq__, sources, destinations))
    ):
        return None
    return Edges(sources, destinations, types, [])


def _artifacts(
    group: list[dict[str, Any]], template: list[Any], at: int, scope: str
) -> list[list[Any]] | None:
    names = _column(group, "ArtifactName")
    types = _column(group, "ArtifactType")
    sources = _column(group, "Source")
    if (
        set(map(type, sources)) != {dict}
        or set(map(len, sources)) != {1}
        or not all(map(_URI_ONLY.issuperset, sources))
        or not _strings(names, limits.NAME_MAX_LENGTH)
        or not _strings(types, limits.TYPE_MAX_LENGTH)
    ):
        return None
    uris = list(map(itemgetter("SourceUri"), sources))
    if not _strings(uris, limits.SOURCE_URI_MAX_LENGTH):
        return None
    prefix = f"{scope}artifact/"
    rows = []
    for suffix, name, entity_type, uri in zip(
        artifact_ids(at, len(group)), names, types, uris, strict=True
    ):
        # The URI's JSON, once: the source as stored, and its identity (entities.source_key).
        quoted = encode_basestring(uri)
        row = template.copy()
        row[ARN] = prefix + suffix
        row[NAME] = name
        row[TYPE] = entity_type
        row[SOURCE_URI] = uri
        row[SOURCE_KEY] = uri_source_key(quoted)
        row[SOURCE] = f'{{"SourceUri":{quoted}}}'
        rows.append(row)
    return rows


def _named(
    kind: str, group: list[dict[str, Any]], template: list[Any], scope: str
) -> list[list[Any]] | None:
    """Actions and contexts: their ARN is their kind and lower-cased name."""
    noun = kind.capitalize()
    names = _column(group, f"{noun}Name")
    types = _column(group, f"{noun}Type")
    if (
        not _strings(names, limits.NAME_MAX_LENGTH)
        or not all(map(validation.ARN_NAME_RE.fullmatch, names))
        or not _strings(types, limits.TYPE_MAX_LENGTH)
    ):
        return None
    prefix = f"{scope}{kind}/"
    rows = []
    for name, key, entity_type in zip(names, map(str.lower, names), types, strict=True):
        row = template.copy()
        row[ARN] = prefix + key
        row[NAME] = name
        row[NAME_KEY] = key
        row[TYPE] = entity_type
        rows.append(row)
    return rows


def _template(kind: str, at: int, scope: str, actor: str) -> list[Any]:
    """What every plain row of ``kind`` in the call holds; None in the rest."""
    return as_row(
        {
            "scope": scope,
            "kind": kind,
            "properties": "{}",
            "tags": "[]",
            "created_at": at,
            "created_by": actor,
            "modified_at": at,
            "modified_by": actor,
        }
    )


def _column(group: list[dict[str, Any]], member: str) -> list[Any]:
    return list(map(dict.get, group, repeat(member)))


def _strings(values: list[Any], max_len: int) -> bool:
    """Whether every value is a string of 1 to ``max_len`` characters without control
    characters (``validation.check_str``'s rule)."""
    return (
        set(map(type, values)) == {str}
        and min(map(len, values)) >= 1
        and max(map(len, values)) <= max_len
        and validation.CONTROL_RE.search("".join(values)) is None
    )
