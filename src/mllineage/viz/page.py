"""The self-contained interactive HTML page of a lineage graph.

The page inlines cytoscape.js and its dagre layout (npm packages, copied into
``mllineage/static`` by ``frontend/build.mjs`` and shipped in the wheel), so it opens offline,
from a file, an e-mail attachment or a notebook. When the graph is drawn, the element
``#status`` carries ``data-state="ready"`` and the counts of nodes, edges and nodes inside the
visible area (``data-nodes``, ``data-edges``, ``data-visible-nodes``), for tests and scripts.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from mllineage.viz.style import START_BORDER, style_of, vertex_name, vertex_type

if TYPE_CHECKING:
    from mllineage.viz.graph import LineageGraph

_LIBRARIES = ("cytoscape.min.js", "cytoscape-dagre.min.js")


@functools.cache
def _library_code() -> str:
    """The inlined JavaScript libraries, without their source-map comments."""
    parts = []
    static = resources.files("mllineage") / "static"
    for name in _LIBRARIES:
        code = (static / name).read_text(encoding="utf-8")
        code = re.sub(r"//# sourceMappingURL=\S+\s*$", "", code)
        code = code.replace("</script", "<\\/script")
        parts.append(f"/* {name} */\n{code}")
    return "\n".join(parts)


def page_data(graph: LineageGraph) -> dict[str, Any]:
    """What the page draws: nodes with their label, style and properties, and edges."""

    starts = set(graph.start_arns)
    nodes = []
    for vertex in graph.vertices:
        kind = str(vertex.get("Type", ""))
        style = style_of(kind)
        name, entity_type = vertex_name(vertex), vertex_type(vertex)
        longest = max(len(name[:28]), len(entity_type[:28]))
        nodes.append(
            {
                "id": vertex["Arn"],
                "name": name,
                "type": entity_type,
                "kind": kind,
                "label": f"{_clip(name)}\n{_clip(entity_type)}",
                "color": style.color,
                "border": START_BORDER if vertex["Arn"] in starts else style.border,
                "shape": style.cytoscape_shape,
                "start": vertex["Arn"] in starts,
                "w": max(90, min(210, 7 * longest + 26)),
                "properties": {k: str(v) for k, v in (vertex.get("Properties") or {}).items()},
            }
        )
    edges = [
        {
            "source": e["SourceArn"],
            "target": e["DestinationArn"],
            "type": e.get("AssociationType", ""),
        }
        for e in graph.edges
    ]
    kinds = {
        kind: {"color": style_of(kind).color, "shape": style_of(kind).cytoscape_shape}
        for kind in ("Artifact", "Action", "Context")
    }
    return {"nodes": nodes, "edges": edges, "kinds": kinds}


def _clip(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def default_title(graph: LineageGraph) -> str:
    names = [vertex_name(v) for v in graph.vertices if v["Arn"] in set(graph.start_arns)]
    if not names:
        return "Lineage graph"
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return "Lineage of " + ", ".join(names[:3]) + more


def lineage_page(graph: LineageGraph, title: str | None = None) -> str:
    """The whole page, as one string of HTML."""
    title = title or default_title(graph)
    data = json.dumps(page_data(graph), ensure_ascii=False, default=str)
    # Inside <script type="application/json">, only "</" could end the element early.
    data = data.replace("<", "\\u003c")
    summary = f"{len(graph.vertices)} vertices, {len(graph.edges)} edges"
    return _TEMPLATE.format(
        title=html.escape(title),
        summary=html.escape(summary),
        data=data,
        libraries=_library_code(),
        app=_APP,
        style=_STYLE,
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mllineage">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <span class="summary">{summary}</span>
  <input id="search" type="search" placeholder="Find by name, type or ARN" aria-label="Find">
  <button id="fit" type="button">Fit</button>
  <button id="png" type="button">PNG</button>
  <ul id="legend" aria-label="Legend"></ul>
</header>
<main>
  <div id="cy" role="img" aria-label="{title}"></div>
  <aside id="details"><p class="hint">Click a vertex or an edge to see its details.</p></aside>
</main>
<div id="status" data-state="loading" hidden></div>
<script type="application/json" id="lineage-data">{data}</script>
<script>
{libraries}
</script>
<script>
{app}
</script>
</body>
</html>
"""

_STYLE = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, -apple-system, "Segoe UI",
  Helvetica, Arial, sans-serif; color: #1d1d1f; background: #fafafa; }
body { display: flex; flex-direction: column; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; padding: 8px 14px;
  background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 16px; margin: 0; }
