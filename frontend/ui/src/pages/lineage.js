// The lineage explorer: the graph around one entity, with the query (direction, depth, as-of)
// in the URL, node expansion, filters, path highlighting, zoom and exports.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, exportUrl, queryString } from "../api.js";
import {
  ErrorBox,
  KeyValueTable,
  KindBadge,
  Loading,
  formatTime,
  isoToLocalInput,
  localInputToIso,
  shortArn,
} from "../components.js";
import {
  KIND_STYLES,
  PATH_COLOUR,
  computeLayout,
  fitPositions,
  START_BORDER,
  createGraph,
  download,
  edgeId,
  findPath,
  layout,
  toElements,
  toSvg,
} from "../graph.js";
import { html } from "../html.js";
import { Link, navigate } from "../router.js";

const DIRECTIONS = [
  ["both", "Both ways"],
  ["up", "Upstream (inputs)"],
  ["down", "Downstream (outputs)"],
];
const DEPTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const CLI_FORMATS = [
  ["dot", "DOT"],
  ["mermaid", "Mermaid"],
  ["graphml", "GraphML"],
  ["json", "JSON"],
  ["html", "HTML page"],
];

function readQuery(query) {
  const depth = Number.parseInt(query.get("depth") ?? "3", 10);
  return {
    arn: query.get("arn") ?? "",
    direction: ["both", "up", "down"].includes(query.get("direction"))
      ? query.get("direction")
      : "both",
    depth: depth >= 1 && depth <= 10 ? depth : 3,
    as_of: query.get("as_of") ?? "",
    hide: (query.get("hide") ?? "").split(",").filter(Boolean),
    type: query.get("type") ?? "",
  };
}

function lineageUrl(view) {
  const { arn, direction, depth, as_of: asOf, hide, type } = view;
  return `/ui/lineage${queryString({
    arn,
    direction,
    depth,
    as_of: asOf,
    hide: hide.join(","),
    type,
  })}`;
}

// The vertices and edges on screen: the query's answer plus every expansion, remembering
// which expansion brought each one in (so collapsing removes exactly that).
class GraphModel {
  constructor(answer) {
    this.start = answer.start;
    this.vertices = new Map(answer.vertices.map((v) => [v.arn, v]));
    this.edges = new Map(answer.edges.map((e) => [edgeId(e), e]));
    this.broughtBy = new Map();
    this.expanded = new Set();
  }

  expand(arn, answer) {
    const added = { vertices: [], edges: [] };
    for (const vertex of answer.vertices) {
      if (!this.vertices.has(vertex.arn)) {
        this.vertices.set(vertex.arn, vertex);
        this.broughtBy.set(vertex.arn, arn);
        added.vertices.push(vertex);
      }
    }
    for (const edge of answer.edges) {
      const id = edgeId(edge);
      if (!this.edges.has(id)) {
        this.edges.set(id, edge);
        this.broughtBy.set(id, arn);
        added.edges.push(edge);
      }
    }
    this.expanded.add(arn);
    return added;
  }

  // Remove what expanding arn brought in, and, recursively, what expanding those brought.
  collapse(arn) {
    const removed = [];
    const owners = [arn];
    while (owners.length) {
      const owner = owners.pop();
      this.expanded.delete(owner);
      for (const [id, by] of [...this.broughtBy]) {
        if (by !== owner) continue;
        this.broughtBy.delete(id);
        removed.push(id);
        if (this.vertices.delete(id) && this.expanded.has(id)) owners.push(id);
        this.edges.delete(id);
      }
    }
    // Edges left dangling by a removed vertex go too.
    for (const [id, edge] of [...this.edges]) {
      if (!this.vertices.has(edge.source) || !this.vertices.has(edge.destination)) {
        this.edges.delete(id);
        removed.push(id);
      }
    }
    return removed;
  }
}

