// The lineage graph: cytoscape.js drawing, dagre's left-to-right layered layout, coloured by
// kind (the same colours as the CLI's pictures), plus path finding and an SVG export.
import dagre from "@dagrejs/dagre";
import cytoscape from "cytoscape";
import { coordCenter, decrossDfs, graph as dagGraph, layeringLongestPath, sugiyama } from "d3-dag";

// Fill, border and shape per kind: mllineage.viz.style.KIND_STYLES in the Python package.
export const KIND_STYLES = {
  artifact: { fill: "#4C78A8", border: "#2F4B69", shape: "round-rectangle", label: "Artifact" },
  action: { fill: "#F58518", border: "#A85A0F", shape: "ellipse", label: "Action" },
  context: { fill: "#54A24B", border: "#356830", shape: "hexagon", label: "Context" },
};
const OTHER = { fill: "#9D9D9D", border: "#5E5E5E", shape: "octagon", label: "Other" };
export const START_BORDER = "#111111";
export const PATH_COLOUR = "#D62728";
const NODE_WIDTH = 150;
const LABEL_CHARS = 22;
const NODE_HEIGHT = 38;
// Past DAGRE_MAX visible vertices the layout trades a little polish for speed (measured by
// bench/ui_bench.py): dagre needs 0.5-1.5 s for 1,000 vertices here even with its cheapest
// options, d3-dag's Sugiyama with longest-path layers, depth-first ordering and centred
// coordinates under 0.1 s. Below it, dagre's network-simplex ranks are the most compact.
const DAGRE_MAX = 300;
const NETWORK_SIMPLEX_MAX = 150;
const RANK_GAP = 45;
const NODE_GAP = 14;
const LARGE = 300;

export function styleOf(kind) {
  return KIND_STYLES[kind] ?? OTHER;
}

// Two short lines: the name (cut to fit the box) and the type.
export function vertexLabel(vertex) {
  const name = vertex.name || vertex.arn.slice(vertex.arn.lastIndexOf("/") + 1);
  const short = name.length > LABEL_CHARS ? `${name.slice(0, LABEL_CHARS - 1)}…` : name;
  return vertex.type ? `${short}\n${vertex.type}` : short;
}

function stylesheet(large) {
  const kinds = Object.entries(KIND_STYLES).map(([kind, s]) => ({
    selector: `node.${kind}`,
    style: { "background-color": s.fill, "border-color": s.border, shape: s.shape },
  }));
  return [
    {
      selector: "node",
      style: {
        label: "data(label)",
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        shape: OTHER.shape,
        "background-color": OTHER.fill,
        "border-color": OTHER.border,
        "border-width": 1.5,
        color: "#ffffff",
        "font-size": 12,
        "font-family": "system-ui, sans-serif",
        "text-valign": "center",
        "text-halign": "center",
        "text-wrap": "wrap",
        "text-max-width": NODE_WIDTH,
        "min-zoomed-font-size": 7,
      },
    },
    ...kinds,
    {
      selector: "node.start",
      style: { "border-width": 5, "border-color": START_BORDER, "font-weight": "bold" },
    },
    { selector: "node.expanded", style: { "border-style": "double", "border-width": 5 } },
    {
      selector: "node:selected",
      style: { "overlay-color": "#1f3a60", "overlay-opacity": 0.25, "overlay-padding": 6 },
    },
    {
      selector: "edge",
      style: {
        width: 1.5,
        "line-color": "#8a8a8a",
        "target-arrow-color": "#8a8a8a",
        "target-arrow-shape": "triangle",
        "arrow-scale": 0.9,
        // Straight lines cost less to route than bundled curves; dagre keeps them apart.
        "curve-style": large ? "straight" : "bezier",
      },
    },
    { selector: ".hidden", style: { display: "none" } },
    { selector: ".faded", style: { opacity: 0.18 } },
    {
      selector: "node.on-path",
      style: { "border-color": PATH_COLOUR, "border-width": 5, opacity: 1 },
    },
    {
      selector: "edge.on-path",
      style: {
        "line-color": PATH_COLOUR,
        "target-arrow-color": PATH_COLOUR,
        width: 4,
        opacity: 1,
        "z-index": 10,
      },
    },
  ];
}

// Cytoscape elements; isHidden(vertex) says which start hidden (by the filters).
export function toElements(vertices, edges, start, positions, isHidden = () => false) {
  const nodes = vertices.map((vertex) => ({
    group: "nodes",
    position: positions?.get(vertex.arn),
    data: { id: vertex.arn, kind: vertex.kind, type: vertex.type, label: vertexLabel(vertex) },
    classes: [vertex.kind, vertex.arn === start && "start", isHidden(vertex) && "hidden"]
      .filter(Boolean)
      .join(" "),
  }));
  const links = edges.map((edge) => ({
    group: "edges",
    data: {
      id: edgeId(edge),
      source: edge.source,
      target: edge.destination,
      association_type: edge.association_type,
    },
  }));
  return [...nodes, ...links];
}

