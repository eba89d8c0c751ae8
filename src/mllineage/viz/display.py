"""Notebook display and plain records of entities, lists and lineage graphs.

Jupyter shows an ``Artifact``/``Action``/``Context``/``Association`` as a card, a list from
``Artifact.list()`` (an :class:`EntityList`) as a table, and a ``LineageGraph`` as an
interactive picture with its tables. ``entity_record`` is the one place that turns an entity
into a JSON-ready dict: the CLI's ``--json`` and ``to_dataframe()`` both use it.
"""

from __future__ import annotations

import builtins
import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mllineage.viz.style import vertex_name, vertex_type

if TYPE_CHECKING:
    import pandas

    from mllineage.viz.graph import LineageGraph

T = TypeVar("T")

#: Graphs larger than this are shown as tables only in a notebook (the picture would be
#: unreadable there); ``graph.to_html()`` still draws them.
NOTEBOOK_PICTURE_MAX_VERTICES = 500


def require_pandas(what: str) -> None:
    """Raise a helpful ImportError when pandas is missing."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise ImportError(f"{what} needs pandas: pip install 'mllineage[viz]'") from None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def entity_record(entity: Any) -> dict[str, Any]:
    """An entity or association as a dict of its spec attributes (JSON-ready: timestamps as
    ISO 8601 strings), e.g. ``{"artifact_arn", "artifact_name", "artifact_type", "source",
    "properties", "creation_time", "created_by", "last_modified_time", "last_modified_by"}``.
    """
    kind = getattr(entity, "_kind", None)
    if kind is None:  # an Association
        fields = (
            "source_arn",
            "destination_arn",
            "association_type",
            "source_type",
            "destination_type",
            "source_name",
            "destination_name",
            "creation_time",
            "created_by",
        )
        return {f: _iso(getattr(entity, f, None)) for f in fields}
    record: dict[str, Any] = {
        f"{kind}_arn": entity._arn_or_none(),
        f"{kind}_name": getattr(entity, f"{kind}_name", None),
        f"{kind}_type": getattr(entity, f"{kind}_type", None),
    }
    if kind == "action":
        record["status"] = entity.status
    if kind != "artifact":
        record["description"] = entity.description
    record["source"] = entity.source
    record["properties"] = dict(entity.properties)
    for attr in ("creation_time", "created_by", "last_modified_time", "last_modified_by"):
        record[attr] = _iso(getattr(entity, f"_{attr}", None))
    return record


def records_dataframe(items: Iterable[Any]) -> pandas.DataFrame:
    """One row per entity (see :func:`entity_record`), properties spread into
    ``properties.<key>`` columns, timestamps as datetimes."""
    require_pandas("to_dataframe()")
    import pandas as pd

    rows: builtins.list[dict[str, Any]] = []
    for item in items:
        record = entity_record(item)
        props = record.pop("properties", None) or {}
        record.update({f"properties.{k}": v for k, v in props.items()})
        for key in ("creation_time", "last_modified_time"):
            if isinstance(record.get(key), str):
                record[key] = pd.Timestamp(record[key])
        rows.append(record)
    frame: pandas.DataFrame = pd.DataFrame(rows)
    return frame


class EntityList(builtins.list[T]):
    """The list ``Artifact.list()`` (and friends) return: a plain list that a notebook shows
    as a table, and that converts to a DataFrame with :meth:`to_dataframe`."""

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per item; columns as :func:`entity_record`, properties spread out."""
        return records_dataframe(self)

    def _repr_html_(self) -> str:
        return list_html(self)


# -- HTML -----------------------------------------------------------------------------------
_KIND_COLOR = {"artifact": "#4C78A8", "action": "#F58518", "context": "#54A24B"}
_CSS = (
    "<style>.mll table{border-collapse:collapse;font-size:12px}"
    ".mll th,.mll td{text-align:left;padding:2px 8px;border-bottom:1px solid #ddd;"
    "vertical-align:top}.mll .badge{color:#fff;border-radius:3px;padding:0 6px;"
    "font-size:11px}.mll h4{margin:4px 0}</style>"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(_iso(value)))


def _badge(kind: str) -> str:
    color = _KIND_COLOR.get(kind.lower(), "#9D9D9D")
    return f'<span class="badge" style="background:{color}">{_e(kind.capitalize())}</span>'


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(pairs: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs.items() if v is not None
    )
    return f"<table><tbody>{rows}</tbody></table>"