function Controls({ view, onChange }) {
  const [asOf, setAsOf] = useState(isoToLocalInput(view.as_of));
  const applyAsOf = (event) => {
    event.preventDefault();
    onChange({ as_of: localInputToIso(asOf) });
  };
  return html`<div class="controls">
    <div class="field">
      <label for="l-direction">Direction</label>
      <select id="l-direction" value=${view.direction}
        onChange=${(e) => onChange({ direction: e.currentTarget.value })}>
        ${DIRECTIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="l-depth">Depth</label>
      <select id="l-depth" value=${view.depth}
        onChange=${(e) => onChange({ depth: Number(e.currentTarget.value) })}>
        ${DEPTHS.map((depth) => html`<option value=${depth}>${depth}</option>`)}
      </select>
    </div>
    <form class="field as-of" onSubmit=${applyAsOf}>
      <label for="l-as-of">As of (UTC)</label>
      <span class="inline">
        <input id="l-as-of" type="datetime-local" step="1" value=${asOf}
          onInput=${(e) => setAsOf(e.currentTarget.value)} />
        <button type="submit" class="secondary">Show</button>
        ${view.as_of &&
        html`<button type="button" class="secondary"
          onClick=${() => (setAsOf(""), onChange({ as_of: "" }))}>Now</button>`}
      </span>
    </form>
  </div>`;
}

function Filters({ view, types, onChange }) {
  const toggle = (kind) => {
    const hide = view.hide.includes(kind)
      ? view.hide.filter((k) => k !== kind)
      : [...view.hide, kind];
    onChange({ hide });
  };
  return html`<fieldset class="filters-inline">
    <legend>Show</legend>
    ${Object.entries(KIND_STYLES).map(
      ([kind, style]) => html`<label key=${kind} class="check">
        <input type="checkbox" checked=${!view.hide.includes(kind)}
          onChange=${() => toggle(kind)} />
        <span class="swatch" style=${{ background: style.fill }}></span>${style.label}s
      </label>`,
    )}
    <label for="l-type" class="visually-hidden">Type</label>
    <select id="l-type" value=${view.type} onChange=${(e) => onChange({ type: e.currentTarget.value })}>
      <option value="">All types</option>
      ${types.map((type) => html`<option value=${type}>${type}</option>`)}
    </select>
  </fieldset>`;
}

function Legend() {
  return html`<ul class="legend" aria-label="Legend">
    ${Object.values(KIND_STYLES).map(
      (style) => html`<li key=${style.label}>
        <span class="swatch" style=${{ background: style.fill, borderColor: style.border }}></span>
        ${style.label}
      </li>`,
    )}
    <li><span class="swatch start" style=${{ borderColor: START_BORDER }}></span>Start</li>
    <li><span class="swatch line" style=${{ background: PATH_COLOUR }}></span>Path</li>
    <li><span class="swatch expanded"></span>Expanded</li>
  </ul>`;
}

// A labelled <select> of the view's vertices: keyboard access to what the canvas shows.
function VertexSelect({ id, label, value, onChange, vertices, placeholder = "Choose…" }) {
  return html`<label for=${id}>${label}</label>
    <select id=${id} value=${value ?? ""} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${placeholder}</option>
      ${vertices.map(
        (v) => html`<option key=${v.arn} value=${v.arn}
          >${v.name || shortArn(v.arn)} (${v.type ?? v.kind})</option
        >`,
      )}
    </select>`;
}