.summary { color: #666; }
#search { flex: 0 1 260px; padding: 4px 8px; border: 1px solid #bbb; border-radius: 4px; }
button { padding: 4px 10px; border: 1px solid #bbb; border-radius: 4px; background: #f4f4f4;
  cursor: pointer; }
#legend { display: flex; gap: 12px; list-style: none; margin: 0 0 0 auto; padding: 0;
  color: #444; }
#legend .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -1px; border-radius: 2px; }
#legend .start { border: 3px double #111; background: #fff; }
main { flex: 1; display: flex; min-height: 0; }
#cy { flex: 1; min-width: 0; background: #fff; }
aside { width: 320px; overflow: auto; padding: 10px 14px; border-left: 1px solid #ddd;
  background: #fff; }
aside h2 { font-size: 15px; margin: 4px 0; word-break: break-word; }
aside .kind { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px;
  font-size: 12px; }
aside table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: 12px; }
aside th, aside td { text-align: left; vertical-align: top; padding: 3px 4px;
  border-bottom: 1px solid #eee; word-break: break-all; }
aside th { color: #555; font-weight: 600; width: 38%; word-break: normal; }
.hint { color: #777; }
"""

_APP = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lineage-data").textContent);
  var status = document.getElementById("status");
  var elements = [];
  data.nodes.forEach(function (n) { elements.push({ group: "nodes", data: n }); });
  data.edges.forEach(function (e, i) {
    elements.push({ group: "edges", data: { id: "e" + i, source: e.source, target: e.target,
      label: e.type } });
  });
  var cy = cytoscape({
    container: document.getElementById("cy"),
    elements: elements,
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 4,
    style: [
      { selector: "node", style: {
        "shape": "data(shape)", "background-color": "data(color)", "label": "data(label)",
        "color": "#fff", "font-size": 11, "text-valign": "center", "text-halign": "center",
        "text-wrap": "wrap", "text-max-width": 200, "width": "data(w)", "height": 46,
        "border-width": 2, "border-color": "data(border)", "min-zoomed-font-size": 6 } },
      { selector: "node[?start]", style: { "border-width": 6, "border-style": "double",
        "border-color": "#111" } },
      { selector: "edge", style: {
        "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
        "line-color": "#8a8a8a", "target-arrow-color": "#8a8a8a", "label": "data(label)",
        "font-size": 9, "color": "#444", "text-rotation": "autorotate",
        "text-background-color": "#fff", "text-background-opacity": 0.85,
        "text-background-padding": 1, "min-zoomed-font-size": 7 } },
      { selector: ".faded", style: { "opacity": 0.15 } },
      { selector: ":selected", style: { "overlay-color": "#ffcc00", "overlay-opacity": 0.35,
        "overlay-padding": 6 } }
    ],
    layout: { name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 70, edgeSep: 8,
      padding: 24 }
  });
  window.mllineage = { cy: cy, data: data };

  var legend = document.getElementById("legend");
  Object.keys(data.kinds).forEach(function (kind) {
    var li = document.createElement("li");
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = data.kinds[kind].color;
    li.appendChild(swatch);
    li.appendChild(document.createTextNode(kind));
    legend.appendChild(li);
  });
  var startItem = document.createElement("li");
  startItem.innerHTML = '<span class="swatch start"></span>start';
  legend.appendChild(startItem);

  function row(table, key, value) {
    var tr = table.insertRow();
    var th = document.createElement("th");
    th.textContent = key;
    tr.appendChild(th);
    tr.insertCell().textContent = value;
  }
  function showNode(node) {
    var d = node.data();
    var aside = document.getElementById("details");
    aside.textContent = "";
    var kind = document.createElement("span");
    kind.className = "kind";
    kind.style.background = d.color;
    kind.textContent = d.kind + (d.start ? " (start)" : "");
    var h2 = document.createElement("h2");
    h2.textContent = d.name;
    var table = document.createElement("table");
    row(table, "type", d.type);
    row(table, "ARN", d.id);
    Object.keys(d.properties).sort().forEach(function (k) { row(table, k, d.properties[k]); });
    row(table, "inputs", node.incomers("node").length);
    row(table, "outputs", node.outgoers("node").length);
    aside.append(kind, h2, table);
  }
  function showEdge(edge) {
    var aside = document.getElementById("details");
    aside.textContent = "";
    var h2 = document.createElement("h2");
    h2.textContent = edge.data("label");
    var table = document.createElement("table");
    row(table, "source", edge.source().data("name") + " (" + edge.source().id() + ")");
    row(table, "destination", edge.target().data("name") + " (" + edge.target().id() + ")");
    aside.append(h2, table);
  }
  cy.on("tap", "node", function (evt) { showNode(evt.target); });
  cy.on("tap", "edge", function (evt) { showEdge(evt.target); });

  document.getElementById("search").addEventListener("input", function (evt) {
    var text = evt.target.value.trim().toLowerCase();
    cy.elements().removeClass("faded");
    if (!text) { return; }
    var hits = cy.nodes().filter(function (n) {
      return (n.data("name") + " " + n.data("type") + " " + n.id()).toLowerCase()
        .indexOf(text) >= 0;
    });
    cy.elements().not(hits).not(hits.edgesWith(hits)).addClass("faded");
  });
  document.getElementById("fit").addEventListener("click", function () { cy.fit(null, 24); });
  document.getElementById("png").addEventListener("click", function () {
    var a = document.createElement("a");
    a.href = cy.png({ full: true, scale: 2, bg: "#ffffff" });
    a.download = "lineage.png";
    a.click();
  });

  cy.ready(function () {
    cy.fit(null, 24);
    var ext = cy.extent();
    var visible = cy.nodes().filter(function (n) {
      var b = n.boundingBox();
      return b.x1 >= ext.x1 - 1 && b.x2 <= ext.x2 + 1 && b.y1 >= ext.y1 - 1 &&
        b.y2 <= ext.y2 + 1;
    });
    status.dataset.nodes = String(cy.nodes().length);
    status.dataset.edges = String(cy.edges().length);
    status.dataset.visibleNodes = String(visible.length);
    status.dataset.state = "ready";
  });
})();
"""