export function edgeId(edge) {
  return `${edge.source}\u2192${edge.destination}`;
}

export function createGraph(container, size) {
  const large = size > LARGE;
  return cytoscape({
    container,
    style: stylesheet(large),
    minZoom: 0.02,
    maxZoom: 2,
    boxSelectionEnabled: false,
    selectionType: "single",
    // Big views pan and zoom a cached picture, then redraw once the gesture ends.
    textureOnViewport: large,
    hideEdgesOnViewport: large,
    motionBlur: false,
    pixelRatio: large ? 1 : "auto",
  });
}

// Positions for a left-to-right layered layout of these vertices (ARNs) and edges
// ([source, destination] pairs); a pure function of the data, so the first layout can run
// before cytoscape has the elements.
export function computeLayout(arns, links) {
  const known = new Set(arns);
  const inside = links.filter(([s, d]) => known.has(s) && known.has(d));
  return arns.length > DAGRE_MAX ? sugiyamaLayout(arns, inside) : dagreLayout(arns, inside);
}

function dagreLayout(arns, links) {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({
    rankdir: "LR",
    nodesep: NODE_GAP,
    ranksep: RANK_GAP,
    edgesep: 6,
    ranker: arns.length > NETWORK_SIMPLEX_MAX ? "longest-path" : "network-simplex",
  });
  graph.setDefaultEdgeLabel(() => ({}));
  // Short keys: graphlib keys its objects by node name, and ARNs are long.
  const key = new Map(arns.map((arn, i) => [arn, `n${i}`]));
  for (const name of key.values()) graph.setNode(name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const [source, destination] of links) graph.setEdge(key.get(source), key.get(destination));
  dagre.layout(graph);
  const positions = new Map();
  for (const [arn, name] of key) {
    const { x, y } = graph.node(name);
    positions.set(arn, { x, y });
  }
  return positions;
}

function sugiyamaLayout(arns, links) {
  const graph = dagGraph();
  const nodes = new Map(arns.map((arn) => [arn, graph.node(arn)]));
  for (const [source, destination] of links) graph.link(nodes.get(source), nodes.get(destination));
  // d3-dag lays layers out top to bottom: swap the axes for left to right.
  sugiyama()
    .layering(layeringLongestPath())
    .decross(decrossDfs())
    .coord(coordCenter())
    .nodeSize([NODE_HEIGHT, NODE_WIDTH])
    .gap([NODE_GAP, RANK_GAP])(graph);
  const positions = new Map();
  for (const [arn, node] of nodes) positions.set(arn, { x: node.y, y: node.x });
  return positions;
}

// Lay out again what is visible (after an expansion or a filter), then fit the view.
export function layout(cy) {
  const nodes = cy.nodes().not(".hidden");
  const links = cy.edges().map((edge) => [edge.source().id(), edge.target().id()]);
  const positions = computeLayout(
    nodes.map((node) => node.id()),
    links,
  );
  cy.batch(() => nodes.forEach((node) => node.position(positions.get(node.id()))));
  fitPositions(cy, positions);
}

// Fit the view to laid-out positions: the same as cy.fit(), without measuring every label.
export function fitPositions(cy, positions, padding = 24) {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const { x, y } of positions.values()) {
    x1 = Math.min(x1, x - NODE_WIDTH / 2);
    x2 = Math.max(x2, x + NODE_WIDTH / 2);
    y1 = Math.min(y1, y - NODE_HEIGHT / 2);
    y2 = Math.max(y2, y + NODE_HEIGHT / 2);
  }
  if (x1 === Infinity) return;
  const zoom = Math.min(
    cy.maxZoom(),
    Math.max(
      cy.minZoom(),
      Math.min((cy.width() - 2 * padding) / (x2 - x1), (cy.height() - 2 * padding) / (y2 - y1)),
    ),
  );
  cy.viewport({
    zoom,
    pan: {
      x: (cy.width() - zoom * (x1 + x2)) / 2,
      y: (cy.height() - zoom * (y1 + y2)) / 2,
    },
  });
}