function SidePanel({ model, ready, selected, onSelect, onToggle, busy, path, setPath, onFindPath }) {
  const vertex = selected ? model.vertices.get(selected) : null;
  // The node lists (three times the vertex count in options) wait until the graph is drawn.
  const sorted = useMemo(
    () =>
      ready
        ? [...model.vertices.values()].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""))
        : [],
    [model, model.vertices.size, ready],
  );
  return html`<aside class="panel" aria-label="Selected node">
    <${VertexSelect} id="l-node" label="Node" value=${selected} onChange=${onSelect}
      vertices=${sorted} placeholder="Choose a node…" />
    ${vertex
      ? html`<div class="node-details">
          <h2><${KindBadge} kind=${vertex.kind} /> ${vertex.name || shortArn(vertex.arn)}</h2>
          <p class="muted">${vertex.type}</p>
          ${vertex.source_uri && html`<p class="uri">${vertex.source_uri}</p>`}
          ${vertex.properties && html`<${KeyValueTable} values=${vertex.properties} />`}
          <div class="buttons">
            <button type="button" onClick=${() => onToggle(vertex.arn)}
              aria-busy=${busy ? "true" : "false"}>
              ${model.expanded.has(vertex.arn) ? "Collapse neighbours" : "Expand neighbours"}
            </button>
            <${Link} class="button secondary" href=${`/ui/entity${queryString({ arn: vertex.arn })}`}
              >Open entity<//
            >
            ${vertex.arn !== model.start &&
            html`<${Link} class="button secondary" href=${`/ui/lineage${queryString({ arn: vertex.arn })}`}
              >Start here<//
            >`}
            <button type="button" class="secondary" onClick=${() => setPath({ ...path, from: vertex.arn })}>
              Path from here
            </button>
            <button type="button" class="secondary" onClick=${() => setPath({ ...path, to: vertex.arn })}>
              Path to here
            </button>
          </div>
        </div>`
      : html`<p class="muted">Click a node for details; double-click it to expand or collapse
          its neighbours. Drag to pan, scroll to zoom.</p>`}
    <form class="path-form" onSubmit=${(e) => (e.preventDefault(), onFindPath())}>
      <h2>Path between two nodes</h2>
      <${VertexSelect} id="l-path-from" label="From" value=${path.from}
        onChange=${(from) => setPath({ ...path, from })} vertices=${sorted} />
      <${VertexSelect} id="l-path-to" label="To" value=${path.to}
        onChange=${(to) => setPath({ ...path, to })} vertices=${sorted} />
      <div class="buttons">
        <button type="submit" disabled=${!path.from || !path.to}>Highlight path</button>
        <button type="button" class="secondary" onClick=${() => setPath({})}>Clear</button>
      </div>
      ${path.message && html`<p class="muted" role="status">${path.message}</p>`}
    </form>
  </aside>`;
}

function Exports({ view, cyRef }) {
  const base = `lineage-${shortArn(view.arn)}`;
  const svg = () => download(`${base}.svg`, new Blob([toSvg(cyRef.current)], { type: "image/svg+xml" }));
  const png = () =>
    download(`${base}.png`, cyRef.current.png({ full: true, scale: 2, bg: "#ffffff", output: "blob" }));
  const params = { arn: view.arn, direction: view.direction, depth: view.depth, as_of: view.as_of };
  return html`<div class="exports">
    <span class="muted">Export:</span>
    <button type="button" class="secondary" onClick=${svg}>SVG</button>
    <button type="button" class="secondary" onClick=${png}>PNG</button>
    ${CLI_FORMATS.map(
      ([format, label]) =>
        html`<a key=${format} class="button secondary" href=${exportUrl(params, format)} download
          >${label}</a
        >`,
    )}
  </div>`;
}

// How many graphs this page has drawn: browser tests and the benchmark wait for the next one
// (the <div class="graph"> carries data-ready and data-draw).
let draws = 0;