def entity_html(entity: Any) -> str:
    """A card: kind, name, type, ARN, source, status, timestamps, properties (and tags when
    they have been fetched already: displaying never calls the store)."""
    record = entity_record(entity)
    kind = entity._kind
    fields = {
        "type": record[f"{kind}_type"],
        "ARN": record[f"{kind}_arn"],
        "source": (entity.source or {}).get("source_uri"),
        "status": record.get("status"),
        "description": record.get("description"),
        "created": record["creation_time"],
        "last modified": record["last_modified_time"],
    }
    parts = [
        f'<div class="mll">{_CSS}<h4>{_badge(kind)} {_e(record[f"{kind}_name"])}</h4>',
        _kv_table(fields),
    ]
    if entity.properties:
        parts.append("<h4>Properties</h4>" + _kv_table(dict(sorted(entity.properties.items()))))
    tags = getattr(entity, "_tags", None)
    if tags:
        parts.append("<h4>Tags</h4>" + _kv_table({t["Key"]: t["Value"] for t in tags}))
    return "".join(parts) + "</div>"


def association_html(association: Any) -> str:
    source = association.source_name or association.source_arn
    destination = association.destination_name or association.destination_arn
    return (
        f'<div class="mll">{_CSS}<b>{_e(source)}</b> &rarr; '
        f"<i>{_e(association.association_type)}</i> &rarr; <b>{_e(destination)}</b>"
        f"<br><small>{_e(association.source_arn)} &rarr; "
        f"{_e(association.destination_arn)}</small></div>"
    )


def list_html(items: builtins.list[Any]) -> str:
    """A table of entities or associations."""
    if not items:
        return f'<div class="mll">{_CSS}<i>no results</i></div>'
    if getattr(items[0], "_kind", None) is None:
        rows: builtins.list[tuple[str, ...]] = [
            (
                _e(a.source_name or a.source_arn),
                _e(a.association_type),
                _e(a.destination_name or a.destination_arn),
                _e(a.creation_time),
            )
            for a in items
        ]
        table = _table(("Source", "Association", "Destination", "Created"), rows)
    else:
        rows = []
        for item in items:
            record = entity_record(item)
            kind = item._kind
            rows.append(
                (
                    _badge(kind),
                    _e(record[f"{kind}_name"]),
                    _e(record[f"{kind}_type"]),
                    _e(record.get("status") or (item.source or {}).get("source_uri")),
                    _e(record["creation_time"]),
                    _e(record[f"{kind}_arn"]),
                )
            )
        table = _table(("Kind", "Name", "Type", "Source / status", "Created", "ARN"), rows)
    return f'<div class="mll">{_CSS}<small>{len(items)} results</small>{table}</div>'


def graph_html(graph: LineageGraph) -> str:
    """The picture (an isolated iframe holding :meth:`LineageGraph.to_html`) when the graph
    is small enough to read in a notebook, then its vertices and edges as tables."""
    vertices, edges = graph.vertices, graph.edges
    parts = [f'<div class="mll">{_CSS}<b>Lineage</b>: {len(vertices)} vertices, {len(edges)} edges']
    if vertices and len(vertices) <= NOTEBOOK_PICTURE_MAX_VERTICES:
        page = html.escape(graph.to_html(), quote=True)
        parts.append(
            f'<iframe srcdoc="{page}" style="width:100%;height:460px;border:1px solid #ddd" '
            'sandbox="allow-scripts allow-downloads"></iframe>'
        )
    starts = set(graph.start_arns)
    names = {v["Arn"]: vertex_name(v) for v in vertices}
    vertex_rows = [
        (
            _badge(str(v.get("Type", ""))),
            _e(vertex_name(v)) + (" &#9733;" if v["Arn"] in starts else ""),
            _e(vertex_type(v)),
            _e(v["Arn"]),
        )
        for v in vertices
    ]
    parts.append(
        "<details><summary>Vertices</summary>"
        + _table(("Kind", "Name", "Type", "ARN"), vertex_rows)
        + "</details>"
    )
    if edges:
        edge_rows = [
            (
                _e(names.get(e["SourceArn"], e["SourceArn"])),
                _e(e.get("AssociationType")),
                _e(names.get(e["DestinationArn"], e["DestinationArn"])),
            )
            for e in edges
        ]
        parts.append(
            "<details><summary>Edges</summary>"
            + _table(("Source", "Association", "Destination"), edge_rows)
            + "</details>"
        )
    return "".join(parts) + "</div>"