// The edges and nodes of a path between two nodes: downstream a->b, else b->a, else ignoring
// the edges' direction. null when they are not connected in the visible graph.
export function findPath(cy, from, to) {
  const visible = cy.elements().not(".hidden");
  const root = cy.getElementById(from);
  const goal = cy.getElementById(to);
  const attempts = [
    [root, goal, true, "downstream"],
    [goal, root, true, "upstream"],
    [root, goal, false, "undirected"],
  ];
  for (const [a, b, directed, how] of attempts) {
    const found = visible.aStar({ root: a, goal: b, directed });
    if (found.found) return { path: found.path, how, length: found.distance };
  }
  return null;
}

function escapeXml(text) {
  return String(text).replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c],
  );
}

function shapeSvg(shape, x, y, w, h, attrs) {
  const l = x - w / 2;
  const t = y - h / 2;
  if (shape === "ellipse") {
    return `<ellipse cx="${x}" cy="${y}" rx="${w / 2}" ry="${h / 2}" ${attrs}/>`;
  }
  if (shape === "hexagon" || shape === "octagon") {
    const c = shape === "hexagon" ? w / 4 : h / 3;
    const points =
      shape === "hexagon"
        ? [[l + c, t], [l + w - c, t], [l + w, y], [l + w - c, t + h], [l + c, t + h], [l, y]]
        : [
            [l + c, t], [l + w - c, t], [l + w, t + c], [l + w, t + h - c],
            [l + w - c, t + h], [l + c, t + h], [l, t + h - c], [l, t + c],
          ];
    return `<polygon points="${points.map((p) => p.join(",")).join(" ")}" ${attrs}/>`;
  }
  return `<rect x="${l}" y="${t}" width="${w}" height="${h}" rx="6" ${attrs}/>`;
}

// The visible graph as a standalone SVG document (model coordinates, so it is sharp at any
// size). Written here rather than with a canvas-to-SVG shim: the picture is simple, and the
// one cytoscape SVG extension is GPL-licensed, which mllineage (Apache-2.0) cannot bundle.
export function toSvg(cy) {
  const nodes = cy.nodes().not(".hidden");
  const edges = cy.edges().filter((edge) => edge.visible());
  const box = nodes.boundingBox({ includeLabels: false });
  const pad = 20;
  const parts = [];
  for (const edge of edges) {
    const s = edge.sourceEndpoint();
    const t = edge.targetEndpoint();
    const path = edge.hasClass("on-path");
    const colour = path ? PATH_COLOUR : "#8a8a8a";
    const opacity = edge.hasClass("faded") ? ' opacity="0.18"' : "";
    parts.push(
      `<line x1="${s.x}" y1="${s.y}" x2="${t.x}" y2="${t.y}" stroke="${colour}" ` +
        `stroke-width="${path ? 4 : 1.5}" marker-end="url(#${path ? "arrow-path" : "arrow"})"` +
        `${opacity}><title>${escapeXml(edge.data("association_type") ?? "")}</title></line>`,
    );
  }
  for (const node of nodes) {
    const { x, y } = node.position();
    const style = styleOf(node.data("kind"));
    const border = node.hasClass("on-path")
      ? PATH_COLOUR
      : node.hasClass("start")
        ? START_BORDER
        : style.border;
    const width = node.hasClass("start") || node.hasClass("on-path") ? 4 : 1.5;
    const opacity = node.hasClass("faded") ? ' opacity="0.18"' : "";
    const attrs = `fill="${style.fill}" stroke="${border}" stroke-width="${width}"`;
    const [name, type] = String(node.data("label")).split("\n");
    parts.push(
      `<g${opacity}><title>${escapeXml(node.id())}</title>` +
        shapeSvg(style.shape, x, y, NODE_WIDTH, NODE_HEIGHT, attrs) +
        `<text x="${x}" y="${type ? y - 2 : y + 4}" text-anchor="middle" fill="#fff" ` +
        `font-size="11" font-family="sans-serif">${escapeXml(name)}</text>` +
        (type
          ? `<text x="${x}" y="${y + 11}" text-anchor="middle" fill="#fff" font-size="9" ` +
            `font-family="sans-serif">${escapeXml(type)}</text>`
          : "") +
        "</g>",
    );
  }
  const marker = (id, colour) =>
    `<marker id="${id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" ` +
    `markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" ` +
    `fill="${colour}"/></marker>`;
  const width = Math.ceil(box.w + 2 * pad);
  const height = Math.ceil(box.h + 2 * pad);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="${box.x1 - pad} ${box.y1 - pad} ${width} ${height}">` +
    `<defs>${marker("arrow", "#8a8a8a")}${marker("arrow-path", PATH_COLOUR)}</defs>` +
    `<rect x="${box.x1 - pad}" y="${box.y1 - pad}" width="${width}" height="${height}" ` +
    `fill="#ffffff"/>${parts.join("")}</svg>\n`
  );
}

export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