export function LineagePage({ query }) {
  const view = readQuery(query);
  const change = (patch) => navigate(lineageUrl({ ...view, ...patch }), { replace: false });
  const [answer, setAnswer] = useState({ key: null, data: null, error: null });
  const [model, setModel] = useState(null);
  const [, setVersion] = useState(0);
  const [selected, setSelected] = useState(null);
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState(false);
  const [hidden, setHidden] = useState(0);
  const [path, setPath] = useState({});
  const container = useRef(null);
  const cyRef = useRef(null);
  const fetchKey = queryString({
    arn: view.arn,
    direction: view.direction,
    depth: view.depth,
    as_of: view.as_of,
  });

  // 1. Ask the server for the lineage whenever the query part of the URL changes.
  useEffect(() => {
    if (!view.arn) return undefined;
    let current = true;
    setAnswer({ key: fetchKey, data: null, error: null });
    setReady(false);
    if (container.current) container.current.dataset.ready = "false";
    api
      .get("lineage", { arn: view.arn, direction: view.direction, depth: view.depth, as_of: view.as_of })
      .then(
        (data) => {
          performance.mark("lineage:fetched");
          if (current) setAnswer({ key: fetchKey, data, error: null });
        },
        (error) => current && setAnswer({ key: fetchKey, data: null, error }),
      );
    return () => {
      current = false;
    };
  }, [fetchKey]);

  // 2. Draw it: one cytoscape instance per answer.
  useEffect(() => {
    if (!answer.data || !container.current) return undefined;
    const graph = new GraphModel(answer.data);
    const cy = createGraph(container.current, graph.vertices.size);
    cyRef.current = cy;
    window.__mllineage = { cy, ready: false };
    container.current.dataset.ready = "false";
    const vertices = [...graph.vertices.values()];
    const edges = [...graph.edges.values()];
    const shown = vertices.filter((v) => !isHidden(v, graph.start, view)).map((v) => v.arn);
    const positions = computeLayout(
      shown,
      edges.map((e) => [e.source, e.destination]),
    );
    performance.mark("lineage:laid-out");
    const elements = toElements(vertices, edges, graph.start, positions, (v) =>
      isHidden(v, graph.start, view),
    );
    cy.add(elements);
    fitPositions(cy, positions);
    performance.mark("lineage:added");
    cy.on("tap", "node", (event) => setSelected(event.target.id()));
    cy.on("tap", (event) => event.target === cy && setSelected(null));
    cy.on("dbltap", "node", (event) => toggleRef.current(event.target.id()));
    drawnFilter.current = filterKey;
    container.current.dataset.filter = filterKey;
    setHidden(cy.nodes(".hidden").length);
    setModel(graph);
    setSelected(null);
    setPath({});
    // Interactive once the positions are set and the first frame after them is painted.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (cyRef.current !== cy) return;
        draws += 1;
        container.current.dataset.ready = "true";
        container.current.dataset.draw = String(draws);
        window.__mllineage = { cy, ready: true, readyAt: performance.now(), draws };
        setReady(true);
      }),
    );
    return () => {
      cy.destroy();
      if (cyRef.current === cy) cyRef.current = null;
    };
  }, [answer.data]);

  // 3. Filters hide vertices without asking the server again (step 2 applied the first ones).
  const filterKey = `${view.hide.join(",")}|${view.type}`;
  const drawnFilter = useRef(filterKey);
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy || drawnFilter.current === filterKey) return;
    drawnFilter.current = filterKey;
    applyFilters(cy, view);
    layout(cy);
    container.current.dataset.filter = filterKey;
    setHidden(cy.nodes(".hidden").length);
  }, [filterKey]);

  // 4. The selection and the highlighted path follow the panel.
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.nodes(":selected").unselect();
    if (selected) {
      const node = cy.getElementById(selected);
      node.select();
      if (!node.visible()) return;
      const extent = cy.extent();
      const { x, y } = node.position();
      if (x < extent.x1 || x > extent.x2 || y < extent.y1 || y > extent.y2) cy.center(node);
    }
  }, [selected, ready]);

  const toggle = async (arn) => {
    const cy = cyRef.current;
    if (!cy || !model || busy) return;
    if (model.expanded.has(arn)) {
      const removed = model.collapse(arn);
      cy.batch(() => {
        for (const id of removed) cy.getElementById(id).remove();
        cy.getElementById(arn).removeClass("expanded");
      });
      setVersion((v) => v + 1);
      layout(cy);
      return;
    }
    setBusy(true);
    try {
      const around = await api.get("lineage", {
        arn,
        direction: "both",
        depth: 1,
        as_of: view.as_of,
      });
      const added = model.expand(arn, around);
      cy.batch(() => {
        cy.add(toElements(added.vertices, added.edges, model.start));
        cy.getElementById(arn).addClass("expanded");
        applyFilters(cy, view);
      });
      setVersion((v) => v + 1);
      layout(cy);
    } catch (error) {
      setPath({ ...path, message: `Could not expand: ${error.message}` });
    } finally {
      setBusy(false);
    }
  };
  const toggleRef = useRef(toggle);
  toggleRef.current = toggle;

  const findAndHighlight = () => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.elements().removeClass("on-path faded");
    const found = findPath(cy, path.from, path.to);
    if (!found) {
      setPath({ ...path, message: "These two nodes are not connected in this view." });
      return;
    }
    cy.elements().not(found.path).addClass("faded");
    found.path.addClass("on-path");
    cy.fit(found.path, 40);
    const steps = found.path.edges().length;
    const how = { downstream: "downstream", upstream: "upstream", undirected: "ignoring direction" };
    setPath({ ...path, message: `Path of ${steps} step${steps === 1 ? "" : "s"} (${how[found.how]}).` });
  };
  const setPathAndClear = (next) => {
    if (!next.from && !next.to) cyRef.current?.elements().removeClass("on-path faded");
    setPath({ from: next.from, to: next.to, message: next.message });
  };

  if (!view.arn) {
    return html`<main><${ErrorBox}
      error=${{ status: 400, code: "MissingArn", message: "choose an entity first: the address names no start (?arn=…)" }}
    /></main>`;
  }
  const data = answer.key === fetchKey ? answer.data : null;
  const error = answer.key === fetchKey ? answer.error : null;
  const types = model
    ? [...new Set([...model.vertices.values()].map((v) => v.type).filter(Boolean))].sort()
    : [];
  const start = model?.vertices.get(model.start);
  return html`<main class="lineage">
    <div class="title-row">
      <h1>Lineage of <${Link} href=${`/ui/entity${queryString({ arn: view.arn })}`}
        >${start?.name || shortArn(view.arn)}<//></h1>
      ${view.as_of && html`<span class="notice">As of ${formatTime(view.as_of)}</span>`}
    </div>
    <div class="toolbar">
      <${Controls} key=${view.as_of} view=${view} onChange=${change} />
      <${Filters} view=${view} types=${types} onChange=${change} />
    </div>
    ${error && html`<${ErrorBox} error=${error} title="Could not load the lineage" />`}
    <div class="explorer" hidden=${!!error}>
      <div class="graph-area">
        <div class="graph-tools">
          <button type="button" class="secondary" aria-label="Zoom in" title="Zoom in"
            onClick=${() => zoomBy(cyRef.current, 1.25)}>+</button>
          <button type="button" class="secondary" aria-label="Zoom out" title="Zoom out"
            onClick=${() => zoomBy(cyRef.current, 0.8)}>−</button>
          <button type="button" class="secondary" onClick=${() => cyRef.current?.fit(undefined, 24)}>Fit</button>
          <span class="muted status" role="status">
            ${!data && !error ? "Loading…" : null}
            ${model && `${model.vertices.size.toLocaleString("en")} vertices, ${model.edges.size.toLocaleString("en")} edges`}
            ${model && hidden > 0 ? ` (${hidden.toLocaleString("en")} hidden by the filters)` : ""}
            ${data?.truncated ? " — more lies beyond this depth (raise it, or expand a node)" : ""}
          </span>
          <${Legend} />
        </div>
        <div class="graph" ref=${container} data-ready="false" aria-label="Lineage graph"
          role="img"></div>
        ${!data && !error && html`<div class="graph-overlay"><${Loading} what="Loading the lineage" /></div>`}
        ${model && html`<${Exports} view=${view} cyRef=${cyRef} />`}
      </div>
      ${model &&
      html`<${SidePanel} model=${model} ready=${ready} selected=${selected} onSelect=${(arn) => setSelected(arn || null)}
        onToggle=${toggle} busy=${busy} path=${path} setPath=${setPathAndClear}
        onFindPath=${findAndHighlight} />`}
    </div>
  </main>`;
}

function isHidden(vertex, start, view) {
  return (
    vertex.arn !== start &&
    (view.hide.includes(vertex.kind) || (view.type !== "" && vertex.type !== view.type))
  );
}

function applyFilters(cy, view) {
  const start = cy.nodes(".start").id();
  cy.batch(() => {
    cy.nodes().forEach((node) => {
      const vertex = { arn: node.id(), kind: node.data("kind"), type: node.data("type") };
      node.toggleClass("hidden", isHidden(vertex, start, view));
    });
  });
}

function zoomBy(cy, factor) {
  if (!cy) return;
  cy.zoom({
    level: cy.zoom() * factor,
    renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 },
  });
}
