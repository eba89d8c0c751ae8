"""``LineageGraph``: a lineage query's answer, with exports to pictures, files and DataFrames.

``LineageQuery.query()`` returns a :class:`LineageGraph`. It *is* the spec's dict
(``{"Vertices": [...], "Edges": [...]}``, equal to a plain dict with the same content), and
it also knows which vertices the query started from, so it can draw them marked:

    graph = LineageQuery([model_arn], LineageQueryDirectionEnum.ASCENDANTS).query()
    graph.to_dot()          # Graphviz
    graph.to_mermaid()      # a Mermaid flowchart (renders in GitHub Markdown)
    graph.to_graphml()      # for networkx, Gephi, yEd
    graph.to_networkx()     # a networkx.DiGraph
    graph.to_html()         # a self-contained interactive page (opens offline)
    graph.to_dataframe()    # one row per vertex (``"edges"``: one row per edge)
    graph.save("lineage.html")

Every picture uses the same conventions: colour and shape by kind (artifacts blue boxes,
actions orange ellipses, contexts green hexagons), labels of name and type, start vertices
with a heavy double border, edges labelled by association type, a left-to-right layout.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mllineage.viz.style import (
    KIND_STYLES,
    OTHER_STYLE,
    START_BORDER,
    style_of,
    vertex_name,
    vertex_type,
)

if TYPE_CHECKING:
    import networkx
    import pandas

FORMATS = ("dot", "mermaid", "graphml", "json", "html")
_SUFFIXES = {
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".graphml": "graphml",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


class LineageGraph(dict[str, Any]):
    """The answer of a lineage query: the spec's ``{"Vertices", "Edges"}`` dict, plus exports.

    Args:
        vertices: ``{"Arn", "Type", "Properties"}`` dicts.
        edges: ``{"SourceArn", "DestinationArn", "AssociationType"}`` dicts.
        start_arns: the ARNs the query started from (drawn marked).
    """

    start_arns: tuple[str, ...]

    def __init__(
        self,
        vertices: Iterable[Mapping[str, Any]] = (),
        edges: Iterable[Mapping[str, Any]] = (),
        start_arns: Iterable[str] = (),
    ) -> None:
        super().__init__(Vertices=list(vertices), Edges=list(edges))
        self.start_arns = tuple(start_arns)

    @classmethod
    def of(cls, graph: Mapping[str, Any], start_arns: Iterable[str] | None = None) -> LineageGraph:
        """A :class:`LineageGraph` for a dict ``LineageQuery.query()`` returned (or itself).

        Raises:
            ValueError: ``graph`` has no ``Vertices`` list.
        """
        if isinstance(graph, LineageGraph) and start_arns is None:
            return graph
        if not isinstance(graph, Mapping) or not isinstance(graph.get("Vertices"), list):
            raise ValueError(
                "expected the dict LineageQuery.query() returns, with 'Vertices' and 'Edges'"
            )
        if start_arns is None:
            start_arns = getattr(graph, "start_arns", ())
        return cls(graph["Vertices"], graph.get("Edges") or [], start_arns)

    @property
    def vertices(self) -> list[dict[str, Any]]:
        return list(self["Vertices"])

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self.get("Edges") or [])

    def _starts(self) -> set[str]:
        return set(self.start_arns)

    # -- text formats -----------------------------------------------------------------------
    def to_dot(self) -> str:
        """The graph in Graphviz's DOT language (render with ``dot -Tsvg``)."""
        starts = self._starts()
        lines = [
            "digraph lineage {",
            '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.6];',
            '  node [style="filled", fontname="Helvetica", fontsize=11, fontcolor="white"];',
            '  edge [fontname="Helvetica", fontsize=9, color="#555555", fontcolor="#333333"];',
        ]
        for vertex in self.vertices:
            kind = str(vertex.get("Type", ""))
            style = style_of(kind)
            arn = str(vertex["Arn"])
            attrs = {
                "label": f"{vertex_name(vertex)}\n{vertex_type(vertex)}",
                "shape": style.dot_shape,
                "fillcolor": style.color,
                "color": START_BORDER if arn in starts else style.border,
                "tooltip": f"{kind} {arn}",
            }
            if style.dot_shape == "box":
                attrs["style"] = "filled,rounded"
            if arn in starts:
                attrs.update(penwidth="3", peripheries="2")
            lines.append(f"  {_dot_id(arn)} [{_dot_attrs(attrs)}];")
        for edge in self.edges:
            label = str(edge.get("AssociationType", ""))
            lines.append(
                f"  {_dot_id(edge['SourceArn'])} -> {_dot_id(edge['DestinationArn'])} "
                f"[{_dot_attrs({'label': label})}];"
            )
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart (paste it into a ```` ```mermaid ```` block)."""
        ids = {str(v["Arn"]): f"n{i}" for i, v in enumerate(self.vertices)}
        starts = self._starts()
        lines = ["flowchart LR"]
        for vertex in self.vertices:
            arn = str(vertex["Arn"])
            style = style_of(str(vertex.get("Type", "")))
            label = f"{_mermaid_text(vertex_name(vertex))}<br/><small>"
            label += f"{_mermaid_text(vertex_type(vertex))}</small>"
            kind_class = str(vertex.get("Type", "other")).lower() or "other"
            lines.append(
                f"  {ids[arn]}{style.mermaid_open}{label}{style.mermaid_close}:::{kind_class}"
            )
        for edge in self.edges:
            source, destination = ids.get(edge["SourceArn"]), ids.get(edge["DestinationArn"])
            if source and destination:
                label = _mermaid_text(str(edge.get("AssociationType", "")))
                lines.append(f'  {source} -->|"{label}"| {destination}')
        for kind, style in (*KIND_STYLES.items(), ("Other", OTHER_STYLE)):
            lines.append(
                f"  classDef {kind.lower()} fill:{style.color},stroke:{style.border},color:#fff"
            )
        lines.append(f"  classDef start stroke:{START_BORDER},stroke-width:4px")
        marked = [ids[a] for a in ids if a in starts]
        if marked:
            lines.append(f"  class {','.join(marked)} start")
        return "\n".join(lines) + "\n"

    def to_json(self, indent: int | None = 2) -> str:
        """The dict itself as JSON (what ``mllineage query --format json`` prints)."""
        return json.dumps(dict(self), indent=indent, default=str, ensure_ascii=False) + "\n"

    # -- networkx and GraphML ----------------------------------------------------------------
    def node_attributes(self) -> dict[str, dict[str, Any]]:
        """Each vertex's attributes as :meth:`to_networkx` and :meth:`to_graphml` give them:
        ``kind``, ``name``, ``type``, ``label``, ``color``, ``start`` and the vertex's
        ``Properties`` (a property whose key clashes with one of these is ``property:<key>``).
        """
        starts = self._starts()
        out: dict[str, dict[str, Any]] = {}
        for vertex in self.vertices:
            arn = str(vertex["Arn"])
            kind = str(vertex.get("Type", ""))
            attrs: dict[str, Any] = {
                "kind": kind,
                "name": vertex_name(vertex),
                "type": vertex_type(vertex),
                "label": f"{vertex_name(vertex)} ({vertex_type(vertex)})",
                "color": style_of(kind).color,
                "start": arn in starts,
            }
            for key, value in (vertex.get("Properties") or {}).items():
                attrs[f"property:{key}" if key in attrs else str(key)] = str(value)
            out[arn] = attrs
        return out

    def edge_attributes(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (str(e["SourceArn"]), str(e["DestinationArn"])): {
                "association_type": str(e.get("AssociationType", "")),
                "label": str(e.get("AssociationType", "")),
            }
            for e in self.edges
        }

    def to_networkx(self) -> networkx.DiGraph[str]:
        """A ``networkx.DiGraph``: nodes are ARNs, with :meth:`node_attributes`; edges carry
        ``association_type`` (needs ``pip install networkx``, part of ``mllineage[viz]``)."""
        try:
            import networkx as nx
        except ImportError:
            raise ImportError(
                "to_networkx() needs networkx: pip install 'mllineage[viz]'"
            ) from None
        graph: networkx.DiGraph[str] = nx.DiGraph()
        for arn, attrs in self.node_attributes().items():
            graph.add_node(arn, **attrs)
        for (source, destination), attrs in self.edge_attributes().items():
            graph.add_edge(source, destination, **attrs)
        return graph

    def to_graphml(self) -> str:
        """The graph as GraphML (networkx, Gephi, yEd and Cytoscape desktop read it); node
        IDs are ARNs and every attribute of :meth:`to_networkx` is kept."""
        ns = "http://graphml.graphdrawing.org/xmlns"
        root = ET.Element("graphml", xmlns=ns)
        nodes, edges = self.node_attributes(), self.edge_attributes()
        keys: dict[tuple[str, str], str] = {}
        for domain, table in (("node", nodes.values()), ("edge", edges.values())):
            names = sorted({name for attrs in table for name in attrs})
            for name in names:
                is_bool = any(isinstance(a.get(name), bool) for a in table)
                key = f"{domain[0]}{len([k for k in keys if k[0] == domain])}"
                keys[(domain, name)] = key
                ET.SubElement(
                    root,
                    "key",
                    {
                        "id": key,
                        "for": domain,
                        "attr.name": _xml_text(name),
                        "attr.type": "boolean" if is_bool else "string",
                    },
                )
        body = ET.SubElement(root, "graph", id="lineage", edgedefault="directed")
        for arn, attrs in nodes.items():
            _graphml_data(ET.SubElement(body, "node", id=_xml_text(arn)), keys, "node", attrs)
        for (source, destination), attrs in edges.items():
            element = ET.SubElement(
                body, "edge", source=_xml_text(source), target=_xml_text(destination)
            )
            _graphml_data(element, keys, "edge", attrs)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"

    # -- HTML and notebooks -------------------------------------------------------------------
    def to_html(self, title: str | None = None) -> str:
        """A self-contained interactive page (cytoscape.js with a dagre layout, inlined): pan,
        zoom, search, click a vertex for its properties. It needs no network."""
        from mllineage.viz.page import lineage_page

        return lineage_page(self, title=title)

    def _repr_html_(self) -> str:
        from mllineage.viz.display import graph_html

        return graph_html(self)

    def to_dataframe(self, what: Literal["vertices", "edges"] = "vertices") -> pandas.DataFrame:
        """A pandas DataFrame: one row per vertex (``Arn``, ``Type``, ``Name``,
        ``EntityType``, ``Start``, then one column per property), or with ``"edges"`` one
        row per edge (``SourceArn``, ``DestinationArn``, ``AssociationType``, and the names
        of both ends)."""
        from mllineage.viz.display import require_pandas

        require_pandas("to_dataframe()")
        import pandas as pd

        starts = self._starts()
        if what == "edges":
            names = {v["Arn"]: vertex_name(v) for v in self.vertices}
            edges: pandas.DataFrame = pd.DataFrame(
                [
                    {
                        "SourceArn": e["SourceArn"],
                        "DestinationArn": e["DestinationArn"],
                        "AssociationType": e.get("AssociationType"),
                        "SourceName": names.get(e["SourceArn"]),
                        "DestinationName": names.get(e["DestinationArn"]),
                    }
                    for e in self.edges
                ],
                columns=[
                    "SourceArn",
                    "DestinationArn",
                    "AssociationType",
                    "SourceName",
                    "DestinationName",
                ],
            )
            return edges
        if what != "vertices":
            raise ValueError(f"what must be 'vertices' or 'edges', got {what!r}")
        rows = [
            {
                "Arn": v["Arn"],
                "Type": v.get("Type"),
                "Name": vertex_name(v),
                "EntityType": vertex_type(v),
                "Start": v["Arn"] in starts,
                **(v.get("Properties") or {}),
            }
            for v in self.vertices
        ]
        columns = _columns(rows, ["Arn", "Type", "Name", "EntityType"])
        frame: pandas.DataFrame = pd.DataFrame(rows, columns=columns)
        return frame

    # -- files ------------------------------------------------------------------------------
    def render(self, format: str) -> str:
        """The graph in one of :data:`FORMATS` as text."""
        renderers = {
            "dot": self.to_dot,
            "mermaid": self.to_mermaid,
            "graphml": self.to_graphml,
            "json": self.to_json,
            "html": self.to_html,
        }
        if format not in renderers:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
        return renderers[format]()

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the graph to ``path`` in ``format`` (default: from the file's suffix, e.g.
        ``.dot``, ``.mmd``, ``.graphml``, ``.json``, ``.html``). Returns the path."""
        path = Path(path)
        path.write_text(self.render(format or format_for_path(path)), encoding="utf-8")
        return path


def format_for_path(path: str | Path) -> str:
    """The export format a file's suffix names.

    Raises:
        ValueError: an unknown suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(
            f"cannot tell the format from {str(path)!r}: use a suffix "
            f"({', '.join(sorted(_SUFFIXES))}) or give the format"
        )
    return _SUFFIXES[suffix]


def _columns(rows: list[dict[str, Any]], first: list[str]) -> list[str]:
    columns = list(first) + (["Start"] if any("Start" in r for r in rows) else [])
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


# -- escaping -------------------------------------------------------------------------------
def _dot_id(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_attrs(attrs: Mapping[str, str]) -> str:
    parts = []
    for key, value in attrs.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{key}="{escaped}"')
    return ", ".join(parts)


def _mermaid_text(value: str) -> str:
    """Text safe inside a quoted Mermaid label: Mermaid's ``#code;`` entities for the
    characters that would end the label or be read as markup."""
    out = value.replace("#", "#35;")
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;")):
        out = out.replace(char, code)
    return out.replace("\n", " ")


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", value)


def _graphml_data(
    element: ET.Element, keys: dict[tuple[str, str], str], domain: str, attrs: Mapping[str, Any]
) -> None:
    for name, value in attrs.items():
        data = ET.SubElement(element, "data", key=keys[(domain, name)])
        data.text = ("true" if value else "false") if isinstance(value, bool) else _xml_text(value)
