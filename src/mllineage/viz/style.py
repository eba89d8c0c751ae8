"""The one style table of every picture, and how a vertex is named and typed in them.

Every export (DOT, Mermaid, GraphML, HTML), the notebook display and the table visualizer
draw and label vertices from here: colour and shape by kind (artifacts blue boxes, actions
orange ellipses, contexts green hexagons), start vertices with a heavy border.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KindStyle:
    """How one kind of vertex is drawn, in every format."""

    color: str
    border: str
    dot_shape: str
    mermaid_open: str
    mermaid_close: str
    cytoscape_shape: str


KIND_STYLES: dict[str, KindStyle] = {
    "Artifact": KindStyle("#4C78A8", "#2F4B69", "box", '["', '"]', "round-rectangle"),
    "Action": KindStyle("#F58518", "#A85A0F", "ellipse", '(["', '"])', "ellipse"),
    "Context": KindStyle("#54A24B", "#356830", "hexagon", '{{"', '"}}', "hexagon"),
}
OTHER_STYLE = KindStyle("#9D9D9D", "#5E5E5E", "octagon", '["', '"]', "octagon")
START_BORDER = "#111111"


def style_of(kind: str) -> KindStyle:
    return KIND_STYLES.get(kind, OTHER_STYLE)


def vertex_type(vertex: Mapping[str, Any]) -> str:
    """A vertex's entity type (``Dataset``, ``Training``, ...), or ``""``."""
    props = vertex.get("Properties") or {}
    kind = str(vertex.get("Type", "")).lower()
    return str(props.get(f"{kind}_type") or vertex.get("EntityType") or "")


_NAME_KEYS = ("artifact_name", "action_name", "context_name")


def vertex_name(vertex: Mapping[str, Any]) -> str:
    """A vertex's name; for an unnamed artifact its source URI, else the end of its ARN."""
    props = vertex.get("Properties") or {}
    for key in _NAME_KEYS:
        if props.get(key):
            return str(props[key])
    if props.get("source_uri"):
        return str(props["source_uri"])
    return str(vertex.get("Arn", "")).rsplit("/", 1)[-1]
